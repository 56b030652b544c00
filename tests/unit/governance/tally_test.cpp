// The voting rules at their boundaries (DESIGN.md section 3 "Voting rules", scenarios/README.md
// "Precise rules" 3 and 4), with D = 1,000,000 and integers only. Each table case is one
// resolution p1 proposed at t = 0 by the first member, voted on at t = 10 and closed by an
// empty block at t = 1000 under the coalition rule {"default": rule} (period 1000).
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "governance/query.h"
#include "tests/unit/governance/scenario_fixture.h"

namespace bas::governance::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int64_t kPeriod = 1000;

// "gov-1:Y civ-1:N tech-1:A" -> vote txs on ref.
std::vector<json> Votes(std::string_view ref, const std::string& spec) {
  std::vector<json> txs;
  std::istringstream in(spec);
  std::string item;
  while (in >> item) {
    size_t colon = item.find(':');
    std::string id = item.substr(0, colon);
    char c = item[colon + 1];
    txs.push_back(Vote(id, ref, c == 'Y' ? "YES" : c == 'N' ? "NO" : "ABSTAIN"));
  }
  return txs;
}

json Tally(int yes, int no, int abstain, int eligible) {
  return {{"yes", yes}, {"no", no}, {"abstain", abstain}, {"eligible", eligible}};
}

struct TallyCase {
  std::string name;
  json members;
  json rule;
  std::string votes;
  std::string status;
  std::string failed_test;
  json tally = nullptr;  // checked when set
};

// Rule variants used below.
json StrictConsensus(uint32_t objection_ppm) {
  // Every MAJORITY and group field at its strictest: a consensus call must ignore them all.
  json rule = ConsensusRule(kPeriod, objection_ppm);
  rule["quorum_ppm"] = kD;
  rule["threshold_ppm"] = kD;
  rule["groups_required"] = true;
  rule["group_quorum_ppm"] = kD;
  rule["group_threshold_ppm"] = kD;
  return rule;
}

