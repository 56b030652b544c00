// The transport over real TLS on 127.0.0.1: authentication, refusals, misbehaving peers,
// reconnection, duplicate connections and bounded send queues. Waits are on conditions with
// deadlines (WaitFor); time is only asserted as a lower bound.
#include "node/p2p/transport.h"

#include <thread>

#include <gtest/gtest.h>

#include "manual_peer.h"
#include "node/p2p/frame.h"

namespace bas::node::p2p {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace)
using namespace std::chrono_literals;

PersistentPeer PeerAt(uint16_t port, const PeerKey& key) {
  return PersistentPeer{"127.0.0.1", port, key};
}

bas::v1::P2pMessage Vote(uint64_t height) {
  bas::v1::P2pMessage m;
  auto* v = m.mutable_vote();
  v->set_type(bas::v1::PREVOTE);
  v->set_height(height);
  v->set_block_hash(std::string(32, 'h'));
  return m;
}

bas::v1::P2pMessage Proposal(uint64_t height) {
  bas::v1::P2pMessage m;
  auto* p = m.mutable_proposal();
  p->set_height(height);
  p->set_valid_round(-1);
  p->mutable_block()->mutable_header()->set_height(height);
  return m;
}

std::string FrameHeader(uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
          static_cast<char>(n)};
}

// Starts b, then a dialing b; waits until both see each other.
void ConnectPair(TestNode& a, TestNode& b, AllowList& allow,
                 TransportConfig a_config = TestConfig(), TransportConfig b_config = TestConfig()) {
  allow.Add(a.pub());
  allow.Add(b.pub());
  ASSERT_TRUE(b.Start(b_config, allow.Predicate()).ok());
  a_config.persistent_peers.push_back(PeerAt(b.transport->port(), b.pub()));
  ASSERT_TRUE(a.Start(a_config, allow.Predicate()).ok());
  ASSERT_TRUE(WaitFor([&] { return a.events.Connected(b.pub()) && b.events.Connected(a.pub()); }));
}

// a and b still exchange txs both ways.
void ExpectTalking(TestNode& a, TestNode& b, const std::string& tag) {
  ASSERT_TRUE(a.transport->Send(b.pub(), Tx("a->b " + tag)).ok());
  ASSERT_TRUE(b.transport->Send(a.pub(), Tx("b->a " + tag)).ok());
  EXPECT_TRUE(WaitFor([&] {
    return b.events.CountTx("a->b " + tag) == 1 && a.events.CountTx("b->a " + tag) == 1;
  })) << tag;
}

TEST(P2pTransportTest, TwoNodesAuthenticateAndExchangeEveryGossipKindBothWays) {
  TestNode a, b;
  AllowList allow;
  ConnectPair(a, b, allow);

  const auto a_peers = a.transport->Peers();
  ASSERT_EQ(a_peers.size(), 1u);
  EXPECT_EQ(a_peers[0].key, b.pub());
  EXPECT_TRUE(a_peers[0].outbound);
  EXPECT_EQ(a_peers[0].remote, "127.0.0.1:" + std::to_string(b.transport->port()));
  const auto b_peers = b.transport->Peers();
  ASSERT_EQ(b_peers.size(), 1u);
  EXPECT_EQ(b_peers[0].key, a.pub());
  EXPECT_FALSE(b_peers[0].outbound);

  ASSERT_TRUE(a.transport->Send(b.pub(), Tx("tx-1")).ok());
  ASSERT_TRUE(a.transport->Broadcast(Proposal(7)).ok());
  ASSERT_TRUE(b.transport->Send(a.pub(), Vote(7)).ok());
  ASSERT_TRUE(b.transport->Broadcast(Tx("tx-2")).ok());
  ASSERT_TRUE(
      WaitFor([&] { return b.events.Messages().size() == 2 && a.events.Messages().size() == 2; }));
  const auto at_b = b.events.Messages();
  EXPECT_EQ(at_b[0].first, a.pub());
  EXPECT_EQ(at_b[0].second.tx(), "tx-1");
  EXPECT_EQ(at_b[1].second.proposal().block().header().height(), 7u);
  const auto at_a = a.events.Messages();
  EXPECT_EQ(at_a[0].first, b.pub());
  EXPECT_EQ(at_a[0].second.vote().height(), 7u);
  EXPECT_EQ(at_a[1].second.tx(), "tx-2");

  const auto counters = a.transport->counters();
  EXPECT_EQ(counters.frames_in, 2u);
  EXPECT_EQ(counters.frames_out, 2u);
  EXPECT_EQ(counters.dials, 1u);
  EXPECT_GT(counters.bytes_in, 0u);
}

