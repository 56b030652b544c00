// P2P frames (docs/p2p.md, "Frames"): a u32 big-endian payload length, then the payload, a
// serialized bas.v1.P2pMessage with its `kind` set. The encoder and the streaming decoder are
// pure and know nothing of sockets, so the decoder can be fuzzed on its own. Not thread-safe per
// instance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "bas/v1/p2p.pb.h"
#include "crypto/hash.h"
#include "crypto/result.h"

namespace bas::node::p2p {

inline constexpr size_t kFrameHeaderBytes = 4;

// The frame of msg (header and payload), ready to write. Errors: "P2P_BAD_FRAME" when msg has no
// kind set, "P2P_FRAME_TOO_LARGE" when the payload is over max_payload_bytes.
Result<std::string> EncodeFrame(const bas::v1::P2pMessage& msg, size_t max_payload_bytes);

// One decoded frame: the message and its payload bytes exactly as received (what the seen-cache
// hashes; never re-serialised).
struct DecodedFrame {
  bas::v1::P2pMessage message;
  std::string payload;
};

// Splits a byte stream into frames. Feed it what the socket read (Append), then call Next until
// it returns nullopt. Memory: it holds at most one partial frame (max_payload_bytes + 4) plus the
// last chunk appended. After an error it stays failed and returns that error again.
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_payload_bytes) : max_payload_bytes_(max_payload_bytes) {}

  // The limit for frames not yet started (the handshake uses a small one, then raises it).
  void set_max_payload_bytes(size_t max) { max_payload_bytes_ = max; }

  void Append(crypto::ByteSpan data);

  // The next whole frame, or nullopt when more bytes are needed. Errors:
  // "P2P_FRAME_TOO_LARGE" when a length prefix is over the limit (seen before its payload is
  // read), "P2P_BAD_FRAME" when a payload does not parse as a P2pMessage or has no kind set.
  Result<std::optional<DecodedFrame>> Next();

  // Bytes held and not yet returned as frames.
  size_t buffered() const { return buffer_.size() - offset_; }

 private:
  size_t max_payload_bytes_;
  std::string buffer_;
  size_t offset_ = 0;  // start of the first byte not yet consumed
  std::optional<Error> failed_;
};

}  // namespace bas::node::p2p
