// What a validator keeps on disk to stay safe across a crash (DESIGN.md section 5, "Safety
// across crashes"), and the interface through which the consensus core writes it.
//
// The record holds every message the validator signed at its current height, in signing order:
// the last one fixes the (height, round, step) below which it never signs again, so it never
// signs two different messages for one height, round and step; all of them are re-sent after a
// restart, so the other validators still receive everything it ever sent (the paper's gossip
// assumption, which a crash would otherwise break: liveness after every validator restarts at
// once depends on it). It also holds the lock and valid value with their rounds, so a restarted
// validator does not prevote against a value it precommitted. The core calls
// SafetyStore::Save synchronously before it returns a signed message to its caller, so the
// message can only leave the process after the record that covers it is durable.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bas/v1/chain.pb.h"
#include "crypto/result.h"
#include "node/consensus/messages.h"

namespace bas::node::consensus {

struct SafetyRecord {
  uint64_t height = 0;  // the height of everything below
  // Every message signed at `height`, in strictly increasing Position order; the last one is
  // the latest signed. Empty when nothing was signed at it.
  std::vector<SignedMessage> signed_messages;
  int32_t locked_round = -1;                           // the paper's lockedRound_p
  std::shared_ptr<const bas::v1::Block> locked_block;  // lockedValue_p; set iff locked_round >= 0
  int32_t valid_round = -1;                            // validRound_p
  std::shared_ptr<const bas::v1::Block> valid_block;   // validValue_p; set iff valid_round >= 0
};

// The record's bytes on disk (not hashed or signed, so protobuf serialisations are fine):
// u8(1) version || u64(height) || u32(n) || n * (u8(kind: 1 proposal, 2 vote) || str(message))
// || i64(locked_round) || str(locked block or "") || i64(valid_round) || str(valid block or "").
std::string EncodeSafetyRecord(const SafetyRecord& record);
// The record of EncodeSafetyRecord's bytes; "CORRUPT_SAFETY_RECORD" when they are not such an
// encoding (truncated, trailing bytes, an unknown kind, a round below -1 or a block missing or
// present against its round, a message at another height or out of order).
Result<SafetyRecord> DecodeSafetyRecord(std::string_view bytes);

// Durable storage of the one current SafetyRecord. Implemented by the node over its database
// (a synced write) and by the tests in memory.
class SafetyStore {
 public:
  virtual ~SafetyStore() = default;
  // Replaces the stored record with record and returns only once it is durable (fsynced). On
  // failure the previous record must still be the stored one; the core then stops (see
  // Core::halted()). Called from the thread that calls the core.
  virtual Status Save(const SafetyRecord& record) = 0;
};

}  // namespace bas::node::consensus
