// The auditor's commands of `bas` (docs/cli.md, docs/audit.md, docs/export.md):
//
//   bas export (--node URL | --data-dir DIR) --out FILE [--to-height H]
//   bas audit (--node URL | --data-dir DIR | --export FILE) --genesis FILE [--report FILE]
//             [--format md|json|csv] [--to-height H] [--threads N] [--scratch-dir DIR]
//   bas report annual --coalition ID --year YYYY [--format md|html] [--out FILE]
//             (--node URL | --data-dir DIR | --export FILE) --genesis FILE [--to-height H]
//
// Progress goes to standard error: a bar on a terminal, plain lines otherwise. Each returns the
// exit status (kExitDiscrepancy when the ledger does not verify) and prints its errors. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cli/client_options.h"

namespace bas::cli {

// Where the ledger comes from: data_dir or export_file (at most one), else the node of
// ClientOptions (--node, BAS_NODE or the default).
struct LedgerSourceFlags {
  std::string data_dir;
  std::string export_file;
};

struct ExportFlags {
  LedgerSourceFlags source;  // export_file must be empty
  std::string out;
  std::optional<uint64_t> to_height;
};
int RunExport(const ClientOptions& options, const ExportFlags& flags);

struct AuditFlags {
  LedgerSourceFlags source;
  std::string genesis_file;
  std::string report_file;  // "" or "-": standard output
  std::string format = "md";
  std::optional<uint64_t> to_height;
  unsigned threads = 0;     // 0: every core
  std::string scratch_dir;  // "": the system's temporary directory
};
int RunAudit(const ClientOptions& options, const AuditFlags& flags);

struct AnnualReportFlags {
  LedgerSourceFlags source;
  std::string genesis_file;
  std::string coalition;
  int year = 0;
  std::string format = "md";
  std::string out;  // "" or "-": standard output
  std::optional<uint64_t> to_height;
  unsigned threads = 0;
  std::string scratch_dir;
};
int RunAnnualReport(const ClientOptions& options, const AnnualReportFlags& flags);

}  // namespace bas::cli
