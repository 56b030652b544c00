#include "node/p2p/transport.h"

#include <atomic>
#include <cassert>
#include <exception>
#include <future>
#include <thread>
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <spdlog/spdlog.h>

#include "node/p2p/block_sync.h"
#include "node/p2p/connection.h"
#include "node/p2p/frame.h"
#include "node/p2p/peer_set.h"
#include "node/p2p/snapshots.h"
#include "node/p2p/tls.h"

namespace bas::node::p2p {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;

// Why msg may not be handed to Broadcast or Send now, or Ok.
Status CheckGossip(const bas::v1::P2pMessage& msg, bool stopped) {
  switch (msg.kind_case()) {
    case bas::v1::P2pMessage::kTx:
    case bas::v1::P2pMessage::kProposal:
    case bas::v1::P2pMessage::kVote:
      break;
    default:
      return Error{"P2P_BAD_MESSAGE", "only txs, proposals and votes gossip"};
  }
  if (stopped) return Error{"P2P_STOPPED", "the transport is stopped"};
  return Status::Ok();
}

// A gossip message's frame and the hash of its payload (what the seen-cache records).
struct GossipFrame {
  FramePtr frame;
  crypto::Hash32 hash;
};

Result<GossipFrame> MakeGossipFrame(const bas::v1::P2pMessage& msg, size_t max_frame_bytes) {
  auto frame = EncodeFrame(msg, max_frame_bytes);
  if (!frame.ok()) return frame.error();
  auto shared = std::make_shared<const std::string>(std::move(*frame));
  const crypto::Hash32 hash = crypto::Sha256Of(std::string_view(*shared).substr(kFrameHeaderBytes));
  return GossipFrame{std::move(shared), hash};
}

}  // namespace

// The transport's parts and its io thread. The parts reach each other by reference, so the
// order of the members is the order they are made and the reverse of the order they go.
struct Transport::Impl {
  Impl(TransportConfig cfg, crypto::KeyPair k, AllowPredicate is_allowed,
       TransportCallbacks callbacks, BlockSource* blocks, std::unique_ptr<ssl::context> tls_context)
      : config(std::move(cfg)),
        key(std::move(k)),
        log_name(ShortKey(key.public_key())),
        tls(std::move(tls_context)),
        work(net::make_work_guard(ioc)),
        sync(ioc, config, blocks, snapshots, log_name),
        peers(ioc, config, key, *tls, std::move(is_allowed), std::move(callbacks), snapshots, sync,
              log_name) {}

  // Posts a block-sync request to the io thread, where it goes out on peer's connection.
  void PostRequest(const PeerKey& peer, bas::v1::P2pMessage msg, BlockSync::Completion done) {
    net::post(ioc, [this, peer, msg = std::move(msg), done = std::move(done)]() mutable {
      sync.Request(peers.Find(peer), peer, std::move(msg), std::move(done));
    });
  }

  // Set at Start, then read-only.
  const TransportConfig config;
  const crypto::KeyPair key;
  const std::string log_name;
  // Declared before the io_context: streams still owned by its pending handlers when it is
  // destroyed were made from this context.
  const std::unique_ptr<ssl::context> tls;
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work;
  std::thread thread;
  std::thread::id io_thread_id;
  uint16_t port = 0;
  std::atomic<bool> stopped{false};
  TransportSnapshots snapshots;

  // io thread only, once it runs.
  BlockSync sync;
  PeerSet peers;
};

Result<std::unique_ptr<Transport>> Transport::Start(TransportConfig config, crypto::KeyPair key,
                                                    AllowPredicate is_allowed,
                                                    TransportCallbacks callbacks,
                                                    BlockSource* blocks) {
  auto bad = [](std::string why) { return Error{"P2P_BAD_CONFIG", std::move(why)}; };
  if (config.chain_id.empty() || config.chain_id.size() > kMaxChainIdBytes) {
    return bad("chain_id must be 1 to " + std::to_string(kMaxChainIdBytes) + " bytes");
  }
  if (config.max_frame_bytes < kMaxHelloFrameBytes || config.max_frame_bytes > (1u << 30)) {
    return bad("max_frame_bytes must be 512 bytes to 1 GiB");
  }
  if (config.flood_bytes_burst < static_cast<double>(config.max_frame_bytes + kFrameHeaderBytes) ||
      config.flood_frames_burst < 1 || config.flood_frames_per_s <= 0 ||
      config.flood_bytes_per_s <= 0) {
    return bad("flood limits must be positive, and flood_bytes_burst at least one whole frame");
  }
  if (config.send_queue_max_frames < 1 ||
      config.send_queue_max_bytes < config.max_frame_bytes + kFrameHeaderBytes) {
    return bad("the send queue must hold at least one frame of max_frame_bytes");
  }
  if (config.reconnect_min.count() <= 0 || config.reconnect_max < config.reconnect_min ||
      config.handshake_timeout.count() <= 0 || config.write_stall_timeout.count() <= 0 ||
      config.request_timeout.count() <= 0 || config.max_blocks_per_response < 1 ||
      config.max_inbound_connections < 1 || config.max_pending_per_ip < 1 ||
      config.max_pending_inbound < 1) {
    return bad("timeouts and counts must be positive, reconnect_max >= reconnect_min");
  }
  auto tls = MakeTlsContext();
  if (!tls.ok()) return tls.error();

  auto impl = std::make_unique<Impl>(std::move(config), std::move(key), std::move(is_allowed),
                                     std::move(callbacks), blocks, std::move(*tls));
  auto port = impl->peers.Listen();
  if (!port.ok()) return port.error();
  impl->port = *port;
  impl->peers.Start();

  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    // Handlers catch what they call; this keeps the thread alive through anything that still
    // escapes (an exception from Asio itself).
    while (true) {
      try {
        raw->ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("p2p {}: io thread: {}", raw->log_name, e.what());
      } catch (...) {
        spdlog::error("p2p {}: io thread: unknown exception", raw->log_name);
      }
    }
  });
  impl->io_thread_id = impl->thread.get_id();
  spdlog::info("p2p {}: listening on {}:{}, {} persistent peers", impl->log_name,
               impl->config.listen_host, impl->port, impl->peers.persistent_peers());
  return std::unique_ptr<Transport>(new Transport(std::move(impl)));
}

