// BIP340 Schnorr signatures over secp256k1 through libsecp256k1.
//
// Keys are 32-byte x-only public keys. Secret keys come from OpenSSL's CSPRNG. Signing uses
// fresh 32-byte auxiliary randomness unless a test passes its own. Each thread keeps its own
// libsecp256k1 context (created on first use, randomised for side-channel protection), so
// signing and verification are thread-safe and scale over cores.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "crypto/hash.h"
#include "crypto/result.h"

namespace bas::crypto {

using PublicKey = std::array<uint8_t, 32>;
using SecretKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;
using AuxRand = std::array<uint8_t, 32>;

class KeyPair {
 public:
  // A new key from OpenSSL's CSPRNG. Fails (code "RANDOM_FAILED") only if the CSPRNG does.
  static Result<KeyPair> Generate();
  // The key pair of a secret; fails with "INVALID_SECRET_KEY" when it is zero or >= the
  // curve order.
  static Result<KeyPair> FromSecret(const SecretKey& secret);

  const PublicKey& public_key() const { return public_key_; }
  const SecretKey& secret_key() const { return secret_; }

  // BIP340 signature over msg (any length; BIP340 messages are usually a 32-byte hash).
  // aux_rand: nullopt draws fresh randomness from the CSPRNG (the normal case); tests pass the
  // vector's value. The signature is verified before it is returned.
  Signature Sign(ByteSpan msg, const std::optional<AuxRand>& aux_rand = std::nullopt) const;

 private:
  KeyPair(const SecretKey& secret, const PublicKey& public_key)
      : secret_(secret), public_key_(public_key) {}
  SecretKey secret_;
  PublicKey public_key_;
};

// True iff sig is a valid BIP340 signature by key over msg (any length). Rejects keys that are
// not on the curve. Thread-safe.
bool Verify(const PublicKey& key, ByteSpan msg, const Signature& sig);

// Verify, with the key's lift to a curve point (BIP340 lift_x: a square root, about 5 of the
// 42 µs a verification costs on the reference machine) remembered by the calling thread, for
// keys that sign again and again: a coalition's members signing their txs. Same result as
// Verify for every input. Each thread keeps a table of 16,384 keys in sets of two (1.6 MiB,
// made on first use, the set picked by a per-process secret hash): a key can only push another
// one out, so keys chosen to collide cost their victims the lift again, nothing more. Keys that are
// not on the curve are never kept. Thread-safe.
bool VerifyWithKeyCache(const PublicKey& key, ByteSpan msg, const Signature& sig);

// True iff key is a valid x-only public key (a point on the curve).
bool IsValidPublicKey(const PublicKey& key);

// Fills out with bytes from OpenSSL's CSPRNG; "RANDOM_FAILED" on failure.
Status RandomBytes(std::span<uint8_t> out);

}  // namespace bas::crypto
