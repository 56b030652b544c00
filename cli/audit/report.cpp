#include "cli/audit/report.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <ostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/client/errors.h"
#include "cli/client/format.h"
#include "crypto/encoding.h"
#include "governance/query.h"
#include "node/chain/workers.h"
#include "proto/json.h"

namespace bas::audit {
namespace {

using client::DecisionsFormat;
using client::FormatDecisions;
using client::FormatUnixTime;
using client::GroupName;
using client::Roles;

using ordered_json = nlohmann::ordered_json;

// ---- a report as headings, paragraphs, lists and tables, rendered as Markdown or HTML ----

// One heading, paragraph, bullet list or table.
struct Part {
  enum class Kind { kHeading, kParagraph, kBullets, kTable } kind;
  int level = 0;                               // kHeading
  std::string text;                            // kHeading, kParagraph
  std::vector<std::string> items;              // kBullets; kTable: the headers
  std::vector<std::vector<std::string>> rows;  // kTable
};

// Text is plain (user text included): each renderer escapes it.
class ReportDocument {
 public:
  void AddHeading(int level, std::string text) {
    parts_.push_back({Part::Kind::kHeading, level, std::move(text), {}, {}});
  }
  void AddParagraph(std::string text) {
    parts_.push_back({Part::Kind::kParagraph, 0, std::move(text), {}, {}});
  }
  void AddBullets(std::vector<std::string> items) {
    parts_.push_back({Part::Kind::kBullets, 0, "", std::move(items), {}});
  }
  // An empty table is shown as the paragraph `none`.
  void AddTable(std::vector<std::string> headers, std::vector<std::vector<std::string>> rows,
                std::string none) {
    if (rows.empty()) {
      AddParagraph(std::move(none));
    } else {
      parts_.push_back({Part::Kind::kTable, 0, "", std::move(headers), std::move(rows)});
    }
  }

  void WriteMarkdown(std::ostream& out) const {
    bool first = true;
    for (const Part& part : parts_) {
      if (!first) out << "\n";
      first = false;
      switch (part.kind) {
        case Part::Kind::kHeading:
          out << std::string(static_cast<size_t>(part.level), '#') + " " + MdText(part.text) + "\n";
          break;
        case Part::Kind::kParagraph:
          out << MdText(part.text) + "\n";
          break;
        case Part::Kind::kBullets:
          for (const std::string& item : part.items) out << "- " + MdText(item) + "\n";
          break;
        case Part::Kind::kTable:
          out << MdRow(part.items) + "|";
          for (size_t i = 0; i < part.items.size(); ++i) out << "---|";
          out << "\n";
          for (const auto& row : part.rows) out << MdRow(row);
          break;
      }
    }
  }

  void WriteHtml(std::ostream& out, std::string_view title) const {
    out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
        << HtmlText(title)
        << "</title>\n<style>body{font-family:sans-serif;max-width:72em;margin:2em auto;padding:0 "
           "1em}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #999;padding:"
           ".3em .6em;text-align:left;vertical-align:top}code{word-break:break-all}</style>\n"
           "</head>\n<body>\n";
    for (const Part& part : parts_) {
      switch (part.kind) {
        case Part::Kind::kHeading: {
          const std::string tag = "h" + std::to_string(part.level);
          out << "<" + tag + ">" + HtmlText(part.text) + "</" + tag + ">\n";
          break;
        }
        case Part::Kind::kParagraph:
          out << "<p>" + HtmlText(part.text) + "</p>\n";
          break;
        case Part::Kind::kBullets:
          out << "<ul>\n";
          for (const std::string& item : part.items) out << "<li>" + HtmlText(item) + "</li>\n";
          out << "</ul>\n";
          break;
        case Part::Kind::kTable:
          out << "<table>\n<tr>";
          for (const std::string& h : part.items) out << "<th>" + HtmlText(h) + "</th>";
          out << "</tr>\n";
          for (const auto& row : part.rows) {
            out << "<tr>";
            for (const std::string& cell : row) out << "<td>" + HtmlText(cell) + "</td>";
            out << "</tr>\n";
          }
          out << "</table>\n";
          break;
      }
    }
    out << "</body>\n</html>\n";
  }

