// The consensus core's safety machinery: evidence of equivocation, the persistence contract
// (persist before send, resume after a restart, never two different votes for one height,
// round and step; once with the node's store on a real ChainStore), and the refusal of
// malformed or foreign input.
#include <filesystem>

#include <gtest/gtest.h>
#include <unistd.h>

#include "node/chain/commit.h"
#include "node/consensus/core.h"
#include "node/storage/chain_store.h"
#include "tests/unit/node/consensus/fixture.h"

namespace bas::node::consensus {
namespace {

using testing::Height;
using testing::MemoryStore;
using testing::Of;
using testing::Ok;

std::vector<size_t> Others(size_t self) {
  std::vector<size_t> out;
  for (size_t i = 0; i < 4; ++i) {
    if (i != self) out.push_back(i);
  }
  return out;
}

std::string ErrorCode(const Result<Effects>& r) { return r.ok() ? "OK" : r.error().code; }

TEST(EquivocationEvidenceTest, ConflictingVotesBecomeEvidenceOnce) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0});
  Core core = h.MakeCore(self, store);
  Ok(core.StartHeight(h.height(), h.set()));
  const size_t bad = Others(self)[0];
  const std::string a = Height::Hash(h.Block("A"));
  const std::string b = Height::Hash(h.Block("B"));
  for (auto type : {bas::v1::PREVOTE, bas::v1::PRECOMMIT}) {
    SCOPED_TRACE(bas::v1::VoteType_Name(type));
    auto vote = [&](std::string_view hash) {
      return type == bas::v1::PREVOTE ? h.Prevote(bad, 1, hash) : h.Precommit(bad, 1, hash);
    };
    EXPECT_TRUE(Ok(core.OnVote(vote(b))).empty());
    EXPECT_TRUE(Ok(core.OnVote(vote(b))).empty()) << "a duplicate is not evidence";
    const Effects e = Ok(core.OnVote(vote(a)));
    const auto evidence = Of<ReportEvidence>(e);
    ASSERT_EQ(evidence.size(), 1u);
    const bas::v1::Evidence& ev = evidence[0].evidence;
    // Ordered by block hash, whichever came first.
    const bool a_first = a < b;
    EXPECT_EQ(ev.vote_a().block_hash(), a_first ? a : b);
    EXPECT_EQ(ev.vote_b().block_hash(), a_first ? b : a);
    EXPECT_EQ(ev.vote_a().validator(), testing::KeyBytes(h.key(bad)));
    EXPECT_EQ(ev.vote_a().type(), type);
    EXPECT_EQ(ev.vote_b().type(), type);
    EXPECT_TRUE(chain::VerifyVote(testing::kChain, ev.vote_a()));
    EXPECT_TRUE(chain::VerifyVote(testing::kChain, ev.vote_b()));
    // Once per validator, height, round and type: a third value is not reported again.
    EXPECT_TRUE(Ok(core.OnVote(vote(""))).empty());
  }
  // The same validator's vote in another round is not a conflict.
  EXPECT_TRUE(Of<ReportEvidence>(Ok(core.OnVote(h.Prevote(bad, 2, a)))).empty());
}

// Both conflicting votes count, as messages do in the paper: an equivocator's prevote for A
// and for nil are each part of a 2f + 1.
TEST(EquivocationEvidenceTest, BothConflictingVotesCount) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0});
  Core core = h.MakeCore(self, store);
  Ok(core.StartHeight(h.height(), h.set()));
  const auto others = Others(self);
  Ok(core.OnTimeout({h.height(), 0, Step::kPropose}));  // its own nil prevote
  Ok(core.OnVote(h.Prevote(others[0], 0, Height::Hash(h.Block("A")))));
  Ok(core.OnVote(h.Prevote(others[1], 0, "")));                    // nil: 2 of 4
  const Effects e = Ok(core.OnVote(h.Prevote(others[0], 0, "")));  // now 3
  EXPECT_EQ(Of<ReportEvidence>(e).size(), 1u);
  const auto votes = Of<BroadcastVote>(e);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].vote.type(), bas::v1::PRECOMMIT);
  EXPECT_EQ(votes[0].vote.block_hash(), "");
}

