#include "cli/client/tx_builder.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/client/errors.h"
#include "cli/client/node_client.h"
#include "cli/scenario/format.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"

namespace bas::client {
namespace {

Error Usage(std::string_view flag, std::string_view value, const std::string& why) {
  std::string where(flag);
  if (!value.empty()) where += " " + std::string(value);
  return Error{std::string(kInvalidInput), where + ": " + why};
}

std::string Upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

// Splits at the first `n - 1` colons: the last part keeps any further colons (names, titles).
std::vector<std::string> SplitColons(std::string_view text, size_t n) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (parts.size() + 1 < n) {
    const size_t colon = text.find(':', start);
    if (colon == std::string_view::npos) break;
    parts.emplace_back(text.substr(start, colon - start));
    start = colon + 1;
  }
  parts.emplace_back(text.substr(start));
  return parts;
}

std::optional<uint64_t> ParseUnsigned(std::string_view text) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The value names of a proto enum other than its 0 value, for messages.
template <typename Descriptor>
std::string EnumChoices(const Descriptor* type) {
  std::string out;
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() == 0) continue;
    if (!out.empty()) out += ", ";
    out += type->value(i)->name();
  }
  return out;
}

std::string Bytes(const std::array<uint8_t, 32>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Result<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Error{"IO_ERROR", "cannot read " + path + ": is a directory"};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"IO_ERROR", "cannot read " + path + ": " + std::strerror(errno)};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error{"IO_ERROR", "cannot read " + path};
  return text.str();
}

// An --annual-plan flag with the document flags that belong to it.
struct PendingPlan {
  std::string year;
  std::string document;
  std::string uri;
  std::string sha256;
};

}  // namespace

Result<std::string> ParseId32(std::string_view flag, std::string_view hex) {
  Result<std::array<uint8_t, 32>> bytes = crypto::HexDecodeFixed<32>(hex);
  if (!bytes.ok()) return Usage(flag, hex, "expected 64 hex digits");
  return Bytes(*bytes);
}

Result<bas::v1::VoteChoice> ParseVoteChoice(std::string_view text) {
  bas::v1::VoteChoice choice;
  if (!bas::v1::VoteChoice_Parse(Upper(text), &choice) || choice == bas::v1::CHOICE_UNSPECIFIED) {
    return Usage("choice", text, "expected YES, NO or ABSTAIN");
  }
  return choice;
}

Result<bas::v1::StakeholderGroup> ParseGroup(std::string_view flag, std::string_view text) {
  bas::v1::StakeholderGroup group;
  if (!bas::v1::StakeholderGroup_Parse(Upper(text), &group) ||
      group == bas::v1::GROUP_UNSPECIFIED) {
    return Usage(flag, text,
                 "expected one of " + EnumChoices(bas::v1::StakeholderGroup_descriptor()));
  }
  return group;
}

Result<std::vector<bas::v1::Role>> ParseRoles(std::string_view flag, std::string_view text) {
  std::vector<bas::v1::Role> roles;
  size_t start = 0;
  while (true) {
    const size_t plus = text.find('+', start);
    const std::string_view name = text.substr(start, plus - start);
    bas::v1::Role role;
    if (!bas::v1::Role_Parse(Upper(name), &role) || role == bas::v1::ROLE_UNSPECIFIED) {
      return Usage(flag, text,
                   "unknown role \"" + std::string(name) + "\" (expected ROLE[+ROLE...] of " +
                       EnumChoices(bas::v1::Role_descriptor()) + ")");
    }
    roles.push_back(role);
    if (plus == std::string_view::npos) break;
    start = plus + 1;
  }
  return roles;
}

Result<int64_t> ParseDateOrUnix(std::string_view flag, std::string_view text) {
  if (std::optional<uint64_t> unix = ParseUnsigned(text)) {
    if (*unix == 0 || *unix > static_cast<uint64_t>(INT64_MAX)) {
      return Usage(flag, text, "Unix seconds must be positive");
    }
    return static_cast<int64_t>(*unix);
  }
  // YYYY-MM-DD
  std::optional<uint64_t> y, m, d;
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    y = ParseUnsigned(text.substr(0, 4));
    m = ParseUnsigned(text.substr(5, 2));
    d = ParseUnsigned(text.substr(8, 2));
  }
  if (!y || !m || !d) return Usage(flag, text, "expected YYYY-MM-DD or Unix seconds");
  const std::chrono::year_month_day date{std::chrono::year(static_cast<int>(*y)),
                                         std::chrono::month(static_cast<unsigned>(*m)),
                                         std::chrono::day(static_cast<unsigned>(*d))};
  if (!date.ok()) return Usage(flag, text, "no such date");
  const auto days = std::chrono::sys_days(date).time_since_epoch().count();
  return static_cast<int64_t>(days) * 86400 + 86399;
}

