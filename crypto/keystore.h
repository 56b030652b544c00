// Encrypted key files: a secret key sealed with AES-256-GCM under a key derived from a
// passphrase with scrypt (OpenSSL EVP_PBE_scrypt). The file's header (format version, scrypt
// parameters, salt, nonce, key name and public key) is authenticated as GCM associated data, so
// any changed byte is detected. Files are written with mode 0600, atomically (temp file in the
// same directory, fsync, rename). The format is documented in docs/keystore.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "crypto/result.h"
#include "crypto/schnorr.h"

namespace bas::crypto {

struct ScryptParams {
  uint64_t n = 1 << 15;  // CPU/memory cost; a power of two
  uint32_t r = 8;
  uint32_t p = 1;
};

struct KeyFile {
  std::string name;
  PublicKey public_key;
  SecretKey secret_key;
};

// Writes `key` to path. Errors: "IO_ERROR" (with the OS reason), "RANDOM_FAILED",
// "INVALID_ARGUMENT" (bad scrypt parameters).
Status WriteKeyFile(const std::filesystem::path& path, const KeyFile& key,
                    std::string_view passphrase, const ScryptParams& params = {});

// Reads and decrypts a key file. Errors: "IO_ERROR", "MALFORMED_KEYFILE" (not a key file, an
// unknown version, parameters outside the accepted bounds), "BAD_PASSPHRASE" (authentication
// failed: a wrong passphrase or a tampered file; the two cannot be told apart), "KEY_MISMATCH"
// (the decrypted secret does not give the stored public key).
Result<KeyFile> ReadKeyFile(const std::filesystem::path& path, std::string_view passphrase);

}  // namespace bas::crypto