// A vote of the previous height that conflicts with one received there is still evidence.
TEST(EquivocationEvidenceTest, LateConflictingVoteOfThePreviousHeight) {
  Height h(4);
  Height next(4, h.height() + 1);
  MemoryStore store;
  const size_t self = h.NonProposer({0});
  Core core = h.MakeCore(self, store);
  Ok(core.StartHeight(h.height(), h.set()));
  const size_t bad = Others(self)[0];
  const std::string a = Height::Hash(h.Block("A"));
  Ok(core.OnVote(h.Precommit(bad, 0, a)));
  Ok(core.StartHeight(next.height(), next.set()));
  const Effects e = Ok(core.OnVote(h.Precommit(bad, 0, "")));
  ASSERT_EQ(Of<ReportEvidence>(e).size(), 1u);
  EXPECT_TRUE(Of<BroadcastVote>(e).empty());
  // Two heights back is out of the window.
  Ok(core.StartHeight(next.height() + 1, next.set()));
  EXPECT_EQ(ErrorCode(core.OnVote(h.Prevote(bad, 0, a))), "STALE_HEIGHT");
}

// Persist, then send: the record that holds a signed message is saved before the message is
// returned; if the save fails, nothing is sent and the core stops.
TEST(SafetyPersistenceTest, FailedSaveSendsNothingAndHalts) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0});
  Core core = h.MakeCore(self, store);
  Ok(core.StartHeight(h.height(), h.set()));
  store.fail_next = true;
  Result<Effects> r = core.OnTimeout({h.height(), 0, Step::kPropose});
  EXPECT_EQ(ErrorCode(r), "PERSIST_FAILED");
  EXPECT_TRUE(core.halted());
  EXPECT_FALSE(store.record.has_value());
  EXPECT_EQ(ErrorCode(core.OnVote(h.Prevote(Others(self)[0], 0, ""))), "HALTED");
  EXPECT_EQ(ErrorCode(core.StartHeight(h.height() + 1, h.set())), "HALTED");
}

// A save that fails later on leaves the core's record as last saved: the message it would have
// covered is not among the messages the driver re-gossips (OwnMessages), at the same height as
// at a new one.
TEST(SafetyPersistenceTest, FailedSaveLeavesTheRecordAsLastSaved) {
  Height h(4);
  const bas::v1::Block a = h.Block("A");
  const std::string hash = Height::Hash(a);
  const size_t self = h.NonProposer({0});
  for (const bool new_height : {false, true}) {
    SCOPED_TRACE(new_height ? "at a new height" : "at the same height");
    MemoryStore store;
    Core core = h.MakeCore(self, store);
    Ok(core.StartHeight(h.height(), h.set()));
    Ok(core.OnProposal(h.Proposal(0, a)));
    const auto prevote = Of<BroadcastVote>(Ok(core.OnBlockValid(hash, true))).at(0).vote;
    Result<Effects> r = Effects{};
    if (new_height) {
      Height next(4, h.height() + 1);
      Ok(core.StartHeight(next.height(), next.set()));
      store.fail_next = true;
      r = core.OnTimeout({next.height(), 0, Step::kPropose});  // would prevote nil
      EXPECT_TRUE(core.OwnMessages().empty());
    } else {
      Ok(core.OnVote(h.Prevote(Others(self)[0], 0, hash)));
      store.fail_next = true;
      r = core.OnVote(h.Prevote(Others(self)[1], 0, hash));  // would lock and precommit
      const auto own = core.OwnMessages();
      ASSERT_EQ(own.size(), 1u);
      EXPECT_EQ(std::get<bas::v1::ConsensusVote>(own[0]).SerializeAsString(),
                prevote.SerializeAsString());
    }
    EXPECT_EQ(ErrorCode(r), "PERSIST_FAILED");
    EXPECT_TRUE(core.halted());
    ASSERT_TRUE(store.record.has_value());
    EXPECT_EQ(store.record->height, h.height());
    EXPECT_EQ(store.record->signed_messages.size(), 1u);
    EXPECT_EQ(store.record->locked_round, -1);
  }
}

