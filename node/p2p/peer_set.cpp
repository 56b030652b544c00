#include "node/p2p/peer_set.h"

#include <algorithm>
#include <exception>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "node/p2p/callback.h"

namespace bas::node::p2p {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

// The connection to keep when two are authenticated for one key: the one dialed by the lower
// key of the pair, so both ends pick the same; between two dialed by the same side, the newer
// (the older is likely from before a restart).
bool PreferNew(const Connection& existing, const Connection& incoming, const PeerKey& self) {
  const PeerKey& peer = incoming.peer_key();
  auto dialer = [&](const Connection& c) { return c.outbound() ? self : peer; };
  if (dialer(existing) == dialer(incoming)) return true;
  return dialer(incoming) == std::min(self, peer);
}

}  // namespace

PeerSet::PeerSet(net::io_context& ioc, const TransportConfig& config, const crypto::KeyPair& key,
                 net::ssl::context& tls, Transport::AllowPredicate is_allowed,
                 TransportCallbacks callbacks, TransportSnapshots& snapshots, BlockSync& sync,
                 const std::string& log_name)
    : ioc_(ioc),
      config_(config),
      key_(key),
      is_allowed_(std::move(is_allowed)),
      callbacks_(std::move(callbacks)),
      snapshots_(snapshots),
      sync_(sync),
      log_name_(log_name),
      context_{config, key, tls, snapshots, *this},
      acceptor_(ioc),
      accept_retry_(ioc),
      seen_(config.seen_cache_size),
      jitter_(std::random_device{}()) {
  for (const PersistentPeer& p : config.persistent_peers) {
    if (p.key == key.public_key() || dialer_by_key_.contains(p.key)) continue;
    dialers_.push_back(std::make_unique<Dialer>(ioc, p, config.reconnect_min));
    dialer_by_key_.emplace(p.key, dialers_.back().get());
  }
}

