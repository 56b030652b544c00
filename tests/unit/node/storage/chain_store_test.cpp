// The node's RocksDB store (node/storage/chain_store.h) on a real database in a fresh temporary
// directory: what survives a reopen, snapshot isolation, read-only opens, and the promise of
// DESIGN.md section 6: "A block, its commit, its state writes and the new height commit in one
// synced WriteBatch: a crash leaves all of it or none", checked by killing a writer process
// with SIGKILL at random moments and replaying the store from genesis.
#include "node/storage/chain_store.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "governance/engine.h"
#include "governance/query.h"
#include "node/chain/commit.h"
#include "node/chain/encoding.h"
#include "tests/unit/node/test_chain.h"

namespace bas::node::storage {
namespace {

namespace fs = std::filesystem;
using chain::HashBytes;
using testing::GenesisSpec;
using testing::ProducedBlock;
using testing::TestChain;
using testing::TipInfo;
using testing::TxIdOf;

constexpr char kChildDirEnv[] = "BAS_STORE_CRASH_CHILD_DIR";
// The crash test's child writes one byte to this descriptor after each commit.
constexpr int kChildProgressFd = 100;

// A fresh directory, removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "bas-store-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::unique_ptr<ChainStore> OpenOrDie(const fs::path& dir, bool read_only = false) {
  auto s = ChainStore::Open(dir, read_only);
  if (!s.ok()) {
    ADD_FAILURE() << "open " << dir << ": " << s.error().message;
    return nullptr;
  }
  return std::move(*s);
}

void InitFromChain(ChainStore& store, const TestChain& c) {
  ASSERT_FALSE(store.initialized());
  ASSERT_TRUE(
      store.InitGenesis(c.genesis(), c.genesis_state().writes, c.genesis_state().app_hash).ok());
}

Status Commit(ChainStore& store, const ProducedBlock& b) {
  return store.CommitBlock(b.block, b.commit, b.exec.results, b.exec.tx_ids, b.exec.writes,
                           b.tip_after);
}

// Every key and value of a state, in order.
std::vector<std::pair<std::string, std::string>> Dump(const governance::KvReader& kv) {
  std::vector<std::pair<std::string, std::string>> out;
  kv.Scan("", [&](std::string_view k, std::string_view v) {
    out.emplace_back(k, v);
    return true;
  });
  return out;
}

std::string Hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// "" when the two states hold the same keys and values, else the first difference.
std::string StateDiff(const governance::KvReader& got, const governance::KvReader& want) {
  const auto a = Dump(got), b = Dump(want);
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    if (i == a.size()) return "missing key " + Hex(b[i].first);
    if (i == b.size()) return "extra key " + Hex(a[i].first);
    if (a[i].first != b[i].first) return "key " + Hex(a[i].first) + " where " + Hex(b[i].first);
    if (a[i].second != b[i].second) return "value of key " + Hex(a[i].first) + " differs";
  }
  return "";
}

// What a producer reads from a store.
TipInfo TipOf(const ChainStore& store, std::string chain_id) {
  const ChainHead head = store.head();
  TipInfo tip;
  tip.chain_id = std::move(chain_id);
  tip.height = head.height;
  tip.block_hash = head.block_hash;
  tip.app_hash = head.app_hash;
  tip.time = head.time;
  tip.validators = store.ValidatorsAt(head.height + 1).value_or(bas::v1::ValidatorSet());
  tip.next_validators = store.ValidatorsAt(head.height + 2).value_or(bas::v1::ValidatorSet());
  if (head.height > 0) tip.last_commit = store.GetCommit(head.height).value_or(bas::v1::Commit());
  return tip;
}