 private:
  // Markdown: characters that would start markup are escaped (an underscore or '#' only where
  // it could: not inside a word, as in "PRIVATE_SECTOR" or "bas-dc#2"), line breaks become
  // spaces.
  static std::string MdText(std::string_view text) {
    auto word = [&](size_t i) {
      return i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) != 0);
    };
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '\n' || c == '\r') {
        out += ' ';
        continue;
      }
      const bool inside_word = i > 0 && word(i - 1) && word(i + 1);
      if (std::string_view("\\`*[]<>|").find(c) != std::string_view::npos ||
          ((c == '_' || c == '#') && !inside_word)) {
        out += '\\';
      }
      out += c;
    }
    return out;
  }
  static std::string MdRow(const std::vector<std::string>& cells) {
    std::string out = "|";
    for (const std::string& c : cells) out += " " + MdText(c) + " |";
    return out + "\n";
  }
  static std::string HtmlText(std::string_view text) {
    std::string out;
    for (char c : text) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        default:
          out += c;
      }
    }
    return out;
  }

  std::vector<Part> parts_;
};

// ---- field formatting ----

std::string Num(uint64_t n) { return std::to_string(n); }
std::string Hex(std::string_view bytes) { return crypto::HexEncode(bytes); }
std::string Hex(const crypto::Hash32& h) { return crypto::HexEncode(crypto::ByteSpan(h)); }
std::string OrDash(std::string_view text) { return text.empty() ? "-" : std::string(text); }
std::string DecisionNumber(const bas::v1::Decision& d) {
  return d.coalition() + "#" + std::to_string(d.number());
}
std::string GroupTotals(const bas::v1::ProposalTally& tally) {
  std::string out;
  for (const bas::v1::GroupTally& g : tally.groups()) {
    if (g.eligible() == 0) continue;
    if (!out.empty()) out += ", ";
    out += GroupName(g.group()) + " " + Num(g.yes()) + "/" + Num(g.no()) + "/" + Num(g.abstain()) +
           "/" + Num(g.eligible());
  }
  return out;
}
std::string EventKind(bas::v1::MembershipEvent::Kind kind) {
  return bas::v1::MembershipEvent::Kind_Name(kind);
}
std::string ListingStatus(bas::v1::Listing::Status s) { return bas::v1::Listing::Status_Name(s); }
std::string DocumentText(const bas::v1::Document& d) {
  return d.uri() + " (sha256 " + Hex(d.sha256()) + ")";
}

// A record in the proto3 JSON mapping, compact.
std::string RecordText(const google::protobuf::Message& m) {
  Result<std::string> text = proto::PrintJson(m);
  return text.ok() ? std::move(*text) : "null";  // every record we hold prints
}

ordered_json RecordJson(const google::protobuf::Message& m) {
  return ordered_json::parse(RecordText(m));
}