TEST(SafetyPersistenceTest, EverySignedMessageIsInTheRecordBeforeItLeaves) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.Proposer(0);
  Core core = h.MakeCore(self, store);
  Ok(core.StartHeight(h.height(), h.set()));
  const bas::v1::Block a = h.Block("A");
  const std::string hash = Height::Hash(a);
  Effects e = Ok(core.OnProposalBlock(h.height(), 0, a));
  ASSERT_TRUE(store.record.has_value());
  ASSERT_EQ(store.record->signed_messages.size(), 2u);
  EXPECT_EQ(
      std::get<bas::v1::ConsensusProposal>(store.record->signed_messages[0]).SerializeAsString(),
      Of<BroadcastProposal>(e).at(0).proposal.SerializeAsString());
  EXPECT_EQ(std::get<bas::v1::ConsensusVote>(store.record->signed_messages[1]).SerializeAsString(),
            Of<BroadcastVote>(e).at(0).vote.SerializeAsString());
  std::vector<bas::v1::ConsensusVote> prevotes;
  for (size_t i : Others(self)) prevotes.push_back(h.Prevote(i, 0, hash));
  Ok(core.OnVote(prevotes[0]));
  e = Ok(core.OnVote(prevotes[1]));  // line 36: lock and precommit
  ASSERT_EQ(store.record->signed_messages.size(), 3u);
  EXPECT_EQ(std::get<bas::v1::ConsensusVote>(store.record->signed_messages[2]).SerializeAsString(),
            Of<BroadcastVote>(e).at(0).vote.SerializeAsString());
  EXPECT_EQ(store.record->locked_round, 0);
  EXPECT_EQ(store.record->valid_round, 0);
  EXPECT_EQ(store.record->height, h.height());
}

// After a restart the core resumes from the record: it re-sends exactly the bytes it signed,
// takes up the round and step of its last message, and signs nothing new there, whatever
// arrives (here a second proposal from an equivocating proposer).
TEST(SafetyPersistenceTest, RestartNeverSignsADifferentVoteForTheSameStep) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0});
  const bas::v1::Block a = h.Block("A");
  const bas::v1::Block b = h.Block("B");
  bas::v1::ConsensusVote prevote;
  {
    Core core = h.MakeCore(self, store);
    Ok(core.StartHeight(h.height(), h.set()));
    Ok(core.OnProposal(h.Proposal(0, a)));
    prevote = Of<BroadcastVote>(Ok(core.OnBlockValid(Height::Hash(a), true))).at(0).vote;
  }  // crash
  Core core = h.MakeCore(self, store, store.record);
  Effects e = Ok(core.StartHeight(h.height(), h.set()));
  const auto resent = Of<BroadcastVote>(e);
  ASSERT_EQ(resent.size(), 1u);
  EXPECT_EQ(resent[0].vote.SerializeAsString(), prevote.SerializeAsString());
  EXPECT_EQ(core.round(), 0u);
  EXPECT_EQ(core.step(), Step::kPrevote);
  const int saves = store.saves;
  e = Ok(core.OnProposal(h.Proposal(0, b)));
  e = Ok(core.OnBlockValid(Height::Hash(b), true));
  EXPECT_TRUE(Of<BroadcastVote>(e).empty());
  EXPECT_TRUE(Ok(core.OnTimeout({h.height(), 0, Step::kPropose})).empty());
  EXPECT_EQ(store.saves, saves);
  // It goes on from there: the prevote timeout precommits nil.
  e = Ok(core.OnTimeout({h.height(), 0, Step::kPrevote}));
  ASSERT_EQ(Of<BroadcastVote>(e).size(), 1u);
  EXPECT_EQ(Of<BroadcastVote>(e)[0].vote.type(), bas::v1::PRECOMMIT);
}

// The lock survives a restart: after precommitting A in round 0, a restarted validator
// prevotes nil for a new proposal of B in round 1 (line 23).
TEST(SafetyPersistenceTest, RestartKeepsTheLock) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0, 1});
  const bas::v1::Block a = h.Block("A");
  const std::string hash = Height::Hash(a);
  {
    Core core = h.MakeCore(self, store);
    Ok(core.StartHeight(h.height(), h.set()));
    Ok(core.OnProposal(h.Proposal(0, a)));
    Ok(core.OnBlockValid(hash, true));
    for (size_t i : {Others(self)[0], Others(self)[1]}) Ok(core.OnVote(h.Prevote(i, 0, hash)));
    ASSERT_EQ(core.locked_round(), 0);
  }
  Core core = h.MakeCore(self, store, store.record);
  const Effects resumed = Ok(core.StartHeight(h.height(), h.set()));
  EXPECT_EQ(Of<BroadcastVote>(resumed).size(), 2u) << "its prevote and precommit, re-sent";
  EXPECT_EQ(core.locked_round(), 0);
  EXPECT_EQ(core.step(), Step::kPrecommit);
  Ok(core.OnTimeout({h.height(), 0, Step::kPrecommit}));
  ASSERT_EQ(core.round(), 1u);
  const bas::v1::Block b = h.Block("B");
  Ok(core.OnProposal(h.Proposal(1, b)));
  const Effects e = Ok(core.OnBlockValid(Height::Hash(b), true));
  const auto votes = Of<BroadcastVote>(e);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].vote.block_hash(), "");
}

