// Block execution (node/chain/executor.h): the proposer's BuildBlock, the validator's
// ExecuteBlock, genesis, and the stateless CheckBlockTxs.
#include "node/chain/executor.h"

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/merkle.h"
#include "governance/engine.h"
#include "governance/query.h"
#include "node/chain/encoding.h"
#include "node/chain/workers.h"
#include "tests/unit/node/test_chain.h"

namespace bas::node::chain {
namespace {

using testing::TestChain;
using testing::TxIdOf;

std::vector<governance::CheckedTx> Check(const std::vector<std::string>& txs,
                                         std::string_view chain_id) {
  std::vector<governance::CheckedTx> out;
  for (const auto& raw : txs) {
    governance::CheckTxResult r = governance::CheckTx(raw, chain_id);
    EXPECT_TRUE(r.outcome.ok()) << r.outcome.message;
    out.push_back(std::move(r.tx));
  }
  return out;
}

std::vector<const governance::CheckedTx*> Pointers(const std::vector<governance::CheckedTx>& txs) {
  std::vector<const governance::CheckedTx*> out;
  for (const auto& tx : txs) out.push_back(&tx);
  return out;
}

BlockInput Input(const TestChain& c, int64_t dt = 60) {
  return BlockInput{c.chain_id(), c.height() + 1, c.Info().time + dt, c.app_hash()};
}

// A chain at height 1 with one open proposal (by member 0), and txs for the next block.
struct Fixture {
  TestChain chain;
  crypto::Hash32 proposal{};
  Fixture() {
    const std::string p = chain.Propose(0);
    proposal = TxIdOf(p);
    chain.Produce({p});
  }
};

// A proposal signed by each member of the chain, in member order.
std::vector<std::string> ProposalByEveryMember(const TestChain& c) {
  std::vector<std::string> raw;
  for (size_t i = 0; i < c.member_count(); ++i) raw.push_back(c.Propose(i));
  return raw;
}

TEST(BuildBlockTest, DropsRefusedTxsAndReportsThem) {
  Fixture f;
  const TestChain& c = f.chain;
  const std::vector<std::string> raw = {
      c.Vote(1, f.proposal),                   // ok
      c.Propose(2, c.NextNonce(2) + 5),        // BAD_NONCE: a gap
      c.Vote(3, f.proposal),                   // ok
      c.Vote(1, f.proposal, c.NextNonce(1)),   // BAD_NONCE: nonce used by tx 0
      c.Vote(4, crypto::Sha256Of("no such")),  // UNKNOWN_PROPOSAL
  };
  const auto txs = Check(raw, c.chain_id());
  std::vector<DroppedTx> dropped;
  const ExecutedBlock exec = BuildBlock(c.state(), Input(c), Pointers(txs), &dropped);

  ASSERT_EQ(dropped.size(), 3u);
  EXPECT_EQ(dropped[0].index, 1u);
  EXPECT_EQ(dropped[0].outcome.code, governance::Code::kBadNonce);
  EXPECT_EQ(dropped[1].index, 3u);
  EXPECT_EQ(dropped[1].outcome.code, governance::Code::kBadNonce);
  EXPECT_EQ(dropped[2].index, 4u);
  EXPECT_EQ(dropped[2].outcome.code, governance::Code::kUnknownProposal);

  ASSERT_EQ(exec.txs.size(), 2);
  EXPECT_EQ(exec.txs[0], raw[0]);
  EXPECT_EQ(exec.txs[1], raw[2]);
  ASSERT_EQ(exec.results.tx_results_size(), 2);
  for (const auto& r : exec.results.tx_results()) EXPECT_EQ(r.code(), 0u);
  EXPECT_EQ(exec.tx_root, crypto::MerkleRoot({raw[0], raw[2]}));
  EXPECT_EQ(exec.results_root, ResultsRoot(exec.results));
  EXPECT_EQ(exec.app_hash, governance::NextAppHash(c.app_hash(), exec.writes));

  // A dropped tx leaves no trace: the same block without the refused txs is identical.
  const std::vector<governance::CheckedTx> kept = Check({raw[0], raw[2]}, c.chain_id());
  std::vector<DroppedTx> none;
  const ExecutedBlock clean = BuildBlock(c.state(), Input(c), Pointers(kept), &none);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(clean.writes, exec.writes);
  EXPECT_EQ(clean.app_hash, exec.app_hash);
  EXPECT_EQ(clean.results_root, exec.results_root);
}

TEST(BuildBlockTest, NullDroppedIsAllowed) {
  Fixture f;
  const auto txs = Check({f.chain.Propose(1, 7)}, f.chain.chain_id());
  const ExecutedBlock exec = BuildBlock(f.chain.state(), Input(f.chain), Pointers(txs), nullptr);
  EXPECT_EQ(exec.txs.size(), 0);
}

TEST(ExecuteBlockTest, AgreesWithBuildBlock) {
  Fixture f;
  const TestChain& c = f.chain;
  const std::vector<std::string> raw = {c.Vote(1, f.proposal), c.Propose(2),
                                        c.Propose(3, c.NextNonce(3) + 1), c.Vote(4, f.proposal)};
  const auto txs = Check(raw, c.chain_id());
  std::vector<DroppedTx> dropped;
  const ExecutedBlock built = BuildBlock(c.state(), Input(c), Pointers(txs), &dropped);
  ASSERT_EQ(dropped.size(), 1u);

  auto checked = CheckBlockTxs(built.txs, c.chain_id(), 2);
  ASSERT_TRUE(checked.ok()) << checked.error().message;
  auto executed = ExecuteBlock(c.state(), Input(c), *checked);
  ASSERT_TRUE(executed.ok()) << executed.error().message;
  EXPECT_EQ(executed->app_hash, built.app_hash);
  EXPECT_EQ(executed->tx_root, built.tx_root);
  EXPECT_EQ(executed->results_root, built.results_root);
  EXPECT_EQ(executed->writes, built.writes);
  EXPECT_EQ(executed->results.SerializeAsString(), built.results.SerializeAsString());
  EXPECT_TRUE(CheckExecution(c.Build(raw).block.header(), *executed).ok());
}

TEST(ExecuteBlockTest, RefusesABlockWithARefusedTx) {
  Fixture f;
  const TestChain& c = f.chain;
  const auto txs =
      Check({c.Vote(1, f.proposal), c.Vote(2, f.proposal), c.Vote(1, f.proposal, 0)}, c.chain_id());
  auto exec = ExecuteBlock(c.state(), Input(c), txs);
  ASSERT_FALSE(exec.ok());
  EXPECT_EQ(exec.error().fault, BlockFault::kTx);
  EXPECT_EQ(exec.error().ToError().code, "INVALID_BLOCK");
  EXPECT_NE(exec.error().message.find("tx 2"), std::string::npos) << exec.error().message;
  EXPECT_NE(exec.error().message.find("BAD_NONCE"), std::string::npos) << exec.error().message;
}

TEST(ExecuteBlockTest, DeterministicWriteSetsAndAppHashes) {
  Fixture f;
  const TestChain& c = f.chain;
  const std::vector<std::string> raw = {c.Vote(1, f.proposal), c.Propose(2), c.Vote(3, f.proposal),
                                        c.Propose(4)};
  const auto txs = Check(raw, c.chain_id());
  auto a = ExecuteBlock(c.state(), Input(c), txs);
  auto b = ExecuteBlock(c.state(), Input(c), Check(raw, c.chain_id()));
  const ExecutedBlock built_a = BuildBlock(c.state(), Input(c), Pointers(txs), nullptr);
  const ExecutedBlock built_b = BuildBlock(c.state(), Input(c), Pointers(txs), nullptr);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(a->writes.empty());
  EXPECT_EQ(a->writes, b->writes);
  EXPECT_EQ(a->app_hash, b->app_hash);
  EXPECT_EQ(a->results.SerializeAsString(), b->results.SerializeAsString());
  EXPECT_EQ(built_a.writes, a->writes);
  EXPECT_EQ(built_b.writes, a->writes);
  EXPECT_EQ(built_a.app_hash, built_b.app_hash);

  // The block time and the previous app hash are inputs too.
  auto later = ExecuteBlock(c.state(), Input(c, 61), txs);
  ASSERT_TRUE(later.ok());
  EXPECT_NE(later->app_hash, a->app_hash);
  BlockInput other_prev = Input(c);
  other_prev.prev_app_hash[0] ^= 1;
  auto chained = ExecuteBlock(c.state(), other_prev, txs);
  ASSERT_TRUE(chained.ok());
  EXPECT_EQ(chained->writes, a->writes);
  EXPECT_EQ(chained->app_hash, governance::NextAppHash(other_prev.prev_app_hash, a->writes));
  EXPECT_NE(chained->app_hash, a->app_hash);
}

TEST(ExecuteBlockTest, EmptyBlockClosesDueProposals) {
  Fixture f;  // voting period 3600 s from the block at genesis + 60
  TestChain& c = f.chain;
  c.Produce({c.Vote(1, f.proposal), c.Vote(2, f.proposal), c.Vote(3, f.proposal)});
  auto before = ExecuteBlock(c.state(), Input(c, 60), {});
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->results.end_block_events_size(), 0);
  auto due = ExecuteBlock(c.state(), Input(c, 4000), {});
  ASSERT_TRUE(due.ok());
  ASSERT_GE(due->results.end_block_events_size(), 1);
  EXPECT_EQ(due->tx_root, crypto::Sha256Of(""));
  EXPECT_EQ(due->results_root, ResultsRoot(due->results));
  EXPECT_NE(due->results_root, before->results_root);
}

TEST(CheckExecutionTest, NamesTheFirstFieldThatDiffers) {
  Fixture f;
  const testing::ProducedBlock b = f.chain.Build({f.chain.Vote(1, f.proposal)});
  ASSERT_TRUE(CheckExecution(b.block.header(), b.exec).ok());
  const struct {
    std::string field;
    BlockFault fault;
    std::function<void(bas::v1::BlockHeader&)> edit;
  } edits[] = {
      {"tx_root", BlockFault::kTxRoot, [](auto& h) { (*h.mutable_tx_root())[0] ^= 1; }},
      {"results_root", BlockFault::kResultsRoot,
       [](auto& h) { (*h.mutable_results_root())[0] ^= 1; }},
      {"app_hash", BlockFault::kAppHash, [](auto& h) { (*h.mutable_app_hash())[0] ^= 1; }},
  };
  for (const auto& [field, fault, edit] : edits) {
    bas::v1::BlockHeader h = b.block.header();
    edit(h);
    const BlockStatus s = CheckExecution(h, b.exec);
    ASSERT_FALSE(s.ok()) << field;
    EXPECT_EQ(s.error().fault, fault) << field;
    EXPECT_EQ(BlockFaultName(fault), field);
    EXPECT_EQ(s.message().rfind(field, 0), 0u) << s.message();
  }
}

TEST(CheckBlockTxsTest, ChecksEveryTxOnAnyNumberOfThreads) {
  Fixture f;
  const TestChain& c = f.chain;
  const std::vector<std::string> raw = ProposalByEveryMember(c);
  google::protobuf::RepeatedPtrField<std::string> txs(raw.begin(), raw.end());
  for (unsigned threads : {0u, 1u, 3u, 16u}) {
    auto checked = CheckBlockTxs(txs, c.chain_id(), threads);
    ASSERT_TRUE(checked.ok()) << threads;
    ASSERT_EQ(checked->size(), raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      EXPECT_EQ((*checked)[i].raw, raw[i]) << "order kept, " << threads << " threads";
      EXPECT_EQ((*checked)[i].tx_id, TxIdOf(raw[i]));
    }
  }
  google::protobuf::RepeatedPtrField<std::string> none;
  auto empty = CheckBlockTxs(none, c.chain_id(), 4);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(CheckBlockTxsTest, NamesTheFirstTxThatFails) {
  Fixture f;
  const TestChain& c = f.chain;
  std::vector<std::string> raw;
  for (size_t i = 0; i < 5; ++i) raw.push_back(c.Propose(i));
  bas::v1::SignedTx bad_sig;
  ASSERT_TRUE(bad_sig.ParseFromString(raw[3]));
  (*bad_sig.mutable_signature())[0] ^= 1;
  raw[3] = bad_sig.SerializeAsString();
  raw[4] = testing::ProposeTx("bas-other", c.member(4), 0);  // another chain
  google::protobuf::RepeatedPtrField<std::string> txs(raw.begin(), raw.end());
  for (unsigned threads : {1u, 4u}) {
    auto checked = CheckBlockTxs(txs, c.chain_id(), threads);
    ASSERT_FALSE(checked.ok());
    EXPECT_EQ(checked.error().fault, BlockFault::kTx);
    EXPECT_EQ(checked.error().message.rfind("tx 3: BAD_SIGNATURE", 0), 0u)
        << checked.error().message;
  }
  *txs.Mutable(3) = "\xff\xff not a tx";
  auto malformed = CheckBlockTxs(txs, c.chain_id(), 2);
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().message.rfind("tx 3: INVALID_ARGUMENT", 0), 0u)
      << malformed.error().message;
}

// Kept threads: every Run calls fn once on each of them and on the caller, each on its own
// thread, and returns only when all have returned; a Workers of one thread runs on the caller.
TEST(WorkersTest, RunsOnEveryThreadAndWaitsForAll) {
  for (unsigned threads : {1u, 3u}) {
    Workers workers(threads);
    ASSERT_EQ(workers.size(), threads);
    std::set<std::thread::id> seen_ids;
    for (int round = 0; round < 50; ++round) {
      std::mutex mu;
      std::set<std::thread::id> ids;
      std::atomic<unsigned> finished{0};
      workers.Run([&] {
        {
          std::lock_guard lock(mu);
          ids.insert(std::this_thread::get_id());
        }
        finished++;
      });
      EXPECT_EQ(finished.load(), threads) << "round " << round;
      EXPECT_EQ(ids.size(), threads) << "round " << round;
      EXPECT_EQ(ids.count(std::this_thread::get_id()), 1u);
      seen_ids.insert(ids.begin(), ids.end());
    }
    EXPECT_EQ(seen_ids.size(), threads) << "the same threads every round";
  }
}

// Blocks checked one after another on the same kept threads, a failing block between good
// ones: each gets its own answer.
TEST(CheckBlockTxsTest, KeptWorkersCheckBlockAfterBlock) {
  Fixture f;
  const TestChain& c = f.chain;
  const std::vector<std::string> raw = ProposalByEveryMember(c);
  google::protobuf::RepeatedPtrField<std::string> good(raw.begin(), raw.end());
  google::protobuf::RepeatedPtrField<std::string> bad = good;
  *bad.Mutable(1) = "\xff\xff not a tx";
  Workers workers(2);
  for (int block = 0; block < 6; ++block) {
    const bool failing = block % 3 == 1;
    auto checked = CheckBlockTxs(failing ? bad : good, c.chain_id(), workers);
    if (failing) {
      ASSERT_FALSE(checked.ok()) << block;
      EXPECT_EQ(checked.error().message.rfind("tx 1: INVALID_ARGUMENT", 0), 0u)
          << checked.error().message;
      continue;
    }
    ASSERT_TRUE(checked.ok()) << block;
    ASSERT_EQ(checked->size(), raw.size());
    for (size_t i = 0; i < raw.size(); ++i) EXPECT_EQ((*checked)[i].tx_id, TxIdOf(raw[i]));
  }
}

TEST(ExecuteGenesisTest, StateAndAppHash) {
  TestChain c;
  auto g = ExecuteGenesis(c.genesis());
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->writes.empty());
  EXPECT_EQ(g->app_hash, governance::NextAppHash(crypto::Hash32{}, g->writes));
  auto again = ExecuteGenesis(c.genesis());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->writes, g->writes);
  EXPECT_EQ(again->app_hash, g->app_hash);
  governance::MemoryKv kv;
  kv.Apply(g->writes);
  EXPECT_EQ(governance::ListValidators(kv).size(), 1u);
  EXPECT_EQ(governance::ListMembers(kv, testing::kCoalition, true).size(), c.member_count());
}

