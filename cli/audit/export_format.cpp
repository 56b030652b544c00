#include "cli/audit/export_format.h"

#include <cerrno>
#include <cstring>
#include <system_error>

#include <unistd.h>

#include "crypto/hash.h"

namespace bas::audit {
namespace {

std::string Be32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (8 * (3 - i))) & 0xff);
  return s;
}

uint32_t ReadBe32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string Checksum(std::string_view length_and_type, std::string_view payload) {
  crypto::Sha256 sha;
  sha.Update(length_and_type).Update(payload);
  const crypto::Hash32 digest = sha.Final();
  return std::string(reinterpret_cast<const char*>(digest.data()), kExportChecksumBytes);
}

Error IoError(const std::string& what) {
  return Error{"IO_ERROR", what + ": " + std::strerror(errno)};
}

Error Malformed(const std::string& what) { return Error{std::string(kLedgerMalformed), what}; }

bool KnownType(uint8_t t) { return t >= 1 && t <= 5; }

}  // namespace

std::string_view ExportRecordName(ExportRecordType type) {
  switch (type) {
    case ExportRecordType::kHeader:
      return "HEADER";
    case ExportRecordType::kGenesis:
      return "GENESIS";
    case ExportRecordType::kBlock:
      return "BLOCK";
    case ExportRecordType::kCommit:
      return "COMMIT";
    case ExportRecordType::kResults:
      return "RESULTS";
  }
  return "UNKNOWN";
}

std::string EncodeExportRecord(ExportRecordType type, std::string_view payload) {
  std::string head = Be32(static_cast<uint32_t>(payload.size()));
  head.push_back(static_cast<char>(type));
  std::string out = head;
  out.append(payload);
  out += Checksum(head, payload);
  return out;
}

// ---- ExportWriter ----

ExportWriter::~ExportWriter() {
  if (file_ != nullptr) {
    // Not finished: an error or an early return. Leave no partial file behind.
    std::fclose(file_);
    std::error_code ec;
    std::filesystem::remove(partial_, ec);
  }
}

ExportWriter::ExportWriter(ExportWriter&& other) noexcept
    : file_(other.file_), path_(std::move(other.path_)), partial_(std::move(other.partial_)) {
  other.file_ = nullptr;
}

Result<ExportWriter> ExportWriter::Create(const std::filesystem::path& path,
                                          const bas::v1::ExportHeader& header,
                                          const bas::v1::Genesis& genesis) {
  std::filesystem::path partial = path;
  partial += ".partial";
  std::FILE* file = std::fopen(partial.c_str(), "wb");
  if (file == nullptr) return IoError("cannot create " + partial.string());
  ExportWriter writer(file, path, std::move(partial));
  if (std::fwrite(kExportMagic.data(), 1, kExportMagic.size(), file) != kExportMagic.size()) {
    return IoError("cannot write " + writer.partial_.string());
  }
  if (Status s = writer.Write(ExportRecordType::kHeader, header.SerializeAsString()); !s.ok()) {
    return s.error();
  }
  if (Status s = writer.Write(ExportRecordType::kGenesis, genesis.SerializeAsString()); !s.ok()) {
    return s.error();
  }
  return writer;
}

Status ExportWriter::Write(ExportRecordType type, std::string_view payload) {
  const std::string record = EncodeExportRecord(type, payload);
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size()) {
    return IoError("cannot write " + partial_.string());
  }
  return Status::Ok();
}

Status ExportWriter::WriteHeight(const bas::v1::Block& block, const bas::v1::Commit& commit,
                                 const std::string* results) {
  if (Status s = Write(ExportRecordType::kBlock, block.SerializeAsString()); !s.ok()) return s;
  if (Status s = Write(ExportRecordType::kCommit, commit.SerializeAsString()); !s.ok()) return s;
  if (results != nullptr) return Write(ExportRecordType::kResults, *results);
  return Status::Ok();
}

Status ExportWriter::Finish() {
  std::FILE* file = file_;
  file_ = nullptr;
  const bool flushed = std::fflush(file) == 0 && ::fsync(fileno(file)) == 0;
  const int saved_errno = errno;
  if (std::fclose(file) != 0 || !flushed) {
    errno = flushed ? errno : saved_errno;
    Error e = IoError("cannot write " + partial_.string());
    std::error_code ec;
    std::filesystem::remove(partial_, ec);
    return e;
  }
  std::error_code ec;
  std::filesystem::rename(partial_, path_, ec);
  if (ec) {
    return Error{"IO_ERROR", "cannot rename " + partial_.string() + " to " + path_.string() + ": " +
                                 ec.message()};
  }
  return Status::Ok();
}

// ---- ExportReader ----

ExportReader::~ExportReader() {
  if (file_ != nullptr) std::fclose(file_);
}

ExportReader::ExportReader(ExportReader&& other) noexcept
    : file_(other.file_),
      name_(std::move(other.name_)),
      offset_(other.offset_),
      next_height_(other.next_height_),
      header_(std::move(other.header_)),
      genesis_(std::move(other.genesis_)) {
  other.file_ = nullptr;
}

