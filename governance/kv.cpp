#include "governance/kv.h"

#include "governance/keys.h"

namespace bas::governance {
namespace {

void AppendU32(crypto::Sha256& sha, size_t n) {
  const uint8_t be[4] = {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
                         static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
  sha.Update(crypto::ByteSpan(be, 4));
}

}  // namespace

bool ReadByExecution(std::string_view key) {
  return !key.starts_with(keys::VoteHistoryPrefixAll());
}

bool ReadByEveryTx(std::string_view key) {
  return key.starts_with(keys::AccountPrefix()) || key.starts_with(keys::MemberByKeyPrefixAll());
}

std::optional<std::string> MemoryKv::Get(std::string_view key) const {
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

void MemoryKv::Scan(std::string_view prefix,
                    const std::function<bool(std::string_view, std::string_view)>& fn) const {
  for (auto it = data_.lower_bound(prefix); it != data_.end(); ++it) {
    if (std::string_view(it->first).substr(0, prefix.size()) != prefix) break;
    if (!fn(it->first, it->second)) break;
  }
}

void MemoryKv::Apply(const WriteSet& writes) {
  for (const auto& [key, value] : writes) {
    if (value) {
      data_.insert_or_assign(key, *value);
    } else {
      data_.erase(key);
    }
  }
}

crypto::Hash32 WriteSetHash(const WriteSet& writes) {
  crypto::Sha256 sha;
  for (const auto& [key, value] : writes) {
    AppendU32(sha, key.size());
    sha.Update(key);
    if (value) {
      const uint8_t present = 1;
      sha.Update(crypto::ByteSpan(&present, 1));
      AppendU32(sha, value->size());
      sha.Update(*value);
    } else {
      const uint8_t deleted = 0;
      sha.Update(crypto::ByteSpan(&deleted, 1));
    }
  }
  return sha.Final();
}

crypto::Hash32 NextAppHash(const crypto::Hash32& previous, const WriteSet& writes) {
  const crypto::Hash32 writes_hash = WriteSetHash(writes);
  crypto::TaggedHasher hasher("bas/app");
  hasher.Update(previous);
  hasher.Update(writes_hash);
  return hasher.Final();
}

}  // namespace bas::governance