std::vector<TallyCase> Cases() {
  const json n4 = Members({2, 0, 1, 1});  // gov-1 gov-2 civ-1 tech-1: N = 4
  const json n5 = Members({2, 0, 2, 1});  // N = 5
  const json six_groups = Members({1, 1, 1, 1, 1, 1});
  return {
      // ---- Quorum: cast*D >= quorum_ppm*N ----
      // 2*D = 2,000,000 >= 500000*4 = 2,000,000; support 2,000,000 > 500000*2.
      {"QuorumExactlyMetPasses", n4, MajorityRule(kPeriod, 500000, 500000), "gov-1:Y civ-1:Y",
       "PASSED", "", Tally(2, 0, 0, 4)},
      // 2,000,000 < 500001*4 = 2,000,004.
      {"QuorumOnePpmShortFails", n4, MajorityRule(kPeriod, 500001, 500000), "gov-1:Y civ-1:Y",
       "REJECTED", "QUORUM", Tally(2, 0, 0, 4)},
      // 1,000,000 < 2,000,000.
      {"QuorumOneVoteShortFails", n4, MajorityRule(kPeriod, 500000, 500000), "gov-1:Y", "REJECTED",
       "QUORUM"},
      // cast 2 (abstain counts) meets 2,000,000; support: yes 1 of yes+no 1.
      {"AbstainCountsTowardQuorum", n4, MajorityRule(kPeriod, 500000, 500000), "gov-1:Y civ-1:A",
       "PASSED", "", Tally(1, 0, 1, 4)},
      // The built-in third: 1*D = 1,000,000 < 334000*3 = 1,002,000.
      {"OneOfThreeMissesBuiltInLikeQuorum", Members({1, 0, 1, 1}),
       MajorityRule(kPeriod, 334000, 500000), "gov-1:Y", "REJECTED", "QUORUM"},
      // 2*D = 2,000,000 >= 334000*5 = 1,670,000.
      {"TwoOfFiveMeetThirdQuorum", n5, MajorityRule(kPeriod, 334000, 500000), "gov-1:Y civ-1:Y",
       "PASSED", ""},

      // ---- Threshold: yes*D > threshold_ppm*(yes+no), strict ----
      // 3*D = 3,000,000 vs 600000*5 = 3,000,000: equal, so it fails.
      {"ThresholdExactlyMetFails", n5, MajorityRule(kPeriod, 0, 600000),
       "gov-1:Y gov-2:Y civ-1:Y civ-2:N tech-1:N", "REJECTED", "SUPPORT", Tally(3, 2, 0, 5)},
      // 3,000,000 > 599999*5 = 2,999,995.
      {"ThresholdOnePpmLowerPasses", n5, MajorityRule(kPeriod, 0, 599999),
       "gov-1:Y gov-2:Y civ-1:Y civ-2:N tech-1:N", "PASSED", ""},
      // 2,000,000 > 500000*4 = 2,000,000 is false.
      {"TieFails", n4, MajorityRule(kPeriod, 0, 500000), "gov-1:Y gov-2:Y civ-1:N tech-1:N",
       "REJECTED", "SUPPORT", Tally(2, 2, 0, 4)},
      // Quorum met (4 of 4) but yes + no == 0.
      {"AbstainOnlyFailsSupportDespiteQuorum", n4, MajorityRule(kPeriod, 500000, 500000),
       "gov-1:A gov-2:A civ-1:A tech-1:A", "REJECTED", "SUPPORT", Tally(0, 0, 4, 4)},
      // Quorum 0 is met by nobody, yet yes + no == 0 fails.
      {"NoVotesFailSupportUnderZeroQuorum", n4, MajorityRule(kPeriod, 0, 0), "", "REJECTED",
       "SUPPORT", Tally(0, 0, 0, 4)},
      // 0 > 0*1 is false.
      {"ZeroThresholdStillNeedsAYes", n4, MajorityRule(kPeriod, 0, 0), "gov-1:N", "REJECTED",
       "SUPPORT"},
      // 1,000,000 > 0*4.
      {"ZeroThresholdOneYesAgainstThreeNo", n4, MajorityRule(kPeriod, 0, 0),
       "gov-1:Y gov-2:N civ-1:N tech-1:N", "PASSED", ""},
      // 1,000,000 > 500000*1: abstentions are not in the denominator.
      {"ThresholdIgnoresAbstentions", n4, MajorityRule(kPeriod, 0, 500000),
       "gov-1:Y gov-2:A civ-1:A tech-1:A", "PASSED", ""},
      // 1 yes of 4 eligible: threshold is over yes + no, not over N.
      {"ThresholdIgnoresNonVoters", n4, MajorityRule(kPeriod, 0, 500000), "gov-1:Y", "PASSED", ""},

      // ---- Groups (groups_required): the same two tests per group with N_g > 0 ----
      // gov-1, civ-1 meet 1*D >= 200000*2; TECHNICAL_COMMUNITY: 0 < 400,000.
      {"GroupWithoutVotesFailsGroupQuorum", Members({2, 0, 2, 2}),
       GroupRule(kPeriod, 0, 0, 200000, 500000), "gov-1:Y civ-1:Y", "REJECTED",
       "GROUP_QUORUM:TECHNICAL_COMMUNITY"},
      // TECHNICAL_COMMUNITY: quorum 1,000,000 >= 400,000, but yes + no == 0 in the group.
      {"GroupWithOnlyAbstentionsFailsGroupSupport", Members({2, 0, 2, 2}),
       GroupRule(kPeriod, 0, 0, 200000, 500000), "gov-1:Y civ-1:Y tech-1:A", "REJECTED",
       "GROUP_SUPPORT:TECHNICAL_COMMUNITY"},
      // GOVERNMENT (5): 1*D = 1,000,000 >= 200000*5 = 1,000,000.
      {"GroupQuorumExactlyMetPasses", Members({5, 0, 1, 1}),
       GroupRule(kPeriod, 0, 0, 200000, 500000), "gov-1:Y civ-1:Y tech-1:Y", "PASSED", ""},
      // GOVERNMENT: 1,000,000 < 200001*5 = 1,000,005.
      {"GroupQuorumOnePpmShortFails", Members({5, 0, 1, 1}),
       GroupRule(kPeriod, 0, 0, 200001, 500000), "gov-1:Y civ-1:Y tech-1:Y", "REJECTED",
       "GROUP_QUORUM:GOVERNMENT"},
      // GOVERNMENT: 1*D = 1,000,000 > 500000*2 = 1,000,000 is false.
      {"GroupThresholdExactlyMetFails", n4, GroupRule(kPeriod, 0, 0, 200000, 500000),
       "gov-1:Y gov-2:N civ-1:Y tech-1:Y", "REJECTED", "GROUP_SUPPORT:GOVERNMENT"},
      {"GroupTestsSkippedWhenNotRequired", Members({2, 0, 2, 2}), MajorityRule(kPeriod, 0, 0),
       "gov-1:Y civ-1:Y", "PASSED", ""},
      // ACADEMIA has a member but none with role MEMBER: N_ACADEMIA = 0, not tested.
      {"GroupWithoutEligibleMembersNotTested",
       With(Members({1, 0, 1, 1}), {Member("aca-x", "ACADEMIA", {"SECRETARIAT"})}),
       GroupRule(kPeriod, 0, 0, 200000, 500000), "gov-1:Y civ-1:Y tech-1:Y", "PASSED", "",
       Tally(3, 0, 0, 3)},

      // ---- Consensus call: passes iff no*D <= objection_ppm*N ----
      // 1*D = 1,000,000 <= 250000*4 = 1,000,000.
      {"ConsensusCallAtObjectionLimitPasses", n4, ConsensusRule(kPeriod, 250000), "gov-1:N",
       "PASSED", "", Tally(0, 1, 0, 4)},
      // 2,000,000 > 1,000,000.
      {"ConsensusCallOverObjectionLimitFails", n4, ConsensusRule(kPeriod, 250000),
       "gov-1:N civ-1:N", "REJECTED", "OBJECTED"},
      // YES does not offset NO: still 2,000,000 > 1,000,000.
      {"ConsensusCallYesDoesNotOffsetNo", n4, ConsensusRule(kPeriod, 250000),
       "gov-1:N civ-1:N gov-2:Y tech-1:Y", "REJECTED", "OBJECTED"},
      // 1,000,000 > 0.
      {"ConsensusCallZeroObjectionOneNoFails", n4, ConsensusRule(kPeriod, 0), "gov-1:N", "REJECTED",
       "OBJECTED"},
      // No quorum, no support test, groups ignored: silence passes.
      {"ConsensusCallIgnoresQuorumAndGroups", n4, StrictConsensus(0), "", "PASSED", "",
       Tally(0, 0, 0, 4)},
      {"ConsensusCallAbstainOnlyPasses", n4, StrictConsensus(0), "gov-1:A civ-1:A", "PASSED", ""},
      {"ConsensusCallIgnoresGroupsWithObjection", n4, StrictConsensus(250000), "gov-1:N gov-2:A",
       "PASSED", ""},

      // ---- Which failed test is reported ----
      // Quorum (1,000,000 < 2,000,000) and support (0 > 500,000 false) both fail.
      {"QuorumReportedBeforeSupport", n4, MajorityRule(kPeriod, 500000, 500000), "gov-1:N",
       "REJECTED", "QUORUM"},
      // Support fails; CIVIL_SOCIETY and TECHNICAL_COMMUNITY would fail their quorum too.
      {"SupportReportedBeforeGroupTests", n4, GroupRule(kPeriod, 0, 500000, 200000, 500000),
       "gov-1:N", "REJECTED", "SUPPORT"},
      // PRIVATE_SECTOR fails its support (abstain only), CIVIL_SOCIETY its quorum (no vote).
      // Enum order puts PRIVATE_SECTOR first; alphabetical order or "every quorum first"
      // would give GROUP_QUORUM:CIVIL_SOCIETY.
      {"GroupsReportedInEnumOrder", six_groups, GroupRule(kPeriod, 0, 0, 200000, 500000),
       "gov-1:Y priv-1:A tech-1:Y aca-1:Y igo-1:Y", "REJECTED", "GROUP_SUPPORT:PRIVATE_SECTOR"},
      // TECHNICAL_COMMUNITY (abstain only) before ACADEMIA (NO only): alphabetical would
      // give ACADEMIA.
      {"TechnicalCommunityReportedBeforeAcademia", six_groups,
       GroupRule(kPeriod, 0, 0, 200000, 500000),
       "gov-1:Y priv-1:Y civ-1:Y tech-1:A aca-1:N igo-1:Y", "REJECTED",
       "GROUP_SUPPORT:TECHNICAL_COMMUNITY"},
      // Only the last group in enum order fails.
      {"LastGroupIsTestedToo", six_groups, GroupRule(kPeriod, 0, 0, 200000, 500000),
       "gov-1:Y priv-1:Y civ-1:Y tech-1:Y aca-1:Y", "REJECTED", "GROUP_QUORUM:INTERGOVERNMENTAL"},
      // GOVERNMENT (5): quorum 1,000,000 < 400000*5 = 2,000,000 and support 0 fail; quorum
      // is reported. Overall: yes 2, no 1 passes threshold 0.
      {"GroupQuorumReportedBeforeGroupSupport", Members({5, 0, 1, 1}),
       GroupRule(kPeriod, 0, 0, 400000, 500000), "gov-1:N civ-1:Y tech-1:Y", "REJECTED",
       "GROUP_QUORUM:GOVERNMENT"},
  };
}