// Appends compact JSON (no whitespace outside strings, as protobuf and nlohmann's dump() write
// it) laid out as nlohmann's dump(2) lays it out, each line after the first indented by `pad`
// more. A register of hundreds of thousands of dissent entries went through a parse and a
// dump of nlohmann's tree per record, more time than the rest of the report.
void AppendIndented(std::string_view json, std::string_view pad, std::string* out) {
  int depth = 0;
  bool in_string = false;
  auto new_line = [&] {
    out->push_back('\n');
    out->append(pad);
    out->append(static_cast<size_t>(2 * depth), ' ');
  };
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      out->push_back(c);
      if (c == '\\' && i + 1 < json.size()) {
        out->push_back(json[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        out->push_back(c);
        break;
      case '{':
      case '[':
        out->push_back(c);
        if (i + 1 < json.size() && (json[i + 1] == '}' || json[i + 1] == ']')) {
          out->push_back(json[++i]);  // an empty one stays "{}" or "[]"
        } else {
          ++depth;
          new_line();
        }
        break;
      case '}':
      case ']':
        --depth;
        new_line();
        out->push_back(c);
        break;
      case ',':
        out->push_back(c);
        new_line();
        break;
      case ':':
        out->append(": ");
        break;
      default:
        out->push_back(c);
    }
  }
}

// Pretty JSON written piece by piece to a stream: a large ledger's register (hundreds of
// thousands of dissent entries) is never held as one JSON tree or one string. Each record is
// printed through nlohmann and indented for its depth.
class JsonStream {
 public:
  explicit JsonStream(std::ostream& out)
      : out_(out), workers_(std::max(1u, std::thread::hardware_concurrency())) {}
  // '{' or '['.
  void Open(char bracket) {
    Separate();
    out_ << bracket;
    counts_.push_back(0);
  }
  // '}' or ']'; an empty one stays on its line ("[]").
  void Close(char bracket) {
    const bool empty = counts_.back() == 0;
    counts_.pop_back();
    if (!empty) NewLine();
    out_ << bracket;
  }
  void Key(std::string_view name) {
    Separate();
    out_ << '"' << name << "\": ";
    after_key_ = true;
  }
  void Value(const ordered_json& value) {
    Compact(value.dump(-1, ' ', false, ordered_json::error_handler_t::replace));
  }
  // A record in the proto3 JSON mapping.
  void Record(const google::protobuf::Message& record) { Compact(RecordText(record)); }
  // Printing records is most of a report's time (protobuf prints JSON by way of the binary
  // encoding and a type resolver: 0.2 s for the 705 decisions of the audit benchmark, on one
  // core after the replay): every core prints a batch, which is then written in order.
  template <typename T>
  void Records(const std::vector<T>& records) {
    Open('[');
    constexpr size_t kBatch = 64;
    for (size_t start = 0; start < records.size(); start += kBatch) {
      const size_t n = std::min(kBatch, records.size() - start);
      texts_.assign(n, std::string());
      workers_.ForEach(n, [&](size_t i) { texts_[i] = RecordText(records[start + i]); });
      for (const std::string& text : texts_) Compact(text);
    }
    Close(']');
  }

 private:
  // Before a key or an element: a comma after the previous one, then a new line.
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (counts_.empty()) return;
    if (counts_.back()++ > 0) out_ << ',';
    NewLine();
  }
  void NewLine() { out_ << '\n' << std::string(counts_.size() * 2, ' '); }
  // One value given as compact JSON, laid out at the current depth.
  void Compact(std::string_view json) {
    Separate();
    buffer_.clear();
    AppendIndented(json, std::string(counts_.size() * 2, ' '), &buffer_);
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  }

  std::ostream& out_;
  std::vector<size_t> counts_;  // elements so far at each open depth
  bool after_key_ = false;
  std::string buffer_;
  node::chain::Workers workers_;
  std::vector<std::string> texts_;  // a batch of printed records
};

// The decisions register as table rows (the columns of `bas decisions --format md`).
std::vector<std::string> DecisionHeaders() {
  return {"Number", "Title",   "Status",   "Failed test", "Yes",
          "No",     "Abstain", "Eligible", "Closed",      "Per group (yes/no/abstain/eligible)"};
}
std::vector<std::string> DecisionRow(const bas::v1::Decision& d) {
  const bas::v1::ProposalTally& t = d.tally();
  return {DecisionNumber(d),
          d.title(),
          bas::v1::Proposal::Status_Name(d.status()),
          OrDash(d.failed_test()),
          Num(t.yes()),
          Num(t.no()),
          Num(t.abstain()),
          Num(t.eligible()),
          FormatUnixTime(d.close_time()) + " (height " + Num(d.close_height()) + ")",
          OrDash(GroupTotals(t))};
}

// "bas-dc#2 Annual plan 2027: gov-2: reason" for each NO of each decision.
std::vector<std::string> DissentItems(const std::vector<bas::v1::Decision>& decisions) {
  std::vector<std::string> items;
  for (const bas::v1::Decision& d : decisions) {
    for (const bas::v1::Dissent& entry : d.dissent()) {
      items.push_back(DecisionNumber(d) + " (" + d.title() + "): " + entry.member_id() + ": " +
                      (entry.reason().empty() ? "(no reason given)" : entry.reason()));
    }
  }
  return items;
}

std::string StatusTotals(const std::vector<bas::v1::Decision>& decisions) {
  std::map<int, uint64_t> by_status;
  for (const bas::v1::Decision& d : decisions) ++by_status[d.status()];
  std::string out = Num(decisions.size()) + " decision" + (decisions.size() == 1 ? "" : "s");
  for (const auto& [status, n] : by_status) {
    out += (out.find(':') == std::string::npos ? ": " : ", ") + Num(n) + " " +
           bas::v1::Proposal::Status_Name(static_cast<bas::v1::Proposal::Status>(status));
  }
  return out + ".";
}

