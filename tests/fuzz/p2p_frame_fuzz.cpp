// libFuzzer target: the P2P frame decoder (node/p2p/frame.h) over arbitrary bytes, fed in
// chunks whose sizes come from the input, so frame boundaries land anywhere. Built only with
// clang (tests/unit/node/p2p/CMakeLists.txt, target p2p_frame_fuzz).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "node/p2p/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bas::node::p2p::FrameDecoder decoder(4096);
  size_t pos = 0;
  while (pos < size) {
    const size_t chunk = std::min<size_t>(1 + data[pos] % 97, size - pos);
    decoder.Append(bas::crypto::ByteSpan(data + pos, chunk));
    pos += chunk;
    while (true) {
      auto next = decoder.Next();
      if (!next.ok()) return 0;
      if (!next->has_value()) break;
      // What decodes must encode again within the limit.
      auto again = bas::node::p2p::EncodeFrame((*next)->message, 1u << 20);
      if (!again.ok()) __builtin_trap();
    }
  }
  return 0;
}
