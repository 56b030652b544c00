// Encrypted key files: a secret key sealed with AES-256-GCM under a key derived from a
// passphrase with scrypt (OpenSSL EVP_PBE_scrypt). The file's header (format version, scrypt
// parameters, salt, nonce, key name and public key) is authenticated as GCM associated data, so
// any changed byte is detected. Files are written with mode 0600, atomically (temp file in the
// same directory, fsync, rename). The format is documented in docs/keystore.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

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

// Writes `key` to path, atomically replacing any file already there; on failure no temporary
// file is left behind. Errors: "IO_ERROR" (with the OS reason), "RANDOM_FAILED",
// "INVALID_ARGUMENT" (scrypt parameters outside the bounds ReadKeyFile accepts: N a power of
// two in [2^10, 2^20], r in [1, 16], p in [1, 4], 128*N*r <= 256 MiB; a name over 1024 bytes;
// a public key that is not the secret key's), "INTERNAL" (OpenSSL failed, e.g. out of memory).
// Thread-safe.
Status WriteKeyFile(const std::filesystem::path& path, const KeyFile& key,
                    std::string_view passphrase, const ScryptParams& params = {});

// Reads and decrypts a key file. Errors: "IO_ERROR", "MALFORMED_KEYFILE" (not a key file, an
// unknown version, parameters outside the accepted bounds), "BAD_PASSPHRASE" (authentication
// failed: a wrong passphrase or a tampered file; the two cannot be told apart), "KEY_MISMATCH"
// (the decrypted secret does not give the stored public key), "INTERNAL" (OpenSSL failed).
// Costs one scrypt run with the file's parameters. Thread-safe.
Result<KeyFile> ReadKeyFile(const std::filesystem::path& path, std::string_view passphrase);

// What a key file says about itself, read without the passphrase.
struct KeyFileInfo {
  std::string name;
  PublicKey public_key;
};

// Reads the name and public key of a key file without decrypting it (for listings). These are
// UNAUTHENTICATED until the file is decrypted: anyone who can write the file can change them
// without being noticed here; ReadKeyFile detects the change. Checks steps 1 to 5 of
// docs/keystore.md, "Reading", with the same errors ("IO_ERROR", "MALFORMED_KEYFILE"); no
// scrypt run. Thread-safe.
Result<KeyFileInfo> ReadKeyFileInfo(const std::filesystem::path& path);

}  // namespace bas::crypto