TEST(P2pTransportTest, SendAndBroadcastRefuseWhatCannotGo) {
  TestNode a, b;
  AllowList allow;
  ConnectPair(a, b, allow);
  const PeerKey stranger = crypto::KeyPair::Generate()->public_key();
  EXPECT_EQ(a.transport->Send(stranger, Tx("x")).code(), "P2P_NOT_CONNECTED");
  bas::v1::P2pMessage request;
  request.mutable_status_request();
  EXPECT_EQ(a.transport->Broadcast(request).code(), "P2P_BAD_MESSAGE");
  EXPECT_EQ(a.transport->Send(b.pub(), bas::v1::P2pMessage()).code(), "P2P_BAD_MESSAGE");
  EXPECT_EQ(a.transport->Broadcast(Tx(std::string(9 << 20, 'x'))).code(), "P2P_FRAME_TOO_LARGE");
  a.transport->Stop();
  EXPECT_EQ(a.transport->Broadcast(Tx("late")).code(), "P2P_STOPPED");
  a.transport->Stop();  // idempotent
}

TEST(P2pTransportTest, StartRefusesBadConfigAndBusyPorts) {
  auto key = crypto::KeyPair::Generate().value();
  auto allow = [](const PeerKey&) { return true; };
  TransportConfig no_chain = TestConfig();
  no_chain.chain_id.clear();
  EXPECT_EQ(Transport::Start(no_chain, key, allow, {}).error().code, "P2P_BAD_CONFIG");
  TransportConfig small_burst = TestConfig();
  small_burst.flood_bytes_burst = 100;
  EXPECT_EQ(Transport::Start(small_burst, key, allow, {}).error().code, "P2P_BAD_CONFIG");
  TransportConfig not_ip = TestConfig();
  not_ip.listen_host = "localhost";
  EXPECT_EQ(Transport::Start(not_ip, key, allow, {}).error().code, "P2P_BIND_FAILED");

  auto first = Transport::Start(TestConfig(), key, allow, {});
  ASSERT_TRUE(first.ok());
  TransportConfig same_port = TestConfig();
  same_port.listen_port = (*first)->port();
  EXPECT_EQ(Transport::Start(same_port, key, allow, {}).error().code, "P2P_BIND_FAILED");
}

