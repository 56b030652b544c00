// Where `bas audit`, `bas export` and `bas report` read a ledger from: an export file
// (docs/export.md), a stopped node's RocksDB data directory (read-only), or a node's HTTP API.
// Each gives the genesis, then every height from 1 in order with its block and the commit that
// certifies it, streamed: only a few blocks are held at a time.
//
// A source reports two kinds of failure apart: it could not read (code "IO_ERROR",
// "STORAGE_ERROR" or the client's kNetworkError / kApiError), or what it read is not a ledger
// (kLedgerMalformed): the audit names the latter as a discrepancy. Not thread-safe: one thread
// at a time per source.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "bas/v1/genesis.pb.h"
#include "cli/audit/errors.h"
#include "cli/audit/export_format.h"
#include "cli/client/node_client.h"
#include "crypto/result.h"

namespace bas::audit {

class LedgerSource {
 public:
  virtual ~LedgerSource() = default;
  // For messages and reports: "export FILE", "data dir DIR", "node URL".
  virtual std::string Describe() const = 0;
  // The genesis as the source holds it.
  virtual const bas::v1::Genesis& genesis() const = 0;
  // The last height Next will deliver, fixed when the source was opened (a node's head then).
  virtual uint64_t last_height() const = 0;
  // Whether each CertifiedBlock carries the block's results.
  virtual bool has_results() const = 0;
  // The next height, from 1, or nullopt after last_height(). Errors as above.
  virtual Result<std::optional<CertifiedBlock>> Next() = 0;
};

// An export file. Errors: "IO_ERROR", kLedgerMalformed.
Result<std::unique_ptr<LedgerSource>> OpenExportSource(const std::filesystem::path& file);

// The RocksDB store in dir (the node's data_dir), opened read-only; the node should be stopped.
// Errors: "STORAGE_ERROR" (no store there, or RocksDB's reason), kLedgerMalformed (no genesis).
Result<std::unique_ptr<LedgerSource>> OpenDataDirSource(const std::filesystem::path& dir);

// A node's API: GET /v1/genesis, /v1/status for the head, then /v1/blocks in pages. Errors:
// the client's codes (cli/client/node_client.h).
Result<std::unique_ptr<LedgerSource>> OpenNodeSource(const client::Endpoint& endpoint);

// The last height to read from source: to_height when given, else the source's last.
// Errors: kHeightOutOfRange (to_height above the source's last height).
Result<uint64_t> LastHeightToRead(const LedgerSource& source, std::optional<uint64_t> to_height);

// Copies every height of source, up to to_height when given (at most last_height()), into an
// export file at `out`, results included when the source has them. progress, when set, is
// called after each height with (height, last height). Errors: the source's, "IO_ERROR",
// kHeightOutOfRange (to_height above the source's last height).
Status ExportLedger(LedgerSource& source, const std::filesystem::path& out,
                    std::optional<uint64_t> to_height,
                    const std::function<void(uint64_t, uint64_t)>& progress);

}  // namespace bas::audit
