// Block-sync requests through the transport: a real pair of nodes, a fake BlockSource on the
// serving side, and a hand-driven peer for the failure paths.
#include <future>

#include <gtest/gtest.h>

#include "manual_peer.h"
#include "node/p2p/transport.h"

namespace bas::node::p2p {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace)
using namespace std::chrono_literals;

// Blocks 1..height, each with one tx of tx_bytes and a commit naming its height. Immutable, so
// safe on the io thread.
class FakeBlockSource : public BlockSource {
 public:
  FakeBlockSource(uint64_t height, size_t tx_bytes) : height_(height), tx_bytes_(tx_bytes) {}
  uint64_t Height() override { return height_; }
  std::optional<bas::v1::BlockWithCommit> BlockAt(uint64_t height) override {
    if (height < 1 || height > height_) return std::nullopt;
    bas::v1::BlockWithCommit out;
    out.mutable_block()->mutable_header()->set_chain_id(kChain);
    out.mutable_block()->mutable_header()->set_height(height);
    out.mutable_block()->add_txs(std::string(tx_bytes_, 't'));
    out.mutable_commit()->set_height(height);
    out.mutable_commit()->set_block_hash(std::string(32, static_cast<char>(height)));
    return out;
  }

 private:
  const uint64_t height_;
  const size_t tx_bytes_;
};

Result<bas::v1::StatusResponse> Status(Transport& t, const PeerKey& peer) {
  std::promise<Result<bas::v1::StatusResponse>> p;
  t.RequestStatus(peer, [&p](Result<bas::v1::StatusResponse> r) { p.set_value(std::move(r)); });
  auto f = p.get_future();
  if (f.wait_for(15s) != std::future_status::ready) return Error{"TEST_TIMEOUT", ""};
  return f.get();
}

Result<bas::v1::BlocksResponse> Blocks(Transport& t, const PeerKey& peer, uint64_t from,
                                       uint64_t to) {
  std::promise<Result<bas::v1::BlocksResponse>> p;
  t.RequestBlocks(peer, from, to,
                  [&p](Result<bas::v1::BlocksResponse> r) { p.set_value(std::move(r)); });
  auto f = p.get_future();
  if (f.wait_for(15s) != std::future_status::ready) return Error{"TEST_TIMEOUT", ""};
  return f.get();
}

std::vector<uint64_t> Heights(const bas::v1::BlocksResponse& r) {
  std::vector<uint64_t> out;
  for (const auto& b : r.blocks()) {
    EXPECT_EQ(b.commit().height(), b.block().header().height());
    out.push_back(b.block().header().height());
  }
  return out;
}

struct SyncPair {
  TestNode client, server;
  AllowList allow;

  void Start(FakeBlockSource* source, TransportConfig server_config = TestConfig()) {
    allow.Add(client.pub());
    allow.Add(server.pub());
    ASSERT_TRUE(server.Start(server_config, allow.Predicate(), source).ok());
    TransportConfig config = TestConfig();
    config.persistent_peers = {{"127.0.0.1", server.transport->port(), server.pub()}};
    ASSERT_TRUE(client.Start(config, allow.Predicate()).ok());
    ASSERT_TRUE(WaitFor([&] {
      return client.events.Connected(server.pub()) && server.events.Connected(client.pub());
    }));
  }
};

TEST(P2pBlockSyncTest, StatusAndBlockRangesRoundTrip) {
  FakeBlockSource source(10, 100);
  TransportConfig server_config = TestConfig();
  server_config.max_blocks_per_response = 4;
  SyncPair pair;
  pair.Start(&source, server_config);
  Transport& t = *pair.client.transport;
  const PeerKey& server = pair.server.pub();

  auto status = Status(t, server);
  ASSERT_TRUE(status.ok()) << status.error().code;
  EXPECT_EQ(status->height(), 10u);

  struct Case {
    uint64_t from, to;
    std::vector<uint64_t> heights;
  };
  const Case cases[] = {
      {3, 4, {3, 4}},
      {1, 100, {1, 2, 3, 4}},  // capped at max_blocks_per_response
      {9, 20, {9, 10}},        // stops at the server's head
      {11, 20, {}},
      {5, 2, {}},  // an empty range
      {0, 3, {}},  // there is no block 0
      {10, UINT64_MAX, {10}},
      {UINT64_MAX, UINT64_MAX, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.from) + ".." + std::to_string(c.to));
    auto r = Blocks(t, server, c.from, c.to);
    ASSERT_TRUE(r.ok()) << r.error().code;
    EXPECT_EQ(Heights(*r), c.heights);
  }
  // Requests and responses are not gossip: the owner never sees them.
  EXPECT_TRUE(pair.client.events.Messages().empty());
  EXPECT_TRUE(pair.server.events.Messages().empty());

  const PeerKey stranger = crypto::KeyPair::Generate()->public_key();
  EXPECT_EQ(Status(t, stranger).error().code, "P2P_NOT_CONNECTED");
  EXPECT_EQ(Blocks(t, stranger, 1, 2).error().code, "P2P_NOT_CONNECTED");
}