// The next block of a store's chain: proposals, votes on the latest open one; blocks 600 s
// apart, so proposals (voting period 3600 s) close every few blocks.
ProducedBlock ProduceOnStore(const ChainStore& store, const TestChain& keys) {
  auto state = store.Snapshot();
  const TipInfo tip = TipOf(store, keys.chain_id());
  std::vector<std::string> txs;
  std::optional<crypto::Hash32> open;
  for (const auto& p : governance::ListProposals(*state, testing::kCoalition)) {
    if (p.status() == bas::v1::Proposal::ACTIVE) open = chain::ToHash(p.id());
  }
  for (size_t i = 0; i < keys.member_count(); ++i) {
    const uint64_t nonce = governance::GetAccount(*state, keys.member(i).public_key()).next_nonce();
    if (i % 2 == 0 || !open) {
      txs.push_back(testing::ProposeTx(keys.chain_id(), keys.member(i), nonce,
                                       "Height " + std::to_string(tip.height + 1)));
    } else {
      txs.push_back(testing::VoteTx(keys.chain_id(), keys.member(i), nonce, *open,
                                    tip.height % 3 ? bas::v1::YES : bas::v1::NO));
    }
  }
  return testing::ProduceOn(*state, tip, txs, tip.time + 600);
}

TEST(ChainStoreTest, OpenInitAndReopen) {
  TempDir dir;
  TestChain c;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    EXPECT_FALSE(store->initialized());
    EXPECT_EQ(store->head().height, 0u);
    EXPECT_FALSE(store->LoadGenesis().ok());
    InitFromChain(*store, c);
    EXPECT_TRUE(store->initialized());
  }
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->initialized());
  const ChainHead head = store->head();
  EXPECT_EQ(head.height, 0u);
  EXPECT_EQ(head.app_hash, c.genesis_state().app_hash);
  EXPECT_EQ(head.block_hash, crypto::Hash32{});
  EXPECT_EQ(head.time, testing::kGenesisTime);
  auto genesis = store->LoadGenesis();
  ASSERT_TRUE(genesis.ok());
  EXPECT_EQ(genesis->SerializeAsString(), c.genesis().SerializeAsString());
  for (uint64_t h : {1, 2}) {
    auto set = store->ValidatorsAt(h);
    ASSERT_TRUE(set.has_value()) << h;
    EXPECT_EQ(set->SerializeAsString(), c.ValidatorsAt(h).SerializeAsString());
  }
  EXPECT_FALSE(store->ValidatorsAt(3).has_value());
  EXPECT_EQ(StateDiff(*store->Snapshot(), c.state()), "");
  EXPECT_FALSE(store->GetBlock(1).has_value());
  EXPECT_FALSE(store->GetCommit(0).has_value());
}

TEST(ChainStoreTest, CommittedBlocksSurviveAReopen) {
  TempDir dir;
  TestChain c;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    InitFromChain(*store, c);
    const std::string p = c.Propose(0);
    ASSERT_TRUE(Commit(*store, c.Produce({p, c.Propose(1)})).ok());
    ASSERT_TRUE(Commit(*store, c.Produce({c.Vote(2, TxIdOf(p)), c.Vote(3, TxIdOf(p))})).ok());
    ASSERT_TRUE(Commit(*store, c.Produce({}, c.Info().time + 3600)).ok());  // closes both
    ASSERT_TRUE(store->WriteConsensus({{"last-signed", "vote bytes"}}, {}).ok());
  }
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  const ChainHead head = store->head();
  ASSERT_EQ(head.height, 3u);
  EXPECT_EQ(head.app_hash, c.app_hash());
  EXPECT_EQ(head.block_hash, c.at(3).block_hash);
  EXPECT_EQ(head.time, c.at(3).block.header().time());
  for (uint64_t h = 1; h <= 3; ++h) {
    const ProducedBlock& b = c.at(h);
    auto block = store->GetBlock(h);
    auto commit = store->GetCommit(h);
    auto results = store->GetResults(h);
    ASSERT_TRUE(block && commit && results) << h;
    EXPECT_EQ(block->SerializeAsString(), b.block.SerializeAsString()) << h;
    EXPECT_EQ(commit->SerializeAsString(), b.commit.SerializeAsString()) << h;
    EXPECT_EQ(results->SerializeAsString(), b.exec.results.SerializeAsString()) << h;
    for (int i = 0; i < b.block.txs_size(); ++i) {
      auto loc = store->FindTx(TxIdOf(b.block.txs(i)));
      ASSERT_TRUE(loc.has_value()) << h << "/" << i;
      EXPECT_EQ(loc->height(), h);
      EXPECT_EQ(loc->index(), static_cast<uint32_t>(i));
    }
    auto set = store->ValidatorsAt(h + 2);
    ASSERT_TRUE(set.has_value()) << h + 2;
    EXPECT_EQ(set->SerializeAsString(), c.ValidatorsAt(h + 2).SerializeAsString());
  }
  EXPECT_GT(c.at(3).exec.results.end_block_events_size(), 0);
  EXPECT_FALSE(store->GetBlock(4).has_value());
  EXPECT_FALSE(store->FindTx(crypto::Sha256Of("no such tx")).has_value());
  EXPECT_FALSE(store->ValidatorsAt(6).has_value());
  auto snapshot = store->Snapshot();
  EXPECT_EQ(snapshot->height(), 3u);
  EXPECT_EQ(StateDiff(*snapshot, c.state()), "");
  EXPECT_EQ(store->GetConsensus("last-signed"), "vote bytes");
  EXPECT_FALSE(store->GetConsensus("other").has_value());
}