Result<ExportReader> ExportReader::Open(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Error{"IO_ERROR", "cannot read " + path.string() + ": is a directory"};
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return IoError("cannot read " + path.string());
  ExportReader reader(file, path.string());
  std::string magic(kExportMagic.size(), '\0');
  const size_t got = std::fread(magic.data(), 1, magic.size(), file);
  if (std::ferror(file)) return IoError("cannot read " + path.string());
  if (got != magic.size() || magic != kExportMagic) {
    return Malformed(reader.name_ + ": not a BAS Ledger export (no \"BASEXP1\" magic)");
  }
  reader.offset_ = magic.size();
  if (Status s = reader.Expect(ExportRecordType::kHeader, &reader.header_, "the header"); !s.ok()) {
    return s.error();
  }
  if (reader.header_.format_version() != kExportFormatVersion) {
    return Malformed(reader.name_ + ": format version " +
                     std::to_string(reader.header_.format_version()) + ", this bas reads " +
                     std::to_string(kExportFormatVersion));
  }
  const bas::v1::ExportHeader& h = reader.header_;
  if ((h.last_height() == 0) != (h.first_height() == 0) ||
      (h.last_height() > 0 && h.first_height() != 1)) {
    return Malformed(reader.name_ + ": the header's height range " +
                     std::to_string(h.first_height()) + ".." + std::to_string(h.last_height()) +
                     " does not start at height 1");
  }
  if (Status s = reader.Expect(ExportRecordType::kGenesis, &reader.genesis_, "the genesis");
      !s.ok()) {
    return s.error();
  }
  return reader;
}

Result<std::optional<std::pair<ExportRecordType, std::string>>> ExportReader::ReadRecord() {
  unsigned char head[5];
  const size_t got = std::fread(head, 1, sizeof(head), file_);
  if (std::ferror(file_)) return IoError("cannot read " + name_);
  if (got == 0) return std::optional<std::pair<ExportRecordType, std::string>>();
  const std::string at = name_ + " at byte " + std::to_string(offset_);
  if (got != sizeof(head)) return Malformed(at + ": the file ends inside a record");
  const uint32_t length = ReadBe32(head);
  if (length > kMaxExportRecordBytes) {
    return Malformed(at + ": a record of " + std::to_string(length) + " bytes (at most " +
                     std::to_string(kMaxExportRecordBytes) + ")");
  }
  if (!KnownType(head[4])) {
    return Malformed(at + ": unknown record type " + std::to_string(head[4]));
  }
  std::string payload(length, '\0');
  char checksum[kExportChecksumBytes];
  if (std::fread(payload.data(), 1, length, file_) != length ||
      std::fread(checksum, 1, sizeof(checksum), file_) != sizeof(checksum)) {
    if (std::ferror(file_)) return IoError("cannot read " + name_);
    return Malformed(at + ": the file ends inside a record");
  }
  const auto type = static_cast<ExportRecordType>(head[4]);
  if (Checksum(std::string_view(reinterpret_cast<const char*>(head), sizeof(head)), payload) !=
      std::string_view(checksum, sizeof(checksum))) {
    return Malformed(at + ": the " + std::string(ExportRecordName(type)) +
                     " record's checksum does not match (the file is damaged)");
  }
  offset_ += sizeof(head) + length + sizeof(checksum);
  return std::optional(std::make_pair(type, std::move(payload)));
}

Status ExportReader::Expect(ExportRecordType type, google::protobuf::Message* out,
                            const std::string& where) {
  auto record = ReadRecord();
  if (!record.ok()) return record.error();
  const std::string want(ExportRecordName(type));
  if (!record->has_value()) return Malformed(name_ + ": the file ends before " + where);
  const auto& [got, payload] = **record;
  if (got != type) {
    return Malformed(name_ + ": " + where + ": expected a " + want + " record, found " +
                     std::string(ExportRecordName(got)));
  }
  if (!out->ParseFromString(payload)) {
    return Malformed(name_ + ": " + where + ": the " + want + " record does not parse as " +
                     out->GetTypeName());
  }
  return Status::Ok();
}

Result<std::optional<CertifiedBlock>> ExportReader::Next() {
  if (header_.last_height() == 0 || next_height_ > header_.last_height()) {
    auto extra = ReadRecord();
    if (!extra.ok()) return extra.error();
    if (extra->has_value()) {
      return Malformed(name_ + ": a " + std::string(ExportRecordName((*extra)->first)) +
                       " record after height " + std::to_string(header_.last_height()) +
                       ", the last the header announces");
    }
    return std::optional<CertifiedBlock>();
  }
  const std::string where = "height " + std::to_string(next_height_);
  CertifiedBlock out;
  if (Status s = Expect(ExportRecordType::kBlock, &out.block, where); !s.ok()) return s.error();
  if (Status s = Expect(ExportRecordType::kCommit, &out.commit, where); !s.ok()) return s.error();
  if (header_.has_results()) {
    auto record = ReadRecord();
    if (!record.ok()) return record.error();
    if (!record->has_value() || (*record)->first != ExportRecordType::kResults) {
      return Malformed(name_ + ": " + where + ": expected a RESULTS record, found " +
                       (record->has_value() ? std::string(ExportRecordName((*record)->first))
                                            : std::string("the end of the file")));
    }
    out.results = std::move((*record)->second);
  }
  ++next_height_;
  return std::optional<CertifiedBlock>(std::move(out));
}

}  // namespace bas::audit
