// The consensus core against Algorithm 1 of "The latest gossip on BFT consensus"
// (arXiv:1807.04938v3): one test per upon-rule and per timeout function, each a hand-written
// sequence of messages with the effects the paper prescribes. Four validators of power 1
// unless a test says otherwise: 2f + 1 is 3 votes, f + 1 is 2. At height 5 the proposers of
// rounds 0, 1, 2, 3 are validators 1, 2, 3, 0 ((height + round) mod 4, see validator_set.h).
#include "node/consensus/core.h"

#include <gtest/gtest.h>

#include "node/chain/commit.h"
#include "tests/unit/node/consensus/fixture.h"

namespace bas::node::consensus {
namespace {

using testing::Height;
using testing::MemoryStore;
using testing::Of;
using testing::Ok;

using Votes = std::vector<bas::v1::ConsensusVote>;

bool SameVote(const bas::v1::ConsensusVote& v, bas::v1::VoteType type, uint64_t height,
              uint32_t round, std::string_view hash) {
  return v.type() == type && v.height() == height && v.round() == round && v.block_hash() == hash;
}

// The only vote among effects (a test failure when there is not exactly one).
bas::v1::ConsensusVote OnlyVote(const Effects& effects) {
  const auto votes = Of<BroadcastVote>(effects);
  EXPECT_EQ(votes.size(), 1u);
  return votes.empty() ? bas::v1::ConsensusVote() : votes[0].vote;
}

Effects Deliver(Core& core, const Votes& votes) {
  Effects all;
  for (const auto& v : votes) {
    Effects e = Ok(core.OnVote(v));
    all.insert(all.end(), e.begin(), e.end());
  }
  return all;
}

// Moves core (not the proposer of the rounds passed) from its round to round `to` through the
// three timeouts of each round: it prevotes and precommits nil on the way.
void AdvanceByTimeouts(Core& core, uint32_t to) {
  while (core.round() < to) {
    const uint64_t h = core.height();
    const uint32_t r = core.round();
    Ok(core.OnTimeout({h, r, Step::kPropose}));
    Ok(core.OnTimeout({h, r, Step::kPrevote}));
    Ok(core.OnTimeout({h, r, Step::kPrecommit}));
    ASSERT_EQ(core.round(), r + 1);
  }
}

// Locks core on block in `round` (its current round): the proposal, valid(v), and the prevotes
// of two other validators next to its own.
void LockOn(const Height& h, Core& core, size_t self, uint32_t round, const bas::v1::Block& block) {
  const std::string hash = Height::Hash(block);
  Ok(core.OnProposal(h.Proposal(round, block)));
  Ok(core.OnBlockValid(hash, true));
  Votes prevotes;
  for (size_t i = 0; i < 4 && prevotes.size() < 2; ++i) {
    if (i != self) prevotes.push_back(h.Prevote(i, round, hash));
  }
  Effects e = Deliver(core, prevotes);
  ASSERT_TRUE(SameVote(OnlyVote(e), bas::v1::PRECOMMIT, h.height(), round, hash));
  ASSERT_EQ(core.locked_round(), static_cast<int32_t>(round));
}

// Lines 10-21, a validator that is not the proposer: it waits for the proposal with a
// timeout of timeoutPropose(0) (line 21).
TEST(StartRoundTest, NonProposerSchedulesTimeoutPropose) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0});
  Core core = h.MakeCore(self, store);
  const Effects e = Ok(core.StartHeight(h.height(), h.set()));
  ASSERT_EQ(e.size(), 1u);
  const auto timers = Of<ScheduleTimeout>(e);
  ASSERT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers[0].timeout, (Timeout{h.height(), 0, Step::kPropose}));
  EXPECT_EQ(timers[0].delay_ms, 3000u);
  EXPECT_EQ(core.round(), 0u);
  EXPECT_EQ(core.step(), Step::kPropose);
  EXPECT_EQ(store.saves, 0);
}

