// Pending writes over a committed state, with nested savepoints (internal to governance/).
//
// A block's writes accumulate in the bottom layer; each transaction and each proposal's
// actions run in a layer of their own that is either merged down (Commit) or dropped
// (Rollback), so a refused tx or a failed action changes nothing. Reads see the newest layer
// first. Not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "governance/kv.h"

namespace bas::governance {

class StateOverlay final : public KvReader {
 public:
  explicit StateOverlay(const KvReader& base) : base_(base), layers_(1) {}

  std::optional<std::string> Get(std::string_view key) const override;
  void Scan(std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& fn) const override;

  void Put(std::string key, std::string value) {
    layers_.back().insert_or_assign(std::move(key), std::move(value));
  }
  void Delete(std::string key) { layers_.back().insert_or_assign(std::move(key), std::nullopt); }

  void Begin() { layers_.emplace_back(); }
  // Merges the newest layer into the one below. Precondition: a Begin() is open.
  void Commit();
  // Drops the newest layer. Precondition: a Begin() is open.
  void Rollback();
  int depth() const { return static_cast<int>(layers_.size()) - 1; }

  // The bottom layer's writes; resets it. Precondition: no Begin() is open.
  WriteSet TakeWrites();

 private:
  const KvReader& base_;
  std::vector<WriteSet> layers_;
};

}  // namespace bas::governance