json TallyScenario(const TallyCase& c) {
  std::string proposer = c.members[0]["id"];
  return Scenario({Coalition("bas-dc", c.members, {{"default", c.rule}})},
                  {Step(0, {Propose(proposer, "p1", {Resolution()})}),
                   Step(10, Votes("p1", c.votes)), Step(kPeriod)});
}

class TallyTest : public ::testing::TestWithParam<TallyCase> {};

TEST_P(TallyTest, DecidesAsTheRuleSays) {
  const TallyCase& c = GetParam();
  TestRun run = RunOk(TallyScenario(c));
  EXPECT_THAT(Rejections(run.output), IsEmpty());
  json d = DecisionFor(run.output, "p1");
  ASSERT_TRUE(d.is_object()) << run.output.dump();
  EXPECT_EQ(d["status"], c.status);
  EXPECT_EQ(d["failed_test"], c.failed_test);
  EXPECT_EQ(d["closed_t"], kPeriod);
  EXPECT_EQ(d["number"], 1);
  if (!c.tally.is_null()) {
    EXPECT_EQ(d["tally"], c.tally);
  }
}

INSTANTIATE_TEST_SUITE_P(Boundaries, TallyTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<TallyCase>& info) {
                           return info.param.name;
                         });

// ---- Per-group totals and the groups listed ----