// A restarted proposer re-sends its proposal rather than signing a second one.
TEST(SafetyPersistenceTest, RestartedProposerResendsItsProposal) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.Proposer(0);
  bas::v1::ConsensusProposal sent;
  {
    Core core = h.MakeCore(self, store);
    Ok(core.StartHeight(h.height(), h.set()));
    sent =
        Of<BroadcastProposal>(Ok(core.OnProposalBlock(h.height(), 0, h.Block("A")))).at(0).proposal;
  }
  Core core = h.MakeCore(self, store, store.record);
  const Effects e = Ok(core.StartHeight(h.height(), h.set()));
  EXPECT_TRUE(Of<RequestBlock>(e).empty());
  const auto proposals = Of<BroadcastProposal>(e);
  ASSERT_EQ(proposals.size(), 1u);
  EXPECT_EQ(proposals[0].proposal.SerializeAsString(), sent.SerializeAsString());
  EXPECT_TRUE(Ok(core.OnProposalBlock(h.height(), 0, h.Block("B"))).empty());
}

// The node's store end to end (what Node::SafetyStoreOnChainStore is, on a real ChainStore): a
// proposer's height with a full block writes the block once; after a crash the core built from
// LoadSafetyRecord re-sends exactly what it signed, signs nothing else at those steps, keeps
// its lock into the next round, and the block goes with the first record of the next height.
TEST(SafetyPersistenceTest, RestartFromTheChainStoreNeverSignsAgain) {
  namespace fs = std::filesystem;
  struct TempDir {
    fs::path path =
        fs::path(::testing::TempDir()) / ("bas-safety-restart-" + std::to_string(::getpid()));
    TempDir() { fs::remove_all(path); }
    ~TempDir() { fs::remove_all(path); }
  } dir;
  // The node's store, with its writes counted.
  struct CountingStore : KeyValueSafetyStore {
    explicit CountingStore(storage::ChainStore& db)
        : KeyValueSafetyStore(db.ConsensusKeys(kSafetyBlockKeyPrefix),
                              [this, &db](const KeyValues& puts, const auto& deletes) {
                                ++writes;
                                for (const auto& [k, v] : puts) bytes += k.size() + v.size();
                                return db.WriteConsensus(puts, deletes);
                              }) {}
    int writes = 0;
    size_t bytes = 0;
  };
  auto open = [&] {
    auto db = storage::ChainStore::Open(dir.path);
    EXPECT_TRUE(db.ok());
    return db.ok() ? std::move(*db) : nullptr;
  };
  auto load = [](const storage::ChainStore& db) {
    return LoadSafetyRecord([&](std::string_view key) { return db.GetConsensus(key); });
  };

  Height h(4);
  const size_t self = h.Proposer(0);
  ASSERT_NE(h.Proposer(1), self);
  bas::v1::Block a = h.Block("A");
  for (int i = 0; i < 5000; ++i) *a.add_txs() = std::string(200, static_cast<char>('a' + i % 26));
  const std::string hash = Height::Hash(a);
  std::vector<std::string> sent;  // everything signed before the crash, in order
  {
    auto db = open();
    ASSERT_NE(db, nullptr);
    CountingStore store(*db);
    Core core(std::string(testing::kChain), testing::TestTimeouts(), h.key(self), &store, {});
    Ok(core.StartHeight(h.height(), h.set()));
    Effects e = Ok(core.OnProposalBlock(h.height(), 0, a));
    for (size_t i : {Others(self)[0], Others(self)[1]}) {
      const Effects more = Ok(core.OnVote(h.Prevote(i, 0, hash)));
      e.insert(e.end(), more.begin(), more.end());
    }
    for (const auto& p : Of<BroadcastProposal>(e)) sent.push_back(p.proposal.SerializeAsString());
    for (const auto& v : Of<BroadcastVote>(e)) sent.push_back(v.vote.SerializeAsString());
    ASSERT_EQ(sent.size(), 3u) << "proposal, prevote, precommit";
    ASSERT_EQ(core.locked_round(), 0);
    EXPECT_EQ(store.writes, 3);
    EXPECT_GT(store.bytes, a.ByteSizeLong());
    EXPECT_LT(store.bytes, a.ByteSizeLong() + 2048) << "the block once, three small records";
    EXPECT_EQ(db->ConsensusKeys(kSafetyBlockKeyPrefix),
              std::vector<std::string>{SafetyBlockKey(hash)});
  }  // crash

  auto db = open();
  ASSERT_NE(db, nullptr);
  auto persisted = load(*db);
  ASSERT_TRUE(persisted.ok()) << persisted.error().message;
  ASSERT_TRUE(persisted->has_value());
  CountingStore store(*db);
  Core core(std::string(testing::kChain), testing::TestTimeouts(), h.key(self), &store,
            std::move(*persisted));
  Effects e = Ok(core.StartHeight(h.height(), h.set()));
  std::vector<std::string> resent;
  for (const auto& p : Of<BroadcastProposal>(e)) resent.push_back(p.proposal.SerializeAsString());
  for (const auto& v : Of<BroadcastVote>(e)) resent.push_back(v.vote.SerializeAsString());
  EXPECT_EQ(resent, sent);
  EXPECT_TRUE(Of<RequestBlock>(e).empty());
  EXPECT_EQ(core.step(), Step::kPrecommit);
  EXPECT_EQ(core.locked_round(), 0);
  // Nothing new at the steps it signed, whatever arrives.
  EXPECT_TRUE(Ok(core.OnProposalBlock(h.height(), 0, h.Block("B"))).empty());
  e = Ok(core.OnTimeout({h.height(), 0, Step::kPropose}));
  EXPECT_TRUE(Of<BroadcastVote>(e).empty());
  e = Ok(core.OnTimeout({h.height(), 0, Step::kPrevote}));
  EXPECT_TRUE(Of<BroadcastVote>(e).empty());
  EXPECT_EQ(store.writes, 0);
  // Round 1: another proposer's block B; the lock on A makes the prevote nil.
  Ok(core.OnTimeout({h.height(), 0, Step::kPrecommit}));
  ASSERT_EQ(core.round(), 1u);
  const bas::v1::Block b = h.Block("B");
  Ok(core.OnProposal(h.Proposal(1, b)));
  e = Ok(core.OnBlockValid(Height::Hash(b), true));
  ASSERT_EQ(Of<BroadcastVote>(e).size(), 1u);
  EXPECT_EQ(Of<BroadcastVote>(e)[0].vote.block_hash(), "");
  EXPECT_EQ(store.writes, 1);
  EXPECT_LT(store.bytes, 2048u) << "A is on disk already; B is not in the record";
  // The next height's first record no longer refers to A: A is deleted with it.
  Height next(4, h.height() + 1);
  Ok(core.StartHeight(next.height(), next.set()));
  Ok(core.OnTimeout({next.height(), 0, Step::kPropose}));
  EXPECT_TRUE(db->ConsensusKeys(kSafetyBlockKeyPrefix).empty());
  auto last = load(*db);
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->height, next.height());
}

