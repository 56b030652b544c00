// The DAO rules of BAS Ledger as a pure, deterministic state machine (DESIGN.md section 3,
// scenarios/README.md "Precise rules").
//
// The node, the auditor and the scenario runner drive it the same way:
//
//   CheckTx(bytes)            stateless: decode, limits, signature (tx_check.h, any thread)
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
#include "crypto/result.h"
#include "governance/codes.h"
#include "governance/kv.h"
#include "governance/tx_check.h"  // CheckTx, the stage before the engine

namespace bas::governance {

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