TEST(P2pTransportTest, ThreeNodesBroadcastReachesAllAndEchoesAreDropped) {
  TestNode a, b, c;
  AllowList allow;
  for (auto* n : {&a, &b, &c}) allow.Add(n->pub());
  ASSERT_TRUE(c.Start(TestConfig(), allow.Predicate()).ok());
  TransportConfig b_config = TestConfig();
  b_config.persistent_peers = {PeerAt(c.transport->port(), c.pub())};
  ASSERT_TRUE(b.Start(b_config, allow.Predicate()).ok());
  TransportConfig a_config = TestConfig();
  a_config.persistent_peers = {PeerAt(b.transport->port(), b.pub()),
                               PeerAt(c.transport->port(), c.pub())};
  ASSERT_TRUE(a.Start(a_config, allow.Predicate()).ok());
  ASSERT_TRUE(WaitFor([&] {
    return a.transport->Peers().size() == 2 && b.transport->Peers().size() == 2 &&
           c.transport->Peers().size() == 2;
  }));

  for (auto* n : {&a, &b, &c}) {
    ASSERT_TRUE(n->transport->Broadcast(Tx("from-" + ShortKey(n->pub()))).ok());
  }
  ASSERT_TRUE(WaitFor([&] {
    for (auto* n : {&a, &b, &c}) {
      if (n->events.Messages().size() != 2) return false;
    }
    return true;
  }));
  for (auto* n : {&a, &b, &c}) {
    for (auto* m : {&a, &b, &c}) {
      EXPECT_EQ(n->events.CountTx("from-" + ShortKey(m->pub())), n == m ? 0u : 1u);
    }
  }

  // b relays a's tx: a drops the echo of its own, c drops the copy it already has.
  const std::string from_a = "from-" + ShortKey(a.pub());
  ASSERT_TRUE(b.transport->Broadcast(Tx(from_a)).ok());
  ASSERT_TRUE(WaitFor([&] {
    return a.transport->counters().duplicates_dropped == 1 &&
           c.transport->counters().duplicates_dropped == 1;
  }));
  EXPECT_EQ(a.events.CountTx(from_a), 0u);
  EXPECT_EQ(c.events.CountTx(from_a), 1u);

  // Broadcast with an exception skips that peer.
  ASSERT_TRUE(a.transport->Broadcast(Tx("not-for-c"), c.pub()).ok());
  ASSERT_TRUE(WaitFor([&] { return b.events.CountTx("not-for-c") == 1; }));
  ASSERT_TRUE(a.transport->Send(c.pub(), Tx("marker")).ok());
  ASSERT_TRUE(WaitFor([&] { return c.events.CountTx("marker") == 1; }));
  EXPECT_EQ(c.events.CountTx("not-for-c"), 0u);  // frames to c are in order: marker came later
}

