#include "node/storage/state_cache.h"

#include <mutex>

namespace bas::node::storage {

std::optional<std::string> StateCache::Get(std::string_view key) const {
  {
    std::shared_lock lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end()) return it->second;
  }
  // A miss reads the store under the exclusive lock, so that an Apply cannot slip in between
  // the read and the insert and leave a stale entry behind.
  std::unique_lock lock(mu_);
  if (auto it = entries_.find(key); it != entries_.end()) return it->second;
  auto value = store_.ReadState(key);
  if (entries_.size() >= max_entries_) entries_.clear();
  entries_.emplace(std::string(key), value);
  return value;
}

void StateCache::Scan(std::string_view prefix,
                      const std::function<bool(std::string_view, std::string_view)>& fn) const {
  store_.Snapshot()->Scan(prefix, fn);
}

void StateCache::Apply(const governance::WriteSet& writes) {
  std::unique_lock lock(mu_);
  for (const auto& [key, value] : writes) {
    auto it = entries_.find(key);
    if (it != entries_.end()) it->second = value;
  }
}

}  // namespace bas::node::storage
