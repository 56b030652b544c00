// SHA-256 and BIP340-style tagged hashes through OpenSSL EVP.
//
// The SHA-256 digest is fetched once per process (EVP_MD_fetch) and each thread reuses its own
// EVP_MD_CTX, because a one-shot EVP call looks the algorithm up every time and costs about
// twice as much. All functions are thread-safe. OpenSSL failures (out of memory) abort: a
// hash that cannot be computed is not an input error.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace bas::crypto {

using Hash32 = std::array<uint8_t, 32>;
using ByteSpan = std::span<const uint8_t>;

inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsStringView(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// The 32 bytes of a hash (or x-only key) as a byte string, as protobuf bytes fields hold them.
inline std::string HashBytes(const std::array<uint8_t, 32>& h) {
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}
// The hash (or x-only key) in a byte string; all zeros unless it is exactly 32 bytes.
inline std::array<uint8_t, 32> ToHash(std::string_view s) {
  std::array<uint8_t, 32> h{};
  if (s.size() == h.size()) std::copy(s.begin(), s.end(), h.begin());
  return h;
}

// Incremental SHA-256. Not thread-safe per instance; create one per thread. Reusable after
// Final().
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& Update(ByteSpan data);
  Sha256& Update(std::string_view data) { return Update(AsBytes(data)); }
  // Returns the digest and resets the hasher for new input.
  Hash32 Final();

 private:
  friend class TaggedHasher;  // starts from a cached tag midstate
  struct Impl;
  Impl* impl_;
};

// SHA-256 of data.
Hash32 Sha256Of(ByteSpan data);
inline Hash32 Sha256Of(std::string_view data) { return Sha256Of(AsBytes(data)); }

// BIP340 tagged hash: SHA256(SHA256(tag) || SHA256(tag) || msg). The tag prefix is cached per
// tag, so repeated calls with one tag hash only the message.
Hash32 TaggedHash(std::string_view tag, ByteSpan msg);
inline Hash32 TaggedHash(std::string_view tag, std::string_view msg) {
  return TaggedHash(tag, AsBytes(msg));
}

// TaggedHash of first || second, without building the message or a TaggedHasher (which
// allocates its own OpenSSL context): for a tx's id, computed for every tx checked.
Hash32 TaggedHash(std::string_view tag, ByteSpan first, ByteSpan second);

// An incremental tagged hash, for messages built from several parts.
class TaggedHasher {
 public:
  explicit TaggedHasher(std::string_view tag);
  TaggedHasher& Update(ByteSpan data) {
    sha_.Update(data);
    return *this;
  }
  TaggedHasher& Update(std::string_view data) { return Update(AsBytes(data)); }
  Hash32 Final() { return sha_.Final(); }  // one use per instance

 private:
  Sha256 sha_;
};

}  // namespace bas::crypto
