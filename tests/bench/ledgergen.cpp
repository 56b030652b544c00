// bas-ledgergen: writes a large, valid ledger for `scripts/bench.sh audit`, without a node: a
// genesis with one validator and many members, then blocks of signed proposals and votes built
// through the node's own block code (governance::CheckTx, node::chain::BuildBlock and
// AssembleBlock, a commit signed by the validator), written as an export file
// (docs/export.md) and, with --data-dir, also into a node store (node::storage::ChainStore).
//
//   bas-ledgergen --txs N [--members M] [--block-txs B] [--voting-period S] [--threads T]
//                 --out FILE --genesis-out FILE [--data-dir DIR]
//
// Each block opens B / M proposals and carries every member's vote on the proposals of the block
// before: YES mostly, NO with a reason for every fourth member (dissent), ABSTAIN for some.
// Blocks are 10 s apart, so proposals close (and enter the register) during the ledger. Txs are
// signed on all cores. Keys are tagged_hash("bas/bench-key", "m-<i>") and
// tagged_hash("bas/bench-key", "validator"): public test keys, never for a real chain.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <sys/resource.h>

#include "bas/v1/chain.pb.h"
#include "cli/audit/export_format.h"
#include "governance/engine.h"
#include "governance/kv.h"
#include "node/chain/block.h"
#include "node/chain/commit.h"
#include "node/chain/encoding.h"
#include "node/chain/executor.h"
#include "node/storage/chain_store.h"
#include "proto/json.h"

