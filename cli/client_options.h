// What every networked `bas` command shares: the global options (node URL, keystore, key,
// passphrase source, --json), the exit statuses documented in `bas --help` and docs/cli.md, and
// the mapping of the libraries' error codes (cli/client/errors.h, cli/audit/errors.h,
// cli/scenario/format.h, the keystore's) onto them.
//
// The libraries return bas::Error with their codes; the command that gives up prints the
// message and exits with ExitStatusOf(error). Pure; thread-compatible.
#pragma once

#include <string>
#include <string_view>

#include "cli/client/node_client.h"
#include "crypto/result.h"

namespace bas::cli {

// Exit statuses of `bas` (a stable interface: scripts test them).
inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;      // internal, I/O or network error
inline constexpr int kExitUsage = 2;         // bad arguments or malformed input
inline constexpr int kExitRefused = 3;       // the chain refused the tx
inline constexpr int kExitNotFound = 4;      // no such tx, proposal, key, ...
inline constexpr int kExitVerifyFailed = 5;  // a verification did not hold
inline constexpr int kExitDiscrepancy = 6;   // the audit found a discrepancy in the ledger

inline constexpr std::string_view kExitStatusHelp =
    "Exit status: 0 ok; 1 internal, I/O or network error; 2 bad arguments or malformed input; "
    "3 the chain refused the transaction; 4 not found; 5 verification failed; 6 the audit found "
    "a discrepancy.";

// The commands' own code: a flag that is missing, clashes with another or does not parse.
inline constexpr std::string_view kUsageError = "USAGE";

// The exit status of an error:
//   2  kUsageError, client::kInvalidInput, audit::kHeightOutOfRange, the scenario's
//      MALFORMED_SCENARIO and INVALID_GENESIS, the keystore's MALFORMED_KEYFILE and
//      BAD_PASSPHRASE, MALFORMED_HEX
//   3  client::kRefused        4  client::kNotFound
//   5  client::kVerifyFailed   6  audit::kDiscrepancy
//   1  anything else ("IO_ERROR", "INTERNAL", client::kNetworkError, client::kApiError, ...)
int ExitStatusOf(const Error& error);

// A library's error about a flag's value, with the flag named: "--format: unknown format xml:
// ...". The code stays the library's.
Error WithFlag(std::string_view flag, Error error);

// Prints "bas: MESSAGE" on standard error and returns ExitStatusOf(error).
int ReportError(const Error& error);

// The global options, after defaults and environment variables were applied.
struct ClientOptions {
  std::string node_url = "http://127.0.0.1:26657";  // --node, BAS_NODE
  std::string keystore_dir;                         // --keystore, BAS_KEYSTORE, ~/.bas/keys
  std::string key_name;                             // --key
  std::string passphrase_file;                      // --passphrase-file
  bool json = false;                                // --json
  double timeout_s = 60;                            // --timeout: per HTTP request

  client::Endpoint endpoint() const { return client::Endpoint{node_url, timeout_s}; }
};

// Pretty JSON (nlohmann::json or ordered_json) for standard output, with invalid UTF-8 in user
// text replaced rather than thrown on.
template <typename Json>
std::string PrettyJson(const Json& value) {
  return value.dump(2, ' ', false, Json::error_handler_t::replace);
}

// ~/.bas/keys ($HOME/.bas/keys; "./.bas/keys" when HOME is unset).
std::string DefaultKeystoreDir();

}  // namespace bas::cli
