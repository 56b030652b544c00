#include "node/rpc/json.h"

#include <cassert>
#include <stdexcept>

#include "crypto/encoding.h"
#include "proto/json.h"

namespace bas::node::rpc {

std::string DumpJson(const nlohmann::ordered_json& v) {
  // Replacement instead of an exception for invalid UTF-8: records hold user text that the
  // governance rules checked, but a response must never fail on it.
  return v.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (has_items_.empty()) return;
  if (has_items_.back()) out_ += ',';
  has_items_.back() = true;
}

JsonWriter& JsonWriter::Open(char bracket) {
  BeforeValue();
  out_ += bracket;
  has_items_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::Close(char bracket) {
  assert(!has_items_.empty() && !after_key_);
  has_items_.pop_back();
  out_ += bracket;
  return *this;
}

JsonWriter& JsonWriter::BeginObject() { return Open('{'); }
JsonWriter& JsonWriter::EndObject() { return Close('}'); }
JsonWriter& JsonWriter::BeginArray() { return Open('['); }
JsonWriter& JsonWriter::EndArray() { return Close(']'); }

JsonWriter& JsonWriter::Key(std::string_view key) {
  String(key);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view s) {
  BeforeValue();
  // Ids, hashes and codes are printable ASCII that nlohmann writes unchanged; anything else
  // takes nlohmann's escaping, so that there is one escaping rule for the envelope.
  bool plain = true;
  for (char c : s) plain = plain && c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  if (plain) {
    out_ += '"';
    out_ += s;
    out_ += '"';
  } else {
    out_ += DumpJson(std::string(s));
  }
  return *this;
}

JsonWriter& JsonWriter::Uint(uint64_t v) {
  BeforeValue();
  out_ += std::to_string(v);
  return *this;
}

JsonWriter& JsonWriter::Value(const nlohmann::ordered_json& v) {
  BeforeValue();
  out_ += DumpJson(v);
  return *this;
}

JsonWriter& JsonWriter::Record(const google::protobuf::Message& m) {
  auto text = proto::PrintJson(m);
  if (!text.ok()) throw std::runtime_error(text.error().message);
  BeforeValue();
  out_ += *text;
  return *this;
}

std::string JsonWriter::Take() && {
  assert(has_items_.empty() && !after_key_);
  return std::move(out_);
}

std::string Hex(std::string_view bytes) { return crypto::HexEncode(bytes); }
std::string Hex(const crypto::Hash32& h) { return crypto::HexEncode(crypto::ByteSpan(h)); }

}  // namespace bas::node::rpc
