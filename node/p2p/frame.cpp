#include "node/p2p/frame.h"

#include <limits>

namespace bas::node::p2p {

Result<std::string> EncodeFrame(const bas::v1::P2pMessage& msg, size_t max_payload_bytes) {
  if (msg.kind_case() == bas::v1::P2pMessage::KIND_NOT_SET) {
    return Error{"P2P_BAD_FRAME", "the message has no kind set"};
  }
  const size_t size = msg.ByteSizeLong();
  if (size > max_payload_bytes || size > std::numeric_limits<uint32_t>::max()) {
    return Error{"P2P_FRAME_TOO_LARGE", "a " + std::to_string(size) + "-byte message is over the " +
                                            std::to_string(max_payload_bytes) + "-byte limit"};
  }
  std::string frame(kFrameHeaderBytes + size, '\0');
  frame[0] = static_cast<char>((size >> 24) & 0xff);
  frame[1] = static_cast<char>((size >> 16) & 0xff);
  frame[2] = static_cast<char>((size >> 8) & 0xff);
  frame[3] = static_cast<char>(size & 0xff);
  if (!msg.SerializeToArray(frame.data() + kFrameHeaderBytes, static_cast<int>(size))) {
    return Error{"P2P_BAD_FRAME", "the message does not serialize"};
  }
  return frame;
}

void FrameDecoder::Append(crypto::ByteSpan data) {
  if (failed_) return;
  // Drop consumed bytes first, so the buffer never holds more than one partial frame plus the
  // new chunk.
  if (offset_ > 0) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  buffer_.append(crypto::AsStringView(data));
}

Result<std::optional<DecodedFrame>> FrameDecoder::Next() {
  if (failed_) return *failed_;
  const size_t available = buffer_.size() - offset_;
  if (available < kFrameHeaderBytes) return std::optional<DecodedFrame>();
  const auto* p = reinterpret_cast<const uint8_t*>(buffer_.data() + offset_);
  const uint32_t size =
      (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
  if (size > max_payload_bytes_) {
    failed_ = Error{"P2P_FRAME_TOO_LARGE", "a frame announces " + std::to_string(size) +
                                               " bytes, over the " +
                                               std::to_string(max_payload_bytes_) + "-byte limit"};
    return *failed_;
  }
  if (available - kFrameHeaderBytes < size) return std::optional<DecodedFrame>();
  DecodedFrame frame;
  frame.payload = buffer_.substr(offset_ + kFrameHeaderBytes, size);
  offset_ += kFrameHeaderBytes + size;
  // Protobuf's parser reports malformed input by returning false; it does not throw.
  if (!frame.message.ParseFromString(frame.payload)) {
    failed_ = Error{"P2P_BAD_FRAME",
                    "a " + std::to_string(size) + "-byte frame does not parse as a P2pMessage"};
    return *failed_;
  }
  if (frame.message.kind_case() == bas::v1::P2pMessage::KIND_NOT_SET) {
    failed_ = Error{"P2P_BAD_FRAME", "a frame has no message kind (unknown or empty)"};
    return *failed_;
  }
  return std::optional<DecodedFrame>(std::move(frame));
}

}  // namespace bas::node::p2p