// A record from a later height (the block store is behind the signer): the core follows the
// lower heights without signing anything there.
TEST(SafetyPersistenceTest, NoSigningBelowTheRecordsHeight) {
  Height h(4);
  Height later(4, h.height() + 1);
  MemoryStore store;
  const size_t self = h.NonProposer({0});
  {
    Core core = later.MakeCore(self, store);
    Ok(core.StartHeight(later.height(), later.set()));
    Ok(core.OnTimeout({later.height(), 0, Step::kPropose}));
    ASSERT_EQ(store.record->height, later.height());
  }
  Core core = h.MakeCore(self, store, store.record);
  Ok(core.StartHeight(h.height(), h.set()));
  Effects e = Ok(core.OnTimeout({h.height(), 0, Step::kPropose}));
  EXPECT_TRUE(Of<BroadcastVote>(e).empty());
  e = Ok(core.OnTimeout({h.height(), 0, Step::kPrevote}));
  EXPECT_TRUE(Of<BroadcastVote>(e).empty());
  EXPECT_EQ(store.record->height, later.height());
}

// A node outside the height's validator set follows it and signs nothing.
TEST(SafetyPersistenceTest, ObserverNeverSigns) {
  Height h(4);
  Height bigger(5);  // SortedKeys(5) contains a key that SortedKeys(4) lacks
  std::optional<size_t> outsider;
  for (size_t i = 0; i < 5; ++i) {
    if (!h.set().IndexOf(testing::KeyBytes(bigger.key(i)))) outsider = i;
  }
  ASSERT_TRUE(outsider.has_value());
  MemoryStore store;
  Core core = bigger.MakeCore(*outsider, store);
  Ok(core.StartHeight(h.height(), h.set()));
  Effects e = Ok(core.OnTimeout({h.height(), 0, Step::kPropose}));
  EXPECT_TRUE(Of<BroadcastVote>(e).empty());
  const bas::v1::Block a = h.Block("A");
  const std::string hash = Height::Hash(a);
  Ok(core.OnProposal(h.Proposal(0, a)));
  Ok(core.OnBlockValid(hash, true));
  for (size_t i = 0; i < 3; ++i) Ok(core.OnVote(h.Precommit(i, 0, hash)));
  EXPECT_TRUE(core.decided());
  EXPECT_EQ(store.saves, 0);
}

