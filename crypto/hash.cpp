#include "crypto/hash.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <openssl/err.h>
#include <openssl/evp.h>

namespace bas::crypto {
namespace {

// OpenSSL fails here only when memory runs out or the default provider is missing; no caller
// could do anything sensible with a hash that was not computed, so the contract is to abort.
void RequireOk(int rc, const char* what) {
  if (rc == 1) return;
  std::fprintf(stderr, "bas::crypto: %s failed (OpenSSL error %lu)\n", what, ERR_get_error());
  std::abort();
}

// Fetched once: EVP_sha256() or a NULL-name lookup would search the provider store on every
// EVP_DigestInit, which doubles the cost of hashing a short message.
const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    RequireOk(fetched != nullptr, "EVP_MD_fetch(SHA256)");
    return fetched;  // kept for the life of the process
  }();
  return md;
}

EVP_MD_CTX* NewInitialisedCtx() {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  RequireOk(ctx != nullptr, "EVP_MD_CTX_new");
  RequireOk(EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr), "EVP_DigestInit_ex2");
  return ctx;
}

struct OwnedMdCtx {
  EVP_MD_CTX* ctx = NewInitialisedCtx();
  OwnedMdCtx() = default;
  OwnedMdCtx(const OwnedMdCtx&) = delete;
  OwnedMdCtx& operator=(const OwnedMdCtx&) = delete;
  ~OwnedMdCtx() { EVP_MD_CTX_free(ctx); }
};

// Scratch context for the one-shot functions, so they allocate nothing per call.
EVP_MD_CTX* ThreadScratchCtx() {
  thread_local OwnedMdCtx scratch;
  return scratch.ctx;
}

Hash32 FinalAndReset(EVP_MD_CTX* ctx) {
  Hash32 out;
  RequireOk(EVP_DigestFinal_ex(ctx, out.data(), nullptr), "EVP_DigestFinal_ex");
  RequireOk(EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr), "EVP_DigestInit_ex2");
  return out;
}

void Feed(EVP_MD_CTX* ctx, ByteSpan data) {
  RequireOk(EVP_DigestUpdate(ctx, data.data(), data.size()), "EVP_DigestUpdate");
}

// Contexts that have already absorbed SHA256(tag) || SHA256(tag) (exactly one 64-byte block),
// so a tagged hash costs a midstate copy plus the message. A ledger uses a handful of tags; a
// caller cycling through more than kMaxTags only loses the cache, not correctness.
class TagMidstateCache {
 public:
  TagMidstateCache() = default;
  TagMidstateCache(const TagMidstateCache&) = delete;
  TagMidstateCache& operator=(const TagMidstateCache&) = delete;
  ~TagMidstateCache() {
    for (Entry& e : entries_) EVP_MD_CTX_free(e.midstate);
  }

  const EVP_MD_CTX* Get(std::string_view tag) {
    for (const Entry& e : entries_) {
      if (e.tag == tag) return e.midstate;
    }
    const Hash32 tag_hash = Sha256Of(AsBytes(tag));
    EVP_MD_CTX* midstate = NewInitialisedCtx();
    Feed(midstate, tag_hash);
    Feed(midstate, tag_hash);
    if (entries_.size() < kMaxTags) {
      entries_.push_back(Entry{std::string(tag), midstate});
      return midstate;
    }
    Entry& victim = entries_[next_victim_];
    next_victim_ = (next_victim_ + 1) % kMaxTags;
    EVP_MD_CTX_free(victim.midstate);
    victim = Entry{std::string(tag), midstate};
    return midstate;
  }

 private:
  static constexpr size_t kMaxTags = 16;
  struct Entry {
    std::string tag;
    EVP_MD_CTX* midstate;
  };
  std::vector<Entry> entries_;
  size_t next_victim_ = 0;
};

const EVP_MD_CTX* TagMidstate(std::string_view tag) {
  thread_local TagMidstateCache cache;
  return cache.Get(tag);
}

}  // namespace

struct Sha256::Impl {
  OwnedMdCtx md;
};

Sha256::Sha256() : impl_(new Impl) {}
Sha256::~Sha256() { delete impl_; }

Sha256& Sha256::Update(ByteSpan data) {
  Feed(impl_->md.ctx, data);
  return *this;
}

Hash32 Sha256::Final() { return FinalAndReset(impl_->md.ctx); }

Hash32 Sha256Of(ByteSpan data) {
  EVP_MD_CTX* ctx = ThreadScratchCtx();
  Feed(ctx, data);
  return FinalAndReset(ctx);
}

Hash32 TaggedHash(std::string_view tag, ByteSpan msg) { return TaggedHash(tag, msg, ByteSpan()); }

Hash32 TaggedHash(std::string_view tag, ByteSpan first, ByteSpan second) {
  const EVP_MD_CTX* midstate = TagMidstate(tag);  // before the scratch context is in use
  EVP_MD_CTX* ctx = ThreadScratchCtx();
  RequireOk(EVP_MD_CTX_copy_ex(ctx, midstate), "EVP_MD_CTX_copy_ex");
  Feed(ctx, first);
  Feed(ctx, second);
  return FinalAndReset(ctx);
}

TaggedHasher::TaggedHasher(std::string_view tag) {
  RequireOk(EVP_MD_CTX_copy_ex(sha_.impl_->md.ctx, TagMidstate(tag)), "EVP_MD_CTX_copy_ex");
}

}  // namespace bas::crypto