TEST(P2pBlockSyncTest, ResponsesAreCutToTheFrameLimit) {
  FakeBlockSource source(10, 20 * 1024);
  TransportConfig server_config = TestConfig();
  server_config.max_frame_bytes = 64 * 1024;
  SyncPair pair;
  pair.Start(&source, server_config);
  auto r = Blocks(*pair.client.transport, pair.server.pub(), 1, 10);
  ASSERT_TRUE(r.ok()) << r.error().code;
  EXPECT_EQ(Heights(*r), (std::vector<uint64_t>{1, 2, 3}));
  // The client asks again from where the response ended.
  r = Blocks(*pair.client.transport, pair.server.pub(), 4, 10);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Heights(*r), (std::vector<uint64_t>{4, 5, 6}));
}

TEST(P2pBlockSyncTest, UnansweredRequestsTimeOutOrFailWhenThePeerGoes) {
  TestNode a;
  AllowList allow;
  TransportConfig config = TestConfig();
  config.request_timeout = 300ms;
  ASSERT_TRUE(a.Start(config, allow.Predicate()).ok());  // no BlockSource
  ManualPeer m;
  allow.Add(m.pub());
  ASSERT_FALSE(m.Connect(a.transport->port()));
  ASSERT_TRUE(WaitFor([&] { return a.events.Connected(m.pub()); }));

  // A node without a BlockSource answers height 0 and no blocks.
  bas::v1::P2pMessage req;
  req.mutable_status_request()->set_request_id(41);
  ASSERT_FALSE(m.WriteMessage(req));
  auto res = m.ReadMessage();
  ASSERT_TRUE(res && res->has_status_response());
  EXPECT_EQ(res->status_response().request_id(), 41u);
  EXPECT_EQ(res->status_response().height(), 0u);
  req.mutable_blocks_request()->set_request_id(42);
  req.mutable_blocks_request()->set_from_height(1);
  req.mutable_blocks_request()->set_to_height(5);
  ASSERT_FALSE(m.WriteMessage(req));
  res = m.ReadMessage();
  ASSERT_TRUE(res && res->has_blocks_response());
  EXPECT_EQ(res->blocks_response().request_id(), 42u);
  EXPECT_EQ(res->blocks_response().blocks_size(), 0);

  // m reads the request and does not answer; a wrong answer does not count.
  std::promise<Result<bas::v1::StatusResponse>> timed_out;
  a.transport->RequestStatus(m.pub(), [&](auto r) { timed_out.set_value(std::move(r)); });
  auto asked = m.ReadMessage();
  ASSERT_TRUE(asked && asked->has_status_request());
  bas::v1::P2pMessage wrong;
  wrong.mutable_status_response()->set_request_id(asked->status_request().request_id() + 1000);
  ASSERT_FALSE(m.WriteMessage(wrong));
  bas::v1::P2pMessage wrong_kind;
  wrong_kind.mutable_blocks_response()->set_request_id(asked->status_request().request_id());
  ASSERT_FALSE(m.WriteMessage(wrong_kind));
  auto f = timed_out.get_future();
  ASSERT_EQ(f.wait_for(15s), std::future_status::ready);
  EXPECT_EQ(f.get().error().code, "P2P_REQUEST_TIMEOUT");
  EXPECT_EQ(a.transport->counters().unsolicited_responses, 2u);

  // The peer goes away while a request waits.
  std::promise<Result<bas::v1::BlocksResponse>> gone;
  a.transport->RequestBlocks(m.pub(), 1, 2, [&](auto r) { gone.set_value(std::move(r)); });
  asked = m.ReadMessage();
  ASSERT_TRUE(asked && asked->has_blocks_request());
  m.Close();
  auto g = gone.get_future();
  ASSERT_EQ(g.wait_for(15s), std::future_status::ready);
  EXPECT_EQ(g.get().error().code, "P2P_PEER_GONE");
}

TEST(P2pBlockSyncTest, StopFailsPendingRequests) {
  TestNode a;
  AllowList allow;
  ASSERT_TRUE(a.Start(TestConfig(), allow.Predicate()).ok());
  ManualPeer m;
  allow.Add(m.pub());
  ASSERT_FALSE(m.Connect(a.transport->port()));
  ASSERT_TRUE(WaitFor([&] { return a.events.Connected(m.pub()); }));
  std::promise<Result<bas::v1::StatusResponse>> p;
  a.transport->RequestStatus(m.pub(), [&](auto r) { p.set_value(std::move(r)); });
  auto asked = m.ReadMessage();
  ASSERT_TRUE(asked && asked->has_status_request());
  a.transport->Stop();
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(f.get().error().code, "P2P_STOPPED");
  EXPECT_EQ(a.events.Disconnects(m.pub()), 0);  // no disconnect callbacks during Stop
}

}  // namespace
}  // namespace bas::node::p2p