// Lines 14-19 with validValue nil: the proposer asks for a block (getValue), signs the
// proposal with validRound -1, persists it before returning it, and (line 22 on its own
// proposal) prevotes for it.
TEST(StartRoundTest, ProposerProposesTheBlockItIsGiven) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.Proposer(0);
  Core core = h.MakeCore(self, store);
  Effects e = Ok(core.StartHeight(h.height(), h.set()));
  const auto requests = Of<RequestBlock>(e);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].height, h.height());
  EXPECT_EQ(requests[0].round, 0u);
  EXPECT_EQ(Of<BroadcastProposal>(e).size(), 0u);

  // An answer for another round is too late and ignored.
  EXPECT_TRUE(Ok(core.OnProposalBlock(h.height(), 1, h.Block("A"))).empty());

  const bas::v1::Block block = h.Block("A");
  e = Ok(core.OnProposalBlock(h.height(), 0, block));
  const auto proposals = Of<BroadcastProposal>(e);
  ASSERT_EQ(proposals.size(), 1u);
  const auto& p = proposals[0].proposal;
  EXPECT_EQ(p.height(), h.height());
  EXPECT_EQ(p.round(), 0u);
  EXPECT_EQ(p.valid_round(), -1);
  EXPECT_EQ(p.proposer(), testing::KeyBytes(h.key(self)));
  EXPECT_TRUE(VerifyProposal(testing::kChain, p));
  EXPECT_TRUE(SameVote(OnlyVote(e), bas::v1::PREVOTE, h.height(), 0, Height::Hash(block)));
  // Effects come in order: the proposal before the prevote it causes.
  EXPECT_TRUE(std::holds_alternative<BroadcastProposal>(e.front()));
  ASSERT_TRUE(store.record.has_value());
  EXPECT_EQ(store.record->signed_messages.size(), 2u);
  EXPECT_EQ(core.OwnMessages().size(), 2u);
  // A second answer does not make a second proposal.
  EXPECT_TRUE(Ok(core.OnProposalBlock(h.height(), 0, h.Block("B"))).empty());
}

// Lines 15-16 and 19: a proposer with a valid value proposes it again with its valid round,
// without asking for a new block.
TEST(StartRoundTest, ProposerReproposesItsValidValue) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.Proposer(1);
  ASSERT_NE(self, h.Proposer(0));
  Core core = h.MakeCore(self, store);
  Ok(core.StartHeight(h.height(), h.set()));
  const bas::v1::Block a = h.Block("A");
  LockOn(h, core, self, 0, a);
  ASSERT_EQ(core.valid_round(), 0);
  // Precommits of the others for nil: 2f + 1 precommits of any kind (line 47), then the
  // timeout ends round 0 (line 65).
  Votes nil_precommits;
  for (size_t i = 0; i < 4; ++i) {
    if (i != self && nil_precommits.size() < 2) nil_precommits.push_back(h.Precommit(i, 0, ""));
  }
  Deliver(core, nil_precommits);
  const Effects e = Ok(core.OnTimeout({h.height(), 0, Step::kPrecommit}));
  EXPECT_EQ(core.round(), 1u);
  EXPECT_EQ(Of<RequestBlock>(e).size(), 0u);
  const auto proposals = Of<BroadcastProposal>(e);
  ASSERT_EQ(proposals.size(), 1u);
  EXPECT_EQ(proposals[0].proposal.round(), 1u);
  EXPECT_EQ(proposals[0].proposal.valid_round(), 0);
  EXPECT_EQ(Height::Hash(proposals[0].proposal.block()), Height::Hash(a));
}

