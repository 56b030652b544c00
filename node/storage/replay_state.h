// The governance state an audit replays into: the genesis writes, then each block's write set,
// read by the engine while it re-executes the next block and by the reports at the end.
//
// A ledger's state grows with every vote (every vote is kept, and its electorate): a million
// votes leave about three million entries, some 600 MiB in a governance::MemoryKv. So the state
// lives in a scratch RocksDB database: no write-ahead log and no fsync (it is thrown away),
// bloom filters for the point reads execution makes, a small block cache, and memtables that
// bound memory.
// The entries every tx reads (governance::ReadByEveryTx: the signer's account and membership)
// are also kept in memory, found or not, up to a bound: a million votes by a thousand members
// read them five million times, through the memtables' skip lists and the table files' filters
// (about 1 µs a read), where a hash table answers in a tenth of that. Apply writes them
// through, so they never differ from what the database holds.
// The directory is created under a scratch directory and removed when the state is destroyed.
//
// Not thread-safe, reads included (they fill the table of hot entries): one thread at a time.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "crypto/result.h"
#include "governance/kv.h"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace bas::node::storage {

class ReplayState final : public governance::KvReader {
 public:
  ~ReplayState() override;
  ReplayState(const ReplayState&) = delete;
  ReplayState& operator=(const ReplayState&) = delete;

  // A new, empty state in a fresh directory under scratch_dir (the system's temporary directory
  // when empty). Errors: "IO_ERROR" (the directory cannot be made), "STORAGE_ERROR".
  // hot_entries: how many of the entries every tx reads are kept in memory (at about 150 bytes
  // each); once full, further ones are read from the database.
  static Result<std::unique_ptr<ReplayState>> Create(const std::filesystem::path& scratch_dir,
                                                     size_t hot_entries = 1 << 16);

  // A read that fails in RocksDB (the scratch disk failing under us) aborts the process: the
  // KvReader interface has no error path and a replay cannot continue without its state.
  std::optional<std::string> Get(std::string_view key) const override;
  void Scan(std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& fn) const override;

  // Applies a block's writes in one batch, leaving out the entries execution never reads
  // (governance::ReadByExecution: the vote history). Errors: "STORAGE_ERROR".
  Status Apply(const governance::WriteSet& writes);

  // Moves what the memtables hold into table files and frees them: once the replay is over,
  // the reports read what they need through the block cache. Errors: "STORAGE_ERROR".
  Status ReleaseMemory();

  const std::filesystem::path& dir() const { return dir_; }

 private:
  ReplayState(std::filesystem::path dir, std::unique_ptr<rocksdb::DB> db, size_t hot_entries);

  std::optional<std::string> Read(std::string_view key) const;

  std::filesystem::path dir_;
  std::unique_ptr<rocksdb::DB> db_;
  const size_t hot_entries_;
  // Key -> value (nullopt: absent), for keys that governance::ReadByEveryTx names. Filled by
  // reads (hence mutable) and by Apply.
  mutable std::unordered_map<std::string, std::optional<std::string>, governance::KeyHash,
                             std::equal_to<>>
      hot_;
};

}  // namespace bas::node::storage
