#include "cli/audit_commands.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <unistd.h>

#include "cli/audit/auditor.h"
#include "cli/audit/ledger_source.h"
#include "cli/audit/report.h"
#include "crypto/encoding.h"
#include "proto/json.h"

namespace bas::cli {

using audit::AnnualReportFormat;
using audit::AuditLedger;
using audit::AuditOptions;
using audit::AuditProgress;
using audit::AuditReportFormat;
using audit::AuditResult;
using audit::DescribeDiscrepancy;
using audit::ExportLedger;
using audit::FormatAnnualReport;
using audit::kDiscrepancy;
using audit::kLedgerMalformed;
using audit::LedgerSource;
using audit::OpenDataDirSource;
using audit::OpenExportSource;
using audit::OpenNodeSource;
using audit::ParseAnnualReportFormat;
using audit::ParseAuditReportFormat;
using audit::WriteAuditReport;

namespace {

using Clock = std::chrono::steady_clock;

Error Usage(std::string message) { return Error{std::string(kUsageError), std::move(message)}; }

// The one height the libraries are asked for is --to-height's.
Error ToHeightFlag(Error error) {
  return error.code == audit::kHeightOutOfRange ? WithFlag("--to-height", std::move(error)) : error;
}

Result<std::unique_ptr<LedgerSource>> OpenSource(const ClientOptions& options,
                                                 const LedgerSourceFlags& flags) {
  if (!flags.data_dir.empty() && !flags.export_file.empty()) {
    return Usage("give one of --data-dir and --export (or neither, to read from --node)");
  }
  if (!flags.data_dir.empty()) return OpenDataDirSource(flags.data_dir);
  if (!flags.export_file.empty()) return OpenExportSource(flags.export_file);
  return OpenNodeSource(options.endpoint());
}

// The genesis the auditor trusts: JSON in the proto3 mapping, as `basd` reads it.
Result<bas::v1::Genesis> ReadGenesisFile(const std::string& path) {
  if (path.empty()) return Usage("--genesis FILE is required: the genesis you trust");
  Result<bas::v1::Genesis> genesis = proto::ReadGenesis(path);
  if (!genesis.ok() && genesis.error().code != "IO_ERROR") {
    return Usage("--genesis: " + genesis.error().message);  // not a genesis document
  }
  return genesis;
}

Status WriteOutput(const std::string& file, const std::string& text) {
  if (file.empty() || file == "-") {
    std::cout << text;
    std::cout.flush();
    if (!std::cout) return Error{"IO_ERROR", "cannot write the standard output"};
    return Status::Ok();
  }
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Error{"IO_ERROR", "cannot write " + file + ": " + std::strerror(errno)};
  return Status::Ok();
}

// Progress on standard error: a bar redrawn in place on a terminal (at most 10 times a
// second), otherwise a plain line every 5 seconds, so logs stay short.
class ProgressLine {
 public:
  explicit ProgressLine(std::string what) : what_(std::move(what)), tty_(isatty(2) == 1) {}
  ~ProgressLine() { Done(); }

  void Update(uint64_t height, uint64_t last, uint64_t txs, double seconds) {
    const auto now = Clock::now();
    const bool final = height == last;
    if (!final && now - last_print_ <
                      (tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000))) {
      return;
    }
    last_print_ = now;
    const double fraction = last == 0 ? 1.0 : static_cast<double>(height) / last;
    char percent[16];
    std::snprintf(percent, sizeof(percent), "%.0f%%", fraction * 100);
    std::string counts =
        "height " + std::to_string(height) + (tty_ ? "/" : " of ") + std::to_string(last);
    if (txs > 0) counts += ", " + std::to_string(txs) + " txs";
    if (txs > 0 && seconds > 0) {
      counts += ", " + std::to_string(static_cast<uint64_t>(txs / seconds)) + " tx/s";
    }
    if (tty_) {
      constexpr size_t kWidth = 30;
      const auto filled = static_cast<size_t>(fraction * kWidth);
      std::cerr << "\r" << what_ << " [" << std::string(filled, '#')
                << std::string(kWidth - filled, '.') << "] " << percent << "  " << counts
                << "\x1b[K" << std::flush;
      drawn_ = true;
    } else {
      std::cerr << "bas: " << what_ << ": " << counts << " (" << percent << ")\n" << std::flush;
    }
  }

  // Ends a bar's line.
  void Done() {
    if (drawn_) std::cerr << "\n" << std::flush;
    drawn_ = false;
  }

