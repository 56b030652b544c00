// A read cache over the latest committed state, for the block producer and mempool admission:
// executing a block is mostly point reads, and a RocksDB read costs more than the rules' own
// work on it. Entries (values and absences) are filled on a miss and kept in step with the
// store by Apply, which the committer calls right after ChainStore::CommitBlock. Scans go to
// the store. Bounded: the cache empties itself past max_entries.
//
// Thread-safe: readers share a lock (a miss reads the store without it); Apply takes it
// exclusively. Readers that need one height throughout a request (the API) use
// ChainStore::Snapshot instead.
#pragma once

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "governance/kv.h"
#include "node/storage/chain_store.h"

namespace bas::node::storage {

class StateCache final : public governance::KvReader {
 public:
  // store must outlive the cache.
  explicit StateCache(const ChainStore& store, size_t max_entries = 1 << 20)
      : store_(store), max_entries_(max_entries) {}

  std::optional<std::string> Get(std::string_view key) const override;
  void Scan(std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& fn) const override;

  // Brings cached entries up to date with a committed write set.
  void Apply(const governance::WriteSet& writes);

 private:
  const ChainStore& store_;
  const size_t max_entries_;
  mutable std::shared_mutex mu_;
  mutable std::unordered_map<std::string, std::optional<std::string>, governance::KeyHash,
                             std::equal_to<>>
      entries_;
  uint64_t generation_ = 0;  // Apply calls so far: a miss read across one is not cached
};

}  // namespace bas::node::storage