// Line 22: upon <PROPOSAL, h, r, v, -1> from proposer(h, r) while step = propose: prevote id(v)
// if valid(v) and (lockedRound = -1 or lockedValue = v), else nil.
TEST(UponRuleTest, Line22ProposalWithoutValidRound) {
  struct Case {
    const char* name;
    bool valid;
    const char* locked_on;  // nullptr: not locked (the lock is taken in round 0)
    bool prevotes_block;
  };
  const Case cases[] = {
      {"valid, not locked", true, nullptr, true},
      {"invalid, not locked", false, nullptr, false},
      {"valid, locked on another block", true, "B", false},
      {"valid, locked on this block", true, "A", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Height h(4);
    MemoryStore store;
    const size_t self = h.NonProposer({0, 1});
    Core core = h.MakeCore(self, store);
    Ok(core.StartHeight(h.height(), h.set()));
    uint32_t round = 0;
    if (c.locked_on != nullptr) {
      LockOn(h, core, self, 0, h.Block(c.locked_on));
      Ok(core.OnTimeout({h.height(), 0, Step::kPrecommit}));
      round = 1;
    }
    const bas::v1::Block a = h.Block("A");
    const std::string hash = Height::Hash(a);
    Effects e = Ok(core.OnProposal(h.Proposal(round, a)));
    if (c.locked_on == nullptr || std::string(c.locked_on) != "A") {
      // valid(v) is asked for, and the rule waits for the answer.
      const auto asks = Of<ValidateBlock>(e);
      ASSERT_EQ(asks.size(), 1u);
      EXPECT_EQ(asks[0].block_hash, hash);
      EXPECT_EQ(Of<BroadcastVote>(e).size(), 0u);
      EXPECT_EQ(core.step(), Step::kPropose);
      e = Ok(core.OnBlockValid(hash, c.valid));
    }
    EXPECT_TRUE(
        SameVote(OnlyVote(e), bas::v1::PREVOTE, h.height(), round, c.prevotes_block ? hash : ""));
    EXPECT_EQ(core.step(), Step::kPrevote);  // line 27
  }
}

// Line 28: upon <PROPOSAL, h, r, v, vr> from proposer(h, r) AND 2f + 1 <PREVOTE, h, vr, id(v)>
// while step = propose and 0 <= vr < r: prevote id(v) if valid(v) and (lockedRound <= vr or
// lockedValue = v), else nil.
TEST(UponRuleTest, Line28ProposalWithValidRound) {
  Height h(4);
  const bas::v1::Block a = h.Block("A");
  const std::string hash = Height::Hash(a);
  const size_t self = h.NonProposer({0, 1, 2});
  std::vector<size_t> others;
  for (size_t i = 0; i < 4; ++i) {
    if (i != self) others.push_back(i);
  }
  auto prevotes_for_a = [&](uint32_t round) {
    Votes v;
    for (size_t i : others) v.push_back(h.Prevote(i, round, hash));
    return v;
  };

  {
    SCOPED_TRACE("not locked: waits for the prevotes of round vr, then prevotes v");
    MemoryStore store;
    Core core = h.MakeCore(self, store);
    Ok(core.StartHeight(h.height(), h.set()));
    AdvanceByTimeouts(core, 1);
    Effects e = Ok(core.OnProposal(h.Proposal(1, a, /*valid_round=*/0)));
    e = Ok(core.OnBlockValid(hash, true));
    EXPECT_EQ(Of<BroadcastVote>(e).size(), 0u) << "2f + 1 prevotes of round 0 are missing";
    const Votes round0 = prevotes_for_a(0);
    Deliver(core, {round0[0], round0[1]});
    EXPECT_EQ(core.step(), Step::kPropose);
    e = Deliver(core, {round0[2]});
    EXPECT_TRUE(SameVote(OnlyVote(e), bas::v1::PREVOTE, h.height(), 1, hash));
    EXPECT_EQ(core.step(), Step::kPrevote);  // line 33
  }
  {
    SCOPED_TRACE("locked in round 0 on B, vr = 1 >= lockedRound: prevotes v");
    MemoryStore store;
    Core core = h.MakeCore(self, store);
    Ok(core.StartHeight(h.height(), h.set()));
    LockOn(h, core, self, 0, h.Block("B"));
    AdvanceByTimeouts(core, 2);
    Deliver(core, prevotes_for_a(1));
    Effects e = Ok(core.OnProposal(h.Proposal(2, a, /*valid_round=*/1)));
    e = Ok(core.OnBlockValid(hash, true));
    EXPECT_TRUE(SameVote(OnlyVote(e), bas::v1::PREVOTE, h.height(), 2, hash));
  }
  {
    SCOPED_TRACE("locked in round 1 on B, vr = 0 < lockedRound: prevotes nil");
    MemoryStore store;
    Core core = h.MakeCore(self, store);
    Ok(core.StartHeight(h.height(), h.set()));
    AdvanceByTimeouts(core, 1);
    LockOn(h, core, self, 1, h.Block("B"));
    Ok(core.OnTimeout({h.height(), 1, Step::kPrecommit}));
    ASSERT_EQ(core.round(), 2u);
    Deliver(core, prevotes_for_a(0));
    Effects e = Ok(core.OnProposal(h.Proposal(2, a, /*valid_round=*/0)));
    e = Ok(core.OnBlockValid(hash, true));
    EXPECT_TRUE(SameVote(OnlyVote(e), bas::v1::PREVOTE, h.height(), 2, ""));
  }
}

// Line 34: upon 2f + 1 <PREVOTE, h, r, *> while step = prevote for the first time: schedule
// OnTimeoutPrevote after timeoutPrevote(r).
TEST(UponRuleTest, Line34AnyTwoThirdsPrevotesStartTimeoutPrevote) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0});
  Core core = h.MakeCore(self, store);
  Ok(core.StartHeight(h.height(), h.set()));
  const std::string a = Height::Hash(h.Block("A"));
  std::vector<size_t> others;
  for (size_t i = 0; i < 4; ++i) {
    if (i != self) others.push_back(i);
  }
  // Prevotes from two others: not 2f + 1 yet, and the step is still propose.
  Effects e = Deliver(core, {h.Prevote(others[0], 0, a), h.Prevote(others[1], 0, "")});
  EXPECT_EQ(Of<ScheduleTimeout>(e).size(), 0u);
  // Its own prevote (timeout propose) makes 2f + 1 and the prevote step: the rule fires.
  e = Ok(core.OnTimeout({h.height(), 0, Step::kPropose}));
  const auto timers = Of<ScheduleTimeout>(e);
  ASSERT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers[0].timeout, (Timeout{h.height(), 0, Step::kPrevote}));
  EXPECT_EQ(timers[0].delay_ms, 1000u);
  EXPECT_EQ(core.step(), Step::kPrevote);
  EXPECT_EQ(Of<BroadcastVote>(e).size(), 1u) << "its prevote only: 2 nil prevotes of 4";
  // For the first time only: a fourth prevote schedules nothing more.
  e = Deliver(core, {h.Prevote(others[2], 0, a)});
  EXPECT_TRUE(e.empty());
}

