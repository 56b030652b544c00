// Every rejection code and the order in which the checks are made (scenarios/README.md,
// "Precise rules" 1), one small scenario per case.
//
// Each case runs on the same coalition `bas-dc`: gov-1, gov-2 (GOVERNMENT), civ-1
// (CIVIL_SOCIETY), tech-1 (TECHNICAL_COMMUNITY) with role MEMBER, sec-1 (CIVIL_SOCIETY,
// SECRETARIAT only) and ass-1 (ACADEMIA, ASSESSOR only); built-in rules. Step 0 (t = 0) is
// always gov-1 proposing `p1`, a resolution (7 days: it ends at t = 604800); the case's steps
// follow. The expected value is the exact list of refused txs, so a case also fails when a tx
// meant to be accepted (often the same signer's next tx, to show that a refused tx used no
// nonce) is refused.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "governance/query.h"
#include "tests/unit/governance/scenario_fixture.h"

namespace bas::governance::testing {
namespace {

constexpr int64_t kP1End = 7 * kDay;  // 604800

struct RejectionCase {
  std::string name;
  std::vector<json> steps;        // after step 0
  std::vector<std::string> want;  // "step:tx:CODE"
};

json Set(json tx, const std::string& key, json value) {
  tx[key] = std::move(value);
  return tx;
}
json BadSig(json tx) { return Set(std::move(tx), "bad_signature", true); }
json Nonce(json tx, int nonce) { return Set(std::move(tx), "nonce", nonce); }
json Titled(json tx, std::string title) { return Set(std::move(tx), "title", std::move(title)); }

std::string Repeat(std::string_view unit, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += unit;
  return out;
}

constexpr char kEuro[] = "\xe2\x82\xac";  // U+20AC, 3 bytes in UTF-8

json BaseScenario(std::vector<json> steps) {
  json members = With(Members({2, 0, 1, 1}), {Member("sec-1", "CIVIL_SOCIETY", {"SECRETARIAT"}),
                                              Member("ass-1", "ACADEMIA", {"ASSESSOR"})});
  std::vector<json> all = {Step(0, {Propose("gov-1", "p1", {Resolution()})})};
  for (json& s : steps) all.push_back(std::move(s));
  return Scenario({Coalition("bas-dc", members)}, all);
}

std::vector<json> Resolutions(int n) { return std::vector<json>(n, Resolution()); }

json CreateCoalition(const std::vector<json>& members) {
  return {{"type", "create_coalition"},
          {"id", "child-dc"},
          {"name", "Child coalition"},
          {"members", members}};
}

std::vector<RejectionCase> Cases() {
  const json p2 = Propose("gov-2", "p2", {Resolution()});
  return {
      // ---- BAD_SIGNATURE, BAD_NONCE ----
      {"BadSignature",
       {Step(10, {BadSig(Vote("gov-2", "p1", "YES")), Vote("gov-2", "p1", "NO")})},
       {"1:0:BAD_SIGNATURE"}},
      {"BadNonceHigher",
       {Step(10, {Nonce(Vote("gov-2", "p1", "YES"), 1), Vote("gov-2", "p1", "YES")})},
       {"1:0:BAD_NONCE"}},
      {"BadNonceLower",  // gov-1 used nonce 0 for p1
       {Step(10, {Nonce(Vote("gov-1", "p1", "YES"), 0), Vote("gov-1", "p1", "YES")})},
       {"1:0:BAD_NONCE"}},
      {"BadNonceReusedInSameBlock",
       {Step(10, {Vote("gov-2", "p1", "YES"), Nonce(Vote("gov-2", "p1", "NO"), 0),
                  Vote("gov-2", "p1", "NO")})},
       {"1:1:BAD_NONCE"}},
      {"BadNonceFarFuture",
       {Step(10, {Nonce(Vote("gov-2", "p1", "YES"), 1000000)})},
       {"1:0:BAD_NONCE"}},

      // ---- NOT_MEMBER ----
      {"NotMemberVote", {Step(10, {Vote("outsider-1", "p1", "YES")})}, {"1:0:NOT_MEMBER"}},
      {"NotMemberPropose",
       {Step(10, {Propose("outsider-1", "p2", {Resolution()}),
                  Propose("gov-2", "p3", {Resolution()})})},
       {"1:0:NOT_MEMBER"}},
      {"NotMemberWithdraw", {Step(10, {Withdraw("outsider-1", "p1")})}, {"1:0:NOT_MEMBER"}},
      {"NotMemberApplicantWithdrawsOwnApplication",  // "Precise rules" 7
       {Step(10, {Apply("new-1", "a1", "ACADEMIA")}), Step(20, {Withdraw("new-1", "a1")})},
       {"2:0:NOT_MEMBER"}},

      // ---- NOT_AUTHORIZED ----
      {"NotAuthorizedProposeWithoutMemberRole",
       {Step(10, {Propose("sec-1", "p2", {Resolution()})})},
       {"1:0:NOT_AUTHORIZED"}},
      {"NotAuthorizedWithdrawByNonProposer",
       {Step(10, {Withdraw("gov-2", "p1"), Withdraw("gov-1", "p1")})},
       {"1:0:NOT_AUTHORIZED"}},
      {"NotAuthorizedRecordMeetingWithoutSecretariat",
       {Step(10, {RecordMeeting("gov-2"), RecordMeeting("sec-1")})},
       {"1:0:NOT_AUTHORIZED"}},
      {"NotAuthorizedSubmitAssessmentWithoutAssessor",
       {Step(10, {SubmitAssessment("gov-2", "as1", "sol-a", "bmm-1", 2, 1000000)})},
       {"1:0:NOT_AUTHORIZED"}},

      // ---- NOT_ELIGIBLE ----
      {"NotEligibleMemberWithoutMemberRole",
       {Step(10, {Vote("sec-1", "p1", "YES"), Vote("ass-1", "p1", "NO")})},
       {"1:0:NOT_ELIGIBLE", "1:1:NOT_ELIGIBLE"}},

      // ---- UNKNOWN_PROPOSAL ----
      {"UnknownProposalVote", {Step(10, {Vote("gov-2", "nope", "YES")})}, {"1:0:UNKNOWN_PROPOSAL"}},
      {"UnknownProposalWithdraw",
       {Step(10, {Withdraw("gov-1", "nope")})},
       {"1:0:UNKNOWN_PROPOSAL"}},
      {"UnknownProposalRefOfRefusedPropose",  // "Precise rules" 7
       {Step(10, {Propose("outsider-1", "p2", {Resolution()}), Vote("gov-2", "p2", "YES")})},
       {"1:0:NOT_MEMBER", "1:1:UNKNOWN_PROPOSAL"}},
      {"UnknownProposalRefOfRefusedApply",
       {Step(10, {Apply("gov-2", "a2", "GOVERNMENT"), Vote("gov-1", "a2", "YES")})},
       {"1:0:DUPLICATE", "1:1:UNKNOWN_PROPOSAL"}},

      // ---- VOTING_CLOSED ----
      {"VotingClosedAtExactlyTheEnd",  // one second before is fine, the end itself is not
       {Step(kP1End - 1, {Vote("gov-2", "p1", "YES")}), Step(kP1End, {Vote("civ-1", "p1", "YES")})},
       {"2:0:VOTING_CLOSED"}},
      {"VotingClosedAfterWithdrawSameBlockAndLater",
       {Step(10, {Withdraw("gov-1", "p1"), Vote("gov-2", "p1", "YES")}),
        Step(20, {Vote("civ-1", "p1", "NO")})},
       {"1:1:VOTING_CLOSED", "2:0:VOTING_CLOSED"}},
      {"VotingClosedOnClosedProposal",
       {Step(kP1End), Step(kP1End + 100, {Vote("gov-2", "p1", "YES")})},
       {"2:0:VOTING_CLOSED"}},
      {"VotingClosedWithdrawOfClosedProposal",
       {Step(kP1End), Step(kP1End + 100, {Withdraw("gov-1", "p1")})},
       {"2:0:VOTING_CLOSED"}},
      {"VotingClosedWithdrawTwice",
       {Step(10, {Withdraw("gov-1", "p1"), Withdraw("gov-1", "p1")})},
       {"1:1:VOTING_CLOSED"}},

      // ---- DUPLICATE ----
      {"DuplicateApplyByActiveMember",
       {Step(10, {Apply("gov-2", "a1", "GOVERNMENT")})},
       {"1:0:DUPLICATE"}},
      {"DuplicateApplyByActiveMemberWithoutMemberRole",
       {Step(10, {Apply("sec-1", "a1", "CIVIL_SOCIETY")})},
       {"1:0:DUPLICATE"}},
      {"DuplicateSecondPendingApplication",
       {Step(10, {Apply("new-1", "a1", "ACADEMIA")}), Step(20, {Apply("new-1", "a2", "ACADEMIA")})},
       {"2:0:DUPLICATE"}},
      {"ApplyAgainAfterApplicationClosed",  // a1 (7 days) closes at 604810: no longer pending
       {Step(10, {Apply("new-1", "a1", "ACADEMIA")}), Step(kP1End + 10),
        Step(kP1End + 100, {Apply("new-1", "a2", "ACADEMIA")})},
       {}},
      {"DuplicateAdmitActiveMember",
       {Step(10, {Propose("gov-2", "p2", {Admit("gov-1", "GOVERNMENT")})})},
       {"1:0:DUPLICATE"}},
      {"DuplicateAdmitActiveMemberOfAnyRole",
       {Step(10, {Propose("gov-2", "p2", {Admit("sec-1", "CIVIL_SOCIETY")})})},
       {"1:0:DUPLICATE"}},

      // ---- NOT_FOUND ----
      {"NotFoundProposeToUnknownCoalition",
       {Step(10, {Propose("gov-2", "p2", {Resolution()}, "nope-dc")})},
       {"1:0:NOT_FOUND"}},
      {"NotFoundApplyToUnknownCoalition",
       {Step(10, {Apply("new-1", "a1", "ACADEMIA", "nope-dc")})},
       {"1:0:NOT_FOUND"}},
      {"NotFoundRemoveUnknownMember",
       {Step(10, {Propose("gov-2", "p2", {Remove("ghost-1")})})},
       {"1:0:NOT_FOUND"}},
      {"NotFoundSetRolesOfUnknownMember",
       {Step(10, {Propose("gov-2", "p2", {SetRoles("ghost-1", {"MEMBER"})})})},
       {"1:0:NOT_FOUND"}},

      // ---- INVALID_ARGUMENT: limits, each beside an accepted tx at the limit ----
      {"TitleOf200BytesOkAnd201Not",
       {Step(10, {Titled(p2, std::string(200, 't')),
                  Titled(Propose("gov-2", "p3", {Resolution()}), std::string(201, 't'))})},
       {"1:1:INVALID_ARGUMENT"}},
      {"TitleLimitCountsBytesNotCharacters",  // 66 x 3 + 2 = 200 bytes; 67 x 3 = 201 bytes
       {Step(10, {Titled(p2, Repeat(kEuro, 66) + "xx"),
                  Titled(Propose("gov-2", "p3", {Resolution()}), Repeat(kEuro, 67))})},
       {"1:1:INVALID_ARGUMENT"}},
      {"SummaryOf10000BytesOkAnd10001Not",
       {Step(10,
             {Set(p2, "summary", std::string(10000, 's')),
              Set(Propose("gov-2", "p3", {Resolution()}), "summary", std::string(10001, 's'))})},
       {"1:1:INVALID_ARGUMENT"}},
      {"ReasonOf1000BytesOkAnd1001Not",
       {Step(10, {Vote("gov-2", "p1", "NO", std::string(1000, 'r')),
                  Vote("civ-1", "p1", "NO", std::string(1001, 'r'))})},
       {"1:1:INVALID_ARGUMENT"}},
      {"StatementOf2000BytesOkAnd2001Not",
       {Step(10, {Set(Apply("new-1", "a1", "ACADEMIA"), "statement", std::string(2000, 's')),
                  Set(Apply("new-2", "a2", "ACADEMIA"), "statement", std::string(2001, 's'))})},
       {"1:1:INVALID_ARGUMENT"}},
      {"SixteenActionsOkSeventeenNot",
       {Step(10,
             {Propose("gov-2", "p2", Resolutions(16)), Propose("gov-2", "p3", Resolutions(17))})},
       {"1:1:INVALID_ARGUMENT"}},
      {"NoActions", {Step(10, {Propose("gov-2", "p2", {})})}, {"1:0:INVALID_ARGUMENT"}},
      {"SameMemberIdAdmittedTwice",
       {Step(10, {Propose("gov-2", "p2",
                          {Admit("new-9", "ACADEMIA"), Admit("new-9", "INTERGOVERNMENTAL")})})},
       {"1:0:INVALID_ARGUMENT"}},
      {"SameMemberIdRemovedAndRoleSet",
       {Step(10, {Propose("gov-2", "p2", {Remove("tech-1"), SetRoles("tech-1", {"MEMBER"})})})},
       {"1:0:INVALID_ARGUMENT"}},
      {"EmptyRoleListInSetRoles",
       {Step(10, {Propose("gov-2", "p2", {SetRoles("tech-1", {})})})},
       {"1:0:INVALID_ARGUMENT"}},
      {"EmptyRoleListInAdmit",
       {Step(10, {Propose("gov-2", "p2", {Admit("new-9", "ACADEMIA", {})})})},
       {"1:0:INVALID_ARGUMENT"}},
      {"CreateCoalitionWithTwoGroups",  // IGF rule: initial members from at least 3 groups
       {Step(10,
             {Propose("gov-2", "p2",
                      {CreateCoalition({Member("c-1", "GOVERNMENT"), Member("c-2", "GOVERNMENT"),
                                        Member("c-3", "ACADEMIA")})})})},
       {"1:0:INVALID_ARGUMENT"}},

      // ---- Order of the checks ----
      {"OrderBadSignatureBeforeBadNonce",
       {Step(10, {BadSig(Nonce(Vote("gov-2", "p1", "YES"), 7)), Vote("gov-2", "p1", "YES")})},
       {"1:0:BAD_SIGNATURE"}},
      {"OrderInvalidArgumentBeforeBadSignature",
       {Step(10, {BadSig(Vote("gov-2", "p1", "NO", std::string(1001, 'r')))})},
       {"1:0:INVALID_ARGUMENT"}},
      {"OrderInvalidArgumentBeforeBadNonce",
       {Step(10, {Nonce(Vote("gov-2", "p1", "NO", std::string(1001, 'r')), 5)})},
       {"1:0:INVALID_ARGUMENT"}},
      {"OrderInvalidArgumentBeforeNotMember",
       {Step(10, {Propose("outsider-1", "p2", {})})},
       {"1:0:INVALID_ARGUMENT"}},
      {"OrderInvalidArgumentBeforeNotFound",
       {Step(10, {Propose("gov-2", "p2", {SetRoles("ghost-1", {})}, "nope-dc")})},
       {"1:0:INVALID_ARGUMENT"}},
      {"OrderBadSignatureBeforeNotMember",
       {Step(10, {BadSig(Vote("outsider-1", "p1", "YES"))})},
       {"1:0:BAD_SIGNATURE"}},
      {"OrderBadNonceBeforeNotMember",
       {Step(10, {Nonce(Vote("outsider-1", "p1", "YES"), 3)})},
       {"1:0:BAD_NONCE"}},
      {"OrderBadNonceBeforeUnknownProposal",
       {Step(10, {Nonce(Vote("gov-2", "nope", "YES"), 3)})},
       {"1:0:BAD_NONCE"}},
      {"OrderUnknownProposalBeforeNotMember",
       {Step(10, {Vote("outsider-1", "nope", "YES")})},
       {"1:0:UNKNOWN_PROPOSAL"}},
      {"OrderNotMemberBeforeVotingClosed",
       {Step(kP1End), Step(kP1End + 100, {Vote("outsider-1", "p1", "YES")})},
       {"2:0:NOT_MEMBER"}},
      {"OrderVotingClosedBeforeNotEligible",
       {Step(kP1End), Step(kP1End + 100, {Vote("sec-1", "p1", "YES")})},
       {"2:0:VOTING_CLOSED"}},
      {"OrderNotFoundBeforeNotMember",
       {Step(10, {Propose("outsider-1", "p2", {Resolution()}, "nope-dc")})},
       {"1:0:NOT_FOUND"}},
      {"OrderNotMemberBeforeActionChecks",
       {Step(10, {Propose("outsider-1", "p2", {Admit("gov-1", "GOVERNMENT")})})},
       {"1:0:NOT_MEMBER"}},
      {"OrderNotAuthorizedBeforeActionChecks",
       {Step(10, {Propose("sec-1", "p2", {Remove("ghost-1")})})},
       {"1:0:NOT_AUTHORIZED"}},
      {"OrderActionsCheckedInOrderDuplicateFirst",
       {Step(10, {Propose("gov-2", "p2", {Admit("gov-1", "GOVERNMENT"), Remove("ghost-1")})})},
       {"1:0:DUPLICATE"}},
      {"OrderActionsCheckedInOrderNotFoundFirst",
       {Step(10, {Propose("gov-2", "p2", {Remove("ghost-1"), Admit("gov-1", "GOVERNMENT")})})},
       {"1:0:NOT_FOUND"}},
      {"OrderWithdrawUnknownProposalBeforeNotMember",
       {Step(10, {Withdraw("outsider-1", "nope")})},
       {"1:0:UNKNOWN_PROPOSAL"}},
      {"OrderWithdrawNotMemberBeforeVotingClosed",
       {Step(kP1End), Step(kP1End + 100, {Withdraw("outsider-1", "p1")})},
       {"2:0:NOT_MEMBER"}},
      {"OrderWithdrawVotingClosedBeforeNotProposer",
       {Step(10, {Withdraw("gov-1", "p1")}), Step(20, {Withdraw("gov-2", "p1")})},
       {"2:0:VOTING_CLOSED"}},
      {"OrderApplyNotFoundBeforeDuplicate",
       {Step(10, {Apply("gov-2", "a1", "GOVERNMENT", "nope-dc")})},
       {"1:0:NOT_FOUND"}},
  };
}

class RejectionTest : public ::testing::TestWithParam<RejectionCase> {};

TEST_P(RejectionTest, RefusesExactlyTheExpectedTxs) {
  const RejectionCase& c = GetParam();
  TestRun run = RunOk(BaseScenario(c.steps));
  EXPECT_THAT(Rejections(run.output), ::testing::ElementsAreArray(c.want));
  // p1 itself is never refused, so every case has its proposal to act on.
  EXPECT_EQ(run.refs.count("p1"), 1u);
}

INSTANTIATE_TEST_SUITE_P(Codes, RejectionTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<RejectionCase>& info) {
                           return info.param.name;
                         });

// The message of every refusal says why, for people.
TEST(RejectionOutputTest, EveryRejectionCarriesStepTxCodeAndMessage) {
  TestRun run = RunOk(BaseScenario({Step(10, {Vote("outsider-1", "p1", "YES")})}));
  ASSERT_TRUE(run.output.contains("rejected"));
  ASSERT_EQ(run.output["rejected"].size(), 1u);
  const json& r = run.output["rejected"][0];
  EXPECT_EQ(r.value("step", -1), 1);
  EXPECT_EQ(r.value("tx", -1), 0);
  EXPECT_EQ(r.value("code", ""), "NOT_MEMBER");
  EXPECT_FALSE(r.value("message", "").empty());
}

// ---- A refused tx changes nothing ----

json QuietRun(bool with_refused) {
  std::vector<json> block1 = {Vote("gov-2", "p1", "YES")};
  std::vector<json> block2 = {Vote("civ-1", "p1", "NO", "not yet")};
  if (with_refused) {
    // Refused at every stage: signature, nonce, membership, eligibility, closed, unknown, a
    // proposal that would have opened something, an application by a member.
    block1.insert(block1.begin(), BadSig(Vote("gov-2", "p1", "NO")));
    block1.insert(block1.begin(), Nonce(Vote("civ-1", "p1", "NO"), 4));
    block1.push_back(Vote("outsider-1", "p1", "YES"));
    block1.push_back(Vote("sec-1", "p1", "YES"));
    block2.push_back(Propose("sec-1", "p9", {Resolution()}));
    block2.push_back(Apply("tech-1", "a9", "ACADEMIA"));
    block2.push_back(Propose("gov-2", "p8", {Remove("ghost-1")}));
    block2.push_back(Vote("tech-1", "nope", "YES"));
    block2.push_back(Propose("outsider-1", "p7", {}));
  }
  return BaseScenario({Step(10, block1), Step(20, block2), Step(kP1End)});
}

TEST(RefusedTxTest, LeavesAppHashAndDecisionsAsWithoutIt) {
  TestRun plain = RunOk(QuietRun(false));
  TestRun noisy = RunOk(QuietRun(true));
  EXPECT_THAT(Rejections(plain.output), ::testing::IsEmpty());
  EXPECT_EQ(Rejections(noisy.output).size(), 9u);
  ASSERT_TRUE(plain.output.contains("app_hash"));
  EXPECT_EQ(plain.output["app_hash"], noisy.output["app_hash"]);
  EXPECT_EQ(plain.output["decisions"], noisy.output["decisions"]);
  EXPECT_EQ(plain.output["members"], noisy.output["members"]);
}

TEST(RefusedTxTest, UsesNoNonce) {
  // gov-2: one refused (bad signature) and one accepted tx; civ-1: one refused (bad nonce)
  // and one accepted; outsider-1: one refused (not a member). The chain counts accepted txs.
  TestRun run = RunOk(QuietRun(true));
  EXPECT_EQ(GetAccount(run.state, ScenarioKey("gov-1")).next_nonce(), 1u);  // p1
  EXPECT_EQ(GetAccount(run.state, ScenarioKey("gov-2")).next_nonce(), 1u);
  EXPECT_EQ(GetAccount(run.state, ScenarioKey("civ-1")).next_nonce(), 1u);
  EXPECT_EQ(GetAccount(run.state, ScenarioKey("tech-1")).next_nonce(), 0u);
  EXPECT_EQ(GetAccount(run.state, ScenarioKey("outsider-1")).next_nonce(), 0u);
  EXPECT_EQ(GetAccount(run.state, ScenarioKey("sec-1")).next_nonce(), 0u);
}

TEST(RefusedTxTest, RefusedProposalAndApplicationOpenNothing) {
  TestRun run = RunOk(QuietRun(true));
  std::vector<bas::v1::Proposal> proposals = ListProposals(run.state, "");
  ASSERT_EQ(proposals.size(), 1u);  // p1 only
  EXPECT_EQ(proposals[0].title(), "A proposal");
  EXPECT_EQ(proposals[0].proposer_member_id(), "gov-1");
}

}  // namespace
}  // namespace bas::governance::testing