Result<uint16_t> PeerSet::Listen() {
  boost::system::error_code ec;
  const auto address = net::ip::make_address(config_.listen_host, ec);
  if (ec) return Error{"P2P_BIND_FAILED", config_.listen_host + " is not an IP address"};
  const tcp::endpoint endpoint(address, config_.listen_port);
  const std::string where = config_.listen_host + ":" + std::to_string(config_.listen_port);
  if (acceptor_.open(endpoint.protocol(), ec); !ec) {
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Error{"P2P_BIND_FAILED", where + ": " + ec.message()};
  return acceptor_.local_endpoint(ec).port();
}

void PeerSet::Start() {
  Accept();
  for (auto& d : dialers_) ScheduleDial(*d, std::chrono::milliseconds(0));
}

void PeerSet::Shutdown() {
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
  for (auto& d : dialers_) d->timer.cancel();
  std::vector<std::shared_ptr<Connection>> open;
  for (auto& [ptr, conn] : connections_) open.push_back(conn);
  for (auto& conn : open) conn->Close(Error{"P2P_STOPPED", "the transport stopped"});
  active_.clear();
  PublishPeers();
}

Connection* PeerSet::Find(const PeerKey& peer) {
  auto it = active_.find(peer);
  return it == active_.end() ? nullptr : it->second.get();
}

void PeerSet::Broadcast(const FramePtr& frame, const crypto::Hash32& hash,
                        std::optional<PeerKey> except) {
  if (stopping_) return;
  seen_.Insert(hash);
  for (auto& [k, conn] : active_) {
    if (!except || k != *except) conn->Enqueue(frame);
  }
}

void PeerSet::SendTo(const PeerKey& peer, const FramePtr& frame, const crypto::Hash32& hash) {
  if (stopping_) return;
  seen_.Insert(hash);
  if (Connection* conn = Find(peer)) conn->Enqueue(frame);
}

void PeerSet::Recheck() {
  if (stopping_) return;
  std::vector<std::shared_ptr<Connection>> refused;
  for (auto& [k, conn] : active_) {
    if (!IsAllowed(k)) refused.push_back(conn);
  }
  for (auto& conn : refused) {
    conn->Close(
        Error{"P2P_UNAUTHORIZED", "key " + ShortKey(conn->peer_key()) + " is no longer allowed"});
  }
}

bool PeerSet::IsAllowed(const PeerKey& key) {
  try {
    return is_allowed_ && is_allowed_(key);
  } catch (const std::exception& e) {
    spdlog::error("p2p: the allow predicate threw: {}", e.what());
  }
  return false;
}

void PeerSet::Accept() {
  acceptor_.async_accept(ioc_, [this](const boost::system::error_code& ec, tcp::socket socket) {
    if (stopping_ || ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors or memory: back off instead of spinning on the error.
      spdlog::warn("p2p {}: accept failed: {}", log_name_, ec.message());
      accept_retry_.expires_after(kAcceptRetryDelay);
      accept_retry_.async_wait([this](const boost::system::error_code& e) {
        if (!e && !stopping_) Accept();
      });
      return;
    }
    snapshots_.Count([](TransportCounters& c) { ++c.accepted; });
    boost::system::error_code remote_ec;
    const net::ip::address from = socket.remote_endpoint(remote_ec).address();
    const auto from_ip = static_cast<size_t>(
        std::count_if(pending_inbound_.begin(), pending_inbound_.end(),
                      [&](const auto& pending) { return pending.second == from; }));
    std::string refusal, why;
    if (remote_ec) {
      refusal = "P2P_CONNECTION_LOST";  // reset before we got to it
      why = remote_ec.message();
    } else if (inbound_open_ >= config_.max_inbound_connections) {
      refusal = "P2P_TOO_MANY_CONNECTIONS";
      why = std::to_string(inbound_open_) + " inbound open";
    } else if (from_ip >= config_.max_pending_per_ip) {
      refusal = "P2P_TOO_MANY_PENDING";
      why = std::to_string(from_ip) + " handshaking from " + from.to_string();
    } else if (pending_inbound_.size() >= config_.max_pending_inbound) {
      refusal = "P2P_TOO_MANY_PENDING";
      why = std::to_string(pending_inbound_.size()) + " handshaking";
    }
    if (!refusal.empty()) {
      const bool pending_limit = refusal == "P2P_TOO_MANY_PENDING";
      snapshots_.Count([&](TransportCounters& c) {
        ++c.disconnects[refusal];
        if (pending_limit) ++c.pending_refused;
      });
      // Closed before any TLS byte: such a socket costs one accept and nothing more.
      boost::system::error_code ignored;
      socket.close(ignored);
      if (remote_ec) {
        spdlog::debug("p2p {}: accepted a connection already gone: {}", log_name_, why);
      } else {
        spdlog::warn("p2p {}: refused a connection: {} ({})", log_name_, refusal, why);
      }
    } else {
      ++inbound_open_;
      auto conn = std::make_shared<Connection>(context_, std::move(socket), nullptr);
      connections_.emplace(conn.get(), conn);
      pending_inbound_.emplace(conn.get(), from);
      conn->StartInbound();
    }
    Accept();
  });
}

void PeerSet::ScheduleDial(Dialer& d, std::chrono::milliseconds delay) {
  d.timer_armed = true;
  d.timer.expires_after(delay);
  d.timer.async_wait([this, &d](const boost::system::error_code& ec) {
    d.timer_armed = false;
    if (ec || stopping_) return;
    Dial(d);
  });
}

void PeerSet::MaybeRedial(const PeerKey& peer) {
  auto it = dialer_by_key_.find(peer);
  if (it == dialer_by_key_.end()) return;
  Dialer& d = *it->second;
  if (stopping_ || d.dialing || d.timer_armed || active_.contains(peer)) return;
  const auto jitter_ms = std::uniform_int_distribution<int64_t>(0, d.backoff.count() / 4)(jitter_);
  ScheduleDial(d, d.backoff + std::chrono::milliseconds(jitter_ms));
  d.backoff = std::min(d.backoff * 2, config_.reconnect_max);
}

void PeerSet::Dial(Dialer& d) {
  if (stopping_ || d.dialing || active_.contains(d.peer.key)) return;
  d.dialing = true;
  snapshots_.Count([](TransportCounters& c) { ++c.dials; });
  auto conn = std::make_shared<Connection>(context_, tcp::socket(ioc_), &d.peer);
  connections_.emplace(conn.get(), conn);
  conn->StartOutbound();
}

void PeerSet::OnAuthenticated(const std::shared_ptr<Connection>& conn) {
  pending_inbound_.erase(conn.get());
  const PeerKey& peer = conn->peer_key();
  if (auto d = dialer_by_key_.find(peer); d != dialer_by_key_.end()) {
    d->second->backoff = config_.reconnect_min;
  }
  auto it = active_.find(peer);
  if (it != active_.end()) {
    std::shared_ptr<Connection> existing = it->second;
    if (!PreferNew(*existing, *conn, key_.public_key())) {
      conn->Close(Error{"P2P_DUPLICATE_CONNECTION", "kept the other connection"});
      return;
    }
    // Replace first, so closing the old one does not look like the peer going away.
    it->second = conn;
    PublishPeers();
    existing->Close(Error{"P2P_DUPLICATE_CONNECTION", "replaced by a newer connection"});
    return;
  }
  active_.emplace(peer, conn);
  PublishPeers();
  spdlog::info("p2p {}: peer {} connected ({} {})", log_name_, ShortKey(peer),
               conn->outbound() ? "to" : "from", conn->remote());
  InvokeCallback("on_peer_connected", callbacks_.on_peer_connected, peer);
}

void PeerSet::OnClosed(Connection& conn, bool was_open, const std::optional<PeerKey>& peer,
                       const Error& reason) {
  auto self = connections_.find(&conn);
  if (self != connections_.end()) connections_.erase(self);
  if (!conn.outbound()) --inbound_open_;
  pending_inbound_.erase(&conn);
  snapshots_.Count([&](TransportCounters& c) { ++c.disconnects[reason.code]; });
  // Dialers are one per key, so the key an outbound connection dialed finds its dialer.
  Dialer* const dialer = conn.outbound() ? dialer_by_key_.at(conn.dial_target()->key) : nullptr;
  if (dialer != nullptr) dialer->dialing = false;
  if (stopping_) return;

  const std::string who = peer ? ShortKey(*peer) : conn.remote();
  const bool ordinary = reason.code == "P2P_CONNECTION_LOST" || reason.code == "P2P_DIAL_FAILED" ||
                        reason.code == "P2P_DUPLICATE_CONNECTION";
  if (ordinary) {
    spdlog::debug("p2p {}: closed {}: {} ({})", log_name_, who, reason.code, reason.message);
  } else {
    spdlog::warn("p2p {}: disconnected {}: {} ({})", log_name_, who, reason.code, reason.message);
  }

  if (was_open) {
    auto it = active_.find(*peer);
    if (it != active_.end() && it->second.get() == &conn) {
      active_.erase(it);
      PublishPeers();
      spdlog::info("p2p {}: peer {} disconnected: {}", log_name_, who, reason.code);
      sync_.FailRequests(*peer, Error{"P2P_PEER_GONE", "the peer disconnected: " + reason.code});
      InvokeCallback("on_peer_disconnected", callbacks_.on_peer_disconnected, *peer, reason);
    }
  }
  if (dialer != nullptr) {
    MaybeRedial(dialer->peer.key);
  } else if (peer) {
    MaybeRedial(*peer);
  }
}

void PeerSet::OnFrame(Connection& conn, DecodedFrame& frame) {
  const PeerKey& from = conn.peer_key();
  bas::v1::P2pMessage& msg = frame.message;
  switch (msg.kind_case()) {
    case bas::v1::P2pMessage::kHello:
      conn.Close(Error{"P2P_BAD_FRAME", "a second hello"});
      return;
    case bas::v1::P2pMessage::kTx:
    case bas::v1::P2pMessage::kProposal:
    case bas::v1::P2pMessage::kVote:
      if (!seen_.Insert(crypto::Sha256Of(frame.payload))) {
        snapshots_.Count([](TransportCounters& c) { ++c.duplicates_dropped; });
        return;
      }
      InvokeCallback("on_message", callbacks_.on_message, from, msg);
      return;
    case bas::v1::P2pMessage::kStatusRequest:
      sync_.ServeStatus(conn, msg.status_request());
      return;
    case bas::v1::P2pMessage::kBlocksRequest:
      sync_.ServeBlocks(conn, msg.blocks_request());
      return;
    case bas::v1::P2pMessage::kStatusResponse: {
      const uint64_t id = msg.status_response().request_id();
      sync_.Complete(from, std::move(msg), id);
      return;
    }
    case bas::v1::P2pMessage::kBlocksResponse: {
      const uint64_t id = msg.blocks_response().request_id();
      sync_.Complete(from, std::move(msg), id);
      return;
    }
    case bas::v1::P2pMessage::KIND_NOT_SET:
      break;  // the decoder refuses these
  }
}

void PeerSet::PublishPeers() {
  std::vector<PeerInfo> list;
  list.reserve(active_.size());
  for (const auto& [k, conn] : active_) {
    list.push_back(PeerInfo{k, conn->outbound(), conn->remote()});
  }
  snapshots_.SetPeers(std::move(list));
}

}  // namespace bas::node::p2p