// Line 36: upon <PROPOSAL, h, r, v, *> from proposer(h, r) AND 2f + 1 <PREVOTE, h, r, id(v)>
// while valid(v) and step >= prevote for the first time: in the prevote step lock v and
// precommit id(v); in any case validValue = v, validRound = r.
TEST(UponRuleTest, Line36LockAndPrecommitInPrevoteStep) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0});
  Core core = h.MakeCore(self, store);
  Ok(core.StartHeight(h.height(), h.set()));
  const bas::v1::Block a = h.Block("A");
  const std::string hash = Height::Hash(a);
  Ok(core.OnProposal(h.Proposal(0, a)));
  Ok(core.OnBlockValid(hash, true));  // line 22: prevote A
  Votes others;
  for (size_t i = 0; i < 4; ++i) {
    if (i != self) others.push_back(h.Prevote(i, 0, hash));
  }
  Effects e = Deliver(core, {others[0]});
  EXPECT_EQ(Of<BroadcastVote>(e).size(), 0u) << "2 of 4 prevotes: no quorum";
  e = Deliver(core, {others[1]});
  EXPECT_TRUE(SameVote(OnlyVote(e), bas::v1::PRECOMMIT, h.height(), 0, hash));
  EXPECT_EQ(core.step(), Step::kPrecommit);
  EXPECT_EQ(core.locked_round(), 0);
  EXPECT_EQ(core.valid_round(), 0);
  // The lock is durable with the precommit.
  ASSERT_TRUE(store.record.has_value());
  EXPECT_EQ(store.record->locked_round, 0);
  ASSERT_NE(store.record->locked_block, nullptr);
  EXPECT_EQ(Height::Hash(*store.record->locked_block), hash);
  // For the first time only: the fourth prevote changes nothing.
  EXPECT_EQ(Of<BroadcastVote>(Deliver(core, {others[2]})).size(), 0u);
}