Transport::Transport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Transport::~Transport() { Stop(); }

void Transport::Stop() {
  Impl& impl = *impl_;
  if (impl.stopped.exchange(true)) return;
  assert(std::this_thread::get_id() != impl.io_thread_id && "Stop called from a callback");
  std::promise<void> closed;
  net::post(impl.ioc, [&impl, &closed] {
    impl.peers.Shutdown();
    impl.sync.Stop();
    closed.set_value();
  });
  closed.get_future().wait();
  impl.work.reset();
  impl.ioc.stop();
  if (impl.thread.joinable()) impl.thread.join();
}

uint16_t Transport::port() const { return impl_->port; }

const PeerKey& Transport::key() const { return impl_->key.public_key(); }

Status Transport::Broadcast(const bas::v1::P2pMessage& msg, std::optional<PeerKey> except) {
  if (Status can = CheckGossip(msg, impl_->stopped); !can.ok()) return can;
  auto gossip = MakeGossipFrame(msg, impl_->config.max_frame_bytes);
  if (!gossip.ok()) return gossip.error();
  Impl* impl = impl_.get();
  net::post(impl->ioc, [impl, gossip = std::move(*gossip), except] {
    impl->peers.Broadcast(gossip.frame, gossip.hash, except);
  });
  return Status::Ok();
}

Status Transport::Send(const PeerKey& peer, const bas::v1::P2pMessage& msg) {
  if (Status can = CheckGossip(msg, impl_->stopped); !can.ok()) return can;
  if (!impl_->snapshots.HasPeer(peer)) {
    return Error{"P2P_NOT_CONNECTED", "no connection to " + ShortKey(peer)};
  }
  auto gossip = MakeGossipFrame(msg, impl_->config.max_frame_bytes);
  if (!gossip.ok()) return gossip.error();
  Impl* impl = impl_.get();
  net::post(impl->ioc, [impl, gossip = std::move(*gossip), peer] {
    impl->peers.SendTo(peer, gossip.frame, gossip.hash);
  });
  return Status::Ok();
}

void Transport::RequestStatus(const PeerKey& peer,
                              std::function<void(Result<bas::v1::StatusResponse>)> done) {
  bas::v1::P2pMessage msg;
  msg.mutable_status_request();
  impl_->PostRequest(peer, std::move(msg), [done = std::move(done)](auto r) {
    if (!r.ok()) {
      done(r.error());
    } else {
      done(std::move(*r->mutable_status_response()));
    }
  });
}

void Transport::RequestBlocks(const PeerKey& peer, uint64_t from_height, uint64_t to_height,
                              std::function<void(Result<bas::v1::BlocksResponse>)> done) {
  bas::v1::P2pMessage msg;
  msg.mutable_blocks_request()->set_from_height(from_height);
  msg.mutable_blocks_request()->set_to_height(to_height);
  impl_->PostRequest(peer, std::move(msg), [done = std::move(done)](auto r) {
    if (!r.ok()) {
      done(r.error());
    } else {
      done(std::move(*r->mutable_blocks_response()));
    }
  });
}

void Transport::RecheckPeers() {
  Impl* impl = impl_.get();
  net::post(impl->ioc, [impl] { impl->peers.Recheck(); });
}

std::vector<PeerInfo> Transport::Peers() const { return impl_->snapshots.Peers(); }

TransportCounters Transport::counters() const { return impl_->snapshots.Counters(); }

}  // namespace bas::node::p2p
