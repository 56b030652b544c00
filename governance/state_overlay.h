// Pending writes over a committed state, with nested savepoints (internal to governance/).
//
// A block's writes accumulate in one ordered map; each transaction and each proposal's
// actions run under a savepoint that is either kept (Commit) or undone (Rollback), so a
// refused tx or a failed action changes nothing. Savepoints are an undo log of the values a
// key had before, so keeping one costs nothing and a read is one lookup. Not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "governance/kv.h"

namespace bas::governance {

class StateOverlay final : public KvReader {
 public:
  explicit StateOverlay(const KvReader& base) : base_(base) {}

  std::optional<std::string> Get(std::string_view key) const override;
  void Scan(std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& fn) const override;

  void Put(std::string key, std::string value) { Write(std::move(key), std::move(value)); }
  void Delete(std::string key) { Write(std::move(key), std::nullopt); }

  void Begin() { savepoints_.push_back(undo_.size()); }
  // Keeps the writes since the matching Begin(). Precondition: a Begin() is open.
  void Commit();
  // Undoes the writes since the matching Begin(). Precondition: a Begin() is open.
  void Rollback();
  int depth() const { return static_cast<int>(savepoints_.size()); }

  // The block's writes; resets them. Precondition: no Begin() is open.
  WriteSet TakeWrites();

 private:
  // What an entry of writes_ held before a write under a savepoint: absent (nullopt, so
  // undoing erases it), or the pending value (a pending deletion is a value too). Map
  // iterators stay valid until their own entry is erased, and undoing runs newest first.
  struct Undo {
    WriteSet::iterator entry;
    std::optional<std::optional<std::string>> before;
  };
  void Write(std::string key, std::optional<std::string> value);

  const KvReader& base_;
  WriteSet writes_;
  std::vector<Undo> undo_;
  std::vector<size_t> savepoints_;  // undo_ sizes at each open Begin()
};

}  // namespace bas::governance