namespace {

using bas::crypto::HashBytes;
using Clock = std::chrono::steady_clock;

constexpr int64_t kGenesisTime = 1767225600;  // 2026-01-01T00:00:00Z
constexpr int64_t kBlockInterval = 10;
constexpr bas::v1::StakeholderGroup kGroups[] = {bas::v1::GOVERNMENT, bas::v1::PRIVATE_SECTOR,
                                                 bas::v1::CIVIL_SOCIETY,
                                                 bas::v1::TECHNICAL_COMMUNITY, bas::v1::ACADEMIA};

[[noreturn]] void Die(const std::string& why) {
  std::cerr << "bas-ledgergen: " << why << "\n";
  std::exit(1);
}

bas::crypto::KeyPair BenchKey(const std::string& name) {
  auto key = bas::crypto::KeyPair::FromSecret(bas::crypto::TaggedHash("bas/bench-key", name));
  if (!key.ok()) Die("key " + name + ": " + key.error().message);
  return *key;
}

std::string KeyBytes(const bas::crypto::KeyPair& k) {
  return std::string(reinterpret_cast<const char*>(k.public_key().data()), 32);
}

struct Params {
  uint64_t txs = 1'000'000;
  int members = 1000;
  int block_txs = 5000;
  uint64_t voting_period = 600;
  unsigned threads = 0;
  std::string out;
  std::string genesis_out;
  std::string data_dir;
};

bas::v1::Genesis MakeGenesis(const Params& p, const bas::crypto::KeyPair& validator,
                             const std::vector<bas::crypto::KeyPair>& members) {
  bas::v1::Genesis g;
  g.set_chain_id("bas-bench-audit");
  g.set_genesis_time(kGenesisTime);
  auto* v = g.add_validators();
  v->set_key(KeyBytes(validator));
  v->set_power(10);
  v->set_name("bench-validator");
  g.mutable_params()->set_max_block_txs(static_cast<uint32_t>(p.block_txs + 1000));
  auto* c = g.add_coalitions();
  c->set_id("bas-dc");
  c->set_name("BAS-DC (audit benchmark)");
  for (size_t i = 0; i < members.size(); ++i) {
    auto* m = c->add_members();
    m->set_id("m-" + std::to_string(i));
    m->set_key(KeyBytes(members[i]));
    m->set_group(kGroups[i % 5]);
    m->add_roles(bas::v1::MEMBER);
  }
  auto* rule = c->add_rules();
  rule->set_action_type("default");
  rule->mutable_rule()->set_voting_period_s(p.voting_period);
  return g;
}

// One tx to sign: who signs which body.
struct Unsigned {
  int member = 0;
  bas::v1::TxBody body;
};

// The bodies of every block: proposals, then votes on the previous block's proposals. The
// proposal ids (the ids of the txs that opened them) are known only once signed, so each
// vote's proposal id is filled in when its block is built.
struct BlockPlan {
  int proposals = 0;
  uint64_t votes = 0;  // on the previous block's proposals, member by member
};

std::vector<BlockPlan> Plan(const Params& p) {
  const int per_block = std::max(1, p.block_txs / p.members);
  std::vector<BlockPlan> plan;
  uint64_t total = 0;
  int open = 0;  // proposals of the previous block
  while (total < p.txs) {
    BlockPlan b;
    b.votes = std::min<uint64_t>(static_cast<uint64_t>(open) * p.members, p.txs - total);
    total += b.votes;
    b.proposals = static_cast<int>(std::min<uint64_t>(per_block, p.txs - total));
    total += b.proposals;
    plan.push_back(b);
    open = b.proposals;
  }
  return plan;
}

int Run(const Params& p) {
  if (p.members < 1 || p.block_txs < 1) Die("--members and --block-txs must be positive");
  const unsigned threads =
      p.threads > 0 ? p.threads : std::max(1u, std::thread::hardware_concurrency());
  const auto started = Clock::now();
  const bas::crypto::KeyPair validator = BenchKey("validator");
  std::vector<bas::crypto::KeyPair> members;
  for (int i = 0; i < p.members; ++i) members.push_back(BenchKey("m-" + std::to_string(i)));
  const bas::v1::Genesis genesis = MakeGenesis(p, validator, members);
  const std::string& chain_id = genesis.chain_id();
  if (bas::Status s = bas::proto::WriteGenesis(p.genesis_out, genesis); !s.ok()) Die(s.message());

  auto g = bas::node::chain::ExecuteGenesis(genesis);
  if (!g.ok()) Die("genesis: " + g.error().message);
  bas::governance::MemoryKv state;
  state.Apply(g->writes);
  std::unique_ptr<bas::node::storage::ChainStore> store;
  if (!p.data_dir.empty()) {
    auto opened = bas::node::storage::ChainStore::Open(p.data_dir);
    if (!opened.ok()) Die(opened.error().message);
    store = std::move(*opened);
    if (store->initialized()) Die(p.data_dir + " already holds a chain");
    if (auto s = store->InitGenesis(genesis, g->writes, g->app_hash); !s.ok()) Die(s.message());
  }

  const std::vector<BlockPlan> plan = Plan(p);
  bas::v1::ExportHeader header;
  header.set_format_version(bas::audit::kExportFormatVersion);
  header.set_chain_id(chain_id);
  header.set_first_height(plan.empty() ? 0 : 1);
  header.set_last_height(plan.size());
  header.set_has_results(true);
  auto writer = bas::audit::ExportWriter::Create(p.out, header, genesis);
  if (!writer.ok()) Die(writer.error().message);

  bas::node::chain::ChainTip tip = bas::node::chain::GenesisTip(genesis, g->app_hash);
  std::vector<uint64_t> nonces(members.size(), 0);
  std::vector<std::string> open_ids;  // the previous block's proposal ids
  bas::v1::Commit last_commit;
  uint64_t next_proposer = 0, txs_done = 0, proposal_number = 0;

  for (size_t b = 0; b < plan.size(); ++b) {
    const uint64_t height = b + 1;
    const int64_t time = kGenesisTime + kBlockInterval * static_cast<int64_t>(height);
    std::vector<Unsigned> todo;
    for (int i = 0; i < plan[b].proposals; ++i) {
      Unsigned u;
      u.member = static_cast<int>(next_proposer++ % members.size());
      auto* prop = u.body.mutable_propose();
      prop->set_coalition("bas-dc");
      prop->set_title("Resolution " + std::to_string(++proposal_number));
      prop->add_actions()->mutable_resolution()->set_text("The coalition adopts item " +
                                                          std::to_string(proposal_number));
      todo.push_back(std::move(u));
    }
    for (uint64_t k = 0; k < plan[b].votes; ++k) {
      Unsigned u;
      u.member = static_cast<int>(k % members.size());
      auto* vote = u.body.mutable_vote();
      vote->set_proposal_id(open_ids.at(k / members.size()));
      if (u.member % 4 == 0) {
        vote->set_choice(bas::v1::NO);
        vote->set_reason("Not in this year's plan");
      } else {
        vote->set_choice(u.member % 10 == 1 ? bas::v1::ABSTAIN : bas::v1::YES);
      }
      todo.push_back(std::move(u));
    }
    for (Unsigned& u : todo) {
      u.body.set_chain_id(chain_id);
      u.body.set_nonce(nonces[static_cast<size_t>(u.member)]++);
    }

    // Sign on every core; the generator signed them, so CheckTx need not verify again.
    std::vector<bas::governance::CheckedTx> checked(todo.size());
    std::atomic<size_t> next{0};
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (size_t i = next++; i < todo.size(); i = next++) {
          const std::string raw =
              bas::governance::SignTx(members[static_cast<size_t>(todo[i].member)], todo[i].body)
                  .bytes;
          auto r = bas::governance::CheckTx(raw, chain_id, /*verify_signature=*/false);
          if (!r.outcome.ok()) Die("a generated tx fails CheckTx: " + r.outcome.message);
          checked[i] = std::move(r.tx);
        }
      });
    }
    for (auto& t : pool) t.join();
    open_ids.clear();
    for (int i = 0; i < plan[b].proposals; ++i) open_ids.push_back(HashBytes(checked[i].tx_id));

    std::vector<const bas::governance::CheckedTx*> candidates;
    for (const auto& tx : checked) candidates.push_back(&tx);
    std::vector<bas::node::chain::DroppedTx> dropped;
    bas::node::chain::ExecutedBlock exec = bas::node::chain::BuildBlock(
        state, bas::node::chain::BlockInput{chain_id, height, time, tip.app_hash}, candidates,
        &dropped);
    if (!dropped.empty()) {
      Die("height " + std::to_string(height) + ": tx " + std::to_string(dropped[0].index) +
          " refused: " + dropped[0].outcome.message);
    }

    const bas::v1::Block block =
        bas::node::chain::AssembleBlock(tip, time, exec, KeyBytes(validator), last_commit, {});
    const bas::crypto::Hash32 block_hash = bas::node::chain::BlockHash(block.header());
    const bas::v1::Commit commit = bas::node::chain::MakeCommit(
        height, 0, HashBytes(block_hash),
        {bas::node::chain::SignVote(validator, chain_id, bas::v1::PRECOMMIT, height, 0,
                                    HashBytes(block_hash))});

    const std::string results = exec.results.SerializeAsString();
    if (auto s = writer->WriteHeight(block, commit, &results); !s.ok()) Die(s.message());
    tip = bas::node::chain::NextTip(tip, block.header(),
                                    bas::node::chain::ValidatorsAfter(state, exec.writes));
    if (store) {
      if (auto s = store->CommitBlock(block, commit, exec.results, exec.tx_ids, exec.writes, tip);
          !s.ok()) {
        Die(s.message());
      }
    }
    state.Apply(exec.writes);
    last_commit = commit;
    txs_done += todo.size();
    if (height % 20 == 0 || height == plan.size()) {
      std::cerr << "bas-ledgergen: height " << height << " of " << plan.size() << ", " << txs_done
                << " txs, " << std::chrono::duration<double>(Clock::now() - started).count()
                << " s\n";
    }
  }
  if (auto s = writer->Finish(); !s.ok()) Die(s.message());
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::cout << "blocks " << plan.size() << "\ntxs " << txs_done << "\nstate_entries "
            << state.size() << "\ngenerator_peak_rss_mib " << usage.ru_maxrss / 1024 << "\nseconds "
            << std::chrono::duration<double>(Clock::now() - started).count() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bas-ledgergen: a large signed ledger for scripts/bench.sh audit"};
  Params p;
  app.add_option("--txs", p.txs, "Signed txs in the ledger")->capture_default_str();
  app.add_option("--members", p.members, "Members who vote")->capture_default_str();
  app.add_option("--block-txs", p.block_txs, "Txs per block (about)")->capture_default_str();
  app.add_option("--voting-period", p.voting_period, "Seconds a proposal stays open")
      ->capture_default_str();
  app.add_option("--threads", p.threads, "Signing threads (default: every core)");
  app.add_option("--out", p.out, "The export file to write")->required();
  app.add_option("--genesis-out", p.genesis_out, "Where to write the genesis (JSON)")->required();
  app.add_option("--data-dir", p.data_dir, "Also commit the blocks into a node store here");
  CLI11_PARSE(app, argc, argv);
  return Run(p);
}
