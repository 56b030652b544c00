#include "crypto/schnorr.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

namespace bas::crypto {
namespace {

// One context per thread: libsecp256k1 contexts are not safe for concurrent use once
// randomised, and sharing one behind a lock would serialise verification across cores.
class ThreadContext {
 public:
  ThreadContext() : ctx_(secp256k1_context_create(SECP256K1_CONTEXT_NONE)) {
    if (ctx_ == nullptr) {
      std::fprintf(stderr, "bas::crypto: secp256k1_context_create failed\n");
      std::abort();
    }
    // Blinding only hardens signing against side channels; if the CSPRNG is down the context
    // still computes correct results, and Generate/Sign report or absorb that failure
    // themselves.
    unsigned char seed[32];
    if (RAND_bytes(seed, sizeof seed) == 1) {
      if (secp256k1_context_randomize(ctx_, seed) != 1) std::abort();
    }
    OPENSSL_cleanse(seed, sizeof seed);
  }
  ThreadContext(const ThreadContext&) = delete;
  ThreadContext& operator=(const ThreadContext&) = delete;
  ~ThreadContext() { secp256k1_context_destroy(ctx_); }

  const secp256k1_context* get() const { return ctx_; }

 private:
  secp256k1_context* ctx_;
};

const secp256k1_context* Ctx() {
  thread_local ThreadContext context;
  return context.get();
}

// The key pair with the secret erased when it leaves scope.
struct ScopedKeypair {
  secp256k1_keypair keypair;
  ScopedKeypair() = default;
  ScopedKeypair(const ScopedKeypair&) = delete;
  ScopedKeypair& operator=(const ScopedKeypair&) = delete;
  ~ScopedKeypair() { OPENSSL_cleanse(&keypair, sizeof keypair); }
};

}  // namespace

Status RandomBytes(std::span<uint8_t> out) {
  // RAND_bytes takes an int length.
  constexpr size_t kChunk = INT_MAX;
  for (size_t done = 0; done < out.size();) {
    const size_t n = std::min(kChunk, out.size() - done);
    if (RAND_bytes(out.data() + done, static_cast<int>(n)) != 1) {
      return Error{"RANDOM_FAILED", "OpenSSL RAND_bytes failed"};
    }
    done += n;
  }
  return Status::Ok();
}

Result<KeyPair> KeyPair::Generate() {
  SecretKey secret;
  // A uniformly random 32-byte string is a valid scalar except with probability ~2^-128, so
  // this loop runs once in practice.
  for (;;) {
    if (Status s = RandomBytes(secret); !s.ok()) return s.error();
    Result<KeyPair> pair = FromSecret(secret);
    OPENSSL_cleanse(secret.data(), secret.size());
    if (pair.ok()) return pair;
  }
}

Result<KeyPair> KeyPair::FromSecret(const SecretKey& secret) {
  ScopedKeypair kp;
  if (secp256k1_keypair_create(Ctx(), &kp.keypair, secret.data()) != 1) {
    return Error{"INVALID_SECRET_KEY", "secret key is zero or not below the curve order"};
  }
  secp256k1_xonly_pubkey xonly;
  PublicKey public_key;
  if (secp256k1_keypair_xonly_pub(Ctx(), &xonly, nullptr, &kp.keypair) != 1 ||
      secp256k1_xonly_pubkey_serialize(Ctx(), public_key.data(), &xonly) != 1) {
    std::abort();  // cannot fail for a keypair that keypair_create accepted
  }
  return KeyPair(secret, public_key);
}

Signature KeyPair::Sign(ByteSpan msg, const std::optional<AuxRand>& aux_rand) const {
  AuxRand aux{};
  if (aux_rand) {
    aux = *aux_rand;
  } else if (!RandomBytes(aux).ok()) {
    // BIP340 nonces are derived from the secret key and the message; auxiliary randomness
    // only adds protection against side channels and fault injection. Signing with zeros is
    // what BIP340 itself permits when no randomness is available, so a CSPRNG failure does
    // not have to become a signing failure.
    aux.fill(0);
  }

  ScopedKeypair kp;
  if (secp256k1_keypair_create(Ctx(), &kp.keypair, secret_.data()) != 1) {
    std::abort();  // FromSecret/Generate only construct valid secrets
  }
  // sign_custom rather than sign32: ledger messages may have any length, not only 32 bytes.
  secp256k1_schnorrsig_extraparams params = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
  params.ndata = aux.data();
  Signature sig;
  if (secp256k1_schnorrsig_sign_custom(Ctx(), sig.data(), msg.data(), msg.size(), &kp.keypair,
                                       &params) != 1) {
    std::abort();  // fails only on invalid arguments, which the types rule out
  }
  // A signature computed under a hardware or memory fault can leak the secret key once
  // published; checking it first is the standard countermeasure.
  if (!Verify(public_key_, msg, sig)) {
    std::fprintf(stderr, "bas::crypto: BIP340 signature failed self-verification\n");
    std::abort();
  }
  return sig;
}

bool Verify(const PublicKey& key, ByteSpan msg, const Signature& sig) {
  secp256k1_xonly_pubkey xonly;
  if (secp256k1_xonly_pubkey_parse(Ctx(), &xonly, key.data()) != 1) return false;
  return secp256k1_schnorrsig_verify(Ctx(), sig.data(), msg.data(), msg.size(), &xonly) == 1;
}

namespace {

// The lifted keys one thread has verified with, one per slot (see VerifyWithKeyCache).
class LiftedKeyCache {
 public:
  LiftedKeyCache() : slots_(kSlots) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed_), sizeof seed_) != 1) {
      // Without a secret seed the slots are only easier to aim at; the results stay right.
      seed_ = reinterpret_cast<uintptr_t>(this);
    }
    seed_ |= 1;
  }

  // The lift of key, computed now if neither slot of its set holds it; nullptr when key is not
  // on the curve.
  const secp256k1_xonly_pubkey* Lift(const PublicKey& key) {
    uint64_t head;
    std::memcpy(&head, key.data(), sizeof head);
    uint64_t tail;
    std::memcpy(&tail, key.data() + 24, sizeof tail);
    // Multiplicative hashing of the key mixed with the secret seed: the top bits pick the set.
    const uint64_t h = ((head ^ seed_) * 0x9E3779B97F4A7C15ULL ^ tail) * seed_;
    Slot* set = &slots_[(h >> (64 - kSetBits)) * kWays];
    if (set[0].filled && set[0].key == key) return &set[0].lifted;
    if (set[1].filled && set[1].key == key) return &set[1].lifted;
    // The set's most recent key moves to the second slot; the one that was there is dropped.
    set[1] = set[0];
    if (secp256k1_xonly_pubkey_parse(Ctx(), &set[0].lifted, key.data()) != 1) {
      set[0].filled = false;
      return nullptr;
    }
    set[0].key = key;
    set[0].filled = true;
    return &set[0].lifted;
  }

 private:
  // 8,192 sets of two: with one slot per set, 1,000 members' keys left some 30 pairs that
  // evicted each other all the time (lifts took 0.45% of the audit's CPU); with two slots a
  // set, only the two or three sets that draw three of those keys do.
  static constexpr int kSetBits = 13;
  static constexpr size_t kWays = 2;
  static constexpr size_t kSlots = kWays << kSetBits;
  struct Slot {
    PublicKey key{};
    secp256k1_xonly_pubkey lifted{};
    bool filled = false;
  };
  std::vector<Slot> slots_;
  uint64_t seed_ = 0;
};

}  // namespace

bool VerifyWithKeyCache(const PublicKey& key, ByteSpan msg, const Signature& sig) {
  thread_local LiftedKeyCache cache;
  const secp256k1_xonly_pubkey* lifted = cache.Lift(key);
  return lifted != nullptr &&
         secp256k1_schnorrsig_verify(Ctx(), sig.data(), msg.data(), msg.size(), lifted) == 1;
}

bool IsValidPublicKey(const PublicKey& key) {
  secp256k1_xonly_pubkey xonly;
  return secp256k1_xonly_pubkey_parse(Ctx(), &xonly, key.data()) == 1;
}

}  // namespace bas::crypto
