// What every networked `bas` command shares: the global options (node URL, keystore, key,
// passphrase source, --json), the exit statuses documented in `bas --help` and docs/cli.md, and
// the error codes of bas::cli that map onto them.
//
// Lower layers return bas::Error with one of the codes below; the command that gives up prints
// the message and exits with ExitStatusOf(error). Pure; thread-compatible.
#pragma once

#include <string>
#include <string_view>

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

// Error codes of bas::cli (Error::code) and the exit status of each.
inline constexpr std::string_view kUsageError = "USAGE";            // exit 2: the user's input
inline constexpr std::string_view kNetworkError = "NETWORK";        // exit 1: connect, I/O, timeout
inline constexpr std::string_view kApiError = "API_ERROR";          // exit 1: any other HTTP error
inline constexpr std::string_view kRefused = "REFUSED";             // exit 3: HTTP 422
inline constexpr std::string_view kNotFound = "NOT_FOUND";          // exit 4: HTTP 404, no key file
inline constexpr std::string_view kVerifyFailed = "VERIFY_FAILED";  // exit 5
inline constexpr std::string_view kDiscrepancy = "DISCREPANCY";     // exit 6: bas audit, report
// Any other code ("IO_ERROR", "INTERNAL", a keystore code such as "BAD_PASSPHRASE") exits 1,
// except the keystore's "MALFORMED_KEYFILE" and "BAD_PASSPHRASE", which are input errors (2).

int ExitStatusOf(const Error& error);

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
