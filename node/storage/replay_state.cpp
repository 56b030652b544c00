#include "node/storage/replay_state.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

namespace bas::node::storage {
namespace {

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

[[noreturn]] void ReadFailed(const rocksdb::Status& s) {
  std::cerr << "bas: the audit's scratch state cannot be read: " << s.ToString() << "\n";
  std::abort();
}

}  // namespace

ReplayState::ReplayState(std::filesystem::path dir, std::unique_ptr<rocksdb::DB> db,
                         size_t hot_entries)
    : dir_(std::move(dir)), db_(std::move(db)), hot_entries_(hot_entries) {}

ReplayState::~ReplayState() {
  if (db_) db_->Close().PermitUncheckedError();
  db_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

Result<std::unique_ptr<ReplayState>> ReplayState::Create(const std::filesystem::path& scratch_dir,
                                                         size_t hot_entries) {
  std::error_code ec;
  std::filesystem::path base =
      scratch_dir.empty() ? std::filesystem::temp_directory_path(ec) : scratch_dir;
  if (ec) return Error{"IO_ERROR", "no temporary directory: " + ec.message()};
  std::string templ = (base / "bas-audit-state-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) {
    return Error{"IO_ERROR", "cannot create a scratch directory in " + base.string() + ": " +
                                 std::strerror(errno)};
  }
  std::filesystem::path dir = templ;

  rocksdb::Options options;
  options.create_if_missing = true;
  options.error_if_exists = true;
  // The data lives for one run on a local disk, written by this process: no compression, no
  // block checksums (measured: 2% of the audit's CPU with both, compaction included).
  options.compression = rocksdb::kNoCompression;
  // Memory is what bounds the audit: three memtables of 32 MiB at most, a 16 MiB block cache,
  // and the filters of the table files. One background job flushes and compacts: execution
  // reads point by point, mostly keys that do not exist yet, which fewer files answer faster.
  options.write_buffer_size = 32 << 20;
  options.max_write_buffer_number = 3;
  options.max_background_jobs = 1;
  options.memtable_whole_key_filtering = true;
  options.memtable_prefix_bloom_size_ratio = 0.05;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.checksum = rocksdb::kNoChecksum;
  table.block_cache = rocksdb::NewLRUCache(16 << 20);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir.string(), &db);
  if (!s.ok()) {
    std::filesystem::remove_all(dir, ec);
    return Error{"STORAGE_ERROR", "scratch state in " + dir.string() + ": " + s.ToString()};
  }
  return std::unique_ptr<ReplayState>(
      new ReplayState(std::move(dir), std::unique_ptr<rocksdb::DB>(db), hot_entries));
}

std::optional<std::string> ReplayState::Get(std::string_view key) const {
  if (!governance::ReadByEveryTx(key)) return Read(key);
  if (auto it = hot_.find(key); it != hot_.end()) return it->second;
  std::optional<std::string> value = Read(key);
  if (hot_.size() < hot_entries_) hot_.emplace(key, value);
  return value;
}

std::optional<std::string> ReplayState::Read(std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ToSlice(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) ReadFailed(s);
  return value;
}

void ReplayState::Scan(std::string_view prefix,
                       const std::function<bool(std::string_view, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    if (!k.starts_with(ToSlice(prefix))) break;
    const rocksdb::Slice v = it->value();
    if (!fn(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()))) break;
  }
  if (!it->status().ok()) ReadFailed(it->status());
}

Status ReplayState::Apply(const governance::WriteSet& writes) {
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : writes) {
    // The vote history is a third of what a ledger of votes writes, and neither the rules nor
    // the reports read it back (governance::ReadByExecution).
    if (!governance::ReadByExecution(key)) continue;
    rocksdb::Status s =
        value ? batch.Put(ToSlice(key), ToSlice(*value)) : batch.Delete(ToSlice(key));
    if (!s.ok()) return Error{"STORAGE_ERROR", s.ToString()};
  }
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  rocksdb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) return Error{"STORAGE_ERROR", "scratch state: " + s.ToString()};
  for (const auto& [key, value] : writes) {
    if (!governance::ReadByEveryTx(key)) continue;
    if (auto it = hot_.find(key); it != hot_.end()) {
      it->second = value;
    } else if (hot_.size() < hot_entries_) {
      hot_.emplace(key, value);
    }
  }
  return Status::Ok();
}

Status ReplayState::ReleaseMemory() {
  rocksdb::FlushOptions options;
  options.wait = true;
  rocksdb::Status s = db_->Flush(options);
  if (!s.ok()) return Error{"STORAGE_ERROR", "scratch state: " + s.ToString()};
  return Status::Ok();
}

}  // namespace bas::node::storage
