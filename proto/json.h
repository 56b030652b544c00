// The proto3 JSON mapping of every BAS Ledger type, in one place: the one set of print options
// (proto field names, every field printed, 64-bit integers as strings, bytes as base64), strict
// and lenient parsing, and genesis files. Used by the API (node/rpc), the node daemon, the
// client and the auditor (cli/). Exceptions from protobuf stop here: every function returns a
// value. Pure functions over their arguments; thread-safe.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "bas/v1/genesis.pb.h"
#include "crypto/result.h"

namespace bas::proto {

// m in the proto3 JSON mapping, compact (no whitespace outside strings): snake_case field
// names, zeros, empty strings and empty lists printed, enums by name, fields in proto order.
// Strings are written as protobuf escapes them: '<', '>', DEL and some invisible Unicode
// format characters as \uXXXX; bytes that are not UTF-8 (which proto3 parsing never lets into
// a string field) are dropped, so the text is always valid UTF-8 JSON.
// Errors: "INTERNAL" (protobuf cannot print m: a bug, not an input error).
Result<std::string> PrintJson(const google::protobuf::Message& m);

// Parses text, the proto3 JSON mapping of m's type, into *m (cleared first), refusing fields
// that m's type does not have: for input whose writer knows our schema (API requests, genesis
// files). Accepts proto or JSON (lowerCamel) field names and any whitespace.
// Errors: "MALFORMED" with protobuf's reason; *m is then unspecified.
Status ParseJsonStrict(std::string_view text, google::protobuf::Message* m);

// As ParseJsonStrict, but fields that m's type does not have are ignored: for a client
// reading the answers of a node that may be newer than it.
Status ParseJsonLenient(std::string_view text, google::protobuf::Message* m);

// Genesis files: a Genesis in the proto3 JSON mapping, from outside the process (an operator's
// or an auditor's file), so their size is bounded.
inline constexpr size_t kMaxGenesisFileBytes = size_t{16} << 20;  // 16 MiB

// Reads and strictly parses a genesis file; reads at most kMaxGenesisFileBytes + 1 bytes.
// Checks the format only: whether the genesis makes a chain is chain::ExecuteGenesis's call.
// Errors: "IO_ERROR" (missing or unreadable), "TOO_LARGE" (over kMaxGenesisFileBytes),
// "INVALID_GENESIS" (not a Genesis in the JSON mapping; the message names the file and
// protobuf's reason).
Result<bas::v1::Genesis> ReadGenesis(const std::filesystem::path& file);

// Writes genesis to file (replacing it) as the operator reads it: pretty, two-space indents,
// proto field names, fields at their default value left out.
// Errors: "IO_ERROR", "INTERNAL" (protobuf cannot print it).
Status WriteGenesis(const std::filesystem::path& file, const bas::v1::Genesis& genesis);

}  // namespace bas::proto