TEST(GroupTallyTest, ListsEveryGroupWithEligibleMembersAndOnlyThose) {
  TallyCase c{"", With(Members({2, 0, 1, 1}), {Member("aca-x", "ACADEMIA", {"SECRETARIAT"})}),
              GroupRule(kPeriod, 0, 0, 200000, 500000), "gov-1:Y gov-2:N civ-1:A"};
  TestRun run = RunOk(TallyScenario(c));
  json d = DecisionFor(run.output, "p1");
  ASSERT_TRUE(d.is_object()) << run.output.dump();
  EXPECT_THAT(GroupNames(d), ElementsAre("CIVIL_SOCIETY", "GOVERNMENT", "TECHNICAL_COMMUNITY"));
  EXPECT_EQ(d["groups"]["GOVERNMENT"], Tally(1, 1, 0, 2));
  EXPECT_EQ(d["groups"]["CIVIL_SOCIETY"], Tally(0, 0, 1, 1));
  EXPECT_EQ(d["groups"]["TECHNICAL_COMMUNITY"], Tally(0, 0, 0, 1));
  EXPECT_EQ(d["tally"], Tally(1, 1, 1, 4));
  // The state keeps the groups in enum order.
  std::optional<bas::v1::ProposalTally> tally = GetTally(run.state, run.refs.at("p1"));
  ASSERT_TRUE(tally.has_value());
  ASSERT_EQ(tally->groups_size(), 3);
  EXPECT_EQ(tally->groups(0).group(), bas::v1::GOVERNMENT);
  EXPECT_EQ(tally->groups(1).group(), bas::v1::CIVIL_SOCIETY);
  EXPECT_EQ(tally->groups(2).group(), bas::v1::TECHNICAL_COMMUNITY);
}

// ---- Vote changes: the last vote counts, every vote is kept ----

json ChangeScenario(std::vector<json> block1, std::vector<json> block2) {
  return Scenario(
      {Coalition("bas-dc", Members({2, 0, 1, 1}), {{"default", MajorityRule(kPeriod, 0, 500000)}})},
      {Step(0, {Propose("gov-1", "p1", {Resolution()})}), Step(10, block1), Step(20, block2),
       Step(kPeriod)});
}

TEST(VoteChangeTest, NoThenYesClearsDissentAndCountsOnlyTheYes) {
  TestRun run = RunOk(ChangeScenario({Vote("civ-1", "p1", "NO", "too costly")},
                                     {Vote("civ-1", "p1", "YES", "costs explained")}));
  json d = DecisionFor(run.output, "p1");
  ASSERT_TRUE(d.is_object()) << run.output.dump();
  EXPECT_EQ(d["tally"], Tally(1, 0, 0, 4));
  EXPECT_EQ(d["groups"]["CIVIL_SOCIETY"], Tally(1, 0, 0, 1));
  EXPECT_EQ(d["dissent"], json::array());
  EXPECT_EQ(d["status"], "PASSED");
}

TEST(VoteChangeTest, YesThenNoCountsTheNo) {
  // threshold 500000: yes 0, no 1 fails SUPPORT; the earlier YES must not linger.
  TestRun run =
      RunOk(ChangeScenario({Vote("civ-1", "p1", "YES")}, {Vote("civ-1", "p1", "NO", "changed")}));
  json d = DecisionFor(run.output, "p1");
  ASSERT_TRUE(d.is_object()) << run.output.dump();
  EXPECT_EQ(d["tally"], Tally(0, 1, 0, 4));
  EXPECT_EQ(d["status"], "REJECTED");
  EXPECT_EQ(d["failed_test"], "SUPPORT");
  EXPECT_EQ(d["dissent"], json::parse(R"([{"member": "civ-1", "reason": "changed"}])"));
}

TEST(VoteChangeTest, LaterNoReasonReplacesEarlierOne) {
  TestRun run = RunOk(ChangeScenario({Vote("civ-1", "p1", "NO", "first reason")},
                                     {Vote("civ-1", "p1", "NO", "second reason")}));
  json d = DecisionFor(run.output, "p1");
  ASSERT_TRUE(d.is_object()) << run.output.dump();
  EXPECT_EQ(d["tally"], Tally(0, 1, 0, 4));
  EXPECT_EQ(d["dissent"], json::parse(R"([{"member": "civ-1", "reason": "second reason"}])"));
}

