#include "governance/state_overlay.h"

#include <cassert>
#include <map>

namespace bas::governance {

std::optional<std::string> StateOverlay::Get(std::string_view key) const {
  auto it = writes_.find(key);
  if (it != writes_.end()) return it->second;
  return base_.Get(key);
}

void StateOverlay::Scan(std::string_view prefix,
                        const std::function<bool(std::string_view, std::string_view)>& fn) const {
  const auto pending = writes_.lower_bound(prefix);
  if (pending == writes_.end() || !std::string_view(pending->first).starts_with(prefix)) {
    // Nothing pending under the prefix (opening a proposal scans the coalition's members, who
    // rarely change in the same block): the base's entries as they are, without a copy.
    base_.Scan(prefix, fn);
    return;
  }
  // Merge the base's keys with the pending writes. Scans are over small tables (open
  // proposals, one coalition's members, one proposal's votes), so materialising is fine.
  std::map<std::string, std::optional<std::string>, std::less<>> merged;
  base_.Scan(prefix, [&](std::string_view k, std::string_view v) {
    merged.emplace(std::string(k), std::string(v));
    return true;
  });
  for (auto it = pending; it != writes_.end(); ++it) {
    if (!std::string_view(it->first).starts_with(prefix)) break;
    merged.insert_or_assign(it->first, it->second);
  }
  for (const auto& [k, v] : merged) {
    if (v && !fn(k, *v)) break;
  }
}

void StateOverlay::Write(std::string key, std::optional<std::string> value) {
  auto it = writes_.lower_bound(key);
  if (it != writes_.end() && it->first == key) {
    if (!savepoints_.empty()) undo_.push_back({it, std::move(it->second)});
    it->second = std::move(value);
    return;
  }
  it = writes_.emplace_hint(it, std::move(key), std::move(value));
  if (!savepoints_.empty()) undo_.push_back({it, std::nullopt});
}

void StateOverlay::Commit() {
  assert(!savepoints_.empty());
  savepoints_.pop_back();
  // The undo entries stay while an outer savepoint may still undo them.
  if (savepoints_.empty()) undo_.clear();
}

void StateOverlay::Rollback() {
  assert(!savepoints_.empty());
  const size_t mark = savepoints_.back();
  savepoints_.pop_back();
  while (undo_.size() > mark) {
    Undo& u = undo_.back();
    if (u.before) {
      u.entry->second = std::move(*u.before);
    } else {
      writes_.erase(u.entry);
    }
    undo_.pop_back();
  }
}

WriteSet StateOverlay::TakeWrites() {
  assert(savepoints_.empty());
  WriteSet out = std::move(writes_);
  writes_.clear();
  undo_.clear();
  return out;
}

}  // namespace bas::governance