 private:
  std::string what_;
  bool tty_;
  bool drawn_ = false;
  Clock::time_point last_print_{};
};

// Opens the source, reads the trusted genesis and audits; prints the verdict on standard
// error. A discrepancy is a result, not an error.
Result<AuditResult> Audit(const ClientOptions& options, const LedgerSourceFlags& source_flags,
                          const std::string& genesis_file, std::optional<uint64_t> to_height,
                          unsigned threads, const std::string& scratch_dir) {
  Result<bas::v1::Genesis> genesis = ReadGenesisFile(genesis_file);
  if (!genesis.ok()) return genesis.error();
  Result<std::unique_ptr<LedgerSource>> source = OpenSource(options, source_flags);
  if (!source.ok()) {
    // An export that is not one cannot be audited: that is the ledger's fault, not an I/O error.
    if (source.error().code == kLedgerMalformed) {
      return Error{std::string(kDiscrepancy),
                   "audit: DISCREPANCY at height 0: ledger: " + source.error().message};
    }
    return source.error();
  }
  ProgressLine progress("audit");
  AuditOptions audit_options;
  audit_options.threads = threads;
  audit_options.to_height = to_height;
  audit_options.scratch_dir = scratch_dir;
  audit_options.progress = [&](const AuditProgress& p) {
    progress.Update(p.height, p.last_height, p.txs, p.seconds);
  };
  Result<AuditResult> result = AuditLedger(**source, *genesis, audit_options);
  progress.Done();
  if (!result.ok()) return ToHeightFlag(result.error());
  if (result->clean()) {
    char timing[64];
    std::snprintf(timing, sizeof(timing), "%.2f s (%.0f tx/s)", result->seconds,
                  result->seconds > 0 ? static_cast<double>(result->txs) / result->seconds : 0.0);
    std::cerr << "bas: audit: clean: " << result->blocks << " blocks and " << result->txs
              << " txs verified from genesis to height " << result->height << " (block "
              << crypto::HexEncode(crypto::ByteSpan(result->block_hash)) << ") in " << timing
              << "\n";
  } else {
    std::cerr << "bas: audit: DISCREPANCY at " << DescribeDiscrepancy(*result->discrepancy) << "\n";
  }
  return result;
}

}  // namespace

int RunExport(const ClientOptions& options, const ExportFlags& flags) {
  if (flags.out.empty()) return ReportError(Usage("--out FILE is required"));
  if (!flags.source.export_file.empty()) {
    return ReportError(Usage("export reads from --node or --data-dir, not --export"));
  }
  Result<std::unique_ptr<LedgerSource>> source = OpenSource(options, flags.source);
  if (!source.ok()) return ReportError(source.error());
  ProgressLine progress("export");
  const auto started = Clock::now();
  Status s = ExportLedger(**source, flags.out, flags.to_height, [&](uint64_t h, uint64_t last) {
    progress.Update(h, last, 0, std::chrono::duration<double>(Clock::now() - started).count());
  });
  progress.Done();
  if (!s.ok()) return ReportError(ToHeightFlag(s.error()));
  const uint64_t last = flags.to_height.value_or((*source)->last_height());
  std::cerr << "bas: export: the genesis and heights 1 to " << last << " of "
            << (*source)->Describe() << " written to " << flags.out << "\n";
  return kExitOk;
}

int RunAudit(const ClientOptions& options, const AuditFlags& flags) {
  Result<AuditReportFormat> format = ParseAuditReportFormat(flags.format);
  if (!format.ok()) return ReportError(WithFlag("--format", format.error()));
  Result<AuditResult> result = Audit(options, flags.source, flags.genesis_file, flags.to_height,
                                     flags.threads, flags.scratch_dir);
  if (!result.ok()) return ReportError(result.error());
  const bool to_stdout = flags.report_file.empty() || flags.report_file == "-";
  std::ofstream file;
  if (!to_stdout) {
    file.open(flags.report_file, std::ios::binary | std::ios::trunc);
    if (!file) {
      return ReportError(
          Error{"IO_ERROR", "cannot write " + flags.report_file + ": " + std::strerror(errno)});
    }
  }
  std::ostream& out = to_stdout ? std::cout : file;
  WriteAuditReport(*result, *format, out);
  out.flush();
  if (!out) {
    return ReportError(
        Error{"IO_ERROR", "cannot write the report to " +
                              (to_stdout ? std::string("standard output") : flags.report_file)});
  }
  return result->clean() ? kExitOk : kExitDiscrepancy;
}

int RunAnnualReport(const ClientOptions& options, const AnnualReportFlags& flags) {
  Result<AnnualReportFormat> format = ParseAnnualReportFormat(flags.format);
  if (!format.ok()) return ReportError(WithFlag("--format", format.error()));
  if (flags.coalition.empty()) return ReportError(Usage("--coalition ID is required"));
  if (flags.year < 1970 || flags.year > 9999) return ReportError(Usage("--year: YYYY"));
  Result<AuditResult> result = Audit(options, flags.source, flags.genesis_file, flags.to_height,
                                     flags.threads, flags.scratch_dir);
  if (!result.ok()) return ReportError(result.error());
  if (!result->clean()) {
    std::cerr << "bas: report: no report from a ledger that does not verify\n";
    return kExitDiscrepancy;
  }
  Result<std::string> report = FormatAnnualReport(*result, flags.coalition, flags.year, *format);
  if (!report.ok()) return ReportError(report.error());
  if (Status s = WriteOutput(flags.out, *report); !s.ok()) return ReportError(s.error());
  return kExitOk;
}

}  // namespace bas::cli