TEST(UponRuleTest, Line36OnlyValidValueInPrecommitStep) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0});
  Core core = h.MakeCore(self, store);
  Ok(core.StartHeight(h.height(), h.set()));
  // Timeouts take it to the precommit step having prevoted and precommitted nil.
  Ok(core.OnTimeout({h.height(), 0, Step::kPropose}));
  Ok(core.OnTimeout({h.height(), 0, Step::kPrevote}));
  ASSERT_EQ(core.step(), Step::kPrecommit);
  const bas::v1::Block a = h.Block("A");
  const std::string hash = Height::Hash(a);
  Votes prevotes;
  for (size_t i = 0; i < 4; ++i) {
    if (i != self) prevotes.push_back(h.Prevote(i, 0, hash));
  }
  Deliver(core, prevotes);
  Ok(core.OnProposal(h.Proposal(0, a)));
  EXPECT_EQ(core.valid_round(), -1) << "valid(v) is not known yet";
  const int saves = store.saves;
  const Effects e = Ok(core.OnBlockValid(hash, true));
  EXPECT_EQ(Of<BroadcastVote>(e).size(), 0u);
  EXPECT_EQ(core.valid_round(), 0);
  EXPECT_EQ(core.locked_round(), -1);
  EXPECT_EQ(store.saves, saves + 1);
  EXPECT_EQ(store.record->valid_round, 0);
}

TEST(UponRuleTest, Line36NeverForAnInvalidBlock) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0});
  Core core = h.MakeCore(self, store);
  Ok(core.StartHeight(h.height(), h.set()));
  const bas::v1::Block a = h.Block("A");
  const std::string hash = Height::Hash(a);
  Ok(core.OnProposal(h.Proposal(0, a)));
  Effects e = Ok(core.OnBlockValid(hash, false));
  EXPECT_TRUE(SameVote(OnlyVote(e), bas::v1::PREVOTE, h.height(), 0, ""));
  Votes prevotes;
  for (size_t i = 0; i < 4; ++i) {
    if (i != self) prevotes.push_back(h.Prevote(i, 0, hash));
  }
  e = Deliver(core, prevotes);
  EXPECT_EQ(Of<BroadcastVote>(e).size(), 0u);
  EXPECT_EQ(core.locked_round(), -1);
  EXPECT_EQ(core.valid_round(), -1);
}

// Line 44: upon 2f + 1 <PREVOTE, h, r, nil> while step = prevote: precommit nil.
TEST(UponRuleTest, Line44TwoThirdsNilPrevotesPrecommitNil) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0});
  Core core = h.MakeCore(self, store);
  Ok(core.StartHeight(h.height(), h.set()));
  std::vector<size_t> others;
  for (size_t i = 0; i < 4; ++i) {
    if (i != self) others.push_back(i);
  }
  Deliver(core, {h.Prevote(others[0], 0, ""), h.Prevote(others[1], 0, "")});
  EXPECT_EQ(core.step(), Step::kPropose) << "needs step = prevote";
  const Effects e = Ok(core.OnTimeout({h.height(), 0, Step::kPropose}));  // prevote nil
  const auto votes = Of<BroadcastVote>(e);
  ASSERT_EQ(votes.size(), 2u);
  EXPECT_TRUE(SameVote(votes[0].vote, bas::v1::PREVOTE, h.height(), 0, ""));
  EXPECT_TRUE(SameVote(votes[1].vote, bas::v1::PRECOMMIT, h.height(), 0, ""));
  EXPECT_EQ(core.step(), Step::kPrecommit);
}

