#include "node/rpc/json.h"

#include <stdexcept>

#include <google/protobuf/util/json_util.h>

#include "crypto/encoding.h"

namespace bas::node::rpc {

nlohmann::ordered_json ProtoToJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  const auto status = google::protobuf::util::MessageToJsonString(m, &text, options);
  if (!status.ok()) {
    throw std::runtime_error("cannot print " + m.GetTypeName() + ": " + status.ToString());
  }
  return nlohmann::ordered_json::parse(text);
}

Status JsonToProto(std::string_view text, google::protobuf::Message* m) {
  // protobuf reports errors as a Status, but a parser can still throw on exotic input (bad
  // allocation on huge numbers of nested values): both become MALFORMED.
  try {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(text.data(), text.size()), m, options);
    if (!status.ok()) return Error{"MALFORMED", std::string(status.message())};
  } catch (const std::exception& e) {
    return Error{"MALFORMED", e.what()};
  }
  return Status::Ok();
}

std::string Hex(std::string_view bytes) { return crypto::HexEncode(bytes); }
std::string Hex(const crypto::Hash32& h) { return crypto::HexEncode(crypto::ByteSpan(h)); }

}  // namespace bas::node::rpc