// The consensus batch: puts and deletes in one synced write, read back after a reopen, listed
// by prefix. (That a WriteBatch is all or nothing across a crash is what
// ChainStoreCrashTest checks for CommitBlock's batches.)
TEST(ChainStoreTest, ConsensusBatchPutsAndDeletesTogether) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(
        store->WriteConsensus({{"record", "r1"}, {"block/a", "A"}, {"block/b", "B"}}, {}).ok());
    // A key both put and deleted in one batch ends deleted; deleting a missing key is no error.
    ASSERT_TRUE(store
                    ->WriteConsensus({{"record", "r2"}, {"block/c", "C"}, {"block/d", "D"}},
                                     {"block/a", "block/d", "block/none"})
                    .ok());
    EXPECT_TRUE(store->WriteConsensus({}, {}).ok());
  }
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetConsensus("record"), "r2");
  EXPECT_FALSE(store->GetConsensus("block/a").has_value());
  EXPECT_EQ(store->GetConsensus("block/b"), "B");
  EXPECT_EQ(store->GetConsensus("block/c"), "C");
  EXPECT_FALSE(store->GetConsensus("block/d").has_value());
  EXPECT_EQ(store->ConsensusKeys("block/"), (std::vector<std::string>{"block/b", "block/c"}));
  EXPECT_EQ(store->ConsensusKeys(""), (std::vector<std::string>{"block/b", "block/c", "record"}));
  EXPECT_TRUE(store->ConsensusKeys("blocks").empty());
  // The consensus column family is its own: other tables do not show through.
  EXPECT_FALSE(store->GetBlock(1).has_value());
  EXPECT_FALSE(store->ReadState("record").has_value());
}

TEST(ChainStoreTest, ValidatorSetChangeIsStoredForHeightPlusTwo) {
  TempDir dir;
  TestChain c;
  const crypto::KeyPair joining = testing::DeterministicKey("validator", 1);
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    InitFromChain(*store, c);
    const std::string add = testing::ValidatorUpdateTx(c.chain_id(), c.member(0), 0, joining, 5);
    ASSERT_TRUE(Commit(*store, c.Produce({add})).ok());
    std::vector<std::string> votes;
    for (size_t i = 0; i < c.member_count(); ++i) votes.push_back(c.Vote(i, TxIdOf(add)));
    ASSERT_TRUE(Commit(*store, c.Produce(votes)).ok());
    const ProducedBlock closing = c.Produce({}, c.Info().time + 3600);
    ASSERT_EQ(closing.tip_after.next_validators.validators_size(), 2)
        << "the proposal did not pass";
    ASSERT_TRUE(Commit(*store, closing).ok());
  }
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(store->head().height, 3u);
  EXPECT_EQ(store->ValidatorsAt(4)->validators_size(), 1);
  auto joined = store->ValidatorsAt(5);
  ASSERT_TRUE(joined.has_value());
  ASSERT_EQ(joined->validators_size(), 2);
  EXPECT_EQ(testing::SetHash(*joined), testing::SetHash(c.ValidatorsAt(5)));
  bool found = false;
  for (const auto& v : joined->validators()) {
    if (v.key() == testing::KeyBytes(joining)) found = v.power() == 5;
  }
  EXPECT_TRUE(found);
}

