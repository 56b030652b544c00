// JSON text of API responses (docs/api.md, "Conventions"). Records are protobuf's own JSON text
// (proto::PrintJson) spliced into the response as written, not parsed and printed again; the
// rest of a response (keys, ids, numbers, small nlohmann values) is written around them with
// nlohmann's escaping. Every response is valid UTF-8 JSON: text that is not UTF-8 is replaced
// (U+FFFD), never an error. Not thread-safe to share one JsonWriter; the functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>
#include <nlohmann/json.hpp>

#include "crypto/hash.h"

namespace bas::node::rpc {

// nlohmann's compact text of v (no whitespace, keys in insertion order, ensure_ascii off),
// invalid UTF-8 replaced: the form of every response body.
std::string DumpJson(const nlohmann::ordered_json& v);

// Appends compact JSON text in order: Key then one value inside objects, values inside arrays,
// commas where they belong. The caller balances Begin/End and gives each key one value
// (asserted in debug builds only: a handler's bug, not input).
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);

  JsonWriter& String(std::string_view s);
  JsonWriter& Uint(uint64_t v);
  JsonWriter& Value(const nlohmann::ordered_json& v);  // as DumpJson writes it
  // m's proto::PrintJson text. Throws std::runtime_error when protobuf cannot print m (a bug:
  // every message we hold prints), which the server turns into 500 INTERNAL.
  JsonWriter& Record(const google::protobuf::Message& m);
  // Records in a JSON array.
  template <typename T>
  JsonWriter& Records(const std::vector<T>& items) {
    BeginArray();
    for (const T& item : items) Record(item);
    return EndArray();
  }

  // Key(key) then the value.
  JsonWriter& Field(std::string_view key, std::string_view s) { return Key(key).String(s); }
  JsonWriter& Field(std::string_view key, uint64_t v) { return Key(key).Uint(v); }
  JsonWriter& Field(std::string_view key, const google::protobuf::Message& m) {
    return Key(key).Record(m);
  }

  // The text written. Precondition: every container is closed.
  std::string Take() &&;

 private:
  void BeforeValue();
  JsonWriter& Open(char bracket);
  JsonWriter& Close(char bracket);

  std::string out_;
  std::vector<bool> has_items_;  // per open container: a value was written in it
  bool after_key_ = false;
};

// Lowercase hex of raw bytes (ids, keys, hashes).
std::string Hex(std::string_view bytes);
std::string Hex(const crypto::Hash32& h);

}  // namespace bas::node::rpc
