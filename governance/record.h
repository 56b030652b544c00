// How a record of the governance state is decoded (internal to governance/), for the engine
// and the queries alike, so that the same bytes get the same verdict in both.
//
// Every value in the state is written by the Engine, from a message it serialized, and is
// committed under the app hash. A record that does not parse is therefore not input that
// someone got wrong but a fault of the node's own store (or of the engine): nothing a caller
// could do with it would be right, and skipping it would show or execute a state that is not
// the chain's. Decoding such a record aborts the process, after naming the key on stderr.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "crypto/encoding.h"

namespace bas::governance {

[[noreturn]] inline void AbortOnCorruptRecord(std::string_view key) {
  std::fprintf(stderr, "governance: corrupt state: the record at key %s does not parse\n",
               crypto::HexEncode(key).c_str());
  std::abort();
}

// The record stored at key. Aborts (AbortOnCorruptRecord) when raw is not a Msg.
template <typename Msg>
Msg ParseRecord(std::string_view key, std::string_view raw) {
  Msg m;
  if (!m.ParseFromArray(raw.data(), static_cast<int>(raw.size()))) AbortOnCorruptRecord(key);
  return m;
}

}  // namespace bas::governance