// Line 47: upon 2f + 1 <PRECOMMIT, h, r, *> for the first time: schedule OnTimeoutPrecommit
// after timeoutPrecommit(r), whatever the step.
TEST(UponRuleTest, Line47AnyTwoThirdsPrecommitsStartTimeoutPrecommit) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0});
  Core core = h.MakeCore(self, store);
  Ok(core.StartHeight(h.height(), h.set()));
  const std::string a = Height::Hash(h.Block("A"));
  std::vector<size_t> others;
  for (size_t i = 0; i < 4; ++i) {
    if (i != self) others.push_back(i);
  }
  Effects e = Deliver(core, {h.Precommit(others[0], 0, a), h.Precommit(others[1], 0, "")});
  EXPECT_EQ(Of<ScheduleTimeout>(e).size(), 0u);
  e = Deliver(core, {h.Precommit(others[2], 0, a)});
  const auto timers = Of<ScheduleTimeout>(e);
  ASSERT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers[0].timeout, (Timeout{h.height(), 0, Step::kPrecommit}));
  EXPECT_EQ(timers[0].delay_ms, 2000u);
  EXPECT_EQ(core.step(), Step::kPropose);
  // Only the first time: its own nil precommit adds a fourth, and no second timer.
  Ok(core.OnTimeout({h.height(), 0, Step::kPropose}));
  e = Ok(core.OnTimeout({h.height(), 0, Step::kPrevote}));
  EXPECT_EQ(Of<ScheduleTimeout>(e).size(), 0u);
}

// Line 49: upon <PROPOSAL, h, r, v, *> from proposer(h, r) AND 2f + 1 <PRECOMMIT, h, r, id(v)>
// while decision[h] = nil: if valid(v), decide v. In any round r, earlier or later than the
// validator's own; the commit certificate passes node::chain::VerifyCommit.
TEST(UponRuleTest, Line49DecideOnACommitFromAnyRound) {
  struct Case {
    const char* name;
    uint32_t own_round;  // the validator's round when the messages arrive
    uint32_t commit_round;
  };
  const Case cases[] = {
      {"the current round", 0, 0},
      {"an earlier round", 2, 0},
      {"a later round", 0, 2},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Height h(4);
    MemoryStore store;
    const size_t self = h.NonProposer({0, 1, 2});
    Core core = h.MakeCore(self, store);
    Ok(core.StartHeight(h.height(), h.set()));
    AdvanceByTimeouts(core, c.own_round);
    const bas::v1::Block a = h.Block("A");
    const std::string hash = Height::Hash(a);
    std::vector<size_t> others;
    for (size_t i = 0; i < 4; ++i) {
      if (i != self) others.push_back(i);
    }
    Deliver(core, {h.Precommit(others[0], c.commit_round, hash),
                   h.Precommit(others[1], c.commit_round, hash),
                   h.Precommit(others[2], c.commit_round, hash)});
    EXPECT_FALSE(core.decided()) << "v itself is not known yet";
    Ok(core.OnProposal(h.Proposal(c.commit_round, a)));
    EXPECT_FALSE(core.decided()) << "valid(v) is not known yet";
    const Effects e = Ok(core.OnBlockValid(hash, true));
    const auto decisions = Of<Decide>(e);
    ASSERT_EQ(decisions.size(), 1u);
    const Decide& d = decisions[0];
    EXPECT_EQ(d.height, h.height());
    EXPECT_EQ(d.round, c.commit_round);
    EXPECT_EQ(d.block_hash, hash);
    ASSERT_NE(d.block, nullptr);
    EXPECT_EQ(Height::Hash(*d.block), hash);
    EXPECT_EQ(d.commit.signatures_size(), 3);
    EXPECT_TRUE(
        chain::VerifyCommit(testing::kChain, h.height(), hash, d.commit, h.set().proto()).ok());
    EXPECT_TRUE(core.decided());
    // Nothing more happens at this height.
    EXPECT_TRUE(Ok(core.OnTimeout({h.height(), core.round(), Step::kPrecommit})).empty());
  }
}

