// Executes blocks through the governance engine: the one piece of block logic shared by the
// proposer, validators, block sync and the auditor (DESIGN.md section 4). No networking, no
// storage: state in, write set and roots out.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bas/v1/chain.pb.h"
#include "bas/v1/genesis.pb.h"
#include "crypto/result.h"
#include "governance/engine.h"
#include "governance/kv.h"
#include "node/chain/block_fault.h"
#include "node/chain/workers.h"

namespace bas::node::chain {

struct BlockInput {
  std::string chain_id;
  uint64_t height = 0;
  int64_t time = 0;
  crypto::Hash32 prev_app_hash{};
};

struct ExecutedBlock {
  google::protobuf::RepeatedPtrField<std::string> txs;  // the txs executed, exact bytes
  std::vector<crypto::Hash32> tx_ids;                   // their ids, in the same order
  bas::v1::BlockResults results;
  governance::WriteSet writes;
  crypto::Hash32 app_hash{};
  crypto::Hash32 tx_root{};
  crypto::Hash32 results_root{};
};

struct DroppedTx {
  size_t index = 0;  // into the candidates
  governance::TxOutcome outcome;
};

// The state and app hash of a genesis document: InitChain over an empty state, app hash
// NextAppHash(32 zero bytes, writes). Errors: "INVALID_GENESIS" naming the field.
struct GenesisState {
  governance::WriteSet writes;
  crypto::Hash32 app_hash{};
};
Result<GenesisState> ExecuteGenesis(const bas::v1::Genesis& genesis);

// Proposer: executes candidates in order, leaving out those the rules refuse (reported in
// *dropped when not null). state: the state after the previous block.
ExecutedBlock BuildBlock(const governance::KvReader& state, const BlockInput& in,
                         const std::vector<const governance::CheckedTx*>& candidates,
                         std::vector<DroppedTx>* dropped);

// Validator, block sync, auditor: executes every tx of a block. Fails with BlockFault::kTx
// naming the first tx the rules refuse (a valid block holds only valid txs).
BlockResult<ExecutedBlock> ExecuteBlock(const governance::KvReader& state, const BlockInput& in,
                                        const std::vector<governance::CheckedTx>& txs);

// Compares a header's tx root, results root and app hash with an execution's; fails with
// kTxRoot, kResultsRoot or kAppHash for the first that differs.
BlockStatus CheckExecution(const bas::v1::BlockHeader& header, const ExecutedBlock& exec);

// The validator set in the governance state after a block: the parent state with the block's
// writes on top. It takes over at height + 2 (DESIGN.md section 5).
bas::v1::ValidatorSet ValidatorsAfter(const governance::KvReader& parent,
                                      const governance::WriteSet& writes);

// Txs this node has already checked (its mempool): the checked tx whose bytes are exactly raw,
// or nullptr. Called from several threads at once.
using KnownTxs = std::function<std::shared_ptr<const governance::CheckedTx>(std::string_view raw)>;

// CheckTx (decode, limits, signatures) of every tx of a block, on `threads` threads; a tx that
// `known` returns is taken as checked (a validator verifies each signature once). Fails with
// BlockFault::kTx naming the first tx that does not pass. Thread-safe.
BlockResult<std::vector<governance::CheckedTx>> CheckBlockTxs(
    const google::protobuf::RepeatedPtrField<std::string>& txs, std::string_view chain_id,
    unsigned threads, const KnownTxs& known = nullptr);
// The same on threads kept by the caller (the auditor checks block after block).
BlockResult<std::vector<governance::CheckedTx>> CheckBlockTxs(
    const google::protobuf::RepeatedPtrField<std::string>& txs, std::string_view chain_id,
    Workers& workers, const KnownTxs& known = nullptr);

}  // namespace bas::node::chain
