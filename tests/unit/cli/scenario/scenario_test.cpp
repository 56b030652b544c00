// The scenario runner: how the public format maps onto the proto types, which inputs are
// malformed (exit 2) rather than sent to the chain, and what a run reports.
#include <ostream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/scenario/runner.h"
#include "crypto/hash.h"
#include "crypto/schnorr.h"

namespace bas::scenario {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using Json = nlohmann::json;

// Parses text as a scenario; the test fails on invalid JSON.
Result<Scenario> Parse(const std::string& text) {
  Result<Json> json = ParseScenarioJson(text);
  if (!json.ok()) return json.error();
  return ParseScenario(*json);
}

// A scenario of one coalition (four members of four groups) and the given steps.
std::string WithSteps(const std::string& steps) {
  return R"({"start": 1767225600,
    "coalitions": [{"id": "bas-dc", "name": "BAS-DC",
      "rules": {"default": {"voting_period_s": 100}},
      "members": [
        {"id": "gov-1", "group": "GOVERNMENT", "roles": ["MEMBER"]},
        {"id": "priv-1", "group": "PRIVATE_SECTOR", "roles": ["MEMBER", "ASSESSOR"]},
        {"id": "civ-1", "group": "CIVIL_SOCIETY", "roles": ["MEMBER", "SECRETARIAT"]},
        {"id": "aca-1", "group": "ACADEMIA", "roles": ["MEMBER"]}]}],
    "steps": )" +
         steps + "}";
}

// A scenario whose one step holds the one tx given.
std::string WithTx(const std::string& tx) {
  return WithSteps(R"([{"t": 0, "txs": [)" + tx + "]}]");
}

// A propose tx of the given action.
std::string ProposeAction(const std::string& action) {
  return R"({"type": "propose", "by": "gov-1", "ref": "p1", "coalition": "bas-dc",
             "title": "t", "actions": [)" +
         action + "]}";
}

struct MalformedCase {
  std::string name;
  std::string text;
  std::string message;  // the error message starts with this (the path at fault)
};

// For gtest's messages (its fallback would dump the struct's bytes).
void PrintTo(const MalformedCase& c, std::ostream* os) { *os << c.name; }

class MalformedTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedTest, IsRefusedWithThePathAtFault) {
  Result<Scenario> scenario = Parse(GetParam().text);
  ASSERT_FALSE(scenario.ok());
  EXPECT_EQ(scenario.error().code, kMalformedScenario);
  EXPECT_THAT(scenario.error().message, StartsWith(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Scenario, MalformedTest,
    ::testing::ValuesIn(std::vector<MalformedCase>{
        {"InvalidJson", "{\"start\": 1,", "invalid JSON: parse error at line 1"},
        {"NotAnObject", "[]", "scenario: expected an object"},
        {"MissingStart", R"({"steps": []})", "start: missing"},
        {"StartNotInteger", R"({"start": "1767225600", "steps": []})",
         "start: expected an integer"},
        {"StartFloat", R"({"start": 1.5, "steps": []})", "start: expected an integer"},
        {"MissingSteps", R"({"start": 1})", "steps: missing"},
        {"StepsNotArray", R"({"start": 1, "steps": {}})", "steps: expected an array"},
        {"StepNotObject", R"({"start": 1, "steps": [3]})", "steps[0]: expected an object"},
        {"MissingT", WithSteps(R"([{"txs": []}])"), "steps[0].t: missing"},
        {"TRepeated", WithSteps(R"([{"t": 5}, {"t": 5}])"),
         "steps[1].t: must be greater than the previous step's t (5)"},
        {"TDecreasing", WithSteps(R"([{"t": 5}, {"t": 6}, {"t": 4}])"), "steps[2].t: must be"},
        {"TOverflows", R"({"start": 9223372036854775807, "steps": [{"t": 1}]})",
         "steps[0].t: start + 1 is out of range"},
        {"TxsNotArray", WithSteps(R"([{"t": 0, "txs": {}}])"), "steps[0].txs: expected an array"},
        {"TxMissingType", WithTx(R"({"by": "gov-1"})"), "steps[0].txs[0].type: missing"},
        {"TxMissingBy", WithTx(R"({"type": "vote"})"), "steps[0].txs[0].by: missing"},
        {"TxByNotString", WithTx(R"({"type": "vote", "by": 7})"),
         "steps[0].txs[0].by: expected a string"},
        {"UnknownTxType", WithTx(R"({"type": "vot", "by": "gov-1"})"),
         "steps[0].txs[0].type: unknown transaction type \"vot\""},
        {"UnknownChoice", WithTx(R"({"type": "vote", "by": "gov-1", "choice": "MAYBE"})"),
         "steps[0].txs[0].choice: expected one of YES, NO, ABSTAIN"},
        {"UnspecifiedChoice",
         WithTx(R"({"type": "vote", "by": "gov-1", "choice": "CHOICE_UNSPECIFIED"})"),
         "steps[0].txs[0].choice: expected one of YES, NO, ABSTAIN"},
        {"ChoiceNumber", WithTx(R"({"type": "vote", "by": "gov-1", "choice": 1})"),
         "steps[0].txs[0].choice: expected one of"},
        {"ReasonNotString",
         WithTx(R"({"type": "vote", "by": "gov-1", "choice": "NO", "reason": 3})"),
         "steps[0].txs[0].reason: expected a string"},
        {"ProposalNotString", WithTx(R"({"type": "vote", "by": "gov-1", "proposal": 1})"),
         "steps[0].txs[0].proposal: expected a string"},
        {"NegativeNonce", WithTx(R"({"type": "vote", "by": "gov-1", "nonce": -1})"),
         "steps[0].txs[0].nonce: expected an integer from 0 to 18446744073709551615"},
        {"BadSignatureNotBool",
         WithTx(R"({"type": "vote", "by": "gov-1", "bad_signature": "yes"})"),
         "steps[0].txs[0].bad_signature: expected true or false"},
        {"UnknownApplyGroup",
         WithTx(R"({"type": "apply", "by": "x", "coalition": "bas-dc", "group": "PRESS"})"),
         "steps[0].txs[0].group: expected one of GOVERNMENT, PRIVATE_SECTOR, CIVIL_SOCIETY, "
         "TECHNICAL_COMMUNITY, ACADEMIA, INTERGOVERNMENTAL"},
        {"LevelTooLarge",
         WithTx(R"({"type": "submit_assessment", "by": "priv-1", "level": 4294967296})"),
         "steps[0].txs[0].level: expected an integer from 0 to 4294967295"},
        {"ElementsNotObject",
         WithTx(R"({"type": "submit_assessment", "by": "priv-1", "elements": ["a"]})"),
         "steps[0].txs[0].elements: expected an object"},
        {"ElementLevelNotInteger",
         WithTx(R"({"type": "submit_assessment", "by": "priv-1", "elements": {"a": "2"}})"),
         "steps[0].txs[0].elements.a: expected an integer"},
        {"ValidUntilOverflows", WithTx(R"({"type": "submit_assessment", "by": "priv-1",
                    "valid_until_t": 9223372036854775807})"),
         "steps[0].txs[0].valid_until_t: start + 9223372036854775807 is out of range"},
        {"ActionsNotArray",
         WithTx(R"({"type": "propose", "by": "gov-1", "actions": {"type": "resolution"}})"),
         "steps[0].txs[0].actions: expected an array"},
        {"ActionMissingType", WithTx(ProposeAction(R"({"text": "x"})")),
         "steps[0].txs[0].actions[0].type: missing"},
        {"UnknownActionType", WithTx(ProposeAction(R"({"type": "resolve"})")),
         "steps[0].txs[0].actions[0].type: unknown action type \"resolve\""},
        {"UnknownSessionFormat",
         WithTx(ProposeAction(R"({"type": "schedule_igf_session", "format": "PANEL"})")),
         "steps[0].txs[0].actions[0].format: expected one of WORKSHOP, BOOTH, TALK"},
        {"YearNegative", WithTx(ProposeAction(R"({"type": "approve_annual_plan", "year": -1})")),
         "steps[0].txs[0].actions[0].year: expected an integer from 0"},
        {"UnknownRoleInSetRoles",
         WithTx(ProposeAction(
             R"({"type": "set_roles", "member_id": "gov-1", "roles": ["MEMBER", "CHAIR"]})")),
         "steps[0].txs[0].actions[0].roles[1]: expected one of MEMBER, SECRETARIAT, ASSESSOR, "
         "OPERATOR"},
        {"AdmittedMemberGroupUnknown",
         WithTx(
             ProposeAction(R"({"type": "admit_member", "member": {"id": "x", "group": "MEDIA"}})")),
         "steps[0].txs[0].actions[0].member.group: expected one of"},
        {"BmmLevelsNotStrings",
         WithTx(ProposeAction(R"({"type": "set_bmm_model", "version": "1", "levels": [1]})")),
         "steps[0].txs[0].actions[0].levels[0]: expected a string"},
        {"ChangeRulesUnknownField",
         WithTx(ProposeAction(
             R"({"type": "change_rules", "action_type": "default", "rule": {"period": 5}})")),
         "steps[0].txs[0].actions[0].rule.period: unknown rule field"},
        {"CreateCoalitionUnknownRulesKey",
         WithTx(
             ProposeAction(R"({"type": "create_coalition", "id": "c2", "rules": {"vote": {}}})")),
         "steps[0].txs[0].actions[0].rules.vote: unknown rules key"},
        {"CoalitionsNotArray", R"({"start": 1, "coalitions": {}, "steps": []})",
         "coalitions: expected an array"},
        {"UnknownMemberGroup",
         R"({"start": 1, "steps": [], "coalitions": [{"id": "c",
             "members": [{"id": "m", "group": "Government"}]}]})",
         "coalitions[0].members[0].group: expected one of GOVERNMENT"},
        {"UnknownMemberRole",
         R"({"start": 1, "steps": [], "coalitions": [{"id": "c",
             "members": [{"id": "m", "group": "GOVERNMENT", "roles": ["MEMBER", "member"]}]}]})",
         "coalitions[0].members[0].roles[1]: expected one of MEMBER"},
        {"UnknownRulesKey",
         R"({"start": 1, "steps": [], "coalitions": [{"id": "c", "rules": {"resolutoin": {}}}]})",
         "coalitions[0].rules.resolutoin: unknown rules key"},
        {"UnknownRuleField",
         R"({"start": 1, "steps": [], "coalitions": [{"id": "c",
             "rules": {"default": {"quorum": 1}}}]})",
         "coalitions[0].rules.default.quorum: unknown rule field"},
        {"UnknownMode",
         R"({"start": 1, "steps": [], "coalitions": [{"id": "c",
             "rules": {"default": {"mode": "UNANIMITY"}}}]})",
         "coalitions[0].rules.default.mode: expected one of MAJORITY, CONSENSUS_CALL"},
        {"PpmTooLarge",
         R"({"start": 1, "steps": [], "coalitions": [{"id": "c",
             "rules": {"default": {"quorum_ppm": 4294967296}}}]})",
         "coalitions[0].rules.default.quorum_ppm: expected an integer from 0 to 4294967295"},
        {"GroupsRequiredNotBool",
         R"({"start": 1, "steps": [], "coalitions": [{"id": "c",
             "rules": {"default": {"groups_required": 1}}}]})",
         "coalitions[0].rules.default.groups_required: expected true or false"},
    }),
    [](const ::testing::TestParamInfo<MalformedCase>& info) { return info.param.name; });

