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
//
// On disk (KeyValueSafetyStore) the blocks are kept apart from the record, once each by block
// hash: a height's proposal, lock and valid value are usually one block of up to some MB, and
// the record is saved up to three times a height.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
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

// A record's bytes and the blocks they refer to.
struct EncodedSafetyRecord {
  std::string bytes;
  // Every block the bytes refer to, once, by its block hash (32 bytes,
  // crypto::HashBytes(node::chain::BlockHash(header))). The pointers point into the record that
  // was encoded: valid while it lives unchanged.
  std::map<std::string, const bas::v1::Block*> blocks;
};

// The record's bytes (not hashed or signed, so protobuf serialisations are fine), version 2:
//   u8(2) || u64(height) || u32(n) || n * message || i64(locked_round) || opt32(locked hash)
//   || i64(valid_round) || opt32(valid hash)
//   message = u8(1) || h32(block hash) || str(the proposal without its block)   a proposal
//           | u8(2) || str(the vote)                                           a vote
// where a hash is the block hash of the block the record refers to (opt32 empty when the round
// is -1) and the proposal and the vote are bas.v1 protobuf serialisations. The blocks are not in
// the bytes: they are EncodedSafetyRecord::blocks, stored apart (bas.v1.Block serialised).
// Precondition: the blocks of the record have headers of the right shape (CheckHeaderShape),
// as every block the core signs or locks on has.
EncodedSafetyRecord EncodeSafetyRecord(const SafetyRecord& record);
// The blocks would point into a temporary.
EncodedSafetyRecord EncodeSafetyRecord(SafetyRecord&& record) = delete;

// The stored bytes (bas.v1.Block serialised) of the block with this block hash; nullopt when
// there is none.
using SafetyBlockLookup = std::function<std::optional<std::string>(std::string_view block_hash)>;

// The record of EncodeSafetyRecord's bytes, with the blocks they refer to from block_bytes
// (called once per block); "CORRUPT_SAFETY_RECORD" when they are not such an encoding
// (truncated, trailing bytes, an unknown version or kind, a round below -1 or a block hash
// missing or present against its round, a proposal with a block inside, a message at another
// height or out of order) or when a block it refers to is missing, does not parse, has a
// malformed header or a block hash other than the one referred to.
// Version 1 bytes, written before blocks were stored apart, are still read (block_bytes is then
// not called): u8(1) || u64(height) || u32(n) || n * (u8(kind: 1 proposal, 2 vote) ||
// str(message, a proposal with its block)) || i64(locked_round) || str(locked block or "") ||
// i64(valid_round) || str(valid block or "").
Result<SafetyRecord> DecodeSafetyRecord(std::string_view bytes,
                                        const SafetyBlockLookup& block_bytes);

// Durable storage of the one current SafetyRecord. Implemented by the node over its database
// (KeyValueSafetyStore) and by the tests in memory.
class SafetyStore {
 public:
  virtual ~SafetyStore() = default;
  // Replaces the stored record with record and returns only once it is durable (fsynced). On
  // failure the previous record must still be the stored one; the core then stops (see
  // Core::halted()). Called from the thread that calls the core.
  virtual Status Save(const SafetyRecord& record) = 0;
};

// The keys of a KeyValueSafetyStore: the record, and each block under the prefix followed by
// its block hash (32 bytes).
inline constexpr std::string_view kSafetyRecordKey = "safety_record";
inline constexpr std::string_view kSafetyBlockKeyPrefix = "safety_block/";
std::string SafetyBlockKey(std::string_view block_hash);

// A SafetyStore over a key-value database with atomic, synced writes (the node's "consensus"
// column family): EncodeSafetyRecord's bytes under kSafetyRecordKey and each block they refer to
// under SafetyBlockKey. A Save is one write of the record, the blocks it refers to that the
// database does not hold yet, and deletes of the blocks it holds that the record no longer
// refers to (an earlier height's): the database never holds a record without its blocks, and
// each block is serialised and written once however many messages, locks and saves refer to
// it. Not thread-safe (the core calls it from one thread).
class KeyValueSafetyStore : public SafetyStore {
 public:
  using KeyValues = std::vector<std::pair<std::string, std::string>>;
  // Applies puts, then deletes, as one write, all or nothing, and returns Ok once it is durable
  // (fsynced). On failure none of it may have been applied (the SafetyStore contract).
  using AtomicWrite =
      std::function<Status(const KeyValues& puts, const std::vector<std::string>& deletes)>;

  // stored_block_keys: the keys under kSafetyBlockKeyPrefix that the database holds now (they
  // are not written again, and are deleted once the record no longer refers to them).
  KeyValueSafetyStore(const std::vector<std::string>& stored_block_keys, AtomicWrite write);

  // One call of write, as above; its error when it fails.
  Status Save(const SafetyRecord& record) override;

 private:
  AtomicWrite write_;
  std::set<std::string> stored_;  // the keys of the blocks the database holds
};

// The record a KeyValueSafetyStore left in a database read through get (a key's value, nullopt
// when absent): nullopt when there is none; errors as DecodeSafetyRecord.
Result<std::optional<SafetyRecord>> LoadSafetyRecord(
    const std::function<std::optional<std::string>(std::string_view key)>& get);

}  // namespace bas::node::consensus