TEST(ChainStoreTest, SnapshotDoesNotSeeLaterCommits) {
  TempDir dir;
  TestChain c;
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  InitFromChain(*store, c);
  const auto before = store->Snapshot();
  const governance::MemoryKv genesis_state = c.state();
  const ProducedBlock b = c.Produce({c.Propose(0), c.Propose(1)});
  ASSERT_TRUE(Commit(*store, b).ok());

  EXPECT_EQ(before->height(), 0u);
  EXPECT_EQ(StateDiff(*before, genesis_state), "");
  ASSERT_FALSE(b.exec.writes.empty());
  for (const auto& [key, value] : b.exec.writes) {
    EXPECT_EQ(before->Get(key), genesis_state.Get(key)) << "old snapshot sees a write to " << key;
  }
  EXPECT_EQ(governance::GetAccount(*before, c.member(0).public_key()).next_nonce(), 0u);

  const auto after = store->Snapshot();
  EXPECT_EQ(after->height(), 1u);
  EXPECT_EQ(StateDiff(*after, c.state()), "");
  EXPECT_EQ(governance::GetAccount(*after, c.member(0).public_key()).next_nonce(), 1u);
  // Scan stops when told to, and keeps to the prefix.
  size_t seen = 0;
  after->Scan("a/", [&](std::string_view k, std::string_view) {
    EXPECT_TRUE(k.starts_with("a/"));
    return ++seen < 1;
  });
  EXPECT_EQ(seen, 1u);
}

TEST(ChainStoreTest, ReadOnlyOpen) {
  TempDir dir;
  TestChain c;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    InitFromChain(*store, c);
    ASSERT_TRUE(Commit(*store, c.Produce({c.Propose(0)})).ok());
    ASSERT_TRUE(Commit(*store, c.Produce({c.Propose(1)})).ok());
  }
  auto ro = OpenOrDie(dir.path(), /*read_only=*/true);
  ASSERT_NE(ro, nullptr);
  EXPECT_TRUE(ro->initialized());
  EXPECT_EQ(ro->head().height, 2u);
  EXPECT_EQ(ro->head().app_hash, c.app_hash());
  ASSERT_TRUE(ro->GetBlock(2).has_value());
  EXPECT_EQ(ro->GetBlock(2)->SerializeAsString(), c.at(2).block.SerializeAsString());
  EXPECT_EQ(StateDiff(*ro->Snapshot(), c.state()), "");

  const ProducedBlock next = c.Build({c.Propose(2)});
  const Status s = Commit(*ro, next);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), "STORAGE_ERROR");
  EXPECT_FALSE(ro->WriteConsensus({{"k", "v"}}, {}).ok());
  EXPECT_EQ(ro->head().height, 2u);
  ro.reset();
  // Nothing was written by the read-only store.
  auto rw = OpenOrDie(dir.path());
  ASSERT_NE(rw, nullptr);
  EXPECT_EQ(rw->head().height, 2u);
  EXPECT_FALSE(rw->GetBlock(3).has_value());
}

TEST(ChainStoreTest, ReadOnlyOpenOfAMissingStoreFails) {
  TempDir dir;
  auto s = ChainStore::Open(dir.path() / "missing", /*read_only=*/true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "STORAGE_ERROR");
  EXPECT_FALSE(fs::exists(dir.path() / "missing" / "CURRENT"));
}

TEST(ChainStoreTest, SecondWriterIsRefused) {
  TempDir dir;
  auto first = OpenOrDie(dir.path());
  ASSERT_NE(first, nullptr);
  auto second = ChainStore::Open(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, "STORAGE_ERROR");
}

// The store indexes the ids it is given: ids that do not match the txs one for one are the
// caller's bug, and nothing of the block is written.
TEST(ChainStoreTest, TxIdsNotOneForOneCommitNothing) {
  TempDir dir;
  TestChain c;
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  InitFromChain(*store, c);
  ProducedBlock b = c.Build({c.Propose(0)});
  *b.block.add_txs() = "\xff not a tx";
  const Status s = Commit(*store, b);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), "INTERNAL");
  EXPECT_EQ(store->head().height, 0u);
  EXPECT_FALSE(store->GetBlock(1).has_value());
  EXPECT_FALSE(store->GetCommit(1).has_value());
  EXPECT_FALSE(store->FindTx(TxIdOf(b.block.txs(0))).has_value());
  EXPECT_EQ(StateDiff(*store->Snapshot(), c.state()), "");
}

