// `bas keys ...` and the keystore as every signing command uses it: a directory of encrypted
// key files (crypto/keystore.h, docs/keystore.md), one per key, named NAME.key, mode 0600 in a
// directory of mode 0700.
//
// The passphrase of a key comes from, in this order: --passphrase-file FILE (its first line),
// the environment variable BAS_PASSPHRASE (set, even if empty), a prompt without echo on the
// controlling terminal (/dev/tty). With none of these the command fails with kUsageError.
//
// Functions print only where they say so. Not thread-safe (they may prompt on the terminal).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/client_options.h"
#include "crypto/keystore.h"
#include "crypto/result.h"
#include "crypto/schnorr.h"

namespace bas::cli {

// A key name: 1 to 64 of A-Z a-z 0-9 . _ - , not starting with '.'. Errors: kUsageError.
Status ValidateKeyName(std::string_view name);

// DIR/NAME.key. Precondition: ValidateKeyName(name) is ok.
std::filesystem::path KeyFilePath(const std::string& dir, std::string_view name);

// The passphrase as the header comment says. confirm: on the terminal, ask twice and insist
// that both agree (for a new key). Errors: kUsageError (no source, the two entries differ),
// "IO_ERROR" (an unreadable passphrase file or terminal).
Result<std::string> ObtainPassphrase(const ClientOptions& options, std::string_view prompt,
                                     bool confirm);

// Decrypts the key `name` of the keystore (obtaining its passphrase). Errors: kUsageError (no
// --key, a bad name), kNotFound (no such key file), the keystore's ("BAD_PASSPHRASE", ...).
Result<crypto::KeyPair> LoadKey(const ClientOptions& options, std::string_view name);

struct KeyListing {
  std::string name;                         // the file name without ".key"
  std::optional<crypto::KeyFileInfo> info;  // unauthenticated until decrypted
  std::string problem;                      // why info is missing (a damaged file)
};

// Every *.key in dir, sorted by name. A missing directory is an empty list. Errors: "IO_ERROR".
Result<std::vector<KeyListing>> ListKeys(const std::string& dir);

// The `bas keys` commands. Each prints its result (JSON with options.json) and returns the exit
// status; errors are printed with ReportError.
int RunKeysNew(const ClientOptions& options, const std::string& name);
int RunKeysList(const ClientOptions& options);
int RunKeysShow(const ClientOptions& options, const std::string& name);
// secret_hex: the secret in hex, or empty to read it from standard input (one line).
int RunKeysImport(const ClientOptions& options, const std::string& name, std::string secret_hex);
int RunKeysExport(const ClientOptions& options, const std::string& name, bool secret);

}  // namespace bas::cli
