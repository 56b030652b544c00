#include "node/chain/executor.h"

#include <map>

#include "governance/query.h"
#include "node/chain/encoding.h"

namespace bas::node::chain {
namespace {

// Moves the events: copying them was a dozen small allocations per tx.
bas::v1::TxResult ToProto(governance::TxResult&& r) {
  bas::v1::TxResult out;
  out.set_code(static_cast<uint32_t>(r.outcome.code));
  out.set_message(std::move(r.outcome.message));
  for (auto& e : r.events) *out.add_events() = std::move(e);
  return out;
}

void Finish(governance::Engine& engine, const BlockInput& in, ExecutedBlock* out) {
  governance::EndBlockResult end = engine.EndBlock();
  for (auto& e : end.events) *out->results.add_end_block_events() = std::move(e);
  for (auto& v : end.validator_updates) *out->results.add_validator_updates() = std::move(v);
  out->writes = engine.TakeWrites();
  out->app_hash = governance::NextAppHash(in.prev_app_hash, out->writes);
  out->tx_root = TxRoot(out->txs);
  out->results_root = ResultsRoot(out->results);
}

// A state with a block's writes applied on top, for reading what the block left behind.
class WithWrites final : public governance::KvReader {
 public:
  WithWrites(const governance::KvReader& parent, const governance::WriteSet& writes)
      : parent_(parent), writes_(writes) {}
  std::optional<std::string> Get(std::string_view key) const override {
    if (auto it = writes_.find(key); it != writes_.end()) return it->second;
    return parent_.Get(key);
  }
  void Scan(std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& fn) const override {
    std::map<std::string, std::optional<std::string>, std::less<>> merged;
    parent_.Scan(prefix, [&](std::string_view k, std::string_view v) {
      merged.emplace(std::string(k), std::string(v));
      return true;
    });
    for (auto it = writes_.lower_bound(prefix);
         it != writes_.end() && it->first.starts_with(prefix); ++it) {
      merged.insert_or_assign(it->first, it->second);
    }
    for (const auto& [k, v] : merged) {
      if (v && !fn(k, *v)) break;
    }
  }

 private:
  const governance::KvReader& parent_;
  const governance::WriteSet& writes_;
};

governance::BlockContext Context(const BlockInput& in) {
  return governance::BlockContext{in.chain_id, in.height, in.time};
}

}  // namespace

Result<GenesisState> ExecuteGenesis(const bas::v1::Genesis& genesis) {
  // The rules accept a genesis without validators (scenarios run without consensus); a chain
  // does not: nobody could certify its first block.
  if (genesis.validators().empty()) {
    return Error{"INVALID_GENESIS", "validators: at least one"};
  }
  governance::MemoryKv empty;
  governance::Engine engine(empty);
  if (Status s = engine.InitChain(genesis); !s.ok()) return s.error();
  GenesisState out;
  out.writes = engine.TakeWrites();
  out.app_hash = governance::NextAppHash(crypto::Hash32{}, out.writes);
  return out;
}

ExecutedBlock BuildBlock(const governance::KvReader& state, const BlockInput& in,
                         const std::vector<const governance::CheckedTx*>& candidates,
                         std::vector<DroppedTx>* dropped) {
  governance::Engine engine(state);
  engine.BeginBlock(Context(in));
  ExecutedBlock out;
  for (size_t i = 0; i < candidates.size(); ++i) {
    governance::TxResult r = engine.DeliverTx(*candidates[i]);
    if (!r.outcome.ok()) {
      if (dropped != nullptr) dropped->push_back({i, r.outcome});
      continue;
    }
    *out.txs.Add() = candidates[i]->raw;
    out.tx_ids.push_back(candidates[i]->tx_id);
    *out.results.add_tx_results() = ToProto(std::move(r));
  }
  Finish(engine, in, &out);
  return out;
}

BlockResult<ExecutedBlock> ExecuteBlock(const governance::KvReader& state, const BlockInput& in,
                                        const std::vector<governance::CheckedTx>& txs) {
  governance::Engine engine(state);
  engine.BeginBlock(Context(in));
  ExecutedBlock out;
  for (size_t i = 0; i < txs.size(); ++i) {
    governance::TxResult r = engine.DeliverTx(txs[i]);
    if (!r.outcome.ok()) {
      return BlockError{BlockFault::kTx, "tx " + std::to_string(i) + " is refused: " +
                                             std::string(governance::CodeName(r.outcome.code)) +
                                             " " + r.outcome.message};
    }
    *out.txs.Add() = txs[i].raw;
    out.tx_ids.push_back(txs[i].tx_id);
    *out.results.add_tx_results() = ToProto(std::move(r));
  }
  Finish(engine, in, &out);
  return out;
}

bas::v1::ValidatorSet ValidatorsAfter(const governance::KvReader& parent,
                                      const governance::WriteSet& writes) {
  bas::v1::ValidatorSet set;
  for (auto& v : governance::ListValidators(WithWrites(parent, writes))) {
    *set.add_validators() = std::move(v);
  }
  return set;
}

BlockStatus CheckExecution(const bas::v1::BlockHeader& header, const ExecutedBlock& exec) {
  if (header.tx_root() != HashBytes(exec.tx_root)) {
    return BlockError{BlockFault::kTxRoot, "tx_root differs from the txs"};
  }
  if (header.results_root() != HashBytes(exec.results_root)) {
    return BlockError{BlockFault::kResultsRoot, "results_root differs from the execution"};
  }
  if (header.app_hash() != HashBytes(exec.app_hash)) {
    return BlockError{BlockFault::kAppHash, "app_hash differs from the execution"};
  }
  return BlockStatus::Ok();
}

BlockResult<std::vector<governance::CheckedTx>> CheckBlockTxs(
    const google::protobuf::RepeatedPtrField<std::string>& txs, std::string_view chain_id,
    unsigned threads, const KnownTxs& known) {
  Workers workers(std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(txs.size()))));
  return CheckBlockTxs(txs, chain_id, workers, known);
}

BlockResult<std::vector<governance::CheckedTx>> CheckBlockTxs(
    const google::protobuf::RepeatedPtrField<std::string>& txs, std::string_view chain_id,
    Workers& workers, const KnownTxs& known) {
  const size_t n = static_cast<size_t>(txs.size());
  std::vector<governance::CheckTxResult> checked(n);
  workers.ForEach(n, [&](size_t i) {
    if (known) {
      if (auto tx = known(txs[i])) {
        checked[i].tx = *tx;
        return;
      }
    }
    checked[i] = governance::CheckTx(txs[i], chain_id);
  });
  std::vector<governance::CheckedTx> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (!checked[i].outcome.ok()) {
      return BlockError{BlockFault::kTx,
                        "tx " + std::to_string(i) + ": " +
                            std::string(governance::CodeName(checked[i].outcome.code)) + " " +
                            checked[i].outcome.message};
    }
    out.push_back(std::move(checked[i].tx));
  }
  return out;
}

}  // namespace bas::node::chain