std::vector<std::string> MembershipRow(const bas::v1::MembershipEvent& e) {
  return {FormatUnixTime(e.time()) + " (height " + Num(e.height()) + ")",
          EventKind(e.kind()),
          e.member_id(),
          GroupName(e.info().group()),
          OrDash(Roles(e.info())),
          e.proposal_id().empty() ? "-" : Hex(e.proposal_id())};
}
const std::vector<std::string> kMembershipHeaders = {"When",  "Change", "Member",
                                                     "Group", "Roles",  "Proposal"};

std::vector<std::string> ListingRow(const bas::v1::Listing& l) {
  return {l.solution_id(),
          l.solution_name(),
          OrDash(l.vendor()),
          l.bmm_version(),
          Num(l.level()),
          ListingStatus(l.status()),
          FormatUnixTime(l.valid_until()),
          FormatUnixTime(l.status_time()),
          l.coalition()};
}
const std::vector<std::string> kListingHeaders = {"Solution",    "Name",         "Vendor",
                                                  "BMM version", "Level",        "Status",
                                                  "Valid until", "Status since", "Coalition"};

std::vector<std::string> MeetingRow(const bas::v1::Meeting& m) {
  return {m.date(), m.minutes().uri(), Hex(m.minutes().sha256()), m.recorded_by(), Num(m.height())};
}
const std::vector<std::string> kMeetingHeaders = {"Date", "Minutes", "Minutes SHA-256",
                                                  "Recorded by", "Height"};

std::vector<std::string> PlanRow(const bas::v1::AnnualPlan& p) {
  return {Num(p.year()), DocumentText(p.document()), Hex(p.proposal_id()),
          FormatUnixTime(p.time()) + " (height " + Num(p.height()) + ")"};
}
const std::vector<std::string> kPlanHeaders = {"Year", "Document", "Proposal", "Approved"};

std::vector<std::string> SessionRow(const bas::v1::IgfSession& s) {
  return {Num(s.igf_year()), s.title(), bas::v1::SessionFormat_Name(s.format()),
          Hex(s.proposal_id()), Num(s.height())};
}
const std::vector<std::string> kSessionHeaders = {"IGF year", "Title", "Format", "Proposal",
                                                  "Height"};

std::vector<std::string> EvidenceRow(const EquivocationEvidence& e) {
  const bas::v1::ConsensusVote& a = e.evidence.vote_a();
  const bas::v1::ConsensusVote& b = e.evidence.vote_b();
  auto target = [](const bas::v1::ConsensusVote& v) {
    return v.block_hash().empty() ? std::string("nil") : Hex(v.block_hash());
  };
  return {Num(e.included_at),
          Hex(a.validator()),
          Num(a.height()),
          Num(a.round()),
          bas::v1::VoteType_Name(a.type()),
          target(a) + " / " + target(b)};
}
const std::vector<std::string> kEvidenceHeaders = {"In block", "Validator", "Height",
                                                   "Round",    "Vote",      "Voted for (a / b)"};

std::vector<std::vector<std::string>> ValidatorRows(const bas::v1::ValidatorSet& set) {
  std::vector<std::vector<std::string>> rows;
  for (const bas::v1::Validator& v : set.validators()) {
    rows.push_back({OrDash(v.name()), Hex(v.key()), Num(v.power())});
  }
  return rows;
}

template <typename T, typename Row>
std::vector<std::vector<std::string>> Rows(const std::vector<T>& records, Row row) {
  std::vector<std::vector<std::string>> rows;
  for (const T& r : records) rows.push_back(row(r));
  return rows;
}

std::string Verdict(const AuditResult& audit) {
  if (audit.clean()) {
    return "CLEAN: every header, commit, tx signature, Merkle root, result and app hash from "
           "genesis to height " +
           Num(audit.height) + " verified";
  }
  return "DISCREPANCY at " + DescribeDiscrepancy(*audit.discrepancy);
}

ordered_json AuditJson(const AuditResult& audit) {
  ordered_json out = {{"verdict", audit.clean() ? "clean" : "discrepancy"},
                      {"chain_id", audit.chain_id},
                      {"source", audit.source},
                      {"height", audit.height},
                      {"block_hash", Hex(audit.block_hash)},
                      {"app_hash", Hex(audit.app_hash)},
                      {"block_time", audit.time},
                      {"blocks", audit.blocks},
                      {"txs", audit.txs},
                      {"seconds", audit.seconds},
                      {"discrepancy", nullptr}};
  if (audit.discrepancy) {
    out["discrepancy"] = {{"height", audit.discrepancy->height},
                          {"structure", audit.discrepancy->structure},
                          {"reason", audit.discrepancy->reason}};
  }
  return out;
}