TEST(UponRuleTest, Line49NeverDecidesAnInvalidBlock) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0});
  Core core = h.MakeCore(self, store);
  Ok(core.StartHeight(h.height(), h.set()));
  const bas::v1::Block a = h.Block("A");
  const std::string hash = Height::Hash(a);
  Ok(core.OnProposal(h.Proposal(0, a)));
  Ok(core.OnBlockValid(hash, false));
  Votes precommits;
  for (size_t i = 0; i < 4; ++i) {
    if (i != self) precommits.push_back(h.Precommit(i, 0, hash));
  }
  const Effects e = Deliver(core, precommits);
  EXPECT_EQ(Of<Decide>(e).size(), 0u);
  EXPECT_FALSE(core.decided());
}

// Line 49 with the 2f + 1 precommits delivered as a commit certificate (block sync).
TEST(UponRuleTest, Line49DecideOnACommitCertificate) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0});
  Core core = h.MakeCore(self, store);
  Ok(core.StartHeight(h.height(), h.set()));
  const bas::v1::Block a = h.Block("A");
  const std::string hash = Height::Hash(a);
  std::vector<bas::v1::ConsensusVote> precommits;
  for (size_t i = 0; i < 4; ++i) {
    if (i != self && precommits.size() < 3) precommits.push_back(h.Precommit(i, 3, hash));
  }
  // Two signatures are not a certificate.
  const bas::v1::Commit short_commit = chain::MakeCommit(
      h.height(), 3, hash,
      std::vector<bas::v1::ConsensusVote>(precommits.begin(), precommits.begin() + 2));
  Result<Effects> refused = core.OnCommit(a, short_commit);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "INVALID_COMMIT");
  // A certificate for another block is not one for this block.
  const bas::v1::Commit commit = chain::MakeCommit(h.height(), 3, hash, precommits);
  refused = core.OnCommit(h.Block("B"), commit);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "INVALID_COMMIT");

  Effects e = Ok(core.OnCommit(a, commit));
  ASSERT_EQ(Of<ValidateBlock>(e).size(), 1u);
  EXPECT_FALSE(core.decided());
  e = Ok(core.OnBlockValid(hash, true));
  const auto decisions = Of<Decide>(e);
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].round, 3u);
  EXPECT_TRUE(
      chain::VerifyCommit(testing::kChain, h.height(), hash, decisions[0].commit, h.set().proto())
          .ok());
}

// Line 55: upon f + 1 <*, h, round, *, *> with round > round_p: StartRound(round). Counted by
// voting power over distinct senders, any message type.
TEST(UponRuleTest, Line55SkipToAHigherRoundOnOneThirdOfThePower) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0, 3});
  Core core = h.MakeCore(self, store);
  Ok(core.StartHeight(h.height(), h.set()));
  size_t voter = 0;
  while (voter == self || voter == h.Proposer(3)) ++voter;
  // One validator, two messages of round 3: power 1 of 4 is not more than 1/3.
  Effects e = Deliver(core, {h.Prevote(voter, 3, ""), h.Precommit(voter, 3, "")});
  EXPECT_EQ(core.round(), 0u);
  EXPECT_TRUE(Of<ScheduleTimeout>(e).empty());
  // A second sender, in round 3 (a proposal counts like a vote).
  e = Ok(core.OnProposal(h.Proposal(3, h.Block("A"))));
  EXPECT_EQ(core.round(), 3u);
  EXPECT_EQ(core.step(), Step::kPropose);
  const auto timers = Of<ScheduleTimeout>(e);
  ASSERT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers[0].timeout, (Timeout{h.height(), 3, Step::kPropose}));
  EXPECT_EQ(timers[0].delay_ms, 3000u + 3 * 500u) << "timeoutPropose(3) grows by delta";
}