// ---- What is not malformed: mapped onto the proto types for the chain to judge ----

crypto::PublicKey PublicKeyOf(std::string_view id) {
  return crypto::KeyPair::FromSecret(ScenarioSecretKey(id))->public_key();
}

std::string Bytes(const crypto::Hash32& hash) {
  return std::string(crypto::AsStringView(crypto::ByteSpan(hash)));
}

TEST(ScenarioParseTest, GenesisCarriesCoalitionsMembersAndRules) {
  Result<Scenario> scenario = Parse(R"({"start": 1767225600, "steps": [],
    "coalitions": [{"id": "c", "name": "C",
      "rules": {"resolution": {"mode": "CONSENSUS_CALL", "objection_ppm": 100000},
                "default": {"voting_period_s": 60, "groups_required": false}},
      "members": [{"id": "m-1", "group": "ACADEMIA", "roles": ["MEMBER", "OPERATOR"],
                   "name": "M", "organisation": "O"}]}]})");
  ASSERT_TRUE(scenario.ok()) << scenario.error().message;
  const bas::v1::Genesis& genesis = scenario->genesis;
  EXPECT_EQ(genesis.chain_id(), kScenarioChainId);
  EXPECT_EQ(genesis.genesis_time(), 1767225600);
  EXPECT_EQ(genesis.validators_size(), 0);
  ASSERT_EQ(genesis.coalitions_size(), 1);
  const bas::v1::CoalitionGenesis& coalition = genesis.coalitions(0);
  EXPECT_EQ(coalition.id(), "c");
  EXPECT_EQ(coalition.name(), "C");

  ASSERT_EQ(coalition.members_size(), 1);
  const bas::v1::MemberInfo& member = coalition.members(0);
  EXPECT_EQ(member.id(), "m-1");
  EXPECT_EQ(member.key(), Bytes(PublicKeyOf("m-1")));
  EXPECT_EQ(member.group(), bas::v1::ACADEMIA);
  EXPECT_THAT(member.roles(), ElementsAre(bas::v1::MEMBER, bas::v1::OPERATOR));
  EXPECT_EQ(member.name(), "M");
  EXPECT_EQ(member.organisation(), "O");

  // Rules sorted by key; only the fields written are set, the rest left to the defaults.
  ASSERT_EQ(coalition.rules_size(), 2);
  const bas::v1::RuleEntry& fallback = coalition.rules(0);
  EXPECT_EQ(fallback.action_type(), "default");
  EXPECT_TRUE(fallback.rule().has_voting_period_s());
  EXPECT_EQ(fallback.rule().voting_period_s(), 60u);
  EXPECT_TRUE(fallback.rule().has_groups_required());
  EXPECT_FALSE(fallback.rule().groups_required());
  EXPECT_FALSE(fallback.rule().has_mode());
  EXPECT_FALSE(fallback.rule().has_quorum_ppm());
  const bas::v1::RuleEntry& resolution = coalition.rules(1);
  EXPECT_EQ(resolution.action_type(), "resolution");
  EXPECT_EQ(resolution.rule().mode(), bas::v1::CONSENSUS_CALL);
  EXPECT_EQ(resolution.rule().objection_ppm(), 100000u);
  EXPECT_FALSE(resolution.rule().has_voting_period_s());
}