TEST(ExecuteGenesisTest, InvalidGenesisNamesTheField) {
  const TestChain c;
  const std::vector<std::pair<std::string, std::function<void(bas::v1::Genesis&)>>> cases = {
      {"chain_id", [](auto& g) { g.clear_chain_id(); }},
      {"chain_id", [](auto& g) { g.set_chain_id("has space"); }},
      {"genesis_time", [](auto& g) { g.set_genesis_time(0); }},
      {"coalitions", [](auto& g) { g.clear_coalitions(); }},
      {"coalitions[1].id", [](auto& g) { *g.add_coalitions() = g.coalitions(0); }},
      {"coalitions[0].members[1].key",
       [](auto& g) {
         g.mutable_coalitions(0)->mutable_members(1)->set_key(g.coalitions(0).members(0).key());
       }},
      {"validators[0].key", [](auto& g) { g.mutable_validators(0)->set_key("short"); }},
      {"validators[1].key", [](auto& g) { *g.add_validators() = g.validators(0); }},
      {"validators[0].power", [](auto& g) { g.mutable_validators(0)->set_power(0); }},
  };
  for (const auto& [field, edit] : cases) {
    bas::v1::Genesis g = c.genesis();
    edit(g);
    auto r = ExecuteGenesis(g);
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_EQ(r.error().code, "INVALID_GENESIS") << field;
    EXPECT_EQ(r.error().message.rfind(field, 0), 0u) << field << ": " << r.error().message;
  }
}

// A chain without validators can never decide a block, and the rules refuse to empty the set
// later ("the validator set would be empty"); a genesis must not start with one.
TEST(ExecuteGenesisTest, GenesisWithoutValidatorsIsInvalid) {
  bas::v1::Genesis g = TestChain().genesis();
  g.clear_validators();
  auto r = ExecuteGenesis(g);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "INVALID_GENESIS");
  EXPECT_EQ(r.error().message.rfind("validators", 0), 0u) << r.error().message;
}

}  // namespace
}  // namespace bas::node::chain
