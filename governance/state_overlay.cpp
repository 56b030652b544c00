#include "governance/state_overlay.h"

#include <cassert>
#include <map>

namespace bas::governance {

std::optional<std::string> StateOverlay::Get(std::string_view key) const {
  for (auto layer = layers_.rbegin(); layer != layers_.rend(); ++layer) {
    auto it = layer->find(key);
    if (it != layer->end()) return it->second;
  }
  return base_.Get(key);
}

void StateOverlay::Scan(std::string_view prefix,
                        const std::function<bool(std::string_view, std::string_view)>& fn) const {
  // Merge the base with every layer, newest last. Scans are over small tables (open
  // proposals, one coalition's members, one proposal's votes), so materialising is fine.
  std::map<std::string, std::optional<std::string>, std::less<>> merged;
  base_.Scan(prefix, [&](std::string_view k, std::string_view v) {
    merged.emplace(std::string(k), std::string(v));
    return true;
  });
  for (const auto& layer : layers_) {
    for (auto it = layer.lower_bound(prefix); it != layer.end(); ++it) {
      if (std::string_view(it->first).substr(0, prefix.size()) != prefix) break;
      merged.insert_or_assign(it->first, it->second);
    }
  }
  for (const auto& [k, v] : merged) {
    if (v && !fn(k, *v)) break;
  }
}

void StateOverlay::Commit() {
  assert(layers_.size() > 1);
  WriteSet top = std::move(layers_.back());
  layers_.pop_back();
  for (auto& [k, v] : top) layers_.back().insert_or_assign(k, std::move(v));
}

void StateOverlay::Rollback() {
  assert(layers_.size() > 1);
  layers_.pop_back();
}

WriteSet StateOverlay::TakeWrites() {
  assert(layers_.size() == 1);
  WriteSet out = std::move(layers_.front());
  layers_.front().clear();
  return out;
}

}  // namespace bas::governance