TEST(ScenarioParseTest, TxCommonFields) {
  Result<Scenario> scenario = Parse(WithSteps(R"([{"t": 0},
      {"t": 7, "txs": [{"type": "vote", "by": "gov-1", "proposal": "p1", "choice": "NO",
                        "reason": "why", "nonce": 5, "bad_signature": true, "comment": "x"},
                       {"type": "withdraw", "by": "aca-1"}]}])"));
  ASSERT_TRUE(scenario.ok()) << scenario.error().message;
  ASSERT_EQ(scenario->steps.size(), 2u);
  EXPECT_EQ(scenario->start, 1767225600);
  EXPECT_TRUE(scenario->steps[0].txs.empty());
  EXPECT_EQ(scenario->steps[1].t, 7);
  ASSERT_EQ(scenario->steps[1].txs.size(), 2u);

  const ScenarioTx& vote = scenario->steps[1].txs[0];
  EXPECT_EQ(vote.type, "vote");
  EXPECT_EQ(vote.by, "gov-1");
  EXPECT_EQ(vote.nonce, 5u);
  EXPECT_TRUE(vote.bad_signature);
  ASSERT_TRUE(vote.body.has_vote());
  EXPECT_EQ(vote.body.vote().choice(), bas::v1::NO);
  EXPECT_EQ(vote.body.vote().reason(), "why");
  EXPECT_TRUE(vote.body.vote().proposal_id().empty());  // filled in at run time
  ASSERT_EQ(vote.ref_uses.size(), 1u);
  EXPECT_EQ(vote.ref_uses[0].action_index, -1);
  EXPECT_EQ(vote.ref_uses[0].name, "p1");

  // Without `proposal` nothing is resolved: the id stays empty for the chain to refuse.
  const ScenarioTx& withdraw = scenario->steps[1].txs[1];
  EXPECT_TRUE(withdraw.body.has_withdraw());
  EXPECT_FALSE(withdraw.nonce.has_value());
  EXPECT_FALSE(withdraw.bad_signature);
  EXPECT_TRUE(withdraw.ref_uses.empty());
}

TEST(ScenarioParseTest, FieldsTheChainJudgesAreNotMalformed) {
  // An empty title, no actions, bad hex, an empty role list, an unknown change_rules action
  // type, a missing choice: all expressible, so all for the chain to refuse.
  Result<Scenario> scenario = Parse(WithSteps(R"([{"t": 0, "txs": [
      {"type": "propose", "by": "gov-1", "coalition": "bas-dc"},
      {"type": "propose", "by": "gov-1", "coalition": "bas-dc", "title": "",
       "actions": [{"type": "approve_annual_plan", "year": 2027, "uri": "u", "sha256": "zz"},
                   {"type": "approve_annual_plan", "year": 2028, "uri": "u", "sha256": "ABcd"},
                   {"type": "set_roles", "member_id": "gov-1", "roles": []},
                   {"type": "change_rules", "action_type": "nonsense"},
                   {"type": "admit_member"}]},
      {"type": "vote", "by": "gov-1", "proposal": "p1"},
      {"type": "record_meeting", "by": "civ-1", "coalition": "bas-dc", "date": "2026-13-45",
       "uri": "u", "sha256": "abc"}]}])"));
  ASSERT_TRUE(scenario.ok()) << scenario.error().message;
  const std::vector<ScenarioTx>& txs = scenario->steps[0].txs;
  ASSERT_EQ(txs.size(), 4u);
  EXPECT_EQ(txs[0].body.propose().title(), "");
  EXPECT_EQ(txs[0].body.propose().actions_size(), 0);

  const bas::v1::Propose& propose = txs[1].body.propose();
  ASSERT_EQ(propose.actions_size(), 5);
  EXPECT_EQ(propose.actions(0).approve_annual_plan().year(), 2027u);
  EXPECT_EQ(propose.actions(0).approve_annual_plan().document().sha256(), "");
  EXPECT_EQ(propose.actions(1).approve_annual_plan().document().sha256(), "\xab\xcd");
  EXPECT_TRUE(propose.actions(2).has_set_roles());
  EXPECT_EQ(propose.actions(2).set_roles().roles_size(), 0);
  EXPECT_EQ(propose.actions(3).change_rules().action_type(), "nonsense");
  EXPECT_FALSE(propose.actions(3).change_rules().has_rule());
  EXPECT_TRUE(propose.actions(4).has_admit_member());
  EXPECT_FALSE(propose.actions(4).admit_member().has_member());

  EXPECT_EQ(txs[2].body.vote().choice(), bas::v1::CHOICE_UNSPECIFIED);
  EXPECT_EQ(txs[3].body.record_meeting().date(), "2026-13-45");
  EXPECT_EQ(txs[3].body.record_meeting().minutes().sha256(), "");  // odd length: not hex
}

