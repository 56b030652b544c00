#include "node/p2p/auth.h"

#include <gtest/gtest.h>

namespace bas::node::p2p {
namespace {

crypto::Hash32 Exporter(uint8_t fill) {
  crypto::Hash32 e{};
  e.fill(fill);
  return e;
}

TEST(P2pAuthTest, AuthBytesAreTheDocumentedLayout) {
  PeerKey key{};
  key.fill(0xab);
  const std::string bytes = AuthBytes(Exporter(0x11), "bas", TlsRole::kServer, key);
  ASSERT_EQ(bytes.size(), 32u + 4 + 3 + 1 + 32);
  EXPECT_EQ(bytes.substr(0, 32), std::string(32, '\x11'));
  EXPECT_EQ(bytes.substr(32, 4), std::string("\0\0\0\3", 4));
  EXPECT_EQ(bytes.substr(36, 3), "bas");
  EXPECT_EQ(bytes[39], '\x02');
  EXPECT_EQ(bytes.substr(40), std::string(32, '\xab'));
}

TEST(P2pAuthTest, VerifyHelloAcceptsOnlyTheExactSessionChainRoleAndKey) {
  const auto key = crypto::KeyPair::Generate().value();
  const auto other = crypto::KeyPair::Generate().value();
  const auto good = MakeHello(key, "chain-a", Exporter(1), TlsRole::kClient);
  auto ok = VerifyHello(good, "chain-a", Exporter(1), TlsRole::kClient);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(*ok, key.public_key());

  struct Case {
    const char* name;
    bas::v1::P2pHello hello;
    const char* code;
  };
  auto modified = [&](auto f) {
    bas::v1::P2pHello h = good;
    f(h);
    return h;
  };
  auto signed_for_other_chain = MakeHello(key, "chain-b", Exporter(1), TlsRole::kClient);
  signed_for_other_chain.set_chain_id("chain-a");
  const Case cases[] = {
      {"another session", MakeHello(key, "chain-a", Exporter(2), TlsRole::kClient),
       "P2P_BAD_SIGNATURE"},
      {"reflected: signed as the server", MakeHello(key, "chain-a", Exporter(1), TlsRole::kServer),
       "P2P_BAD_SIGNATURE"},
      {"signed for another chain", signed_for_other_chain, "P2P_BAD_SIGNATURE"},
      {"another chain", MakeHello(key, "chain-b", Exporter(1), TlsRole::kClient),
       "P2P_WRONG_CHAIN"},
      {"key swapped",
       modified([&](auto& h) { h.set_node_key(crypto::HashBytes(other.public_key())); }),
       "P2P_BAD_SIGNATURE"},
      {"signature flipped", modified([](auto& h) { h.mutable_signature()->at(5) ^= 1; }),
       "P2P_BAD_SIGNATURE"},
      {"version 2", modified([](auto& h) { h.set_version(2); }), "P2P_BAD_HELLO"},
      {"short key", modified([](auto& h) { h.set_node_key("abc"); }), "P2P_BAD_HELLO"},
      {"short signature", modified([](auto& h) { h.set_signature("abc"); }), "P2P_BAD_HELLO"},
      {"key off the curve", modified([](auto& h) { h.set_node_key(std::string(32, '\xff')); }),
       "P2P_BAD_HELLO"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = VerifyHello(c.hello, "chain-a", Exporter(1), TlsRole::kClient);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, c.code) << r.error().message;
  }
}

}  // namespace
}  // namespace bas::node::p2p
