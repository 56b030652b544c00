// The flags of `bas propose` and the other tx commands: each flag's text form, the order of
// the actions, the annual plan's document, the --actions file, and the bodies built.
#include "cli/client/tx_builder.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/client/errors.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "governance/rules.h"

namespace bas::client {
namespace {

using ::testing::HasSubstr;

namespace fs = std::filesystem;

const std::string kKeyHex(64, 'a');
const std::string kIdHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::string Raw(const std::string& hex) {
  auto bytes = crypto::HexDecode(hex);
  return std::string(bytes->begin(), bytes->end());
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "bas-cli-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    const fs::path file = path_ / name;
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// ---- one flag each ----

struct FlagCase {
  std::string name;
  Result<bas::v1::Action> (*parse)(std::string_view);
  std::string value;
  std::string want;  // the action's text proto, or "error: <substring>"
};

void PrintTo(const FlagCase& c, std::ostream* os) { *os << c.name; }

class ActionFlagTest : public ::testing::TestWithParam<FlagCase> {};

TEST_P(ActionFlagTest, ParsesOrRefuses) {
  const FlagCase& c = GetParam();
  Result<bas::v1::Action> action = c.parse(c.value);
  if (c.want.starts_with("error: ")) {
    ASSERT_FALSE(action.ok()) << action->ShortDebugString();
    EXPECT_EQ(action.error().code, kInvalidInput);
    EXPECT_THAT(action.error().message, HasSubstr(c.want.substr(7)));
    return;
  }
  ASSERT_TRUE(action.ok()) << action.error().message;
  EXPECT_EQ(action->ShortDebugString(), c.want);
}

// Bytes as ShortDebugString prints them (protobuf's CEscape).
std::string Escaped(const std::string& hex) {
  std::string out;
  for (char c : Raw(hex)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\'' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\%03o", u);
      out += buffer;
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    Flags, ActionFlagTest,
    ::testing::Values(
        FlagCase{"admit", &ParseAdmitMemberFlag, "aca-2:ACADEMIA:MEMBER:" + kKeyHex,
                 "admit_member { member { id: \"aca-2\" key: \"" + Escaped(kKeyHex) +
                     "\" group: ACADEMIA roles: MEMBER } }"},
        FlagCase{"admit_roles_and_name_with_colon", &ParseAdmitMemberFlag,
                 "sec-2:civil_society:MEMBER+SECRETARIAT:" + kKeyHex + ":Dr. A: B",
                 "admit_member { member { id: \"sec-2\" key: \"" + Escaped(kKeyHex) +
                     "\" name: \"Dr. A: B\" group: CIVIL_SOCIETY roles: MEMBER roles: "
                     "SECRETARIAT } }"},
        FlagCase{"admit_short", &ParseAdmitMemberFlag, "aca-2:ACADEMIA:MEMBER",
                 "error: expected ID:GROUP:ROLE[+ROLE]:KEYHEX[:NAME]"},
        FlagCase{"admit_bad_group", &ParseAdmitMemberFlag, "x:STUDENTS:MEMBER:" + kKeyHex,
                 "error: expected one of GOVERNMENT"},
        FlagCase{"admit_bad_role", &ParseAdmitMemberFlag, "x:ACADEMIA:MEMBER+BOSS:" + kKeyHex,
                 "error: unknown role \"BOSS\""},
        FlagCase{"admit_short_key", &ParseAdmitMemberFlag, "x:ACADEMIA:MEMBER:abcd",
                 "error: the key must be 64 hex digits"},
        FlagCase{"remove", &ParseRemoveMemberFlag, "gov-2",
                 "remove_member { member_id: \"gov-2\" }"},
        FlagCase{"remove_empty", &ParseRemoveMemberFlag, "", "error: expected a member id"},
        FlagCase{"set_roles", &ParseSetRolesFlag, "civ-1:MEMBER+SECRETARIAT",
                 "set_roles { member_id: \"civ-1\" roles: MEMBER roles: SECRETARIAT }"},
        FlagCase{"set_roles_no_roles", &ParseSetRolesFlag, "civ-1", "error: expected ID:ROLE"},
        FlagCase{"list", &ParseListSolutionFlag, "ledgerx:" + kIdHex,
                 "list_solution { solution_id: \"ledgerx\" assessment_id: \"" + Escaped(kIdHex) +
                     "\" }"},
        FlagCase{"list_bad_id", &ParseListSolutionFlag, "ledgerx:abc",
                 "error: the assessment id must be 64 hex digits"},
        FlagCase{"list_no_solution", &ParseListSolutionFlag, ":" + kIdHex,
                 "error: expected SOLUTION_ID:ASSESSMENT_ID_HEX"},
        FlagCase{"delist", &ParseDelistSolutionFlag, "ledgerx",
                 "delist_solution { solution_id: \"ledgerx\" }"},
        FlagCase{"igf", &ParseIgfSessionFlag, "2027:workshop:Assurance: a workshop",
                 "schedule_igf_session { igf_year: 2027 title: \"Assurance: a workshop\" format: "
                 "WORKSHOP }"},
        FlagCase{"igf_bad_format", &ParseIgfSessionFlag, "2027:DANCE:x",
                 "error: the format is one of WORKSHOP, BOOTH, TALK"},
        FlagCase{"igf_bad_year", &ParseIgfSessionFlag, "soon:TALK:x",
                 "error: expected YEAR:FORMAT:TITLE"},
        FlagCase{"resolution", &ParseResolutionFlag, "We endorse X",
                 "resolution { text: \"We endorse X\" }"}),
    [](const auto& info) { return info.param.name; });

TEST(ValueParsersTest, DatesAndUnixSeconds) {
  EXPECT_EQ(*ParseDateOrUnix("--valid-until", "2027-12-31"), 1830297599);  // end of the day
  EXPECT_EQ(*ParseDateOrUnix("--valid-until", "2024-02-29"), 1709251199);
  EXPECT_EQ(*ParseDateOrUnix("--valid-until", "1830297599"), 1830297599);
  for (const char* bad : {"2027-02-30", "2027-13-01", "27-12-31", "2027/12/31", "0", "", "-5"}) {
    EXPECT_FALSE(ParseDateOrUnix("--valid-until", bad).ok()) << bad;
  }
}

TEST(ValueParsersTest, ElementsChoicesAndIds) {
  Result<bas::v1::ElementLevel> element = ParseElementLevel("Data = Privacy=4");
  ASSERT_TRUE(element.ok());
  EXPECT_EQ(element->element(), "Data = Privacy");
  EXPECT_EQ(element->level(), 4u);
  for (const char* bad : {"Security", "Security=0", "=3", "Security=x", "Security=-1"}) {
    EXPECT_FALSE(ParseElementLevel(bad).ok()) << bad;
  }
  EXPECT_EQ(*ParseVoteChoice("abstain"), bas::v1::ABSTAIN);
  EXPECT_FALSE(ParseVoteChoice("CHOICE_UNSPECIFIED").ok());
  EXPECT_EQ(*ParseId32("id", kIdHex), Raw(kIdHex));
  EXPECT_FALSE(ParseId32("id", kIdHex.substr(1)).ok());
  Result<VoteFlags> vote = ParseVoteSpec(kIdHex + ":NO:too costly: for now");
  ASSERT_TRUE(vote.ok());
  EXPECT_EQ(vote->choice, "NO");
  EXPECT_EQ(vote->reason, "too costly: for now");
  EXPECT_FALSE(ParseVoteSpec(kIdHex).ok());
}

TEST(DocumentTest, HashesTheFileAndNamesItsUri) {
  TempDir dir;
  const std::string file = dir.Write("plan 2027.txt", "the plan");
  Result<bas::v1::Document> document = DocumentFromFile(file);
  ASSERT_TRUE(document.ok());
  EXPECT_EQ(document->sha256(), std::string(crypto::AsStringView(crypto::Sha256Of("the plan"))));
  EXPECT_EQ(document->uri(), "file://" + (dir.path() / "plan%202027.txt").string());
  EXPECT_EQ(DocumentFromFile((dir.path() / "missing").string()).error().code, "IO_ERROR");
}

// ---- the order of the actions and the annual plan's document ----

std::vector<std::string> Kinds(const std::vector<bas::v1::Action>& actions) {
  std::vector<std::string> out;
  for (const auto& a : actions) out.emplace_back(governance::ActionTypeName(a.kind_case()));
  return out;
}

TEST(BuildActionsTest, KeepsTheOrderOfTheFlags) {
  TempDir dir;
  const std::string plan = dir.Write("plan.txt", "plan");
  Result<std::vector<bas::v1::Action>> actions =
      BuildActions({{"resolution", "first"},
                    {"annual-plan", "2027"},
                    {"admit-member", "aca-2:ACADEMIA:MEMBER:" + kKeyHex},
                    {"document", plan},
                    {"igf-session", "2027:TALK:t"},
                    {"resolution", "last"}});
  ASSERT_TRUE(actions.ok()) << actions.error().message;
  EXPECT_EQ(Kinds(*actions),
            (std::vector<std::string>{"resolution", "approve_annual_plan", "admit_member",
                                      "schedule_igf_session", "resolution"}));
  EXPECT_EQ((*actions)[0].resolution().text(), "first");
  EXPECT_EQ((*actions)[4].resolution().text(), "last");
  const bas::v1::ApproveAnnualPlan& approve = (*actions)[1].approve_annual_plan();
  EXPECT_EQ(approve.year(), 2027u);
  EXPECT_EQ(approve.document().sha256(),
            std::string(crypto::AsStringView(crypto::Sha256Of("plan"))));
  EXPECT_EQ(approve.document().uri(), "file://" + plan);
}

TEST(BuildActionsTest, DocumentFlagsBelongToTheirPlan) {
  TempDir dir;
  const std::string a = dir.Write("a.txt", "a");
  // The only plan takes document flags wherever they stand; --uri replaces the file's URI.
  Result<std::vector<bas::v1::Action>> one = BuildActions(
      {{"uri", "https://bas-dc.org/plan.pdf"}, {"document", a}, {"annual-plan", "2027"}});
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ((*one)[0].approve_annual_plan().document().uri(), "https://bas-dc.org/plan.pdf");

  // With two plans, each takes the flags after it.
  Result<std::vector<bas::v1::Action>> two = BuildActions({{"annual-plan", "2027"},
                                                           {"uri", "https://x/2027"},
                                                           {"sha256", kIdHex},
                                                           {"annual-plan", "2028"},
                                                           {"document", a}});
  ASSERT_TRUE(two.ok()) << two.error().message;
  EXPECT_EQ((*two)[0].approve_annual_plan().document().uri(), "https://x/2027");
  EXPECT_EQ((*two)[0].approve_annual_plan().document().sha256(), Raw(kIdHex));
  EXPECT_EQ((*two)[1].approve_annual_plan().year(), 2028u);
  EXPECT_EQ((*two)[1].approve_annual_plan().document().uri(), "file://" + a);
}

struct BadActionsCase {
  std::string name;
  std::vector<ActionFlag> flags;
  std::string message;
};

void PrintTo(const BadActionsCase& c, std::ostream* os) { *os << c.name; }

class BadActionsTest : public ::testing::TestWithParam<BadActionsCase> {};

TEST_P(BadActionsTest, Refused) {
  Result<std::vector<bas::v1::Action>> actions = BuildActions(GetParam().flags);
  ASSERT_FALSE(actions.ok());
  EXPECT_EQ(actions.error().code, kInvalidInput);
  EXPECT_THAT(actions.error().message, HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Flags, BadActionsTest,
    ::testing::Values(
        BadActionsCase{"no_actions", {}, "no actions"},
        BadActionsCase{"plan_without_document", {{"annual-plan", "2027"}}, "a document needs"},
        BadActionsCase{
            "uri_without_sha", {{"annual-plan", "2027"}, {"uri", "https://x"}}, "a document needs"},
        BadActionsCase{"document_without_plan",
                       {{"document", "x"}, {"resolution", "r"}},
                       "belongs to an --annual-plan"},
        BadActionsCase{"document_before_first_of_two",
                       {{"sha256", kIdHex}, {"annual-plan", "2027"}, {"annual-plan", "2028"}},
                       "belongs to an --annual-plan"},
        BadActionsCase{"twice",
                       {{"annual-plan", "2027"}, {"uri", "a"}, {"uri", "b"}, {"sha256", kIdHex}},
                       "given twice"},
        BadActionsCase{"bad_year",
                       {{"annual-plan", "next"}, {"uri", "a"}, {"sha256", kIdHex}},
                       "expected a year"},
        BadActionsCase{
            "bad_sha", {{"annual-plan", "2027"}, {"uri", "a"}, {"sha256", "xyz"}}, "64 hex digits"},
        BadActionsCase{"bad_member", {{"admit-member", "x"}}, "--admit-member x"}),
    [](const auto& info) { return info.param.name; });

TEST(ActionsFileTest, EveryActionTypeWithExplicitKeysAndIds) {
  TempDir dir;
  const std::string file = dir.Write("actions.json", R"([
    {"type": "set_bmm_model", "version": "BMM-2.0", "elements": ["Governance"],
     "levels": ["Initial", "Managed"]},
    {"type": "change_rules", "action_type": "resolution", "rule": {"quorum_ppm": 500000}},
    {"type": "admit_member", "member": {"id": "aca-2", "group": "ACADEMIA", "roles": ["MEMBER"],
                                        "key": ")" + kKeyHex +
                                                         R"("}},
    {"type": "list_solution", "solution_id": "ledgerx", "assessment": ")" +
                                                         kIdHex + R"("},
    {"type": "create_coalition", "id": "igf-dc", "name": "IGF DC", "members": [
      {"id": "a", "group": "GOVERNMENT", "roles": ["MEMBER"], "key": ")" +
                                                         kKeyHex + R"("}]}
  ])");
  Result<std::vector<bas::v1::Action>> actions =
      BuildActions({{"resolution", "before"}, {"actions", file}});
  ASSERT_TRUE(actions.ok()) << actions.error().message;
  ASSERT_EQ(actions->size(), 6u);
  EXPECT_EQ((*actions)[1].set_bmm_model().model().version(), "BMM-2.0");
  EXPECT_EQ((*actions)[2].change_rules().rule().quorum_ppm(), 500000u);
  EXPECT_EQ((*actions)[3].admit_member().member().key(), Raw(kKeyHex));
  EXPECT_EQ((*actions)[4].list_solution().assessment_id(), Raw(kIdHex));
  EXPECT_EQ((*actions)[5].create_coalition().members(0).key(), Raw(kKeyHex));
}

TEST(ActionsFileTest, RefusesWhatARealChainCannotDerive) {
  TempDir dir;
  struct Case {
    std::string text;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {R"([{"type": "admit_member", "member": {"id": "a", "group": "ACADEMIA"}}])",
            "actions[0].member.key: missing"},
           {R"([{"type": "list_solution", "solution_id": "x", "assessment": "p1"}])",
            "actions[0].assessment: expected 64 hex digits"},
           {R"([{"type": "dance"}])", "actions[0].type: unknown action type"},
           {R"({"type": "resolution"})", "actions: expected an array"},
           {"[", "invalid JSON"},
       }) {
    Result<std::vector<bas::v1::Action>> actions = ParseActionsFile(dir.Write("a.json", c.text));
    ASSERT_FALSE(actions.ok()) << c.text;
    EXPECT_EQ(actions.error().code, kInvalidInput);
    EXPECT_THAT(actions.error().message, HasSubstr(c.message)) << c.text;
  }
  EXPECT_EQ(ParseActionsFile((dir.path() / "none.json").string()).error().code, "IO_ERROR");
}

// ---- bodies ----

TEST(BuildBodiesTest, AssessmentSortsElementsAndReadsTheReport) {
  TempDir dir;
  AssessFlags flags;
  flags.solution_id = "ledgerx";
  flags.solution_name = "LedgerX";
  flags.bmm_version = "BMM-1.0";
  flags.level = 3;
  flags.elements = {"Security=4", "Governance=3"};
  flags.valid_until = "2027-12-31";
  flags.report_file = dir.Write("report.pdf", "report");
  Result<bas::v1::TxBody> body = BuildAssess(flags);
  ASSERT_TRUE(body.ok()) << body.error().message;
  const bas::v1::SubmitAssessment& a = body->submit_assessment();
  ASSERT_EQ(a.elements_size(), 2);
  EXPECT_EQ(a.elements(0).element(), "Governance");
  EXPECT_EQ(a.valid_until(), 1830297599);
  EXPECT_EQ(a.assessed_at(), 0);
  EXPECT_EQ(a.report().sha256(), std::string(crypto::AsStringView(crypto::Sha256Of("report"))));
  EXPECT_TRUE(body->chain_id().empty());
  EXPECT_EQ(body->nonce(), 0u);

  flags.report_file.clear();
  EXPECT_FALSE(BuildAssess(flags)->submit_assessment().has_report());
  flags.report_uri = "https://x/report.pdf";  // a URI without its hash
  EXPECT_FALSE(BuildAssess(flags).ok());
}

TEST(BuildBodiesTest, VoteApplyMeeting) {
  Result<bas::v1::TxBody> vote = BuildVote({kIdHex, "no", "too costly"});
  ASSERT_TRUE(vote.ok());
  EXPECT_EQ(vote->vote().proposal_id(), Raw(kIdHex));
  EXPECT_EQ(vote->vote().choice(), bas::v1::NO);
  EXPECT_EQ(DescribeTx(*vote), "vote NO on proposal " + kIdHex + ": \"too costly\"");
  EXPECT_FALSE(BuildVote({"abc", "YES", ""}).ok());

  Result<bas::v1::TxBody> apply = BuildApply({"bas-dc", "aca-2", "academia", "K", "U", "why"});
  ASSERT_TRUE(apply.ok());
  EXPECT_EQ(apply->apply().group(), bas::v1::ACADEMIA);
  EXPECT_FALSE(BuildApply({"bas-dc", "aca-2", "", "", "", ""}).ok());

  Result<bas::v1::TxBody> meeting = BuildMeeting({"bas-dc", "2026-11-20", "", "https://m", kIdHex});
  ASSERT_TRUE(meeting.ok());
  EXPECT_EQ(meeting->record_meeting().minutes().uri(), "https://m");
  EXPECT_FALSE(BuildMeeting({"bas-dc", "2026-11-20", "", "https://m", ""}).ok());
}

}  // namespace
}  // namespace bas::client