TEST(VoteChangeTest, ChangesWithinOneBlockKeepTheLast) {
  TestRun run = RunOk(ChangeScenario(
      {Vote("gov-2", "p1", "NO"), Vote("gov-2", "p1", "ABSTAIN"), Vote("gov-2", "p1", "YES")}, {}));
  json d = DecisionFor(run.output, "p1");
  ASSERT_TRUE(d.is_object()) << run.output.dump();
  EXPECT_EQ(d["tally"], Tally(1, 0, 0, 4));
  EXPECT_EQ(d["groups"]["GOVERNMENT"], Tally(1, 0, 0, 2));
}

TEST(VoteChangeTest, DissentSortedByMemberIdWithEmptyReasonWhenNone) {
  TestRun run =
      RunOk(ChangeScenario({Vote("tech-1", "p1", "NO", "r-tech"), Vote("civ-1", "p1", "NO"),
                            Vote("gov-2", "p1", "NO", "r-gov")},
                           {Vote("gov-1", "p1", "YES")}));
  json d = DecisionFor(run.output, "p1");
  ASSERT_TRUE(d.is_object()) << run.output.dump();
  EXPECT_EQ(d["dissent"], json::parse(R"([{"member": "civ-1", "reason": ""},
                                          {"member": "gov-2", "reason": "r-gov"},
                                          {"member": "tech-1", "reason": "r-tech"}])"));
}

TEST(VoteChangeTest, HistoryKeepsEveryVoteAndListVotesTheLast) {
  TestRun run =
      RunOk(ChangeScenario({Vote("civ-1", "p1", "NO", "a"), Vote("gov-2", "p1", "YES")},
                           {Vote("civ-1", "p1", "ABSTAIN"), Vote("civ-1", "p1", "YES", "c")}));
  ASSERT_EQ(run.refs.count("p1"), 1u);
  const crypto::Hash32& id = run.refs.at("p1");
  std::vector<bas::v1::VoteRecord> history = VoteHistory(run.state, id);
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[0].member_id(), "civ-1");
  EXPECT_EQ(history[0].choice(), bas::v1::NO);
  EXPECT_EQ(history[0].reason(), "a");
  EXPECT_EQ(history[1].member_id(), "gov-2");
  EXPECT_EQ(history[2].choice(), bas::v1::ABSTAIN);
  EXPECT_EQ(history[3].choice(), bas::v1::YES);
  EXPECT_EQ(history[3].time(), kStart + 20);
  std::vector<bas::v1::VoteRecord> latest = ListVotes(run.state, id);
  ASSERT_EQ(latest.size(), 2u);
  EXPECT_EQ(latest[0].member_id(), "civ-1");
  EXPECT_EQ(latest[0].choice(), bas::v1::YES);
  EXPECT_EQ(latest[0].reason(), "c");
  EXPECT_EQ(latest[0].group(), bas::v1::CIVIL_SOCIETY);
  EXPECT_EQ(latest[1].member_id(), "gov-2");
}

// ---- Several actions: the strictest rule, field by field ("Precise rules" 3) ----

// gov-1 gov-2 civ-1 civ-2 tech-1 tech-2 vote (N = 6); ops-1 (OPERATOR only) is the one
// removed and is not in the electorate.
json MixedScenario(std::vector<json> actions, const std::string& votes) {
  json members =
      With(Members({2, 0, 2, 2}), {Member("ops-1", "TECHNICAL_COMMUNITY", {"OPERATOR"})});
  return Scenario({Coalition("bas-dc", members)},
                  {Step(0, {Propose("gov-1", "p1", std::move(actions))}),
                   Step(10, Votes("p1", votes)), Step(7 * kDay), Step(14 * kDay)});
}

TEST(MixedActionsTest, ResolutionAloneControl) {
  // Built-in resolution rule: 7 days, quorum 334000, threshold 500000, no groups. 4 yes, 2 no:
  // 4,000,000 > 500000*6 = 3,000,000.
  TestRun run =
      RunOk(MixedScenario({Resolution()}, "gov-1:Y gov-2:N civ-1:Y civ-2:Y tech-1:Y tech-2:N"));
  json d = DecisionFor(run.output, "p1");
  ASSERT_TRUE(d.is_object()) << run.output.dump();
  EXPECT_EQ(d["status"], "PASSED");
  EXPECT_EQ(d["closed_t"], 7 * kDay);
}

