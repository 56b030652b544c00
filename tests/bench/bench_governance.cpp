// Governance throughput (issue 3): how fast the state machine applies votes whose signatures
// are already verified (the node verifies once, at mempool admission), and a whole scenario of
// 100,000 votes through `bas scenario run`'s code path (signing and verification included).
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "cli/scenario/runner.h"
#include "governance/engine.h"
#include "governance/kv.h"

namespace {

using bas::governance::CheckedTx;
using bas::governance::Engine;
using bas::governance::MemoryKv;

constexpr char kChain[] = "bench";
constexpr int64_t kStart = 1767225600;
constexpr bas::v1::StakeholderGroup kGroups[] = {
    bas::v1::GOVERNMENT,          bas::v1::PRIVATE_SECTOR, bas::v1::CIVIL_SOCIETY,
    bas::v1::TECHNICAL_COMMUNITY, bas::v1::ACADEMIA,       bas::v1::INTERGOVERNMENTAL};

// A coalition of `members` members, one open proposal, and one signed, pre-checked vote per
// member on it: the input of a block full of votes.
struct VoteBlockFixture {
  MemoryKv state;
  std::vector<CheckedTx> votes;

  explicit VoteBlockFixture(int members) {
    std::vector<bas::crypto::KeyPair> keys;
    bas::v1::Genesis g;
    g.set_chain_id(kChain);
    g.set_genesis_time(kStart);
    auto* c = g.add_coalitions();
    c->set_id("bas-dc");
    c->set_name("bench");
    for (int i = 0; i < members; ++i) {
      keys.push_back(*bas::crypto::KeyPair::Generate());
      auto* m = c->add_members();
      m->set_id("m-" + std::to_string(i));
      m->set_key(std::string(reinterpret_cast<const char*>(keys.back().public_key().data()), 32));
      m->set_group(kGroups[i % 6]);
      m->add_roles(bas::v1::MEMBER);
    }
    {
      Engine e(state);
      if (!e.InitChain(g).ok()) std::abort();
      state.Apply(e.TakeWrites());
    }
    bas::v1::TxBody propose;
    propose.set_chain_id(kChain);
    propose.set_nonce(0);
    propose.mutable_propose()->set_coalition("bas-dc");
    propose.mutable_propose()->set_title("Annual plan");
    propose.mutable_propose()->add_actions()->mutable_resolution()->set_text("Adopted.");
    auto checked =
        bas::governance::CheckTx(bas::governance::SignTx(keys[0], propose).bytes, kChain);
    Engine e(state);
    e.BeginBlock({kChain, 1, kStart});
    if (!e.DeliverTx(checked.tx).outcome.ok()) std::abort();
    e.EndBlock();
    state.Apply(e.TakeWrites());
    for (int i = 0; i < members; ++i) {
      bas::v1::TxBody vote;
      vote.set_chain_id(kChain);
      vote.set_nonce(i == 0 ? 1 : 0);
      vote.mutable_vote()->set_proposal_id(
          std::string(reinterpret_cast<const char*>(checked.tx.tx_id.data()), 32));
      vote.mutable_vote()->set_choice(i % 3 == 0 ? bas::v1::NO : bas::v1::YES);
      vote.mutable_vote()->set_reason(i % 3 == 0 ? "not costed" : "");
      auto v = bas::governance::CheckTx(bas::governance::SignTx(keys[i], vote).bytes, kChain);
      if (!v.outcome.ok()) std::abort();
      votes.push_back(std::move(v.tx));
    }
  }
};

// One block of 10,000 pre-verified votes applied to the in-memory state, through EndBlock,
// the write set and the app hash: what the node pays per block besides signatures and disk.
void BM_ApplyVerifiedVotes(benchmark::State& st) {
  static const auto* fixture = new VoteBlockFixture(10000);
  for (auto _ : st) {
    Engine e(fixture->state);
    e.BeginBlock({kChain, 2, kStart + 60});
    for (const auto& v : fixture->votes) {
      if (!e.DeliverTx(v).outcome.ok()) st.SkipWithError("vote refused");
    }
    e.EndBlock();
    auto writes = e.TakeWrites();
    benchmark::DoNotOptimize(bas::governance::NextAppHash({}, writes));
  }
  st.SetItemsProcessed(st.iterations() * static_cast<int64_t>(fixture->votes.size()));
}
BENCHMARK(BM_ApplyVerifiedVotes)->Unit(benchmark::kMillisecond)->MinTime(3);

// The same block, timing only the DeliverTx calls: the rules' own cost per vote, without the
// end-of-block write set and app hash.
void BM_DeliverVerifiedVotes(benchmark::State& st) {
  static const auto* fixture = new VoteBlockFixture(10000);
  for (auto _ : st) {
    Engine e(fixture->state);
    e.BeginBlock({kChain, 2, kStart + 60});
    for (const auto& v : fixture->votes) {
      if (!e.DeliverTx(v).outcome.ok()) st.SkipWithError("vote refused");
    }
    st.PauseTiming();
    e.EndBlock();
    benchmark::DoNotOptimize(e.TakeWrites());
    st.ResumeTiming();
  }
  st.SetItemsProcessed(st.iterations() * static_cast<int64_t>(fixture->votes.size()));
}
BENCHMARK(BM_DeliverVerifiedVotes)->Unit(benchmark::kMillisecond)->MinTime(3);

// A scenario of 100,000 votes end to end: 100 members, 1,000 resolutions, each member voting
// once on each, in blocks of 10,000 votes; the runner signs every tx and CheckTx verifies it.
void BM_Scenario100kVotes(benchmark::State& st) {
  nlohmann::json s;
  s["start"] = kStart;
  nlohmann::json members = nlohmann::json::array();
  for (int i = 0; i < 100; ++i) {
    members.push_back({{"id", "m-" + std::to_string(i)},
                       {"group", bas::v1::StakeholderGroup_Name(kGroups[i % 6])},
                       {"roles", {"MEMBER"}}});
  }
  s["coalitions"] = {{{"id", "bas-dc"}, {"name", "bench"}, {"members", members}}};
  nlohmann::json steps = nlohmann::json::array();
  nlohmann::json proposals = nlohmann::json::array();
  for (int p = 0; p < 1000; ++p) {
    proposals.push_back({{"type", "propose"},
                         {"by", "m-" + std::to_string(p % 100)},
                         {"ref", "p" + std::to_string(p)},
                         {"coalition", "bas-dc"},
                         {"title", "Resolution " + std::to_string(p)},
                         {"actions", {{{"type", "resolution"}, {"text", "Resolved."}}}}});
  }
  steps.push_back({{"t", 0}, {"txs", proposals}});
  for (int block = 0; block < 10; ++block) {
    nlohmann::json txs = nlohmann::json::array();
    for (int p = block * 100; p < (block + 1) * 100; ++p) {
      for (int m = 0; m < 100; ++m) {
        txs.push_back({{"type", "vote"},
                       {"by", "m-" + std::to_string(m)},
                       {"proposal", "p" + std::to_string(p)},
                       {"choice", m % 4 == 0 ? "NO" : "YES"}});
      }
    }
    steps.push_back({{"t", 60 * (block + 1)}, {"txs", txs}});
  }
  steps.push_back({{"t", 8 * 24 * 3600}});
  s["steps"] = steps;
  auto parsed = bas::scenario::ParseScenario(s);
  if (!parsed.ok()) {
    st.SkipWithError(parsed.error().message.c_str());
    return;
  }
  for (auto _ : st) {
    auto run = bas::scenario::RunScenario(*parsed);
    if (!run.ok() || !run->output["rejected"].empty()) st.SkipWithError("scenario failed");
    benchmark::DoNotOptimize(run);
  }
  st.SetItemsProcessed(st.iterations() * 100000);
}
BENCHMARK(BM_Scenario100kVotes)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
