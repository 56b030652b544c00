// The reports an audit produces (docs/audit.md, "Report"), read from the state the audit
// replayed through the governance queries (governance/query.h), never from an operator:
//
//   audit report    `bas audit --report`: the verdict and the ledger tip, then the decisions
//                   register (totals, per-group totals, failed test, dissent with reasons),
//                   membership history, the directory with its expiries, annual plans, IGF
//                   sessions, meetings and the evidence of equivocation. md, json or csv.
//   annual report   `bas report annual`: what the IGF asks each Dynamic Coalition for each year,
//                   for one coalition and one calendar year (UTC, by block time), with the
//                   height and block hash it was produced at so anyone can check it. md or html.
//
// Pure functions of an AuditResult; thread-safe when its state is not being written.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "cli/audit/auditor.h"
#include "crypto/result.h"

namespace bas::audit {

enum class AuditReportFormat { kMarkdown, kJson, kCsv };
// "md" (or "markdown"), "json", "csv". Errors: client::kInvalidInput.
Result<AuditReportFormat> ParseAuditReportFormat(std::string_view text);

// md: a summary table with the verdict, then one section per register.
// json: {"audit": {...}, "decisions": [Decision], "coalitions": [{"coalition", "members",
//   "membership_history", "annual_plans", "annual_plan_history", "igf_sessions", "meetings",
//   "resolutions"}], "directory": [Listing], "assessments": [Assessment], "validators":
//   [Validator], "evidence": [{"included_at", "evidence"}]}, records in the API's JSON mapping
//   (docs/api.md), so "decisions" equals GET /v1/decisions of a node at the same height.
// csv: the decisions register in the columns of `bas decisions --format csv`.
// A ledger with a discrepancy gets the verdict only: nothing after it can be trusted.
// WriteAuditReport streams it (a large ledger's register is tens of megabytes); the caller
// checks the stream's state.
void WriteAuditReport(const AuditResult& audit, AuditReportFormat format, std::ostream& out);
std::string FormatAuditReport(const AuditResult& audit, AuditReportFormat format);

enum class AnnualReportFormat { kMarkdown, kHtml };
// "md" (or "markdown"), "html". Errors: client::kInvalidInput.
Result<AnnualReportFormat> ParseAnnualReportFormat(std::string_view text);

// The annual report of `coalition` for `year`. Precondition: audit.clean(). Errors: kNotFound
// (no such coalition in the ledger).
Result<std::string> FormatAnnualReport(const AuditResult& audit, std::string_view coalition,
                                       int year, AnnualReportFormat format);

// The calendar year (UTC) of a Unix time.
int UtcYear(int64_t unix_seconds);

}  // namespace bas::audit