TEST(MixedActionsTest, TakesTheLongestPeriod) {
  // resolution (7 days) + remove_member (14 days): open at 7 days, a vote then still counts.
  json s =
      MixedScenario({Resolution(), Remove("ops-1")}, "gov-1:Y gov-2:Y civ-1:Y civ-2:Y tech-1:Y");
  s["steps"][2]["txs"] = {Vote("tech-2", "p1", "YES")};
  TestRun run = RunOk(s);
  EXPECT_THAT(Rejections(run.output), IsEmpty());
  json d = DecisionFor(run.output, "p1");
  ASSERT_TRUE(d.is_object()) << run.output.dump();
  EXPECT_EQ(d["closed_t"], 14 * kDay);
  EXPECT_EQ(d["status"], "PASSED");
  EXPECT_EQ(d["tally"], Tally(6, 0, 0, 6));
  EXPECT_THAT(ActiveMembers(run.output, "bas-dc"),
              ElementsAre("civ-1", "civ-2", "gov-1", "gov-2", "tech-1", "tech-2"));
}

TEST(MixedActionsTest, TakesTheHighestThreshold) {
  // remove_member's 666667: 4*D = 4,000,000 > 666667*6 = 4,000,002 is false.
  TestRun run = RunOk(MixedScenario({Resolution(), Remove("ops-1")},
                                    "gov-1:Y gov-2:N civ-1:Y civ-2:Y tech-1:Y tech-2:N"));
  json d = DecisionFor(run.output, "p1");
  ASSERT_TRUE(d.is_object()) << run.output.dump();
  EXPECT_EQ(d["status"], "REJECTED");
  EXPECT_EQ(d["failed_test"], "SUPPORT");
  EXPECT_EQ(d["closed_t"], 14 * kDay);
  EXPECT_THAT(ActiveMembers(run.output, "bas-dc"), ::testing::Contains("ops-1"));
}

TEST(MixedActionsTest, RequiresGroupsIfAnyActionDoes) {
  // quorum 4,000,000 >= 500000*6; support 4,000,000 > 666667*4; TECHNICAL_COMMUNITY silent.
  TestRun run =
      RunOk(MixedScenario({Resolution(), Remove("ops-1")}, "gov-1:Y gov-2:Y civ-1:Y civ-2:Y"));
  json d = DecisionFor(run.output, "p1");
  ASSERT_TRUE(d.is_object()) << run.output.dump();
  EXPECT_EQ(d["failed_test"], "GROUP_QUORUM:TECHNICAL_COMMUNITY");
}

TEST(MixedActionsTest, TakesTheHighestQuorum) {
  // N = 5 (gov-1 gov-2 civ-1 civ-2 tech-1). 2*D = 2,000,000 meets resolution's 334000*5 =
  // 1,670,000 but not remove_member's 500000*5 = 2,500,000.
  json members =
      With(Members({2, 0, 2, 1}), {Member("ops-1", "TECHNICAL_COMMUNITY", {"OPERATOR"})});
  json s = Scenario({Coalition("bas-dc", members)},
                    {Step(0, {Propose("gov-1", "p1", {Resolution(), Remove("ops-1")})}),
                     Step(10, Votes("p1", "gov-1:Y civ-1:Y")), Step(14 * kDay)});
  TestRun run = RunOk(s);
  json d = DecisionFor(run.output, "p1");
  ASSERT_TRUE(d.is_object()) << run.output.dump();
  EXPECT_EQ(d["failed_test"], "QUORUM");
}

// Custom rules for resolution and schedule_igf_session, one proposal carrying both.
json CustomMixed(const json& resolution_rule, const json& igf_rule, const std::string& votes) {
  return Scenario(
      {Coalition("bas-dc", Members({2, 0, 1, 1}),
                 {{"resolution", resolution_rule}, {"schedule_igf_session", igf_rule}})},
      {Step(0, {Propose("gov-1", "p1", {Resolution(), IgfSession()})}),
       Step(10, Votes("p1", votes)), Step(100), Step(300)});
}

TEST(MixedActionsTest, CustomRulesFieldByField) {
  // Strictest: period 300 (igf), quorum 500000 (igf), threshold 800000 (resolution).
  json res = MajorityRule(100, 0, 800000);
  json igf = MajorityRule(300, 500000, 300000);
  {
    // 4 yes: quorum 4,000,000 >= 2,000,000; 4,000,000 > 800000*4 = 3,200,000.
    TestRun run = RunOk(CustomMixed(res, igf, "gov-1:Y gov-2:Y civ-1:Y tech-1:Y"));
    json d = DecisionFor(run.output, "p1");
    ASSERT_TRUE(d.is_object()) << run.output.dump();
    EXPECT_EQ(d["status"], "PASSED");
    EXPECT_EQ(d["closed_t"], 300);
  }
  {
    // 3 yes 1 no: 3,000,000 > 3,200,000 is false (igf's 300000 alone would pass).
    TestRun run = RunOk(CustomMixed(res, igf, "gov-1:Y gov-2:Y civ-1:Y tech-1:N"));
    EXPECT_EQ(DecisionFor(run.output, "p1").value("failed_test", ""), "SUPPORT");
  }
  {
    // 1 yes: 1,000,000 < 500000*4 (resolution's quorum 0 alone would pass).
    TestRun run = RunOk(CustomMixed(res, igf, "gov-1:Y"));
    EXPECT_EQ(DecisionFor(run.output, "p1").value("failed_test", ""), "QUORUM");
  }
}