// The tip a commit records must be the one its block leaves (chain::NextTip of that block): a
// tip of another block or height is the caller's bug, and nothing is written.
TEST(ChainStoreTest, ATipOfAnotherBlockCommitsNothing) {
  TempDir dir;
  TestChain c;
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  InitFromChain(*store, c);
  const ProducedBlock b = c.Build({c.Propose(0)});
  const ProducedBlock other = c.Build({}, c.Info().time + 120);
  ASSERT_NE(other.block_hash, b.block_hash);
  ProducedBlock wrong_hash = b;
  wrong_hash.tip_after = other.tip_after;
  ProducedBlock wrong_height = b;
  wrong_height.tip_after.height = 2;
  for (const ProducedBlock* bad : {&wrong_hash, &wrong_height}) {
    const Status s = Commit(*store, *bad);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), "INTERNAL");
    EXPECT_EQ(store->head().height, 0u);
    EXPECT_FALSE(store->GetBlock(1).has_value());
    EXPECT_FALSE(store->ValidatorsAt(3).has_value());
  }
  ASSERT_TRUE(Commit(*store, b).ok());
  EXPECT_EQ(store->head().block_hash, b.block_hash);
  ASSERT_TRUE(store->ValidatorsAt(3).has_value());
  EXPECT_EQ(store->ValidatorsAt(3)->SerializeAsString(),
            b.tip_after.next_validators.SerializeAsString());
}

// ---- Crash atomicity ----

// The writer the crash test kills: commits blocks until killed (or for at most 60 s, should
// its parent be gone), reporting each commit on kChildProgressFd. Skipped unless started by
// CrashAtAnyMomentLeavesWholeBlocks.
TEST(ChainStoreCrashChild, CommitsUntilKilled) {
  const char* dir = std::getenv(kChildDirEnv);
  if (dir == nullptr) GTEST_SKIP() << "the crash test's child process";
  const pid_t parent = getppid();
  TestChain keys;
  auto store = OpenOrDie(dir);
  ASSERT_NE(store, nullptr);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline && getppid() == parent) {
    const ProducedBlock b = ProduceOnStore(*store, keys);
    ASSERT_TRUE(b.dropped.empty()) << b.dropped[0].outcome.message;
    ASSERT_TRUE(Commit(*store, b).ok());
    const char committed = 'c';
    ASSERT_EQ(write(kChildProgressFd, &committed, 1), 1);
  }
}