TEST(UponRuleTest, Line55ThresholdIsByVotingPower) {
  // Powers 1, 1, 1, 2 (in key order): total 5; f + 1 means more than 5/3, so validator 3
  // alone is enough and any single other validator is not; 2f + 1 means 4.
  Height h(4, 5, {1, 1, 1, 2});
  MemoryStore store;
  Core core = h.MakeCore(0, store);
  Ok(core.StartHeight(h.height(), h.set()));
  Deliver(core, {h.Prevote(1, 2, "")});
  EXPECT_EQ(core.round(), 0u);
  Deliver(core, {h.Prevote(3, 4, "")});
  EXPECT_EQ(core.round(), 4u);
}

// Lines 57-67: the timeout functions act only for the current height, round and step.
TEST(TimeoutFunctionTest, EachTimeoutActsOnlyWhereItWasScheduled) {
  Height h(4);
  MemoryStore store;
  const size_t self = h.NonProposer({0, 1});
  Core core = h.MakeCore(self, store);
  Ok(core.StartHeight(h.height(), h.set()));
  // Stale or out-of-step timeouts do nothing.
  EXPECT_TRUE(Ok(core.OnTimeout({h.height() - 1, 0, Step::kPropose})).empty());
  EXPECT_TRUE(Ok(core.OnTimeout({h.height(), 1, Step::kPropose})).empty());
  EXPECT_TRUE(Ok(core.OnTimeout({h.height(), 0, Step::kPrevote})).empty());
  // Line 57: OnTimeoutPropose prevotes nil.
  Effects e = Ok(core.OnTimeout({h.height(), 0, Step::kPropose}));
  EXPECT_TRUE(SameVote(OnlyVote(e), bas::v1::PREVOTE, h.height(), 0, ""));
  EXPECT_EQ(core.step(), Step::kPrevote);
  EXPECT_TRUE(Ok(core.OnTimeout({h.height(), 0, Step::kPropose})).empty()) << "step moved on";
  // Line 61: OnTimeoutPrevote precommits nil.
  e = Ok(core.OnTimeout({h.height(), 0, Step::kPrevote}));
  EXPECT_TRUE(SameVote(OnlyVote(e), bas::v1::PRECOMMIT, h.height(), 0, ""));
  EXPECT_EQ(core.step(), Step::kPrecommit);
  // Line 65: OnTimeoutPrecommit starts the next round.
  e = Ok(core.OnTimeout({h.height(), 0, Step::kPrecommit}));
  EXPECT_EQ(core.round(), 1u);
  EXPECT_EQ(core.step(), Step::kPropose);
  const auto timers = Of<ScheduleTimeout>(e);
  ASSERT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers[0].delay_ms, 3500u);
  EXPECT_TRUE(Ok(core.OnTimeout({h.height(), 0, Step::kPrecommit})).empty()) << "round 0 is over";
}

TEST(TimeoutParamsTest, FromChainParamsGrowsPerRound) {
  bas::v1::ConsensusParams p;
  p.set_timeout_propose_ms(3000);
  p.set_timeout_prevote_ms(1000);
  p.set_timeout_precommit_ms(1500);
  p.set_timeout_delta_ms(250);
  auto t = TimeoutParams::FromChainParams(p);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->For(Step::kPropose, 0), 3000u);
  EXPECT_EQ(t->For(Step::kPrevote, 2), 1500u);
  EXPECT_EQ(t->For(Step::kPrecommit, 4), 2500u);
  p.set_timeout_delta_ms(0);
  auto bad = TimeoutParams::FromChainParams(p);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "INVALID_CONSENSUS_PARAMS");
}

}  // namespace
}  // namespace bas::node::consensus