TEST(ScenarioParseTest, ActionsMapOneToOne) {
  Result<Scenario> scenario = Parse(WithTx(ProposeAction(R"(
      {"type": "admit_member", "member": {"id": "new-1", "group": "ACADEMIA",
                                          "roles": ["MEMBER"], "name": "N"}},
      {"type": "remove_member", "member_id": "gov-1"},
      {"type": "set_roles", "member_id": "civ-1", "roles": ["SECRETARIAT"]},
      {"type": "list_solution", "solution_id": "sol-1", "assessment": "as1"},
      {"type": "delist_solution", "solution_id": "sol-2"},
      {"type": "schedule_igf_session", "igf_year": 2026, "title": "W", "format": "BOOTH"},
      {"type": "set_bmm_model", "version": "bmm-2", "elements": ["e1", "e2"],
       "levels": ["low", "high"]},
      {"type": "change_rules", "action_type": "default", "rule": {"threshold_ppm": 600000}},
      {"type": "create_coalition", "id": "c2", "name": "C2",
       "members": [{"id": "x-1", "group": "GOVERNMENT", "roles": ["MEMBER"]}],
       "rules": {"default": {"quorum_ppm": 1}}},
      {"type": "resolution", "text": "R"})")));
  ASSERT_TRUE(scenario.ok()) << scenario.error().message;
  const ScenarioTx& tx = scenario->steps[0].txs[0];
  EXPECT_EQ(tx.ref, "p1");
  const bas::v1::Propose& propose = tx.body.propose();
  EXPECT_EQ(propose.coalition(), "bas-dc");
  ASSERT_EQ(propose.actions_size(), 10);

  const bas::v1::MemberInfo& admitted = propose.actions(0).admit_member().member();
  EXPECT_EQ(admitted.id(), "new-1");
  EXPECT_EQ(admitted.key(), Bytes(PublicKeyOf("new-1")));
  EXPECT_EQ(admitted.group(), bas::v1::ACADEMIA);
  EXPECT_EQ(admitted.name(), "N");
  EXPECT_EQ(propose.actions(1).remove_member().member_id(), "gov-1");
  EXPECT_THAT(propose.actions(2).set_roles().roles(), ElementsAre(bas::v1::SECRETARIAT));
  EXPECT_EQ(propose.actions(3).list_solution().solution_id(), "sol-1");
  EXPECT_EQ(propose.actions(4).delist_solution().solution_id(), "sol-2");
  EXPECT_EQ(propose.actions(5).schedule_igf_session().igf_year(), 2026u);
  EXPECT_EQ(propose.actions(5).schedule_igf_session().format(), bas::v1::BOOTH);
  const bas::v1::BmmModel& model = propose.actions(6).set_bmm_model().model();
  EXPECT_EQ(model.version(), "bmm-2");
  EXPECT_THAT(model.elements(), ElementsAre("e1", "e2"));
  EXPECT_THAT(model.levels(), ElementsAre("low", "high"));
  EXPECT_EQ(propose.actions(7).change_rules().action_type(), "default");
  EXPECT_EQ(propose.actions(7).change_rules().rule().threshold_ppm(), 600000u);
  EXPECT_FALSE(propose.actions(7).change_rules().rule().has_quorum_ppm());
  const bas::v1::CreateCoalition& create = propose.actions(8).create_coalition();
  EXPECT_EQ(create.id(), "c2");
  ASSERT_EQ(create.members_size(), 1);
  EXPECT_EQ(create.members(0).key(), Bytes(PublicKeyOf("x-1")));
  ASSERT_EQ(create.rules_size(), 1);
  EXPECT_EQ(create.rules(0).rule().quorum_ppm(), 1u);
  EXPECT_EQ(propose.actions(9).resolution().text(), "R");

  // The list_solution's assessment is resolved at run time, by action index.
  ASSERT_EQ(tx.ref_uses.size(), 1u);
  EXPECT_EQ(tx.ref_uses[0].action_index, 3);
  EXPECT_EQ(tx.ref_uses[0].name, "as1");
}

TEST(ScenarioParseTest, OtherTransactions) {
  Result<Scenario> scenario = Parse(WithTx(R"(
      {"type": "apply", "by": "new-1", "ref": "a1", "coalition": "bas-dc", "group": "ACADEMIA",
       "name": "U", "statement": "S"},
      {"type": "submit_assessment", "by": "priv-1", "ref": "as1", "solution_id": "sol-1",
       "solution_name": "Sol", "vendor": "V", "bmm_version": "bmm-1", "level": 2,
       "elements": {"security": 3, "governance": 1}, "valid_until_t": 1000},
      {"type": "record_meeting", "by": "civ-1", "coalition": "bas-dc", "date": "2026-03-01",
       "uri": "https://example.org/m.pdf",
       "sha256": "ec35ecb3fee5386862462760d0ee246f5883099bd6834f815ff2bef4d1fba49f"},
      {"type": "rotate_key", "by": "gov-1", "new_id_seed": "gov-1-2026"},
      {"type": "rotate_key", "by": "gov-1"})"));
  ASSERT_TRUE(scenario.ok()) << scenario.error().message;
  const std::vector<ScenarioTx>& txs = scenario->steps[0].txs;
  ASSERT_EQ(txs.size(), 5u);

  const bas::v1::ApplyForMembership& apply = txs[0].body.apply();
  EXPECT_EQ(apply.coalition(), "bas-dc");
  EXPECT_EQ(apply.member_id(), "new-1");  // the signer
  EXPECT_EQ(apply.group(), bas::v1::ACADEMIA);
  EXPECT_EQ(apply.name(), "U");
  EXPECT_EQ(apply.statement(), "S");

  const bas::v1::SubmitAssessment& assessment = txs[1].body.submit_assessment();
  EXPECT_EQ(assessment.solution_id(), "sol-1");
  EXPECT_EQ(assessment.solution_name(), "Sol");
  EXPECT_EQ(assessment.vendor(), "V");
  EXPECT_EQ(assessment.bmm_version(), "bmm-1");
  EXPECT_EQ(assessment.level(), 2u);
  ASSERT_EQ(assessment.elements_size(), 2);  // sorted by element name
  EXPECT_EQ(assessment.elements(0).element(), "governance");
  EXPECT_EQ(assessment.elements(0).level(), 1u);
  EXPECT_EQ(assessment.elements(1).element(), "security");
  EXPECT_EQ(assessment.valid_until(), 1767225600 + 1000);
  EXPECT_EQ(assessment.assessed_at(), 0);
  EXPECT_FALSE(assessment.has_report());

  const bas::v1::RecordMeeting& meeting = txs[2].body.record_meeting();
  EXPECT_EQ(meeting.date(), "2026-03-01");
  EXPECT_EQ(meeting.minutes().uri(), "https://example.org/m.pdf");
  EXPECT_EQ(meeting.minutes().sha256().size(), 32u);

  EXPECT_TRUE(txs[3].body.has_rotate_key());
  EXPECT_EQ(txs[3].new_id_seed, "gov-1-2026");
  EXPECT_TRUE(txs[4].body.has_rotate_key());
  EXPECT_FALSE(txs[4].new_id_seed.has_value());
}

TEST(ScenarioKeysTest, DerivedFromTaggedHashes) {
  EXPECT_EQ(ScenarioSecretKey("gov-1"), crypto::TaggedHash("bas/scenario-key", "gov-1"));
  EXPECT_EQ(UnknownRefId("nope"), crypto::TaggedHash("bas/scenario-ref", "nope"));
  EXPECT_NE(ScenarioSecretKey("gov-1"), ScenarioSecretKey("gov-2"));
}

// ---- Runs ----

ScenarioRun MustRun(const std::string& text) {
  Result<Json> json = ParseScenarioJson(text);
  EXPECT_TRUE(json.ok()) << json.error().message;
  Result<ScenarioRun> run = RunScenario(*json);
  EXPECT_TRUE(run.ok()) << run.error().code << ": " << run.error().message;
  return std::move(run).value();
}

// The (step, tx, code) of each rejection.
std::vector<std::string> Rejections(const ScenarioRun& run) {
  std::vector<std::string> out;
  for (const auto& row : run.output["rejected"]) {
    out.push_back(std::to_string(row["step"].get<int>()) + "." +
                  std::to_string(row["tx"].get<int>()) + " " + row["code"].get<std::string>());
  }
  return out;
}

constexpr char kPropose[] = R"({"type": "propose", "by": "%BY%", "ref": "%REF%",
    "coalition": "bas-dc", "title": "%REF%", "actions": [{"type": "resolution", "text": "x"}]})";

std::string Propose(const std::string& by, const std::string& ref) {
  std::string tx = kPropose;
  tx.replace(tx.find("%BY%"), 4, by);
  for (size_t at; (at = tx.find("%REF%")) != std::string::npos;) tx.replace(at, 5, ref);
  return tx;
}

std::string Vote(const std::string& by, const std::string& ref, const std::string& choice) {
  return R"({"type": "vote", "by": ")" + by + R"(", "proposal": ")" + ref + R"(", "choice": ")" +
         choice + R"("})";
}