// Replays the store from its genesis through node/chain and checks that every block up to
// the head is whole (block, commit, results, tx index, validator set) and agrees with the
// state and the head; nothing of a later block exists, not even the tx index entries of the
// block the writer was committing (its tx ids are known: they do not cover the signatures).
// Returns the head's height.
uint64_t CheckStoreIsWhole(const fs::path& dir, const TestChain& keys) {
  auto store = OpenOrDie(dir);
  if (store == nullptr) return 0;
  EXPECT_TRUE(store->initialized());
  auto genesis = store->LoadGenesis();
  EXPECT_TRUE(genesis.ok());
  if (!genesis.ok()) return 0;
  const std::string chain_id = genesis->chain_id();
  const ChainHead head = store->head();

  auto g = chain::ExecuteGenesis(*genesis);
  EXPECT_TRUE(g.ok());
  if (!g.ok()) return 0;
  governance::MemoryKv state;
  state.Apply(g->writes);
  crypto::Hash32 app_hash = g->app_hash;
  crypto::Hash32 prev_hash{};
  int64_t time = genesis->genesis_time();
  for (uint64_t h = 1; h <= head.height; ++h) {
    const auto block = store->GetBlock(h);
    const auto commit = store->GetCommit(h);
    const auto results = store->GetResults(h);
    const auto validators = store->ValidatorsAt(h);
    const bool whole = block && commit && results && validators;
    EXPECT_TRUE(whole) << "height " << h << " of " << head.height << " is not whole";
    if (!whole) return head.height;
    const bas::v1::BlockHeader& header = block->header();
    EXPECT_EQ(header.height(), h);
    EXPECT_EQ(header.prev_block_hash(), HashBytes(prev_hash)) << h;
    const crypto::Hash32 block_hash = chain::BlockHash(header);
    const Status certified =
        chain::VerifyCommit(chain_id, h, HashBytes(block_hash), *commit, *validators);
    EXPECT_TRUE(certified.ok()) << h << ": " << (certified.ok() ? "" : certified.message());

    auto txs = chain::CheckBlockTxs(block->txs(), chain_id, 2);
    EXPECT_TRUE(txs.ok()) << h;
    if (!txs.ok()) return head.height;
    auto exec =
        chain::ExecuteBlock(state, chain::BlockInput{chain_id, h, header.time(), app_hash}, *txs);
    EXPECT_TRUE(exec.ok()) << h;
    if (!exec.ok()) return head.height;
    EXPECT_TRUE(chain::CheckExecution(header, *exec).ok()) << h;
    EXPECT_EQ(results->SerializeAsString(), exec->results.SerializeAsString()) << h;
    for (int i = 0; i < block->txs_size(); ++i) {
      auto loc = store->FindTx(TxIdOf(block->txs(i)));
      EXPECT_TRUE(loc && loc->height() == h && loc->index() == static_cast<uint32_t>(i))
          << h << "/" << i;
    }
    const auto set_h2 = store->ValidatorsAt(h + 2);
    EXPECT_TRUE(set_h2.has_value()) << h + 2;
    if (set_h2) {
      EXPECT_EQ(set_h2->SerializeAsString(),
                chain::ValidatorsAfter(state, exec->writes).SerializeAsString());
    }
    state.Apply(exec->writes);
    app_hash = exec->app_hash;
    prev_hash = block_hash;
    time = header.time();
  }
  EXPECT_EQ(head.app_hash, app_hash) << "head " << head.height;
  EXPECT_EQ(head.block_hash, prev_hash) << "head " << head.height;
  EXPECT_EQ(head.time, time) << "head " << head.height;
  EXPECT_FALSE(store->GetBlock(head.height + 1).has_value());
  EXPECT_FALSE(store->GetCommit(head.height + 1).has_value());
  EXPECT_FALSE(store->GetResults(head.height + 1).has_value());
  EXPECT_FALSE(store->ValidatorsAt(head.height + 3).has_value());
  EXPECT_EQ(StateDiff(*store->Snapshot(), state), "") << "head " << head.height;
  const ProducedBlock next = ProduceOnStore(*store, keys);
  for (const auto& tx : next.block.txs()) {
    EXPECT_FALSE(store->FindTx(TxIdOf(tx)).has_value())
        << "a tx of height " << head.height + 1 << " is indexed";
  }
  return head.height;
}

TEST(ChainStoreCrashTest, CrashAtAnyMomentLeavesWholeBlocks) {
  TempDir dir;
  const TestChain c;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    InitFromChain(*store, c);
  }
  // The child is this binary run afresh (fork then exec: no RocksDB threads or locks are
  // inherited), running CommitsUntilKilled. Everything it needs is prepared before the fork.
  std::vector<std::string> env = {std::string(kChildDirEnv) + "=" + dir.path().string()};
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string exe = fs::read_symlink("/proc/self/exe").string();
  std::string filter = "--gtest_filter=ChainStoreCrashChild.CommitsUntilKilled";
  char* argv[] = {exe.data(), filter.data(), nullptr};

  // The kill lands at a random moment after the child's first commit of the round, while it
  // commits block after block.
  std::mt19937 rng(20260101);
  std::uniform_int_distribution<int> kill_after_us(0, 150000);
  uint64_t height = 0;
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int progress[2];
    ASSERT_EQ(pipe2(progress, O_CLOEXEC), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      dup2(progress[1], kChildProgressFd);  // the copy is inherited across exec
      const int devnull = open("/dev/null", O_WRONLY);
      if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
      execve(exe.c_str(), argv, envp.data());
      _exit(127);
    }
    close(progress[1]);
    pollfd first{progress[0], POLLIN, 0};
    const bool started = poll(&first, 1, 30000) == 1 && (first.revents & POLLIN) != 0;
    const int delay_us = kill_after_us(rng);
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    close(progress[0]);
    ASSERT_TRUE(started) << "the child committed nothing";
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child ended on its own (status " << status << ")";
    const uint64_t now = CheckStoreIsWhole(dir.path(), c);
    EXPECT_GT(now, height) << "committed blocks were lost";
    height = now;
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
}  // namespace bas::node::storage