TEST(MixedActionsTest, MajorityIfAnyActionIsMajority) {
  // Combined: MAJORITY, quorum 0, threshold 500000, smallest objection 0. 1 yes 2 no:
  // 1,000,000 > 1,500,000 is false. As a consensus call with objection 500000 it would pass
  // (2,000,000 <= 2,000,000).
  TestRun run = RunOk(CustomMixed(ConsensusRule(100, 500000), MajorityRule(100, 0, 500000),
                                  "gov-1:Y civ-1:N tech-1:N"));
  json d = DecisionFor(run.output, "p1");
  ASSERT_TRUE(d.is_object()) << run.output.dump();
  EXPECT_EQ(d["status"], "REJECTED");
  EXPECT_EQ(d["failed_test"], "SUPPORT");
  EXPECT_EQ(d["closed_t"], 100);
}

TEST(MixedActionsTest, SmallestObjectionLimit) {
  // 2 NO: 2,000,000 > 250000*4 = 1,000,000 (the 500000 limit alone would let it pass).
  TestRun run =
      RunOk(CustomMixed(ConsensusRule(100, 500000), ConsensusRule(100, 250000), "gov-1:N civ-1:N"));
  EXPECT_EQ(DecisionFor(run.output, "p1").value("failed_test", ""), "OBJECTED");
}

TEST(MixedActionsTest, GroupFieldsFromTheActionRequiringGroups) {
  // Groups required by igf (200000, 500000); gov-1 alone leaves CIVIL_SOCIETY silent.
  TestRun run =
      RunOk(CustomMixed(MajorityRule(100, 0, 0), GroupRule(100, 0, 0, 200000, 500000), "gov-1:Y"));
  EXPECT_EQ(DecisionFor(run.output, "p1").value("failed_test", ""), "GROUP_QUORUM:CIVIL_SOCIETY");
}

// ---- Rule lookup: rules[X], else rules["default"], else nothing; gaps from X's built-ins ----

bas::v1::EffectiveRule Effective(uint64_t period, bas::v1::VotingMode mode, uint32_t quorum,
                                 uint32_t threshold, bool groups, uint32_t group_quorum,
                                 uint32_t group_threshold, uint32_t objection) {
  bas::v1::EffectiveRule r;
  r.set_voting_period_s(period);
  r.set_mode(mode);
  r.set_quorum_ppm(quorum);
  r.set_threshold_ppm(threshold);
  r.set_groups_required(groups);
  r.set_group_quorum_ppm(group_quorum);
  r.set_group_threshold_ppm(group_threshold);
  r.set_objection_ppm(objection);
  return r;
}

void ExpectRule(const bas::v1::EffectiveRule& got, const bas::v1::EffectiveRule& want,
                std::string_view what) {
  EXPECT_EQ(got.voting_period_s(), want.voting_period_s()) << what;
  EXPECT_EQ(got.mode(), want.mode()) << what;
  EXPECT_EQ(got.quorum_ppm(), want.quorum_ppm()) << what;
  EXPECT_EQ(got.threshold_ppm(), want.threshold_ppm()) << what;
  EXPECT_EQ(got.groups_required(), want.groups_required()) << what;
  EXPECT_EQ(got.group_quorum_ppm(), want.group_quorum_ppm()) << what;
  EXPECT_EQ(got.group_threshold_ppm(), want.group_threshold_ppm()) << what;
  EXPECT_EQ(got.objection_ppm(), want.objection_ppm()) << what;
}

TEST(RuleLookupTest, BuiltInDefaultsPerActionType) {
  TestRun run = RunOk(Scenario({Coalition("bas-dc", Members({1, 0, 1, 1}))}, {Step(0)}));
  const auto kMaj = bas::v1::MAJORITY;
  const bas::v1::EffectiveRule light = Effective(7 * kDay, kMaj, 334000, 500000, false, 0, 0, 0);
  const bas::v1::EffectiveRule plan =
      Effective(14 * kDay, kMaj, 500000, 500000, true, 200000, 500000, 0);
  const bas::v1::EffectiveRule heavy =
      Effective(14 * kDay, kMaj, 500000, 666667, true, 200000, 500000, 0);
  for (std::string_view type : {"resolution", "schedule_igf_session", "delist_solution",
                                "list_solution", "admit_member", "set_roles"}) {
    ExpectRule(RuleFor(run.state, "bas-dc", type), light, type);
  }
  ExpectRule(RuleFor(run.state, "bas-dc", "approve_annual_plan"), plan, "approve_annual_plan");
  for (std::string_view type : {"remove_member", "change_rules", "set_bmm_model",
                                "update_validators", "create_coalition"}) {
    ExpectRule(RuleFor(run.state, "bas-dc", type), heavy, type);
  }
}

