// Benchmark of bas::node::consensus: decided heights per second of four validators' cores with
// no faults (docs/performance.md, "Consensus"). One iteration is one height: every core starts
// it, the proposer's block is built, and every message is delivered to every other core at
// once (no network, no clock: timeouts never fire) until all four have decided. It measures
// the cores' own cost per height: signing (1 proposal, 4 prevotes, 4 precommits), verifying
// every message at every other core (27 signatures), hashing, counting and the SafetyRecord
// handed to a store that keeps it in memory (a real node adds an fsync per signed message).
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <benchmark/benchmark.h>

#include "crypto/hash.h"
#include "crypto/schnorr.h"
#include "node/chain/encoding.h"
#include "node/consensus/core.h"

namespace bas::node::consensus {
namespace {

constexpr std::string_view kChain = "bas-bench";
constexpr int kValidators = 4;

class MemoryStore : public SafetyStore {
 public:
  Status Save(const SafetyRecord& record) override {
    record_ = record;
    return Status::Ok();
  }

 private:
  SafetyRecord record_;
};

bas::v1::Block MakeBlock(uint64_t height) {
  bas::v1::Block b;
  auto* h = b.mutable_header();
  h->set_chain_id(std::string(kChain));
  h->set_height(height);
  h->set_time(1767225600 + static_cast<int64_t>(height));
  auto field = [&](int i) {
    return crypto::HashBytes(crypto::Sha256Of(std::to_string(height) + "/" + std::to_string(i)));
  };
  h->set_prev_block_hash(field(1));
  h->set_tx_root(field(2));
  h->set_results_root(field(3));
  h->set_app_hash(field(4));
  h->set_validators_hash(field(5));
  h->set_next_validators_hash(field(6));
  h->set_proposer(field(7));
  h->set_last_commit_hash(field(8));
  h->set_evidence_hash(field(9));
  return b;
}

class FourValidators {
 public:
  FourValidators() {
    bas::v1::ValidatorSet proto;
    for (int i = 0; i < kValidators; ++i) {
      auto key =
          crypto::KeyPair::FromSecret(crypto::Sha256Of("bas-bench/validator/" + std::to_string(i)));
      if (!key.ok()) std::abort();
      auto* v = proto.add_validators();
      v->set_key(crypto::HashBytes(key->public_key()));
      v->set_power(1);
      stores_.push_back(std::make_unique<MemoryStore>());
      cores_.push_back(std::make_unique<Core>(std::string(kChain),
                                              TimeoutParams{1000, 500, 500, 100}, *key,
                                              stores_.back().get(), std::nullopt));
    }
    auto set = ValidatorSet::From(proto);
    if (!set.ok()) std::abort();
    set_.emplace(*set);
  }

  // Runs one height to a decision at every core; false if something went wrong.
  bool DecideHeight(uint64_t height) {
    decided_ = 0;
    for (int i = 0; i < kValidators; ++i) {
      if (!Handle(i, cores_[i]->StartHeight(height, *set_))) return false;
    }
    while (!mail_.empty()) {
      auto [to, message] = std::move(mail_.front());
      mail_.pop_front();
      Result<Effects> r =
          std::holds_alternative<bas::v1::ConsensusVote>(message)
              ? cores_[to]->OnVote(std::get<bas::v1::ConsensusVote>(message))
              : cores_[to]->OnProposal(std::get<bas::v1::ConsensusProposal>(message));
      if (!Handle(to, std::move(r))) return false;
    }
    return decided_ == kValidators;
  }

 private:
  bool Handle(int node, Result<Effects> result) {
    if (!result.ok()) return false;
    for (Effect& e : result.value()) {
      if (auto* p = std::get_if<BroadcastProposal>(&e)) {
        Send(node, std::move(p->proposal));
      } else if (auto* v = std::get_if<BroadcastVote>(&e)) {
        Send(node, std::move(v->vote));
      } else if (auto* r = std::get_if<RequestBlock>(&e)) {
        if (!Handle(node,
                    cores_[node]->OnProposalBlock(r->height, r->round, MakeBlock(r->height)))) {
          return false;
        }
      } else if (auto* check = std::get_if<ValidateBlock>(&e)) {
        if (!Handle(node, cores_[node]->OnBlockValid(check->block_hash, true))) return false;
      } else if (std::holds_alternative<Decide>(e)) {
        ++decided_;
      }
    }
    return true;
  }

  void Send(int from, SignedMessage message) {
    for (int to = 0; to < kValidators; ++to) {
      if (to != from) mail_.emplace_back(to, message);
    }
  }

  std::vector<std::unique_ptr<MemoryStore>> stores_;
  std::vector<std::unique_ptr<Core>> cores_;
  std::optional<ValidatorSet> set_;
  std::deque<std::pair<int, SignedMessage>> mail_;
  int decided_ = 0;
};

void BM_ConsensusFourValidatorsHeight(benchmark::State& state) {
  FourValidators net;
  uint64_t height = 1;
  for (auto _ : state) {
    if (!net.DecideHeight(height++)) {
      state.SkipWithError("a height was not decided");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());  // items = decided heights
}
BENCHMARK(BM_ConsensusFourValidatorsHeight)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bas::node::consensus
