// The key-value view the governance state machine works on. The node backs it with RocksDB,
// tests and the scenario runner with memory. Keys and values are byte strings; iteration is in
// bytewise key order, which is what makes every scan deterministic.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/hash.h"

namespace bas::governance {

// Read access to a committed state. Implementations must be safe for concurrent readers when
// nothing writes to them.
class KvReader {
 public:
  virtual ~KvReader() = default;
  // The value at key, or nullopt.
  virtual std::optional<std::string> Get(std::string_view key) const = 0;
  // Calls fn(key, value) for each key that starts with prefix, in bytewise order, until fn
  // returns false.
  virtual void Scan(std::string_view prefix,
                    const std::function<bool(std::string_view, std::string_view)>& fn) const = 0;
};

// Changes to a state: key -> new value, or nullopt for a deletion. Ordered by key.
using WriteSet = std::map<std::string, std::optional<std::string>, std::less<>>;

// Hash of a key for unordered maps of state entries, looked up by string_view without building
// a key string (C++20 heterogeneous lookup, with std::equal_to<>).
struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};

// A state held in memory: for tests, the scenario runner and the auditor's replay.
class MemoryKv final : public KvReader {
 public:
  std::optional<std::string> Get(std::string_view key) const override;
  void Scan(std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& fn) const override;
  void Apply(const WriteSet& writes);
  size_t size() const { return data_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> data_;
};

// Whether executing txs and blocks may read key. False only for the vote history ("vh/": every
// vote cast, in order), which the API's queries read but the rules never do. A replay that
// only re-executes (the auditor) may leave those entries out of its state: a rule that came to
// read them would see them missing and the replay would report a discrepancy, never pass one.
bool ReadByExecution(std::string_view key);

// Whether key is one of the entries every tx reads: the signer's account (its nonce) and its
// membership by key. There is one of each per key that ever signed, so a store may keep them
// all at hand (the auditor's replayed state does).
bool ReadByEveryTx(std::string_view key);

// Hash of a write set, over its canonical encoding (docs/encoding.md): for each entry in key
// order, u32be(len key) || key || 0x00 for a deletion, or 0x01 || u32be(len value) || value.
crypto::Hash32 WriteSetHash(const WriteSet& writes);

// tagged_hash("bas/app", previous app hash || WriteSetHash(writes)) (DESIGN.md section 4).
crypto::Hash32 NextAppHash(const crypto::Hash32& previous, const WriteSet& writes);

}  // namespace bas::governance
