#include "node/p2p/frame.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace bas::node::p2p {
namespace {

bas::v1::P2pMessage TxMessage(std::string tx) {
  bas::v1::P2pMessage m;
  m.set_tx(std::move(tx));
  return m;
}

std::string Header(uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
          static_cast<char>(n)};
}

TEST(P2pFrameTest, EncodeWritesBigEndianLengthThenPayload) {
  auto frame = EncodeFrame(TxMessage("abc"), 1024);
  ASSERT_TRUE(frame.ok());
  const std::string payload = TxMessage("abc").SerializeAsString();
  EXPECT_EQ(*frame, Header(static_cast<uint32_t>(payload.size())) + payload);
}

TEST(P2pFrameTest, EncodeRefusesNoKindAndOversize) {
  EXPECT_EQ(EncodeFrame(bas::v1::P2pMessage(), 1024).error().code, "P2P_BAD_FRAME");
  EXPECT_EQ(EncodeFrame(TxMessage(std::string(2000, 'x')), 1024).error().code,
            "P2P_FRAME_TOO_LARGE");
}

TEST(P2pFrameTest, DecodesFramesSplitAtEveryByte) {
  std::string stream;
  for (int i = 0; i < 3; ++i) stream += *EncodeFrame(TxMessage("tx" + std::to_string(i)), 1024);
  FrameDecoder decoder(1024);
  std::vector<std::string> txs;
  for (char c : stream) {
    decoder.Append(crypto::AsBytes(std::string_view(&c, 1)));
    while (true) {
      auto next = decoder.Next();
      ASSERT_TRUE(next.ok());
      if (!next->has_value()) break;
      txs.push_back((*next)->message.tx());
      EXPECT_EQ((*next)->payload, (*next)->message.SerializeAsString());
    }
  }
  EXPECT_EQ(txs, (std::vector<std::string>{"tx0", "tx1", "tx2"}));
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(P2pFrameTest, RejectsBadInput) {
  struct Case {
    const char* name;
    std::string bytes;
    const char* code;
  };
  const Case cases[] = {
      {"length over the limit, before any payload", Header(1025), "P2P_FRAME_TOO_LARGE"},
      {"huge length", Header(0xffffffff), "P2P_FRAME_TOO_LARGE"},
      {"unparseable payload", Header(5) + std::string(5, '\xff'), "P2P_BAD_FRAME"},
      {"empty payload (no kind)", Header(0), "P2P_BAD_FRAME"},
      {"unknown field only", Header(3) + std::string("\xf8\x01\x05", 3), "P2P_BAD_FRAME"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FrameDecoder decoder(1024);
    decoder.Append(crypto::AsBytes(c.bytes));
    auto next = decoder.Next();
    ASSERT_FALSE(next.ok());
    EXPECT_EQ(next.error().code, c.code);
    // It stays failed.
    decoder.Append(crypto::AsBytes(*EncodeFrame(TxMessage("ok"), 1024)));
    EXPECT_EQ(decoder.Next().error().code, c.code);
  }
}

TEST(P2pFrameTest, RaisingTheLimitAppliesToLaterFrames) {
  FrameDecoder decoder(16);
  const std::string big = *EncodeFrame(TxMessage(std::string(100, 'x')), 1024);
  decoder.set_max_payload_bytes(1024);
  decoder.Append(crypto::AsBytes(big));
  auto next = decoder.Next();
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->has_value());
}

// Random bytes, in random chunks: the decoder returns frames or an error, never crashes, and
// never buffers more than one frame plus a chunk.
TEST(P2pFrameTest, RandomBytesNeverCrash) {
  std::mt19937 rng(20240601);
  for (int round = 0; round < 2000; ++round) {
    FrameDecoder decoder(256);
    const size_t len = rng() % 600;
    std::string bytes(len, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    // Small length prefixes half of the time, so payload parsing gets exercised too.
    if (len >= 4 && round % 2 == 0) {
      bytes[0] = bytes[1] = 0;
      bytes[2] = static_cast<char>(rng() % 2);
    }
    size_t pos = 0;
    bool failed = false;
    while (pos < bytes.size() && !failed) {
      const size_t chunk = std::min<size_t>(1 + rng() % 64, bytes.size() - pos);
      decoder.Append(crypto::AsBytes(std::string_view(bytes).substr(pos, chunk)));
      pos += chunk;
      while (true) {
        auto next = decoder.Next();
        if (!next.ok()) {
          failed = true;
          break;
        }
        if (!next->has_value()) break;
        EXPECT_NE((*next)->message.kind_case(), bas::v1::P2pMessage::KIND_NOT_SET);
      }
      EXPECT_LE(decoder.buffered(), 256u + 4 + 64);
    }
  }
}

}  // namespace
}  // namespace bas::node::p2p