void WriteAuditJson(const AuditResult& audit, std::ostream& out) {
  JsonStream json(out);
  json.Open('{');
  json.Key("audit");
  json.Value(AuditJson(audit));
  if (audit.clean()) {
    const governance::KvReader& kv = *audit.state;
    json.Key("decisions");
    json.Records(governance::ListDecisions(kv, ""));
    json.Key("coalitions");
    json.Open('[');
    for (const bas::v1::Coalition& c : governance::ListCoalitions(kv)) {
      const std::string& id = c.id();
      json.Open('{');
      json.Key("coalition");
      json.Record(c);
      json.Key("members");
      json.Records(governance::ListMembers(kv, id, false));
      json.Key("membership_history");
      json.Records(governance::MembershipHistory(kv, id));
      json.Key("annual_plans");
      json.Records(governance::ListAnnualPlans(kv, id));
      json.Key("annual_plan_history");
      json.Records(governance::AnnualPlanHistory(kv, id));
      json.Key("igf_sessions");
      json.Records(governance::ListIgfSessions(kv, id));
      json.Key("meetings");
      json.Records(governance::ListMeetings(kv, id));
      json.Key("resolutions");
      json.Records(governance::ListResolutions(kv, id));
      json.Close('}');
    }
    json.Close(']');
    json.Key("directory");
    json.Records(governance::ListDirectory(kv));
    json.Key("assessments");
    json.Records(governance::ListAssessments(kv));
    json.Key("validators");
    json.Records(std::vector<bas::v1::Validator>(audit.validators.validators().begin(),
                                                 audit.validators.validators().end()));
    json.Key("evidence");
    json.Open('[');
    for (const EquivocationEvidence& e : audit.evidence) {
      json.Value({{"included_at", e.included_at}, {"evidence", RecordJson(e.evidence)}});
    }
    json.Close(']');
  }
  json.Close('}');
  out << '\n';
}

void WriteAuditMarkdown(const AuditResult& audit, std::ostream& out) {
  ReportDocument doc;
  doc.AddHeading(1, "BAS Ledger audit: " + audit.chain_id);
  doc.AddTable({"", ""},
               {{"Verdict", Verdict(audit)},
                {"Source", audit.source},
                {"Audited to", "height " + Num(audit.height) + ", block " + Hex(audit.block_hash) +
                                   ", block time " + FormatUnixTime(audit.time)},
                {"App hash", Hex(audit.app_hash)},
                {"Verified", Num(audit.blocks) + " blocks, " + Num(audit.txs) + " txs"}},
               "");
  if (!audit.clean()) {
    doc.AddParagraph("Nothing from the failing height on can be trusted, so no register is shown.");
    doc.WriteMarkdown(out);
    return;
  }
  const governance::KvReader& kv = *audit.state;
  const std::vector<bas::v1::Decision> decisions = governance::ListDecisions(kv, "");
  doc.AddHeading(2, "Decisions register");
  doc.AddParagraph(StatusTotals(decisions));
  doc.AddTable(DecisionHeaders(), Rows(decisions, DecisionRow), "No decisions yet.");
  doc.AddHeading(3, "Dissent (every NO, with its reason)");
  const std::vector<std::string> dissent = DissentItems(decisions);
  if (dissent.empty()) {
    doc.AddParagraph("No dissent was recorded.");
  } else {
    doc.AddBullets(dissent);
  }
  for (const bas::v1::Coalition& c : governance::ListCoalitions(kv)) {
    doc.AddHeading(2, "Coalition " + c.id() + ": " + c.name());
    doc.AddHeading(3, "Membership history");
    doc.AddTable(kMembershipHeaders, Rows(governance::MembershipHistory(kv, c.id()), MembershipRow),
                 "No membership changes.");
    doc.AddHeading(3, "Annual plans");
    doc.AddTable(kPlanHeaders, Rows(governance::ListAnnualPlans(kv, c.id()), PlanRow),
                 "No annual plan approved.");
    doc.AddHeading(3, "IGF sessions");
    doc.AddTable(kSessionHeaders, Rows(governance::ListIgfSessions(kv, c.id()), SessionRow),
                 "No IGF session scheduled.");
    doc.AddHeading(3, "Meetings");
    doc.AddTable(kMeetingHeaders, Rows(governance::ListMeetings(kv, c.id()), MeetingRow),
                 "No meeting recorded.");
  }
  doc.AddHeading(2, "Directory of Trusted Blockchain Solutions");
  doc.AddParagraph("Status as of block time " + FormatUnixTime(audit.time) +
                   ": a listing EXPIRES when its assessment's valid-until passes.");
  doc.AddTable(kListingHeaders, Rows(governance::ListDirectory(kv), ListingRow), "No listings.");
  doc.AddHeading(2, "Validators and evidence of equivocation");
  doc.AddTable({"Validator", "Key", "Power"}, ValidatorRows(audit.validators), "No validators.");
  doc.AddTable(kEvidenceHeaders, Rows(audit.evidence, EvidenceRow),
               "No evidence of equivocation in any block.");
  doc.WriteMarkdown(out);
}

