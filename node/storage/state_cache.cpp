#include "node/storage/state_cache.h"

#include <mutex>

namespace bas::node::storage {

std::optional<std::string> StateCache::Get(std::string_view key) const {
  uint64_t generation = 0;
  {
    std::shared_lock lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end()) return it->second;
    generation = generation_;
  }
  // The store is read without the lock: holding it exclusively through a RocksDB read made the
  // block producer's misses and the API threads' nonce checks wait on each other (the largest
  // off-CPU time of a loaded node). The value read is cached only if no Apply ran meanwhile;
  // otherwise it may be older than the write set just applied, and the next read refetches.
  auto value = store_.ReadState(key);
  std::unique_lock lock(mu_);
  if (generation_ == generation) {
    if (entries_.size() >= max_entries_) entries_.clear();
    entries_.emplace(std::string(key), value);
  }
  return value;
}

void StateCache::Scan(std::string_view prefix,
                      const std::function<bool(std::string_view, std::string_view)>& fn) const {
  store_.Snapshot()->Scan(prefix, fn);
}

void StateCache::Apply(const governance::WriteSet& writes) {
  std::unique_lock lock(mu_);
  ++generation_;
  for (const auto& [key, value] : writes) {
    auto it = entries_.find(key);
    if (it != entries_.end()) it->second = value;
  }
}

}  // namespace bas::node::storage