TEST(CoreInputTest, RefusedInputsHaveStableCodes) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0});
  Core core = h.MakeCore(self, store);
  EXPECT_EQ(ErrorCode(core.OnVote(h.Prevote(0, 0, ""))), "NOT_STARTED");
  Ok(core.StartHeight(h.height(), h.set()));
  const bas::v1::Block a = h.Block("A");
  const size_t other = Others(self)[0];

  bas::v1::ConsensusVote tampered = h.Prevote(other, 0, "");
  tampered.set_round(1);
  EXPECT_EQ(ErrorCode(core.OnVote(tampered)), "BAD_SIGNATURE");
  bas::v1::ConsensusVote no_type = h.Prevote(other, 0, "");
  no_type.set_type(bas::v1::VOTE_TYPE_UNSPECIFIED);
  EXPECT_EQ(ErrorCode(core.OnVote(no_type)), "INVALID_MESSAGE");
  bas::v1::ConsensusVote short_hash = h.Prevote(other, 0, "");
  short_hash.set_block_hash("abc");
  EXPECT_EQ(ErrorCode(core.OnVote(short_hash)), "INVALID_MESSAGE");
  Height five(5);
  size_t outsider = 0;
  for (size_t i = 0; i < 5; ++i) {
    if (!h.set().IndexOf(testing::KeyBytes(five.key(i)))) outsider = i;
  }
  EXPECT_EQ(ErrorCode(core.OnVote(chain::SignVote(five.key(outsider), testing::kChain,
                                                  bas::v1::PREVOTE, h.height(), 0, ""))),
            "UNKNOWN_VALIDATOR");
  EXPECT_EQ(ErrorCode(core.OnVote(chain::SignVote(h.key(other), "another-chain", bas::v1::PREVOTE,
                                                  h.height(), 0, ""))),
            "BAD_SIGNATURE");
  EXPECT_EQ(ErrorCode(core.OnVote(chain::SignVote(h.key(other), testing::kChain, bas::v1::PREVOTE,
                                                  h.height() + 1, 0, ""))),
            "FUTURE_HEIGHT");
  EXPECT_EQ(ErrorCode(core.OnVote(chain::SignVote(h.key(other), testing::kChain, bas::v1::PREVOTE,
                                                  h.height() - 1, 0, ""))),
            "STALE_HEIGHT");
  EXPECT_EQ(ErrorCode(core.OnVote(h.Prevote(other, kMaxRoundsAhead + 1, ""))), "ROUND_TOO_FAR");
  EXPECT_EQ(ErrorCode(core.OnVote(h.Prevote(other, kMaxRoundsAhead, ""))), "OK");

  // A proposal signed by a validator that is not the round's proposer.
  const size_t not_proposer = (h.Proposer(0) + 1) % 4;
  EXPECT_EQ(ErrorCode(core.OnProposal(
                SignProposal(h.key(not_proposer), testing::kChain, h.height(), 0, -1, a))),
            "NOT_PROPOSER");
  bas::v1::ConsensusProposal forged = h.Proposal(0, a);
  forged.set_valid_round(-1);
  forged.mutable_block()->mutable_header()->set_time(1);
  EXPECT_EQ(ErrorCode(core.OnProposal(forged)), "BAD_SIGNATURE");
  bas::v1::ConsensusProposal bad_vr = h.Proposal(1, a);
  bad_vr.set_valid_round(1);
  EXPECT_EQ(ErrorCode(core.OnProposal(bad_vr)), "INVALID_MESSAGE");
  bas::v1::ConsensusProposal wrong_height = h.Proposal(0, a);
  wrong_height.mutable_block()->mutable_header()->set_height(h.height() + 1);
  EXPECT_EQ(ErrorCode(core.OnProposal(wrong_height)), "INVALID_MESSAGE");
  // None of the refused inputs changed anything.
  EXPECT_EQ(core.round(), 0u);
  EXPECT_EQ(core.step(), Step::kPropose);
  EXPECT_EQ(store.saves, 0);
}

}  // namespace
}  // namespace bas::node::consensus