TEST(RuleLookupTest, DefaultRuleGapsTakeTheActionTypesBuiltIns) {
  // rules = {"default": {"voting_period_s": 1000}}: approve_annual_plan keeps its own built-in
  // quorum 500000 and group tests. 4 yes of 6: quorum 4,000,000 >= 3,000,000, support passes,
  // TECHNICAL_COMMUNITY silent -> GROUP_QUORUM. Resolution built-ins would pass it.
  json rules = {{"default", {{"voting_period_s", 1000}}}};
  json s = Scenario({Coalition("bas-dc", Members({2, 0, 2, 2}), rules)},
                    {Step(0, {Propose("gov-1", "p1", {AnnualPlan(2027, Hex64('1'))})}),
                     Step(10, Votes("p1", "gov-1:Y gov-2:Y civ-1:Y civ-2:Y")), Step(1000)});
  TestRun run = RunOk(s);
  json d = DecisionFor(run.output, "p1");
  ASSERT_TRUE(d.is_object()) << run.output.dump();
  EXPECT_EQ(d["closed_t"], 1000);
  EXPECT_EQ(d["failed_test"], "GROUP_QUORUM:TECHNICAL_COMMUNITY");
  const auto kMaj = bas::v1::MAJORITY;
  ExpectRule(RuleFor(run.state, "bas-dc", "approve_annual_plan"),
             Effective(1000, kMaj, 500000, 500000, true, 200000, 500000, 0), "plan");
  ExpectRule(RuleFor(run.state, "bas-dc", "resolution"),
             Effective(1000, kMaj, 334000, 500000, false, 0, 0, 0), "resolution");
  ExpectRule(RuleFor(run.state, "bas-dc", "change_rules"),
             Effective(1000, kMaj, 500000, 666667, true, 200000, 500000, 0), "change_rules");
}

TEST(RuleLookupTest, ActionRuleReplacesDefaultWhole) {
  // rules["resolution"] = {period 2000}: its quorum is resolution's built-in 334000, not the
  // default rule's 0. 1*D = 1,000,000 < 334000*3 = 1,002,000.
  json rules = {{"default", MajorityRule(1000, 0, 0)}, {"resolution", {{"voting_period_s", 2000}}}};
  json s = Scenario({Coalition("bas-dc", Members({1, 0, 1, 1}), rules)},
                    {Step(0, {Propose("gov-1", "p1", {Resolution()})}),
                     Step(10, Votes("p1", "gov-1:Y")), Step(1000), Step(2000)});
  TestRun run = RunOk(s);
  json d = DecisionFor(run.output, "p1");
  ASSERT_TRUE(d.is_object()) << run.output.dump();
  EXPECT_EQ(d["closed_t"], 2000);
  EXPECT_EQ(d["failed_test"], "QUORUM");
  ExpectRule(RuleFor(run.state, "bas-dc", "resolution"),
             Effective(2000, bas::v1::MAJORITY, 334000, 500000, false, 0, 0, 0), "resolution");
  ExpectRule(RuleFor(run.state, "bas-dc", "admit_member"),
             Effective(1000, bas::v1::MAJORITY, 0, 0, false, 0, 0, 0), "admit_member");
}

TEST(ClosingTest, ClosesAtTheFirstBlockAtOrAfterTheEnd) {
  // Period 1000: a vote at 999 is in time; no block at 1000; the block at 1500 closes it.
  json s = Scenario(
      {Coalition("bas-dc", Members({1, 0, 1, 1}), {{"default", MajorityRule(kPeriod, 0, 0)}})},
      {Step(0, {Propose("gov-1", "p1", {Resolution()})}), Step(999, {Vote("civ-1", "p1", "YES")}),
       Step(1500)});
  TestRun run = RunOk(s);
  EXPECT_THAT(Rejections(run.output), IsEmpty());
  json d = DecisionFor(run.output, "p1");
  ASSERT_TRUE(d.is_object()) << run.output.dump();
  EXPECT_EQ(d["closed_t"], 1500);
  EXPECT_EQ(d["status"], "PASSED");
}

TEST(ClosingTest, StaysOpenBeforeItsEnd) {
  json s = Scenario(
      {Coalition("bas-dc", Members({1, 0, 1, 1}), {{"default", MajorityRule(kPeriod, 0, 0)}})},
      {Step(0, {Propose("gov-1", "p1", {Resolution()})}), Step(999)});
  TestRun run = RunOk(s);
  EXPECT_EQ(run.output["decisions"], json::array());
  std::optional<bas::v1::Proposal> p = GetProposal(run.state, run.refs.at("p1"));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->status(), bas::v1::Proposal::ACTIVE);
  EXPECT_EQ(p->end_time(), kStart + kPeriod);
}

}  // namespace
}  // namespace bas::governance::testing