TEST(ScenarioRunTest, ReportsTheExampleShapeOfOutput) {
  ScenarioRun run = MustRun(WithSteps("[{\"t\": 0, \"txs\": [" + Propose("gov-1", "p1") +
                                      "]}, {\"t\": 10, \"txs\": [" + Vote("gov-1", "p1", "YES") +
                                      ", " + Vote("civ-1", "p1", "NO") + "]}, {\"t\": 100}]"));
  const nlohmann::ordered_json& out = run.output;
  std::vector<std::string> keys;
  for (const auto& [key, value] : out.items()) keys.push_back(key);
  EXPECT_THAT(keys, ElementsAre("decisions", "rejected", "members", "annual_plans", "directory",
                                "app_hash"));
  ASSERT_EQ(out["decisions"].size(), 1u);
  const auto& decision = out["decisions"][0];
  EXPECT_EQ(decision["coalition"], "bas-dc");
  EXPECT_EQ(decision["number"], 1);
  EXPECT_EQ(decision["proposal"], "p1");
  EXPECT_EQ(decision["title"], "p1");
  EXPECT_EQ(decision["status"], "REJECTED");
  EXPECT_EQ(decision["failed_test"], "SUPPORT");  // a tie fails
  EXPECT_EQ(decision["closed_t"], 100);
  EXPECT_EQ(decision["tally"],
            nlohmann::ordered_json::parse(R"({"yes": 1, "no": 1, "abstain": 0, "eligible": 4})"));
  EXPECT_EQ(decision["groups"].size(), 4u);
  EXPECT_EQ(decision["groups"]["CIVIL_SOCIETY"]["no"], 1);
  EXPECT_EQ(decision["dissent"],
            nlohmann::ordered_json::parse(R"([{"member": "civ-1", "reason": ""}])"));
  EXPECT_EQ(out["members"]["bas-dc"],
            nlohmann::ordered_json::parse(R"(["aca-1", "civ-1", "gov-1", "priv-1"])"));
  EXPECT_EQ(out["app_hash"].get<std::string>().size(), 64u);
  EXPECT_TRUE(run.refs.contains("p1"));
}

