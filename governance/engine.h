// The DAO rules of BAS Ledger as a pure, deterministic state machine (DESIGN.md section 3,
// scenarios/README.md "Precise rules").
//
// The node, the auditor and the scenario runner drive it the same way:
//
//   CheckTx(bytes)            stateless: decode, limits, signature          (any thread)
//   Engine engine(state);     over the state committed by the previous block
//   engine.BeginBlock(ctx);
//   engine.DeliverTx(tx)...   contextual checks, then apply; a refused tx changes nothing
//   engine.EndBlock();        closes due proposals, expires listings
//   engine.TakeWrites();      the block's write set, to commit and hash (NextAppHash)
//
// No I/O, clock, randomness, threads or floating point: time comes from the block. An Engine
// is not thread-safe; CheckTx is.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bas/v1/chain.pb.h"
#include "bas/v1/genesis.pb.h"
#include "bas/v1/state.pb.h"
#include "bas/v1/tx.pb.h"
#include "crypto/hash.h"
#include "crypto/result.h"
#include "crypto/schnorr.h"
#include "governance/codes.h"
#include "governance/kv.h"

namespace bas::governance {

// Size limits (bytes, UTF-8 checked) and counts; a tx over one is INVALID_ARGUMENT.
inline constexpr size_t kMaxTxBytes = 64 * 1024;
inline constexpr size_t kMaxTitleBytes = 200;
inline constexpr size_t kMaxSummaryBytes = 10000;
inline constexpr size_t kMaxReasonBytes = 1000;
inline constexpr size_t kMaxStatementBytes = 2000;
inline constexpr size_t kMaxActions = 16;

// A transaction that passed the stateless checks.
struct CheckedTx {
  std::string raw;  // the SignedTx bytes exactly as received (a leaf of the tx root)
  bas::v1::SignedTx signed_tx;
  bas::v1::TxBody body;
  crypto::PublicKey signer{};
  // tagged_hash("bas/txid", signer || body bytes): the tx's identity, independent of the
  // signature's randomness. A proposal's id is the id of the tx that opened it.
  crypto::Hash32 tx_id{};
};

struct TxOutcome {
  Code code = Code::kOk;
  std::string message;  // why, for people
  bool ok() const { return code == Code::kOk; }
};

struct CheckTxResult {
  TxOutcome outcome;
  // Complete only when outcome.ok(); signer and tx_id are set as soon as the SignedTx decodes
  // with a 32-byte signer and a 64-byte signature, so a refused tx can still be named.
  CheckedTx tx;
};

// Stateless checks in the order of "Precise rules" 1: decoding, chain id, fields and limits
// (INVALID_ARGUMENT), then the signature(s) (BAD_SIGNATURE). With verify_signature false the
// caller vouches that the signature was verified already (the mempool's cached result).
CheckTxResult CheckTx(std::string_view signed_tx_bytes, std::string_view chain_id,
                      bool verify_signature = true);

// tagged_hash("bas/txid", signer || body).
crypto::Hash32 TxId(const crypto::PublicKey& signer, std::string_view body);
// The message a tx signature signs: tagged_hash("bas/tx", body).
crypto::Hash32 TxSigHash(std::string_view body);
// The message a RotateKey's new key signs: tagged_hash("bas/rotate-key", old || new || chain).
crypto::Hash32 RotateKeySigHash(const crypto::PublicKey& old_key, const crypto::PublicKey& new_key,
                                std::string_view chain_id);

// Serializes body once and signs those exact bytes: the SignedTx bytes to submit.
std::string SignTx(const crypto::KeyPair& key, const bas::v1::TxBody& body);

struct BlockContext {
  std::string chain_id;
  uint64_t height = 0;
  int64_t time = 0;  // Unix seconds, from the block header
};

struct TxResult {
  TxOutcome outcome;
  std::vector<bas::v1::Event> events;
};

struct EndBlockResult {
  std::vector<bas::v1::Event> events;                 // closed proposals, expiries
  std::vector<bas::v1::Validator> validator_updates;  // power 0 removes
};

class Engine {
 public:
  // base: the state after the previous block; must outlive the engine and not change under it.
  explicit Engine(const KvReader& base);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Writes the genesis state. Call on an empty base, instead of a block. Errors name the field
  // at fault (code "INVALID_GENESIS").
  Status InitChain(const bas::v1::Genesis& genesis);

  void BeginBlock(const BlockContext& ctx);
  // Contextual checks and apply. A tx that is refused leaves the state as it was (and uses no
  // nonce). Precondition: tx came from CheckTx with this block's chain id.
  TxResult DeliverTx(const CheckedTx& tx);
  // Closes the proposals whose end has come, in acceptance order, and expires listings.
  EndBlockResult EndBlock();

  // The writes since construction (or the last TakeWrites), for the caller to commit.
  WriteSet TakeWrites();

  // Reads through the engine's pending writes (for queries between txs, and for tests).
  const KvReader& view() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bas::governance
