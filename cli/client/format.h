// How `bas` shows records to people: column-aligned text tables, CSV (RFC 4180) and Markdown,
// over the proto records the API returns. `--json` bypasses all of this and prints the API's
// JSON as it came. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bas/v1/state.pb.h"
#include "bas/v1/tx.pb.h"
#include "crypto/result.h"

namespace bas::client {

// A text table: a header row, then the rows, columns separated by two spaces and padded to the
// widest cell (counted in UTF-8 code points). Numeric columns can be right-aligned.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headers);
  // Precondition: cells.size() == the number of headers.
  void AddRow(std::vector<std::string> cells);
  void AlignRight(size_t column);
  bool empty() const { return rows_.empty(); }
  // One line per row, each ending in "\n"; no trailing spaces.
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<bool> right_;
};

// One CSV record (RFC 4180): fields quoted when they hold a comma, quote, CR or LF; "\r\n" at
// the end.
// A stakeholder group's enum name; a member's roles joined with "+".
std::string GroupName(int group);
std::string Roles(const bas::v1::MemberInfo& info);

std::string CsvRow(const std::vector<std::string>& fields);
// A Markdown table cell: '|' and '\' escaped, line breaks as spaces.
std::string MarkdownCell(std::string_view text);

// "2026-11-26 09:22:38 UTC"; "-" for 0.
std::string FormatUnixTime(int64_t unix_seconds);
// Parts per million as a percentage: 500000 -> "50%", 334000 -> "33.4%", 666667 -> "66.6667%".
std::string FormatPpm(uint64_t ppm);
// The first 12 hex digits of raw bytes (an id for tables; commands take the full id).
std::string ShortHex(std::string_view bytes);
// The effective rule in one line: "MAJORITY, quorum 50%, threshold 50%, per group (quorum 20%,
// threshold 50%), 20 s".
std::string DescribeRule(const bas::v1::EffectiveRule& rule);
// One action in one line: "approve_annual_plan 2027: file:///plan.txt (sha256 3f2a9c...)".
std::string DescribeAction(const bas::v1::Action& action);

enum class DecisionsFormat { kTable, kCsv, kMarkdown };
// "table", "csv", "md" (or "markdown"). Errors: kInvalidInput. ("json" is handled by the caller.)
Result<DecisionsFormat> ParseDecisionsFormat(std::string_view text);

// The decisions register: number, title, status, failed test, totals, close time; then the
// per-group totals; then the dissent with reasons.
//   table: three text tables (decisions, per group, dissent)
//   csv:   a header and one record per decision; "groups" is "GROUP=yes/no/abstain/eligible"
//          joined with "; ", "dissent" is "member: reason" joined with "; "
//   md:    one Markdown table with a per-group and a dissent column
std::string FormatDecisions(const std::vector<bas::v1::Decision>& decisions,
                            DecisionsFormat format);

// A proposal as `bas proposal ID` shows it.
struct ProposalView {
  std::string id_hex;
  bas::v1::Proposal proposal;
  bas::v1::ProposalTally tally;
  std::optional<bas::v1::Decision> decision;  // once closed
  std::vector<bas::v1::VoteRecord> votes;     // the last vote of each member
};
// Header lines, the per-group tally table (group, yes, no, abstain, eligible and, when the rule
// tests groups, each group's test), totals, the rule, the status and end time, the test that
// fails so far (or "passes so far"), the decision once closed, and the votes with reasons.
std::string FormatProposal(const ProposalView& view);

struct ProposalRow {
  std::string id_hex;
  bas::v1::Proposal proposal;
  bas::v1::ProposalTally tally;
};
std::string FormatProposalList(const std::vector<ProposalRow>& rows);

struct MemberRow {
  std::string coalition;
  bas::v1::Member member;
};
std::string FormatMembers(const std::vector<MemberRow>& rows);
std::string FormatDirectory(const std::vector<bas::v1::Listing>& listings);
std::string FormatAssessments(const std::vector<bas::v1::Assessment>& assessments);
std::string FormatMeetings(const std::vector<bas::v1::Meeting>& meetings);

}  // namespace bas::client