TEST(ScenarioRunTest, IsDeterministic) {
  std::string text =
      WithSteps("[{\"t\": 0, \"txs\": [" + Propose("gov-1", "p1") + "]}, {\"t\": 10, \"txs\": [" +
                Vote("gov-1", "p1", "YES") + "]}, {\"t\": 100}]");
  EXPECT_EQ(MustRun(text).output.dump(), MustRun(text).output.dump());
}

TEST(ScenarioRunTest, NoncesFollowTheChainWithinABlock) {
  // Three txs of one signer in one block: a refused one in the middle uses no nonce.
  ScenarioRun run = MustRun(
      WithSteps("[{\"t\": 0, \"txs\": [" + Propose("gov-1", "p1") + ", " +
                R"({"type": "vote", "by": "gov-1", "proposal": "p1", "choice": "YES",
          "bad_signature": true}, )" +
                Vote("gov-1", "p1", "YES") + R"(, {"type": "vote", "by": "gov-1", "proposal": "p1",
          "choice": "NO", "nonce": 7}]}])"));
  EXPECT_THAT(Rejections(run), ElementsAre("0.1 BAD_SIGNATURE", "0.3 BAD_NONCE"));
}

TEST(ScenarioRunTest, RefusedProposeNamesNothing) {
  ScenarioRun run =
      MustRun(WithSteps("[{\"t\": 0, \"txs\": [" + Propose("outsider", "p1") +
                        "]}, {\"t\": 1, \"txs\": [" + Vote("gov-1", "p1", "YES") + "]}]"));
  EXPECT_THAT(Rejections(run), ElementsAre("0.0 NOT_MEMBER", "1.0 UNKNOWN_PROPOSAL"));
  EXPECT_FALSE(run.refs.contains("p1"));
}

TEST(ScenarioRunTest, BadHexIsRefusedByTheChain) {
  ScenarioRun run = MustRun(WithTx(ProposeAction(
      R"({"type": "approve_annual_plan", "year": 2027, "uri": "u", "sha256": "not hex"})")));
  EXPECT_THAT(Rejections(run), ElementsAre("0.0 INVALID_ARGUMENT"));
}

TEST(ScenarioRunTest, RotatedKeySignsLaterTxs) {
  // After the rotation gov-1's vote verifies only under the new key: it is accepted, and the
  // nonce now counts from 0 for that key.
  ScenarioRun run =
      MustRun(WithSteps("[{\"t\": 0, \"txs\": [" + Propose("civ-1", "p1") +
                        R"(, {"type": "rotate_key", "by": "gov-1", "new_id_seed": "gov-1-new"}]},
         {"t": 1, "txs": [)" +
                        Vote("gov-1", "p1", "YES") + "]}, {\"t\": 100}]"));
  EXPECT_THAT(Rejections(run), ElementsAre());
  ASSERT_EQ(run.output["decisions"].size(), 1u);
  EXPECT_EQ(run.output["decisions"][0]["tally"]["yes"], 1);
}

TEST(ScenarioRunTest, RotateKeyWithoutSeedIsRefusedByTheChain) {
  ScenarioRun run = MustRun(WithTx(R"({"type": "rotate_key", "by": "gov-1"})"));
  EXPECT_THAT(Rejections(run), ElementsAre("0.0 INVALID_ARGUMENT"));
}

TEST(ScenarioRunTest, DecisionsInClosingOrderAcrossCoalitions) {
  // p1 (bas-dc) is accepted first and closes at the end of block t=100; p2 (c2) is withdrawn
  // by a tx of that same block, so it closes first although accepted later.
  ScenarioRun run = MustRun(R"({"start": 1767225600,
    "coalitions": [
      {"id": "c2", "rules": {"default": {"voting_period_s": 1000}},
       "members": [{"id": "m2", "group": "GOVERNMENT", "roles": ["MEMBER"]}]},
      {"id": "bas-dc", "rules": {"default": {"voting_period_s": 100}},
       "members": [{"id": "m1", "group": "GOVERNMENT", "roles": ["MEMBER"]}]}],
    "steps": [
      {"t": 0, "txs": [
        {"type": "propose", "by": "m1", "ref": "p1", "coalition": "bas-dc", "title": "one",
         "actions": [{"type": "resolution", "text": "x"}]},
        {"type": "propose", "by": "m2", "ref": "p2", "coalition": "c2", "title": "two",
         "actions": [{"type": "resolution", "text": "y"}]}]},
      {"t": 100, "txs": [{"type": "withdraw", "by": "m2", "proposal": "p2"}]}]})");
  EXPECT_THAT(Rejections(run), ElementsAre());
  const auto& decisions = run.output["decisions"];
  ASSERT_EQ(decisions.size(), 2u);
  EXPECT_EQ(decisions[0]["proposal"], "p2");
  EXPECT_EQ(decisions[0]["status"], "WITHDRAWN");
  EXPECT_EQ(decisions[0]["closed_t"], 100);
  EXPECT_EQ(decisions[1]["proposal"], "p1");
  EXPECT_EQ(decisions[1]["closed_t"], 100);
  EXPECT_EQ(decisions[1]["failed_test"], "QUORUM");
}