Result<bas::v1::ElementLevel> ParseElementLevel(std::string_view text) {
  const size_t eq = text.rfind('=');
  std::optional<uint64_t> level;
  if (eq != std::string_view::npos) level = ParseUnsigned(text.substr(eq + 1));
  if (eq == std::string_view::npos || eq == 0 || !level || *level < 1 || *level > UINT32_MAX) {
    return Usage("--element", text, "expected NAME=LEVEL with LEVEL from 1");
  }
  bas::v1::ElementLevel out;
  out.set_element(std::string(text.substr(0, eq)));
  out.set_level(static_cast<uint32_t>(*level));
  return out;
}

std::string FileUri(const std::string& path) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) absolute = path;
  // A path keeps its slashes and the other characters RFC 3986 allows in a path segment.
  return "file://" + PercentEncode(absolute.lexically_normal().string(), "/-._~!$&'()*+,;=:@");
}

Result<bas::v1::Document> DocumentFromFile(const std::string& path) {
  Result<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.error();
  bas::v1::Document document;
  document.set_uri(FileUri(path));
  document.set_sha256(Bytes(crypto::Sha256Of(*bytes)));
  return document;
}

Result<bas::v1::Document> DocumentFromFlags(std::string_view what, const std::string& file,
                                            const std::string& uri, const std::string& sha256_hex) {
  if (!file.empty()) {
    if (!sha256_hex.empty()) {
      return Usage(what, "", "give a file (its SHA-256 is computed) or --sha256, not both");
    }
    Result<bas::v1::Document> document = DocumentFromFile(file);
    if (document.ok() && !uri.empty()) document->set_uri(uri);
    return document;
  }
  if (uri.empty() || sha256_hex.empty()) {
    return Usage(what, "", "a document needs a file, or both a URI and a SHA-256");
  }
  Result<std::string> sha256 = ParseId32("--sha256", sha256_hex);
  if (!sha256.ok()) return sha256.error();
  bas::v1::Document document;
  document.set_uri(uri);
  document.set_sha256(*sha256);
  return document;
}

Result<bas::v1::Action> ParseAdmitMemberFlag(std::string_view value) {
  const std::vector<std::string> parts = SplitColons(value, 5);
  if (parts.size() < 4) {
    return Usage("--admit-member", value, "expected ID:GROUP:ROLE[+ROLE]:KEYHEX[:NAME]");
  }
  Result<bas::v1::StakeholderGroup> group = ParseGroup("--admit-member", parts[1]);
  if (!group.ok()) return group.error();
  Result<std::vector<bas::v1::Role>> roles = ParseRoles("--admit-member", parts[2]);
  if (!roles.ok()) return roles.error();
  Result<std::array<uint8_t, 32>> key = crypto::HexDecodeFixed<32>(parts[3]);
  if (!key.ok()) return Usage("--admit-member", value, "the key must be 64 hex digits");
  bas::v1::Action action;
  bas::v1::MemberInfo* member = action.mutable_admit_member()->mutable_member();
  member->set_id(parts[0]);
  member->set_group(*group);
  for (bas::v1::Role role : *roles) member->add_roles(role);
  member->set_key(Bytes(*key));
  if (parts.size() == 5) member->set_name(parts[4]);
  return action;
}

Result<bas::v1::Action> ParseRemoveMemberFlag(std::string_view value) {
  if (value.empty()) return Usage("--remove-member", value, "expected a member id");
  bas::v1::Action action;
  action.mutable_remove_member()->set_member_id(std::string(value));
  return action;
}

Result<bas::v1::Action> ParseSetRolesFlag(std::string_view value) {
  const std::vector<std::string> parts = SplitColons(value, 2);
  if (parts.size() != 2 || parts[0].empty()) {
    return Usage("--set-roles", value, "expected ID:ROLE[+ROLE]");
  }
  Result<std::vector<bas::v1::Role>> roles = ParseRoles("--set-roles", parts[1]);
  if (!roles.ok()) return roles.error();
  bas::v1::Action action;
  action.mutable_set_roles()->set_member_id(parts[0]);
  for (bas::v1::Role role : *roles) action.mutable_set_roles()->add_roles(role);
  return action;
}

