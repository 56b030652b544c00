// The error codes of bas::client (Error::code), a stable interface: the command layer maps
// each onto an exit status (cli/client_options.h) and scripts test those. A library never
// speaks in flags or exit codes; what it refuses names the value at fault, not the flag it
// came from. Other modules' codes pass through unchanged (the keystore's "BAD_PASSPHRASE",
// "IO_ERROR", "INTERNAL").
#pragma once

#include <string_view>

namespace bas::client {

// Input that does not parse: a node URL, an id, the text form of an action or a date.
inline constexpr std::string_view kInvalidInput = "INVALID_INPUT";
// Could not resolve, connect, send or read in time; a response that is not HTTP/1.1.
inline constexpr std::string_view kNetworkError = "NETWORK";
// Any HTTP error of the node's API other than those below.
inline constexpr std::string_view kApiError = "API_ERROR";
// A tx submitted with a wait for its commit was not committed in time (HTTP 504 TIMEOUT): it
// is in the mempool and may still commit.
inline constexpr std::string_view kCommitTimeout = "COMMIT_TIMEOUT";
// The chain refused the tx (HTTP 422).
inline constexpr std::string_view kRefused = "REFUSED";
// No such tx, proposal or key (HTTP 404, no key file).
inline constexpr std::string_view kNotFound = "NOT_FOUND";
// A proof or signature the client checked did not hold.
inline constexpr std::string_view kVerifyFailed = "VERIFY_FAILED";

}  // namespace bas::client
