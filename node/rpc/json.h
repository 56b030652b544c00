// Proto <-> JSON for the API (docs/api.md, "Conventions"): records in the proto3 JSON mapping
// with the proto field names and every field printed, composed into responses as nlohmann
// values. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <google/protobuf/message.h>
#include <nlohmann/json.hpp>

#include "crypto/hash.h"
#include "crypto/result.h"

namespace bas::node::rpc {

// The proto3 JSON mapping of m (snake_case names, zeros and empty lists printed, 64-bit
// integers as strings, bytes as base64), fields in proto order. Throws std::runtime_error if
// protobuf cannot print it (a bug, not an input error: every message we hold is printable).
nlohmann::ordered_json ProtoToJson(const google::protobuf::Message& m);

// Parses the proto3 JSON mapping of m's type into *m; unknown fields are refused.
// Errors: "MALFORMED" with protobuf's reason.
Status JsonToProto(std::string_view text, google::protobuf::Message* m);

// Lowercase hex of raw bytes (ids, keys, hashes).
std::string Hex(std::string_view bytes);
std::string Hex(const crypto::Hash32& h);

}  // namespace bas::node::rpc