TEST(P2pTransportTest, BadHellosAndUnknownKeysAreRefused) {
  TestNode a;
  AllowList allow;
  TransportConfig config = TestConfig();
  ASSERT_TRUE(a.Start(config, allow.Predicate()).ok());
  struct Case {
    const char* name;
    HelloFault fault;
    bool allowed;
    const char* code;
  };
  const Case cases[] = {
      {"unknown key", HelloFault::kNone, false, "P2P_UNAUTHORIZED"},
      {"signature over another session", HelloFault::kWrongExporter, true, "P2P_BAD_SIGNATURE"},
      {"signed for another chain", HelloFault::kSignedOtherChain, true, "P2P_BAD_SIGNATURE"},
      {"another chain", HelloFault::kOtherChain, true, "P2P_WRONG_CHAIN"},
      {"signed with the server's role", HelloFault::kWrongRole, true, "P2P_BAD_SIGNATURE"},
      {"the node's own hello reflected", HelloFault::kReflect, true, "P2P_BAD_SIGNATURE"},
      {"another protocol version", HelloFault::kBadVersion, true, "P2P_BAD_HELLO"},
      {"a tx before the hello", HelloFault::kNotHello, true, "P2P_BAD_HELLO"},
      {"a first frame that does not parse", HelloFault::kGarbage, true, "P2P_BAD_FRAME"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ManualPeer m;
    if (c.allowed) allow.Add(m.pub());
    const uint64_t before = a.Disconnects(c.code);
    ASSERT_FALSE(m.Connect(a.transport->port(), c.fault)) << "the handshake itself must work";
    EXPECT_TRUE(WaitFor([&] { return a.Disconnects(c.code) == before + 1; }));
    EXPECT_TRUE(m.ReadUntilClosed());
    EXPECT_EQ(a.events.Connects(m.pub()), 0);
  }
  EXPECT_TRUE(a.transport->Peers().empty());

  // TLS 1.2 is refused at the TLS handshake.
  ManualPeer old_tls;
  allow.Add(old_tls.pub());
  EXPECT_TRUE(old_tls.Connect(a.transport->port(), HelloFault::kNone, /*tls12_only=*/true));
  EXPECT_TRUE(WaitFor([&] { return a.Disconnects("P2P_TLS_FAILED") == 1; }));

  // An allowed manual peer with a correct hello is accepted.
  ManualPeer good;
  allow.Add(good.pub());
  ASSERT_FALSE(good.Connect(a.transport->port()));
  EXPECT_TRUE(WaitFor([&] { return a.events.Connected(good.pub()); }));
  EXPECT_EQ(crypto::ToHash(good.peer_hello().node_key()), a.pub());
}

TEST(P2pTransportTest, TransportsWithAnUnknownKeyDoNotConnect) {
  TestNode a, b;
  AllowList a_allows, b_allows;
  b_allows.Add(a.pub());  // b would accept a, but a does not know b
  ASSERT_TRUE(a.Start(TestConfig(), a_allows.Predicate()).ok());
  TransportConfig b_config = TestConfig();
  b_config.persistent_peers = {PeerAt(a.transport->port(), a.pub())};
  ASSERT_TRUE(b.Start(b_config, b_allows.Predicate()).ok());
  EXPECT_TRUE(WaitFor([&] { return a.Disconnects("P2P_UNAUTHORIZED") >= 2; }));
  EXPECT_EQ(a.events.Connects(b.pub()), 0);
  EXPECT_TRUE(a.transport->Peers().empty());
}

TEST(P2pTransportTest, ConnectionToItselfIsRefused) {
  TestNode a;
  AllowList allow;
  allow.Add(a.pub());
  TransportConfig config = TestConfig();
  config.listen_port = ReservePort();
  // Its own address under another key, as a misconfigured peer list would have it.
  config.persistent_peers = {PeerAt(config.listen_port, crypto::KeyPair::Generate()->public_key())};
  ASSERT_TRUE(a.Start(config, allow.Predicate()).ok());
  // Both ends of the loop refuse it.
  EXPECT_TRUE(WaitFor([&] { return a.Disconnects("P2P_SELF_CONNECTION") >= 2; }));
  EXPECT_TRUE(a.transport->Peers().empty());
}

TEST(P2pTransportTest, SilentTcpClientIsDroppedAtTheHandshakeDeadline) {
  TestNode a;
  AllowList allow;
  TransportConfig config = TestConfig();
  config.handshake_timeout = 300ms;
  ASSERT_TRUE(a.Start(config, allow.Predicate()).ok());
  ManualPeer m;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_FALSE(m.ConnectTcp(a.transport->port()));
  EXPECT_TRUE(m.ReadUntilClosed(/*raw_tcp=*/true));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
  EXPECT_TRUE(WaitFor([&] { return a.Disconnects("P2P_HANDSHAKE_TIMEOUT") == 1; }));
  EXPECT_EQ(a.transport->counters().accepted, 1u);
}

TEST(P2pTransportTest, InboundConnectionsOverTheLimitAreClosedAtAccept) {
  TestNode a;
  AllowList allow;
  TransportConfig config = TestConfig();
  config.max_inbound_connections = 2;
  config.handshake_timeout = 500ms;
  ASSERT_TRUE(a.Start(config, allow.Predicate()).ok());
  ManualPeer first, second, third;
  ASSERT_FALSE(first.ConnectTcp(a.transport->port()));
  ASSERT_FALSE(second.ConnectTcp(a.transport->port()));
  ASSERT_TRUE(WaitFor([&] { return a.transport->counters().accepted == 2; }));
  ASSERT_FALSE(third.ConnectTcp(a.transport->port()));
  EXPECT_TRUE(third.ReadUntilClosed(/*raw_tcp=*/true));
  EXPECT_TRUE(WaitFor([&] { return a.Disconnects("P2P_TOO_MANY_CONNECTIONS") == 1; }));
  // Once the silent ones time out, slots are free again.
  EXPECT_TRUE(WaitFor([&] { return a.Disconnects("P2P_HANDSHAKE_TIMEOUT") == 2; }));
  ManualPeer later;
  allow.Add(later.pub());
  ASSERT_FALSE(later.Connect(a.transport->port()));
  EXPECT_TRUE(WaitFor([&] { return a.events.Connected(later.pub()); }));
}

uint64_t PendingRefused(const TestNode& n) { return n.transport->counters().pending_refused; }

// Sockets that never start TLS hold a pending slot until the handshake deadline; one over the
// limit (per address, or in all; everything here comes from 127.0.0.1) is closed at accept,
// before any pending one has timed out, and so is an honest peer while the limit is reached.
// Once the silent ones time out, peers are accepted again.
TEST(P2pTransportTest, InboundHandshakesOverThePendingLimitAreClosedAtAccept) {
  struct Case {
    const char* name;
    size_t per_ip;
    size_t in_all;
  };
  const Case cases[] = {{"per address", 3, 10}, {"in all", 10, 3}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TestNode a;
    AllowList allow;
    TransportConfig config = TestConfig();
    config.max_pending_per_ip = c.per_ip;
    config.max_pending_inbound = c.in_all;
    config.handshake_timeout = 2s;
    ASSERT_TRUE(a.Start(config, allow.Predicate()).ok());
    const size_t limit = std::min(c.per_ip, c.in_all);
    std::vector<std::unique_ptr<ManualPeer>> silent;
    for (size_t i = 0; i < limit; ++i) {
      silent.push_back(std::make_unique<ManualPeer>());
      ASSERT_FALSE(silent.back()->ConnectTcp(a.transport->port()));
    }
    ASSERT_TRUE(WaitFor([&] { return a.transport->counters().accepted == limit; }));

    ManualPeer over;
    ASSERT_FALSE(over.ConnectTcp(a.transport->port()));
    EXPECT_TRUE(over.ReadUntilClosed(/*raw_tcp=*/true));
    EXPECT_EQ(PendingRefused(a), 1u);
    EXPECT_EQ(a.Disconnects("P2P_TOO_MANY_PENDING"), 1u);
    EXPECT_EQ(a.Disconnects("P2P_HANDSHAKE_TIMEOUT"), 0u) << "closed at accept, not by a timeout";
    ManualPeer honest;
    allow.Add(honest.pub());
    EXPECT_TRUE(honest.Connect(a.transport->port()));
    EXPECT_EQ(PendingRefused(a), 2u);
    EXPECT_EQ(a.events.Connects(honest.pub()), 0);

    EXPECT_TRUE(WaitFor([&] { return a.Disconnects("P2P_HANDSHAKE_TIMEOUT") == limit; }));
    ManualPeer later;
    allow.Add(later.pub());
    ASSERT_FALSE(later.Connect(a.transport->port()));
    EXPECT_TRUE(WaitFor([&] { return a.events.Connected(later.pub()); }));
    EXPECT_EQ(PendingRefused(a), 2u);
  }
}

// A pending slot is held only until the handshake ends: peers that authenticate, are refused
// or hang up during TLS give theirs back, so many authenticated peers from one address do not
// stop the next handshake from it.
TEST(P2pTransportTest, HandshakesThatEndGiveTheirPendingSlotBack) {
  TestNode a;
  AllowList allow;
  TransportConfig config = TestConfig();
  config.max_pending_per_ip = 2;
  ASSERT_TRUE(a.Start(config, allow.Predicate()).ok());

  std::vector<std::unique_ptr<ManualPeer>> authenticated;
  for (int i = 0; i < 4; ++i) {
    authenticated.push_back(std::make_unique<ManualPeer>());
    allow.Add(authenticated.back()->pub());
    ASSERT_FALSE(authenticated.back()->Connect(a.transport->port())) << i;
    ASSERT_TRUE(WaitFor([&] { return a.events.Connected(authenticated.back()->pub()); })) << i;
  }
  for (uint64_t i = 1; i <= 3; ++i) {
    ManualPeer unknown;  // not in the allow list
    ASSERT_FALSE(unknown.Connect(a.transport->port()));
    ASSERT_TRUE(WaitFor([&] { return a.Disconnects("P2P_UNAUTHORIZED") == i; }));
  }
  for (uint64_t i = 1; i <= 3; ++i) {
    ManualPeer quitter;
    const uint64_t accepted = a.transport->counters().accepted;
    ASSERT_FALSE(quitter.ConnectTcp(a.transport->port()));
    ASSERT_TRUE(WaitFor([&] { return a.transport->counters().accepted == accepted + 1; }));
    quitter.Close();  // during the TLS handshake
    ASSERT_TRUE(WaitFor([&] { return a.Disconnects("P2P_TLS_FAILED") == i; }));
  }
  EXPECT_EQ(PendingRefused(a), 0u);

  // Both slots are free: two silent sockets are accepted, a third is not.
  const uint64_t accepted = a.transport->counters().accepted;
  ManualPeer silent1, silent2, over;
  ASSERT_FALSE(silent1.ConnectTcp(a.transport->port()));
  ASSERT_FALSE(silent2.ConnectTcp(a.transport->port()));
  ASSERT_TRUE(WaitFor([&] { return a.transport->counters().accepted == accepted + 2; }));
  EXPECT_EQ(PendingRefused(a), 0u);
  ASSERT_FALSE(over.ConnectTcp(a.transport->port()));
  EXPECT_TRUE(over.ReadUntilClosed(/*raw_tcp=*/true));
  EXPECT_EQ(PendingRefused(a), 1u);
  EXPECT_EQ(a.transport->Peers().size(), 4u);
}

TEST(P2pTransportTest, MisbehavingPeerIsDisconnectedAndTheNodeGoesOn) {
  TestNode a, b;
  AllowList allow;
  TransportConfig a_config = TestConfig();
  a_config.max_frame_bytes = 64 * 1024;
  a_config.flood_frames_per_s = 100;
  a_config.flood_frames_burst = 200;
  ConnectPair(a, b, allow, a_config);

  std::string flood;
  for (int i = 0; i < 1000; ++i) flood += EncodeFrame(Tx("spam"), 1024).value();
  bas::v1::P2pMessage hello;
  hello.mutable_hello()->set_version(1);
  struct Case {
    const char* name;
    std::string bytes;
    const char* code;
  };
  const Case cases[] = {
      {"garbage", FrameHeader(5) + std::string(5, '\xff'), "P2P_BAD_FRAME"},
      {"a frame over the maximum", FrameHeader(64 * 1024 + 1), "P2P_FRAME_TOO_LARGE"},
      {"a flood of frames", flood, "P2P_FLOOD"},
      {"a second hello", EncodeFrame(hello, 1024).value(), "P2P_BAD_FRAME"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ManualPeer m;
    allow.Add(m.pub());
    ASSERT_FALSE(m.Connect(a.transport->port()));
    ASSERT_TRUE(WaitFor([&] { return a.events.Connected(m.pub()); }));
    const uint64_t before = a.Disconnects(c.code);
    (void)m.WriteRaw(c.bytes);  // may fail half way once the node has hung up
    EXPECT_TRUE(WaitFor([&] { return a.Disconnects(c.code) == before + 1; }));
    EXPECT_TRUE(m.ReadUntilClosed());
    EXPECT_TRUE(WaitFor([&] { return a.events.Disconnects(m.pub()) == 1; }));
    ExpectTalking(a, b, c.name);
  }
  EXPECT_TRUE(a.events.Connected(b.pub()));
}

TEST(P2pTransportTest, PersistentPeerIsRedialedWithBackoffAndReconnects) {
  TestNode a, b;
  AllowList allow;
  ConnectPair(a, b, allow);
  const uint16_t b_port = b.transport->port();
  const uint64_t dials = a.transport->counters().dials;

  const auto stopped_at = std::chrono::steady_clock::now();
  b.transport.reset();
  ASSERT_TRUE(WaitFor([&] { return a.events.Disconnects(b.pub()) == 1; }));
  // Dials 50, 100, 200 and 400 ms apart (reconnect_min 50 ms, max 400 ms): the fourth failed
  // redial cannot come before 750 ms.
  ASSERT_TRUE(WaitFor([&] { return a.transport->counters().dials >= dials + 4; }));
  EXPECT_GE(std::chrono::steady_clock::now() - stopped_at, 700ms);
  EXPECT_GE(a.Disconnects("P2P_DIAL_FAILED"), 3u);

  TestNode b_again;
  b_again.key = b.key;
  TransportConfig config = TestConfig();
  config.listen_port = b_port;
  ASSERT_TRUE(b_again.Start(config, allow.Predicate()).ok());
  ASSERT_TRUE(WaitFor(
      [&] { return a.events.Connects(b.pub()) == 2 && b_again.events.Connected(a.pub()); }));
  ExpectTalking(a, b_again, "after the restart");
}

TEST(P2pTransportTest, NodesDialingEachOtherEndWithOneSharedConnection) {
  TestNode a, b;
  AllowList allow;
  allow.Add(a.pub());
  allow.Add(b.pub());
  const uint16_t a_port = ReservePort();
  uint16_t b_port = ReservePort();
  while (b_port == a_port) b_port = ReservePort();
  TransportConfig a_config = TestConfig();
  a_config.listen_port = a_port;
  a_config.persistent_peers = {PeerAt(b_port, b.pub())};
  TransportConfig b_config = TestConfig();
  b_config.listen_port = b_port;
  b_config.persistent_peers = {PeerAt(a_port, a.pub())};
  Status a_started;
  std::thread starter([&] { a_started = a.Start(a_config, allow.Predicate()); });
  ASSERT_TRUE(b.Start(b_config, allow.Predicate()).ok());
  starter.join();
  ASSERT_TRUE(a_started.ok());
  // One connection per side, and the same one: dialed by one side, accepted by the other.
  ASSERT_TRUE(WaitFor([&] {
    const auto pa = a.transport->Peers();
    const auto pb = b.transport->Peers();
    return pa.size() == 1 && pb.size() == 1 && pa[0].outbound != pb[0].outbound &&
           a.events.Connected(b.pub()) && b.events.Connected(a.pub());
  }));
  ExpectTalking(a, b, "one connection");
}

// When two authenticated connections for one key exist, the one dialed by the lower key stays,
// whichever came first; between two dialed by the same side, the newer stays.
TEST(P2pTransportTest, DuplicateConnectionKeepsTheOneDialedByTheLowerKey) {
  for (const bool peer_is_lower : {true, false}) {
    SCOPED_TRACE(peer_is_lower ? "peer key lower" : "peer key higher");
    TestNode a;
    crypto::KeyPair peer_key = crypto::KeyPair::Generate().value();
    while ((peer_key.public_key() < a.pub()) != peer_is_lower) {
      peer_key = crypto::KeyPair::Generate().value();
    }
    ManualPeer dialed(peer_key);  // a dials it
    boost::asio::ip::tcp::acceptor acceptor(
        dialed.ioc(),
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    AllowList allow;
    allow.Add(peer_key.public_key());
    TransportConfig config = TestConfig();
    config.persistent_peers = {PeerAt(acceptor.local_endpoint().port(), peer_key.public_key())};
    ASSERT_TRUE(a.Start(config, allow.Predicate()).ok());
    ASSERT_FALSE(dialed.Accept(acceptor));
    ASSERT_TRUE(WaitFor([&] { return a.events.Connected(peer_key.public_key()); }));

    ManualPeer dialing(peer_key);  // the same key dials a
    ASSERT_FALSE(dialing.Connect(a.transport->port()));
    ASSERT_TRUE(WaitFor([&] { return a.Disconnects("P2P_DUPLICATE_CONNECTION") == 1; }));
    // The loser is closed; the winner carries traffic.
    ManualPeer& loser = peer_is_lower ? dialed : dialing;
    ManualPeer& winner = peer_is_lower ? dialing : dialed;
    EXPECT_TRUE(loser.ReadUntilClosed());
    const auto peers = a.transport->Peers();
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_EQ(peers[0].outbound, !peer_is_lower);
    ASSERT_TRUE(a.transport->Send(peer_key.public_key(), Tx("to the winner")).ok());
    auto got = winner.ReadMessage();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->tx(), "to the winner");
    EXPECT_EQ(a.events.Connects(peer_key.public_key()), 1);
    EXPECT_EQ(a.events.Disconnects(peer_key.public_key()), 0);
  }
}

TEST(P2pTransportTest, NewerConnectionFromTheSameSideReplacesTheOlder) {
  TestNode a;
  AllowList allow;
  ASSERT_TRUE(a.Start(TestConfig(), allow.Predicate()).ok());
  const crypto::KeyPair key = crypto::KeyPair::Generate().value();
  allow.Add(key.public_key());
  ManualPeer older(key), newer(key);
  ASSERT_FALSE(older.Connect(a.transport->port()));
  ASSERT_TRUE(WaitFor([&] { return a.events.Connected(key.public_key()); }));
  ASSERT_FALSE(newer.Connect(a.transport->port()));
  ASSERT_TRUE(WaitFor([&] { return a.Disconnects("P2P_DUPLICATE_CONNECTION") == 1; }));
  EXPECT_TRUE(older.ReadUntilClosed());
  ASSERT_TRUE(a.transport->Send(key.public_key(), Tx("to the newer")).ok());
  auto got = newer.ReadMessage();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->tx(), "to the newer");
  EXPECT_EQ(a.events.Disconnects(key.public_key()), 0);
}

TEST(P2pTransportTest, PeerNoLongerAllowedIsDroppedOnRecheck) {
  TestNode a, b;
  AllowList allow;
  ConnectPair(a, b, allow);
  allow.Remove(b.pub());
  a.transport->RecheckPeers();
  ASSERT_TRUE(WaitFor([&] { return a.events.Disconnects(b.pub()) == 1; }));
  EXPECT_EQ(a.Disconnects("P2P_UNAUTHORIZED"), 1u);
  EXPECT_TRUE(a.transport->Peers().empty());
}

TEST(P2pTransportTest, PeerThatNeverReadsHasABoundedQueueThenIsDropped) {
  TestNode a;
  AllowList allow;
  TransportConfig config = TestConfig();
  config.max_frame_bytes = 64 * 1024;
  config.send_queue_max_bytes = 256 * 1024;
  config.write_stall_timeout = 1s;
  ASSERT_TRUE(a.Start(config, allow.Predicate()).ok());
  ManualPeer sink;
  allow.Add(sink.pub());
  ASSERT_FALSE(sink.Connect(a.transport->port()));
  ASSERT_TRUE(WaitFor([&] { return a.events.Connected(sink.pub()); }));

  // 48 MiB at a peer that reads nothing: past the kernel's socket buffers, the 256 KiB queue
  // fills and the rest is dropped, not held.
  constexpr int kFrames = 800;
  const std::string payload(60 * 1024, 'p');
  for (int i = 0; i < kFrames; ++i) ASSERT_TRUE(a.transport->Broadcast(Tx(payload)).ok());
  ASSERT_TRUE(WaitFor([&] { return a.transport->counters().send_queue_drops >= 400; }))
      << a.transport->counters().send_queue_drops;
  // The stalled write then disconnects it.
  ASSERT_TRUE(WaitFor([&] { return a.Disconnects("P2P_SLOW_PEER") == 1; }));
  const auto counters = a.transport->counters();
  EXPECT_LE(counters.frames_out + counters.send_queue_drops, uint64_t{kFrames});
  EXPECT_TRUE(a.transport->Peers().empty());
}

}  // namespace
}  // namespace bas::node::p2p
