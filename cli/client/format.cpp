#include "cli/client/format.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstdio>

#include "cli/client/errors.h"
#include "crypto/encoding.h"
#include "governance/rules.h"

namespace bas::client {
namespace {

size_t DisplayWidth(std::string_view text) {
  // UTF-8 continuation bytes take no column of their own.
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string OrDash(std::string_view text) { return text.empty() ? "-" : std::string(text); }

std::string Num(uint64_t n) { return std::to_string(n); }

std::string DecisionNumber(const bas::v1::Decision& d) {
  return d.coalition() + "#" + std::to_string(d.number());
}

std::string StatusName(bas::v1::Proposal::Status status) {
  return bas::v1::Proposal::Status_Name(status);
}

std::string GroupTotals(const bas::v1::ProposalTally& tally, std::string_view separator) {
  std::string out;
  for (const bas::v1::GroupTally& g : tally.groups()) {
    if (g.eligible() == 0) continue;
    if (!out.empty()) out += separator;
    out += GroupName(g.group()) + "=" + Num(g.yes()) + "/" + Num(g.no()) + "/" + Num(g.abstain()) +
           "/" + Num(g.eligible());
  }
  return out;
}

std::string DissentText(const bas::v1::Decision& d, std::string_view separator) {
  std::string out;
  for (const bas::v1::Dissent& entry : d.dissent()) {
    if (!out.empty()) out += separator;
    out += entry.member_id() + ": " + (entry.reason().empty() ? "(no reason)" : entry.reason());
  }
  return out;
}

std::string FormatDecisionsTable(const std::vector<bas::v1::Decision>& decisions) {
  if (decisions.empty()) return "no decisions yet\n";
  TextTable main(
      {"NUMBER", "STATUS", "FAILED TEST", "YES", "NO", "ABSTAIN", "ELIGIBLE", "CLOSED", "TITLE"});
  for (size_t c = 3; c <= 6; ++c) main.AlignRight(c);
  TextTable groups({"NUMBER", "GROUP", "YES", "NO", "ABSTAIN", "ELIGIBLE"});
  for (size_t c = 2; c <= 5; ++c) groups.AlignRight(c);
  TextTable dissent({"NUMBER", "MEMBER", "REASON"});
  for (const bas::v1::Decision& d : decisions) {
    const bas::v1::ProposalTally& t = d.tally();
    main.AddRow({DecisionNumber(d), StatusName(d.status()), OrDash(d.failed_test()), Num(t.yes()),
                 Num(t.no()), Num(t.abstain()), Num(t.eligible()), FormatUnixTime(d.close_time()),
                 d.title()});
    for (const bas::v1::GroupTally& g : t.groups()) {
      if (g.eligible() == 0) continue;
      groups.AddRow({DecisionNumber(d), GroupName(g.group()), Num(g.yes()), Num(g.no()),
                     Num(g.abstain()), Num(g.eligible())});
    }
    for (const bas::v1::Dissent& entry : d.dissent()) {
      dissent.AddRow({DecisionNumber(d), entry.member_id(), OrDash(entry.reason())});
    }
  }
  std::string out = main.Render();
  out += "\nPer group:\n" + groups.Render();
  out += "\nDissent (every NO, with its reason):\n";
  out += dissent.empty() ? "none\n" : dissent.Render();
  return out;
}

std::string FormatDecisionsCsv(const std::vector<bas::v1::Decision>& decisions) {
  std::string out =
      CsvRow({"coalition", "number", "proposal_id", "title", "status", "failed_test", "yes", "no",
              "abstain", "eligible", "close_height", "close_time", "groups", "dissent"});
  for (const bas::v1::Decision& d : decisions) {
    const bas::v1::ProposalTally& t = d.tally();
    out += CsvRow({d.coalition(), Num(d.number()), crypto::HexEncode(d.proposal_id()), d.title(),
                   StatusName(d.status()), d.failed_test(), Num(t.yes()), Num(t.no()),
                   Num(t.abstain()), Num(t.eligible()), Num(d.close_height()),
                   std::to_string(d.close_time()), GroupTotals(t, "; "), DissentText(d, "; ")});
  }
  return out;
}

std::string FormatDecisionsMarkdown(const std::vector<bas::v1::Decision>& decisions) {
  std::string out =
      "| Number | Title | Status | Failed test | Yes | No | Abstain | Eligible | Closed | "
      "Per group (yes/no/abstain/eligible) | Dissent |\n"
      "|---|---|---|---|---:|---:|---:|---:|---|---|---|\n";
  for (const bas::v1::Decision& d : decisions) {
    const bas::v1::ProposalTally& t = d.tally();
    std::string groups = GroupTotals(t, ", ");
    std::string dissent = DissentText(d, "; ");
    out += "| " + MarkdownCell(DecisionNumber(d)) + " | " + MarkdownCell(d.title()) + " | " +
           StatusName(d.status()) + " | " + MarkdownCell(OrDash(d.failed_test())) + " | " +
           Num(t.yes()) + " | " + Num(t.no()) + " | " + Num(t.abstain()) + " | " +
           Num(t.eligible()) + " | " + FormatUnixTime(d.close_time()) + " | " +
           MarkdownCell(OrDash(groups)) + " | " + MarkdownCell(OrDash(dissent)) + " |\n";
  }
  return out;
}

// "ok", or which of the group's two tests fails so far.
std::string GroupTest(const bas::v1::EffectiveRule& rule, const bas::v1::GroupTally& g) {
  const uint64_t cast = g.yes() + g.no() + g.abstain();
  const bool quorum = cast * governance::kPpm >= uint64_t{rule.group_quorum_ppm()} * g.eligible();
  const bool support =
      g.yes() + g.no() > 0 &&
      g.yes() * governance::kPpm > uint64_t{rule.group_threshold_ppm()} * (g.yes() + g.no());
  if (!quorum) return "quorum not met";
  if (!support) return "support not met";
  return "ok";
}

}  // namespace

std::string GroupName(int group) {
  return bas::v1::StakeholderGroup_Name(static_cast<bas::v1::StakeholderGroup>(group));
}

std::string Roles(const bas::v1::MemberInfo& info) {
  std::string out;
  for (int role : info.roles()) {
    if (!out.empty()) out += "+";
    out += bas::v1::Role_Name(static_cast<bas::v1::Role>(role));
  }
  return out;
}

TextTable::TextTable(std::vector<std::string> headers)
    : headers_(std::move(headers)), right_(headers_.size(), false) {}

void TextTable::AddRow(std::vector<std::string> cells) {
  assert(cells.size() == headers_.size());
  rows_.push_back(std::move(cells));
}

void TextTable::AlignRight(size_t column) {
  if (column < right_.size()) right_[column] = true;
}

std::string TextTable::Render() const {
  std::vector<size_t> widths(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) widths[c] = DisplayWidth(headers_[c]);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }
  std::string out;
  auto render_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string pad(widths[c] - DisplayWidth(row[c]), ' ');
      if (c > 0) line += "  ";
      line += right_[c] ? pad + row[c] : row[c] + pad;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  render_row(headers_);
  for (const auto& row : rows_) render_row(row);
  return out;
}

std::string CsvRow(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    const std::string& f = fields[i];
    if (f.find_first_of(",\"\r\n") == std::string::npos) {
      out += f;
      continue;
    }
    out += '"';
    for (char c : f) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  return out + "\r\n";
}

std::string MarkdownCell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatUnixTime(int64_t unix_seconds) {
  if (unix_seconds == 0) return "-";
  const std::chrono::sys_seconds t{std::chrono::seconds(unix_seconds)};
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day date{days};
  const std::chrono::hh_mm_ss time{t - days};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u %02d:%02d:%02d UTC",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()));
  return buffer;
}

std::string FormatPpm(uint64_t ppm) {
  std::string out = std::to_string(ppm / 10000);
  std::string fraction = std::to_string(ppm % 10000);
  fraction.insert(0, 4 - fraction.size(), '0');
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  if (!fraction.empty()) out += "." + fraction;
  return out + "%";
}

std::string ShortHex(std::string_view bytes) {
  return crypto::HexEncode(bytes.substr(0, std::min<size_t>(bytes.size(), 6)));
}

std::string DescribeRule(const bas::v1::EffectiveRule& rule) {
  std::string out;
  if (rule.mode() == bas::v1::CONSENSUS_CALL) {
    out = "CONSENSUS_CALL, objections at most " + FormatPpm(rule.objection_ppm());
  } else {
    out = "MAJORITY, quorum " + FormatPpm(rule.quorum_ppm()) + ", threshold over " +
          FormatPpm(rule.threshold_ppm());
    if (rule.groups_required()) {
      out += ", in every group: quorum " + FormatPpm(rule.group_quorum_ppm()) +
             ", threshold over " + FormatPpm(rule.group_threshold_ppm());
    }
  }
  return out + "; voting period " + std::to_string(rule.voting_period_s()) + " s";
}

std::string DescribeAction(const bas::v1::Action& action) {
  switch (action.kind_case()) {
    case bas::v1::Action::kAdmitMember: {
      const bas::v1::MemberInfo& m = action.admit_member().member();
      return "admit_member " + m.id() + " (" + GroupName(m.group()) + ", " + Roles(m) + ", key " +
             ShortHex(m.key()) + "...)";
    }
    case bas::v1::Action::kRemoveMember:
      return "remove_member " + action.remove_member().member_id();
    case bas::v1::Action::kSetRoles: {
      bas::v1::MemberInfo roles;
      *roles.mutable_roles() = action.set_roles().roles();
      return "set_roles " + action.set_roles().member_id() + " " + Roles(roles);
    }
    case bas::v1::Action::kApproveAnnualPlan:
      return "approve_annual_plan " + std::to_string(action.approve_annual_plan().year()) + ": " +
             action.approve_annual_plan().document().uri() + " (sha256 " +
             crypto::HexEncode(action.approve_annual_plan().document().sha256()) + ")";
    case bas::v1::Action::kListSolution:
      return "list_solution " + action.list_solution().solution_id() + " (assessment " +
             crypto::HexEncode(action.list_solution().assessment_id()) + ")";
    case bas::v1::Action::kDelistSolution:
      return "delist_solution " + action.delist_solution().solution_id();
    case bas::v1::Action::kScheduleIgfSession:
      return "schedule_igf_session " + std::to_string(action.schedule_igf_session().igf_year()) +
             " " + bas::v1::SessionFormat_Name(action.schedule_igf_session().format()) + ": " +
             action.schedule_igf_session().title();
    case bas::v1::Action::kSetBmmModel:
      return "set_bmm_model " + action.set_bmm_model().model().version();
    case bas::v1::Action::kChangeRules:
      return "change_rules " + action.change_rules().action_type();
    case bas::v1::Action::kUpdateValidators:
      return "update_validators (" + std::to_string(action.update_validators().updates_size()) +
             " updates)";
    case bas::v1::Action::kCreateCoalition:
      return "create_coalition " + action.create_coalition().id() + " (" +
             action.create_coalition().name() + ")";
    case bas::v1::Action::kResolution:
      return "resolution: " + action.resolution().text();
    case bas::v1::Action::KIND_NOT_SET:
      break;
  }
  return "(empty action)";
}

Result<DecisionsFormat> ParseDecisionsFormat(std::string_view text) {
  if (text == "table") return DecisionsFormat::kTable;
  if (text == "csv") return DecisionsFormat::kCsv;
  if (text == "md" || text == "markdown") return DecisionsFormat::kMarkdown;
  return Error{std::string(kInvalidInput),
               "unknown format " + std::string(text) + ": expected table, json, csv or md"};
}

std::string FormatDecisions(const std::vector<bas::v1::Decision>& decisions,
                            DecisionsFormat format) {
  switch (format) {
    case DecisionsFormat::kTable:
      return FormatDecisionsTable(decisions);
    case DecisionsFormat::kCsv:
      return FormatDecisionsCsv(decisions);
    case DecisionsFormat::kMarkdown:
      return FormatDecisionsMarkdown(decisions);
  }
  return "";
}

std::string FormatProposal(const ProposalView& view) {
  const bas::v1::Proposal& p = view.proposal;
  const bas::v1::ProposalTally& t = view.tally;
  const bas::v1::EffectiveRule& rule = p.rule();
  std::string out;
  out += "proposal   " + view.id_hex + "\n";
  out += "coalition  " + p.coalition() + "\n";
  out += "title      " + p.title() + "\n";
  if (!p.summary().empty()) out += "summary    " + p.summary() + "\n";
  out += "proposer   " +
         (p.proposer_member_id().empty() ? "applicant " + crypto::HexEncode(p.proposer_key())
                                         : p.proposer_member_id()) +
         "\n";
  if (p.is_application() && !p.statement().empty() && p.statement() != p.summary()) {
    out += "statement  " + p.statement() + "\n";
  }
  for (int i = 0; i < p.actions_size(); ++i) {
    out += (i == 0 ? "actions    " : "           ") + std::to_string(i + 1) + ". " +
           DescribeAction(p.actions(i)) + "\n";
  }
  out += "rule       " + DescribeRule(rule) + "\n";
  out += "opened     " + FormatUnixTime(p.created_time()) + " (height " +
         std::to_string(p.created_height()) + ")\n";
  out += "ends       " + FormatUnixTime(p.end_time()) + "\n";
  out += "status     " + StatusName(p.status()) + "\n\n";

  const bool group_tests = rule.mode() == bas::v1::MAJORITY && rule.groups_required();
  std::vector<std::string> headers = {"GROUP", "YES", "NO", "ABSTAIN", "ELIGIBLE"};
  if (group_tests) headers.push_back("GROUP TEST");
  TextTable table(headers);
  for (size_t c = 1; c <= 4; ++c) table.AlignRight(c);
  for (const bas::v1::GroupTally& g : t.groups()) {
    if (g.eligible() == 0) continue;
    std::vector<std::string> row = {GroupName(g.group()), Num(g.yes()), Num(g.no()),
                                    Num(g.abstain()), Num(g.eligible())};
    if (group_tests) row.push_back(GroupTest(rule, g));
    table.AddRow(std::move(row));
  }
  std::vector<std::string> total = {"TOTAL", Num(t.yes()), Num(t.no()), Num(t.abstain()),
                                    Num(t.eligible())};
  if (group_tests) total.push_back("");
  table.AddRow(std::move(total));
  out += table.Render() + "\n";

  if (p.status() == bas::v1::Proposal::ACTIVE) {
    const std::string failed = governance::FailedTest(rule, t);
    out += "so far     " +
           (failed.empty() ? std::string("passes (if it closed now)")
                           : "fails " + failed + " (if it closed now)") +
           "\n";
  }
  if (view.decision) {
    const bas::v1::Decision& d = *view.decision;
    out += "decision   " + DecisionNumber(d) + " " + StatusName(d.status());
    if (!d.failed_test().empty()) out += ", failed test " + d.failed_test();
    out +=
        ", closed " + FormatUnixTime(d.close_time()) + " (height " + Num(d.close_height()) + ")\n";
  }
  if (!view.votes.empty()) {
    TextTable votes({"MEMBER", "GROUP", "CHOICE", "HEIGHT", "REASON"});
    for (const bas::v1::VoteRecord& v : view.votes) {
      votes.AddRow({v.member_id(), GroupName(v.group()), bas::v1::VoteChoice_Name(v.choice()),
                    Num(v.height()), OrDash(v.reason())});
    }
    out += "\n" + votes.Render();
  }
  return out;
}

std::string FormatProposalList(const std::vector<ProposalRow>& rows) {
  if (rows.empty()) return "no proposals\n";
  TextTable table(
      {"ID", "COALITION", "STATUS", "YES", "NO", "ABSTAIN", "ELIGIBLE", "ENDS", "TITLE"});
  for (size_t c = 3; c <= 6; ++c) table.AlignRight(c);
  for (const ProposalRow& row : rows) {
    const bas::v1::ProposalTally& t = row.tally;
    table.AddRow({row.id_hex.substr(0, 12), row.proposal.coalition(),
                  StatusName(row.proposal.status()), Num(t.yes()), Num(t.no()), Num(t.abstain()),
                  Num(t.eligible()), FormatUnixTime(row.proposal.end_time()),
                  row.proposal.title()});
  }
  return table.Render() + "(ids shortened: commands take any unique prefix or the full id)\n";
}

std::string FormatMembers(const std::vector<MemberRow>& rows) {
  if (rows.empty()) return "no members\n";
  TextTable table({"COALITION", "ID", "GROUP", "ROLES", "STATUS", "KEY", "NAME", "ORGANISATION"});
  for (const MemberRow& row : rows) {
    const bas::v1::MemberInfo& info = row.member.info();
    table.AddRow({row.coalition, info.id(), GroupName(info.group()), Roles(info),
                  row.member.active() ? "active" : "removed", ShortHex(info.key()),
                  OrDash(info.name()), OrDash(info.organisation())});
  }
  return table.Render();
}

std::string FormatDirectory(const std::vector<bas::v1::Listing>& listings) {
  if (listings.empty()) return "no listings in the directory\n";
  TextTable table({"SOLUTION", "NAME", "VENDOR", "BMM", "LEVEL", "STATUS", "VALID UNTIL",
                   "ASSESSMENT", "COALITION"});
  table.AlignRight(4);
  for (const bas::v1::Listing& l : listings) {
    table.AddRow({l.solution_id(), l.solution_name(), OrDash(l.vendor()), l.bmm_version(),
                  Num(l.level()), bas::v1::Listing::Status_Name(l.status()),
                  FormatUnixTime(l.valid_until()), ShortHex(l.assessment_id()), l.coalition()});
  }
  return table.Render();
}

std::string FormatAssessments(const std::vector<bas::v1::Assessment>& assessments) {
  if (assessments.empty()) return "no assessments\n";
  TextTable table({"ID", "SOLUTION", "VENDOR", "BMM", "LEVEL", "ELEMENTS", "ASSESSOR", "ASSESSED",
                   "VALID UNTIL", "REPORT"});
  table.AlignRight(4);
  for (const bas::v1::Assessment& a : assessments) {
    std::string elements;
    for (const bas::v1::ElementLevel& e : a.elements()) {
      if (!elements.empty()) elements += ", ";
      elements += e.element() + "=" + Num(e.level());
    }
    table.AddRow({ShortHex(a.id()), a.solution_id(), OrDash(a.vendor()), a.bmm_version(),
                  Num(a.level()), OrDash(elements), OrDash(a.assessor_member_id()),
                  FormatUnixTime(a.assessed_at()), FormatUnixTime(a.valid_until()),
                  OrDash(a.report().uri())});
  }
  return table.Render();
}

std::string FormatMeetings(const std::vector<bas::v1::Meeting>& meetings) {
  if (meetings.empty()) return "no meetings recorded\n";
  TextTable table({"COALITION", "DATE", "RECORDED BY", "HEIGHT", "MINUTES", "SHA-256"});
  table.AlignRight(3);
  for (const bas::v1::Meeting& m : meetings) {
    table.AddRow({m.coalition(), m.date(), m.recorded_by(), Num(m.height()), m.minutes().uri(),
                  crypto::HexEncode(m.minutes().sha256())});
  }
  return table.Render();
}

}  // namespace bas::client