bool InYear(int64_t t, int year) { return t != 0 && UtcYear(t) == year; }

}  // namespace

int UtcYear(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm.tm_year + 1900;
}

Result<AuditReportFormat> ParseAuditReportFormat(std::string_view text) {
  if (text == "md" || text == "markdown") return AuditReportFormat::kMarkdown;
  if (text == "json") return AuditReportFormat::kJson;
  if (text == "csv") return AuditReportFormat::kCsv;
  return Error{std::string(client::kInvalidInput),
               "unknown format " + std::string(text) + ": expected md, json or csv"};
}

Result<AnnualReportFormat> ParseAnnualReportFormat(std::string_view text) {
  if (text == "md" || text == "markdown") return AnnualReportFormat::kMarkdown;
  if (text == "html") return AnnualReportFormat::kHtml;
  return Error{std::string(client::kInvalidInput),
               "unknown format " + std::string(text) + ": expected md or html"};
}

void WriteAuditReport(const AuditResult& audit, AuditReportFormat format, std::ostream& out) {
  switch (format) {
    case AuditReportFormat::kJson:
      WriteAuditJson(audit, out);
      return;
    case AuditReportFormat::kCsv:
      if (audit.clean()) {
        out << FormatDecisions(governance::ListDecisions(*audit.state, ""), DecisionsFormat::kCsv);
      }
      return;
    case AuditReportFormat::kMarkdown:
      WriteAuditMarkdown(audit, out);
      return;
  }
}

std::string FormatAuditReport(const AuditResult& audit, AuditReportFormat format) {
  std::ostringstream out;
  WriteAuditReport(audit, format, out);
  return out.str();
}

