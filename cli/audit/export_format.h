// The ledger export file of `bas export` and `bas audit --export` (docs/export.md): the genesis
// and every block with the commit that certifies it, as a stream of checksummed records that
// any protobuf implementation can read.
//
//   file   = "BASEXP1\n" || record*
//   record = u32be(len payload) || u8 type || payload || checksum
//   checksum = the first 4 bytes of SHA-256(u32be(len payload) || u8 type || payload)
//
// Records, in this order: HEADER (bas.v1.ExportHeader), GENESIS (bas.v1.Genesis), then for each
// height from 1 to the header's last_height: BLOCK (bas.v1.Block), COMMIT (bas.v1.Commit, the
// commit that certifies that block) and, when the header says so, RESULTS (bas.v1.BlockResults).
//
// The checksum catches a damaged file; it proves nothing about who wrote it: the audit checks
// the blocks' hashes and signatures for that. Writer and reader are thread-compatible (one
// thread at a time per instance).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "bas/v1/chain.pb.h"
#include "bas/v1/export.pb.h"
#include "bas/v1/genesis.pb.h"
#include "crypto/result.h"

namespace bas::audit {

inline constexpr std::string_view kExportMagic = "BASEXP1\n";
inline constexpr uint32_t kExportFormatVersion = 1;
// No record of a valid export is larger (a block is bounded far below by the chain's limits).
inline constexpr uint32_t kMaxExportRecordBytes = 256u << 20;
inline constexpr size_t kExportChecksumBytes = 4;

enum class ExportRecordType : uint8_t {
  kHeader = 1,
  kGenesis = 2,
  kBlock = 3,
  kCommit = 4,
  kResults = 5,
};
std::string_view ExportRecordName(ExportRecordType type);

// Error code of a ledger that is not well-formed where it is read (an export with a bad magic,
// checksum or record order, a truncated file, a store that lacks a block): what it holds cannot
// be audited, so the audit reports it as a discrepancy, unlike a failure to read at all.
inline constexpr std::string_view kLedgerMalformed = "LEDGER_MALFORMED";

// The bytes of one record as it is written (length, type, payload, checksum).
std::string EncodeExportRecord(ExportRecordType type, std::string_view payload);

// Writes an export to `path` through `path` + ".partial", renamed into place by Finish, so that
// an interrupted export never leaves a file that looks whole.
class ExportWriter {
 public:
  ~ExportWriter();
  ExportWriter(ExportWriter&& other) noexcept;
  ExportWriter& operator=(ExportWriter&&) = delete;

  // Creates the file and writes the magic, the header and the genesis. Errors: "IO_ERROR".
  static Result<ExportWriter> Create(const std::filesystem::path& path,
                                     const bas::v1::ExportHeader& header,
                                     const bas::v1::Genesis& genesis);
  // The records of one height; results (a serialized BlockResults) must be given iff the
  // header's has_results.
  Status WriteHeight(const bas::v1::Block& block, const bas::v1::Commit& commit,
                     const std::string* results);
  // Flushes, syncs and renames the file into place. Errors: "IO_ERROR".
  Status Finish();

 private:
  ExportWriter(std::FILE* file, std::filesystem::path path, std::filesystem::path partial)
      : file_(file), path_(std::move(path)), partial_(std::move(partial)) {}
  Status Write(ExportRecordType type, std::string_view payload);

  std::FILE* file_ = nullptr;
  std::filesystem::path path_;
  std::filesystem::path partial_;
};

// One height of a ledger: the block and the commit that certifies it (and its results, when the
// source has them, as a serialized BlockResults: the audit compares them with its own
// execution's without decoding them).
struct CertifiedBlock {
  bas::v1::Block block;
  bas::v1::Commit commit;
  std::optional<std::string> results;
};

// Reads an export record by record, checking the magic, each checksum and the record order.
class ExportReader {
 public:
  ~ExportReader();
  ExportReader(ExportReader&& other) noexcept;
  ExportReader& operator=(ExportReader&&) = delete;

  // Opens the file and reads its header and genesis. Errors: "IO_ERROR", kLedgerMalformed.
  static Result<ExportReader> Open(const std::filesystem::path& path);
  const bas::v1::ExportHeader& header() const { return header_; }
  const bas::v1::Genesis& genesis() const { return genesis_; }

  // The next height's records, nullopt after the last height the header announces (and then
  // the file must end). Errors: "IO_ERROR"; kLedgerMalformed naming the height and record
  // (a checksum that does not match, a missing or unexpected record, a file that ends early).
  Result<std::optional<CertifiedBlock>> Next();

 private:
  explicit ExportReader(std::FILE* file, std::string name) : file_(file), name_(std::move(name)) {}
  // The next record's type and payload; nullopt at a clean end of file.
  Result<std::optional<std::pair<ExportRecordType, std::string>>> ReadRecord();
  // The next record, which must be of `type`, parsed into *out.
  Status Expect(ExportRecordType type, google::protobuf::Message* out, const std::string& where);

  std::FILE* file_ = nullptr;
  std::string name_;
  uint64_t offset_ = 0;
  uint64_t next_height_ = 1;
  bas::v1::ExportHeader header_;
  bas::v1::Genesis genesis_;
};

}  // namespace bas::audit