Result<bas::v1::Action> ParseListSolutionFlag(std::string_view value) {
  const size_t colon = value.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Usage("--list-solution", value, "expected SOLUTION_ID:ASSESSMENT_ID_HEX");
  }
  Result<std::string> id = ParseId32("--list-solution", value.substr(colon + 1));
  if (!id.ok()) {
    return Usage("--list-solution", value, "the assessment id must be 64 hex digits");
  }
  bas::v1::Action action;
  action.mutable_list_solution()->set_solution_id(std::string(value.substr(0, colon)));
  action.mutable_list_solution()->set_assessment_id(*id);
  return action;
}

Result<bas::v1::Action> ParseDelistSolutionFlag(std::string_view value) {
  if (value.empty()) return Usage("--delist-solution", value, "expected a solution id");
  bas::v1::Action action;
  action.mutable_delist_solution()->set_solution_id(std::string(value));
  return action;
}

Result<bas::v1::Action> ParseIgfSessionFlag(std::string_view value) {
  const std::vector<std::string> parts = SplitColons(value, 3);
  std::optional<uint64_t> year = parts.size() == 3 ? ParseUnsigned(parts[0]) : std::nullopt;
  if (!year || *year > UINT32_MAX) {
    return Usage("--igf-session", value, "expected YEAR:FORMAT:TITLE");
  }
  bas::v1::SessionFormat format;
  if (!bas::v1::SessionFormat_Parse(Upper(parts[1]), &format) ||
      format == bas::v1::FORMAT_UNSPECIFIED) {
    return Usage("--igf-session", value,
                 "the format is one of " + EnumChoices(bas::v1::SessionFormat_descriptor()));
  }
  bas::v1::Action action;
  bas::v1::ScheduleIgfSession* session = action.mutable_schedule_igf_session();
  session->set_igf_year(static_cast<uint32_t>(*year));
  session->set_format(format);
  session->set_title(parts[2]);
  return action;
}

Result<bas::v1::Action> ParseResolutionFlag(std::string_view value) {
  bas::v1::Action action;
  action.mutable_resolution()->set_text(std::string(value));
  return action;
}

Result<std::vector<bas::v1::Action>> ParseActionsFile(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return text.error();
  Result<nlohmann::json> json = scenario::ParseScenarioJson(*text);
  if (!json.ok()) return Usage("--actions", path, json.error().message);
  Result<std::vector<bas::v1::Action>> actions = scenario::ParseActionList(*json);
  if (!actions.ok()) return Usage("--actions", path, actions.error().message);
  return actions;
}

