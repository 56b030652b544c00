// libFuzzer target: the proto3-JSON parser of genesis documents and API bodies (proto/json.h,
// ParseJsonStrict) over arbitrary text. What parses must print and parse back to the same
// message. Built only with clang (tests/unit/proto/CMakeLists.txt, target genesis_json_fuzz).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <google/protobuf/util/message_differencer.h>

#include "bas/v1/genesis.pb.h"
#include "proto/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  bas::v1::Genesis genesis;
  if (!bas::proto::ParseJsonStrict(text, &genesis).ok()) return 0;
  auto printed = bas::proto::PrintJson(genesis);
  if (!printed.ok()) __builtin_trap();
  bas::v1::Genesis again;
  if (!bas::proto::ParseJsonStrict(*printed, &again).ok()) __builtin_trap();
  if (!google::protobuf::util::MessageDifferencer::Equals(genesis, again)) __builtin_trap();
  return 0;
}