Result<std::string> FormatAnnualReport(const AuditResult& audit, std::string_view coalition_id,
                                       int year, AnnualReportFormat format) {
  const governance::KvReader& kv = *audit.state;
  const std::optional<bas::v1::Coalition> coalition = governance::GetCoalition(kv, coalition_id);
  if (!coalition) {
    return Error{std::string(client::kNotFound), "no coalition " + std::string(coalition_id) +
                                                     " in the ledger at height " +
                                                     Num(audit.height)};
  }
  const std::string id(coalition_id);
  const std::string y = std::to_string(year);
  ReportDocument doc;
  const std::string title = coalition->name() + " (" + id + "): annual report " + y;
  doc.AddHeading(1, title);
  doc.AddParagraph(
      "Produced from the BAS Ledger chain " + audit.chain_id + " at height " + Num(audit.height) +
      ", block hash " + Hex(audit.block_hash) + " (block time " + FormatUnixTime(audit.time) +
      "), after bas audit verified every block, commit and signature from genesis to that height "
      "and replayed the governance rules. Anyone can check it: bas audit --to-height " +
      Num(audit.height) +
      " with the chain's genesis gives the same block hash, and bas report annual --to-height " +
      Num(audit.height) + " gives this report.");
  doc.AddParagraph("The year is the calendar year " + y +
                   " in UTC, by the time of the block that recorded each event.");

  std::vector<bas::v1::Decision> decisions;
  for (bas::v1::Decision& d : governance::ListDecisions(kv, id)) {
    if (InYear(d.close_time(), year)) decisions.push_back(std::move(d));
  }
  doc.AddHeading(2, "Decisions of " + y);
  doc.AddParagraph(StatusTotals(decisions) +
                   " Totals are yes/no/abstain of the eligible members; each stakeholder group's "
                   "totals follow.");
  doc.AddTable(DecisionHeaders(), Rows(decisions, DecisionRow), "No decision closed in " + y + ".");
  doc.AddHeading(3, "Minority views");
  const std::vector<std::string> dissent = DissentItems(decisions);
  if (dissent.empty()) {
    doc.AddParagraph("No member voted NO on a decision of " + y + ".");
  } else {
    doc.AddParagraph("Every NO vote that counted, with the reason its member gave:");
    doc.AddBullets(dissent);
  }

  std::vector<bas::v1::AnnualPlan> plans;
  for (bas::v1::AnnualPlan& p : governance::AnnualPlanHistory(kv, id)) {
    if (static_cast<int>(p.year()) == year || InYear(p.time(), year)) plans.push_back(std::move(p));
  }
  doc.AddHeading(2, "Annual plan");
  doc.AddParagraph("The plan for " + y + " and any plan approved during " + y +
                   " (a later approval for the same year replaces an earlier one).");
  doc.AddTable(kPlanHeaders, Rows(plans, PlanRow),
               "No annual plan for " + y + " was approved on the ledger.");

  std::vector<bas::v1::IgfSession> sessions;
  for (bas::v1::IgfSession& s : governance::ListIgfSessions(kv, id)) {
    if (static_cast<int>(s.igf_year()) == year) sessions.push_back(std::move(s));
  }
  doc.AddHeading(2, "IGF sessions " + y);
  doc.AddTable(kSessionHeaders, Rows(sessions, SessionRow),
               "No IGF session scheduled for " + y + ".");

  std::vector<bas::v1::Meeting> meetings;
  for (bas::v1::Meeting& m : governance::ListMeetings(kv, id)) {
    if (InYear(m.time(), year)) meetings.push_back(std::move(m));
  }
  doc.AddHeading(2, "Meetings");
  doc.AddTable(kMeetingHeaders, Rows(meetings, MeetingRow), "No meeting recorded in " + y + ".");

  std::vector<bas::v1::MembershipEvent> membership;
  for (bas::v1::MembershipEvent& e : governance::MembershipHistory(kv, id)) {
    if (InYear(e.time(), year)) membership.push_back(std::move(e));
  }
  doc.AddHeading(2, "Membership changes");
  doc.AddTable(kMembershipHeaders, Rows(membership, MembershipRow),
               "No membership change in " + y + ".");

  std::vector<std::vector<std::string>> directory;
  for (const bas::v1::Listing& l : governance::ListDirectory(kv)) {
    if (l.coalition() != id) continue;
    if (InYear(l.listed_time(), year)) {
      directory.push_back({FormatUnixTime(l.listed_time()), "LISTED", l.solution_id(),
                           l.solution_name(), l.bmm_version() + " level " + Num(l.level()),
                           FormatUnixTime(l.valid_until())});
    }
    if (l.status() != bas::v1::Listing::ACTIVE && InYear(l.status_time(), year)) {
      directory.push_back({FormatUnixTime(l.status_time()), ListingStatus(l.status()),
                           l.solution_id(), l.solution_name(),
                           l.bmm_version() + " level " + Num(l.level()),
                           FormatUnixTime(l.valid_until())});
    }
  }
  std::sort(directory.begin(), directory.end());
  doc.AddHeading(2, "Directory of Trusted Blockchain Solutions: changes");
  doc.AddTable({"When", "Change", "Solution", "Name", "BMM", "Valid until"}, std::move(directory),
               "No directory change in " + y + ".");

  doc.AddHeading(2, "Ledger reference");
  doc.AddTable({"", ""},
               {{"Chain", audit.chain_id},
                {"Height", Num(audit.height)},
                {"Block hash", Hex(audit.block_hash)},
                {"Block time", FormatUnixTime(audit.time)},
                {"App hash", Hex(audit.app_hash)},
                {"Audited from", audit.source}},
               "");
  std::ostringstream out;
  if (format == AnnualReportFormat::kHtml) {
    doc.WriteHtml(out, title);
  } else {
    doc.WriteMarkdown(out);
  }
  return out.str();
}

}  // namespace bas::audit