Result<std::vector<bas::v1::Action>> BuildActions(const std::vector<ActionFlag>& flags) {
  using Parser = Result<bas::v1::Action> (*)(std::string_view);
  static const std::vector<std::pair<std::string_view, Parser>> kSingle = {
      {"resolution", &ParseResolutionFlag},      {"admit-member", &ParseAdmitMemberFlag},
      {"remove-member", &ParseRemoveMemberFlag}, {"set-roles", &ParseSetRolesFlag},
      {"list-solution", &ParseListSolutionFlag}, {"delist-solution", &ParseDelistSolutionFlag},
      {"igf-session", &ParseIgfSessionFlag},
  };

  // First the annual plans with their document flags: each document flag belongs to the
  // nearest --annual-plan before it, or to the only one wherever it stands.
  std::vector<PendingPlan> plans;
  for (const ActionFlag& flag : flags) {
    if (flag.name == "annual-plan") plans.push_back(PendingPlan{flag.value, "", "", ""});
  }
  size_t plans_seen = 0;
  for (const ActionFlag& flag : flags) {
    if (flag.name == "annual-plan") ++plans_seen;
    if (flag.name != "document" && flag.name != "uri" && flag.name != "sha256") continue;
    const size_t owner = plans.size() == 1 ? 0 : plans_seen - 1;
    if (plans.empty() || (plans.size() > 1 && plans_seen == 0)) {
      return Usage("--" + flag.name, flag.value, "belongs to an --annual-plan before it");
    }
    PendingPlan& plan = plans[owner];
    std::string& field = flag.name == "document" ? plan.document
                         : flag.name == "uri"    ? plan.uri
                                                 : plan.sha256;
    if (!field.empty()) {
      return Usage("--" + flag.name, flag.value, "given twice for --annual-plan " + plan.year);
    }
    field = flag.value;
  }

  std::vector<bas::v1::Action> actions;
  size_t next_plan = 0;
  for (const ActionFlag& flag : flags) {
    if (flag.name == "document" || flag.name == "uri" || flag.name == "sha256") continue;
    if (flag.name == "annual-plan") {
      const PendingPlan& plan = plans[next_plan++];
      std::optional<uint64_t> year = ParseUnsigned(plan.year);
      if (!year || *year > UINT32_MAX) return Usage("--annual-plan", plan.year, "expected a year");
      Result<bas::v1::Document> document = DocumentFromFlags(
          "--annual-plan " + plan.year + " (--document FILE, or --uri and --sha256)", plan.document,
          plan.uri, plan.sha256);
      if (!document.ok()) return document.error();
      bas::v1::ApproveAnnualPlan* approve = actions.emplace_back().mutable_approve_annual_plan();
      approve->set_year(static_cast<uint32_t>(*year));
      *approve->mutable_document() = std::move(*document);
      continue;
    }
    if (flag.name == "actions") {
      Result<std::vector<bas::v1::Action>> loaded = ParseActionsFile(flag.value);
      if (!loaded.ok()) return loaded.error();
      actions.insert(actions.end(), loaded->begin(), loaded->end());
      continue;
    }
    auto parser = std::find_if(kSingle.begin(), kSingle.end(),
                               [&](const auto& entry) { return entry.first == flag.name; });
    if (parser == kSingle.end()) return Usage("--" + flag.name, "", "not an action flag");
    Result<bas::v1::Action> action = parser->second(flag.value);
    if (!action.ok()) return action.error();
    actions.push_back(std::move(*action));
  }
  if (actions.empty()) {
    return Usage("propose", "",
                 "no actions: give at least one of --resolution, --annual-plan, --admit-member, "
                 "--remove-member, --set-roles, --list-solution, --delist-solution, "
                 "--igf-session, --actions");
  }
  return actions;
}

Result<bas::v1::TxBody> BuildPropose(const ProposeFlags& flags) {
  Result<std::vector<bas::v1::Action>> actions = BuildActions(flags.actions);
  if (!actions.ok()) return actions.error();
  bas::v1::TxBody body;
  bas::v1::Propose* propose = body.mutable_propose();
  propose->set_coalition(flags.coalition);
  propose->set_title(flags.title);
  propose->set_summary(flags.summary);
  for (bas::v1::Action& action : *actions) *propose->add_actions() = std::move(action);
  return body;
}

Result<bas::v1::TxBody> BuildVote(const VoteFlags& flags) {
  Result<std::string> id = ParseId32("PROPOSAL_ID", flags.proposal_id);
  if (!id.ok()) return id.error();
  Result<bas::v1::VoteChoice> choice = ParseVoteChoice(flags.choice);
  if (!choice.ok()) return choice.error();
  bas::v1::TxBody body;
  body.mutable_vote()->set_proposal_id(*id);
  body.mutable_vote()->set_choice(*choice);
  body.mutable_vote()->set_reason(flags.reason);
  return body;
}

Result<VoteFlags> ParseVoteSpec(std::string_view spec) {
  const std::vector<std::string> parts = SplitColons(spec, 3);
  if (parts.size() < 2) return Usage("--vote", spec, "expected PROPOSAL_ID:CHOICE[:REASON]");
  return VoteFlags{parts[0], parts[1], parts.size() == 3 ? parts[2] : ""};
}

Result<bas::v1::TxBody> BuildWithdraw(const std::string& proposal_id_hex) {
  Result<std::string> id = ParseId32("PROPOSAL_ID", proposal_id_hex);
  if (!id.ok()) return id.error();
  bas::v1::TxBody body;
  body.mutable_withdraw()->set_proposal_id(*id);
  return body;
}

Result<bas::v1::TxBody> BuildApply(const ApplyFlags& flags) {
  Result<bas::v1::StakeholderGroup> group = ParseGroup("--group", flags.group);
  if (!group.ok()) return group.error();
  bas::v1::TxBody body;
  bas::v1::ApplyForMembership* apply = body.mutable_apply();
  apply->set_coalition(flags.coalition);
  apply->set_member_id(flags.member_id);
  apply->set_group(*group);
  apply->set_name(flags.name);
  apply->set_organisation(flags.organisation);
  apply->set_statement(flags.statement);
  return body;
}