TEST(ScenarioRunTest, DirectoryAndAnnualPlans) {
  ScenarioRun run = MustRun(R"({"start": 1767225600,
    "coalitions": [{"id": "bas-dc",
      "rules": {"default": {"voting_period_s": 10, "quorum_ppm": 0, "threshold_ppm": 0,
                            "groups_required": false}},
      "members": [{"id": "m1", "group": "GOVERNMENT", "roles": ["MEMBER", "ASSESSOR"]}]}],
    "steps": [
      {"t": 0, "txs": [{"type": "propose", "by": "m1", "ref": "p1", "coalition": "bas-dc",
        "title": "Model and plan", "actions": [
          {"type": "set_bmm_model", "version": "bmm-1", "elements": ["governance", "security"],
           "levels": ["initial", "managed", "optimised"]},
          {"type": "approve_annual_plan", "year": 2027, "uri": "https://example.org/p.pdf",
           "sha256": "0e914eb4558dfde3a1bf3e74446c9c1edde9b3831dfcc3b52c78214e8fdbe256"}]}]},
      {"t": 1, "txs": [{"type": "vote", "by": "m1", "proposal": "p1", "choice": "YES"}]},
      {"t": 10},
      {"t": 11, "txs": [{"type": "submit_assessment", "by": "m1", "ref": "as1",
        "solution_id": "sol-1", "solution_name": "Solution", "vendor": "V",
        "bmm_version": "bmm-1", "level": 2, "elements": {"security": 2, "governance": 3},
        "valid_until_t": 100000}]},
      {"t": 12, "txs": [{"type": "propose", "by": "m1", "ref": "p2", "coalition": "bas-dc",
        "title": "List sol-1", "actions": [
          {"type": "list_solution", "solution_id": "sol-1", "assessment": "as1"}]}]},
      {"t": 13, "txs": [{"type": "vote", "by": "m1", "proposal": "p2", "choice": "YES"}]},
      {"t": 22}]})");
  EXPECT_THAT(Rejections(run), ElementsAre());
  ASSERT_EQ(run.output["decisions"].size(), 2u);
  EXPECT_EQ(run.output["decisions"][0]["status"], "PASSED");
  EXPECT_EQ(run.output["decisions"][1]["status"], "PASSED");
  EXPECT_EQ(run.output["annual_plans"], nlohmann::ordered_json::parse(R"({"bas-dc": {"2027":
                "0e914eb4558dfde3a1bf3e74446c9c1edde9b3831dfcc3b52c78214e8fdbe256"}})"));
  ASSERT_EQ(run.output["directory"].size(), 1u);
  const auto& listing = run.output["directory"][0];
  EXPECT_EQ(listing["solution_id"], "sol-1");
  EXPECT_EQ(listing["status"], "ACTIVE");
  EXPECT_EQ(listing["level"], 2);
  EXPECT_EQ(listing["assessment"], "as1");
  EXPECT_EQ(listing["valid_until_t"], 100000);
}

TEST(ScenarioRunTest, GenesisTheEngineRefusesIsInvalidGenesis) {
  Result<Json> json = ParseScenarioJson(R"({"start": 1767225600, "steps": [],
    "coalitions": [{"id": "bas-dc", "members": [
      {"id": "m1", "group": "GOVERNMENT", "roles": ["MEMBER"]},
      {"id": "m1", "group": "ACADEMIA", "roles": ["MEMBER"]}]}]})");
  ASSERT_TRUE(json.ok());
  Result<ScenarioRun> run = RunScenario(*json);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().code, kInvalidGenesis);
  EXPECT_THAT(run.error().message, HasSubstr("coalitions[0].members[1]"));
}

}  // namespace
}  // namespace bas::scenario