Result<bas::v1::TxBody> BuildAssess(const AssessFlags& flags) {
  Result<int64_t> valid_until = ParseDateOrUnix("--valid-until", flags.valid_until);
  if (!valid_until.ok()) return valid_until.error();
  std::vector<bas::v1::ElementLevel> elements;
  for (const std::string& text : flags.elements) {
    Result<bas::v1::ElementLevel> element = ParseElementLevel(text);
    if (!element.ok()) return element.error();
    elements.push_back(std::move(*element));
  }
  std::sort(elements.begin(), elements.end(),
            [](const auto& a, const auto& b) { return a.element() < b.element(); });
  bas::v1::TxBody body;
  bas::v1::SubmitAssessment* assessment = body.mutable_submit_assessment();
  assessment->set_solution_id(flags.solution_id);
  assessment->set_solution_name(flags.solution_name);
  assessment->set_vendor(flags.vendor);
  assessment->set_bmm_version(flags.bmm_version);
  assessment->set_level(flags.level);
  for (bas::v1::ElementLevel& element : elements) *assessment->add_elements() = std::move(element);
  if (!flags.report_file.empty() || !flags.report_uri.empty() || !flags.report_sha256.empty()) {
    Result<bas::v1::Document> report =
        DocumentFromFlags("the report (--report FILE, or --report-uri and --report-sha256)",
                          flags.report_file, flags.report_uri, flags.report_sha256);
    if (!report.ok()) return report.error();
    *assessment->mutable_report() = std::move(*report);
  }
  assessment->set_assessed_at(0);  // the block time
  assessment->set_valid_until(*valid_until);
  return body;
}

Result<bas::v1::TxBody> BuildMeeting(const MeetingFlags& flags) {
  Result<bas::v1::Document> minutes =
      DocumentFromFlags("the minutes (--minutes FILE, or --uri and --sha256)", flags.minutes_file,
                        flags.uri, flags.sha256);
  if (!minutes.ok()) return minutes.error();
  bas::v1::TxBody body;
  bas::v1::RecordMeeting* meeting = body.mutable_record_meeting();
  meeting->set_coalition(flags.coalition);
  meeting->set_date(flags.date);
  *meeting->mutable_minutes() = std::move(*minutes);
  return body;
}

std::string DescribeTx(const bas::v1::TxBody& body) {
  switch (body.tx_case()) {
    case bas::v1::TxBody::kPropose: {
      std::string out = "propose \"" + body.propose().title() + "\" in " +
                        body.propose().coalition() + " (" +
                        std::to_string(body.propose().actions_size()) + " action";
      return out + (body.propose().actions_size() == 1 ? ")" : "s)");
    }
    case bas::v1::TxBody::kVote: {
      std::string out = "vote " + bas::v1::VoteChoice_Name(body.vote().choice()) + " on proposal " +
                        crypto::HexEncode(body.vote().proposal_id());
      if (!body.vote().reason().empty()) out += ": \"" + body.vote().reason() + "\"";
      return out;
    }
    case bas::v1::TxBody::kWithdraw:
      return "withdraw proposal " + crypto::HexEncode(body.withdraw().proposal_id());
    case bas::v1::TxBody::kApply:
      return "apply to " + body.apply().coalition() + " as " + body.apply().member_id() + " (" +
             bas::v1::StakeholderGroup_Name(body.apply().group()) + ")";
    case bas::v1::TxBody::kSubmitAssessment:
      return "assessment of " + body.submit_assessment().solution_id() + " under " +
             body.submit_assessment().bmm_version() + ", level " +
             std::to_string(body.submit_assessment().level());
    case bas::v1::TxBody::kRecordMeeting:
      return "meeting of " + body.record_meeting().coalition() + " on " +
             body.record_meeting().date() + ", minutes " + body.record_meeting().minutes().uri();
    case bas::v1::TxBody::kRotateKey:
      return "rotate key to " + crypto::HexEncode(body.rotate_key().new_key());
    case bas::v1::TxBody::TX_NOT_SET:
      break;
  }
  return "an empty tx";
}

}  // namespace bas::client
