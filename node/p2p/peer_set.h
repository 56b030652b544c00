// Internal to node/p2p. The set of connections of one transport, the switch between them and
// the owner (docs/p2p.md, "Persistent peers and duplicate connections", "Limits", "Gossip"):
// it accepts within the inbound and pending-handshake limits, dials and redials the persistent
// peers, keeps one authenticated connection per key, relays gossip and routes what peers send
// (gossip to the owner once, block-sync frames to BlockSync). The connections themselves are
// connection.h's.
//
// Threading: io thread only, except the constructor, Listen, Start and persistent_peers, which
// the transport calls before its io thread runs. It publishes its authenticated set to
// TransportSnapshots for the other threads.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "crypto/hash.h"
#include "crypto/result.h"
#include "crypto/schnorr.h"
#include "node/p2p/block_sync.h"
#include "node/p2p/connection.h"
#include "node/p2p/seen_cache.h"
#include "node/p2p/snapshots.h"
#include "node/p2p/transport.h"

namespace bas::node::p2p {

class PeerSet final : public ConnectionOwner {
 public:
  // Keeps a dialer for each persistent peer of config, but not for this node's own key nor for
  // a key's second entry. Every referent is owned by the transport and outlives this;
  // is_allowed and callbacks are the owner's (transport.h).
  PeerSet(boost::asio::io_context& ioc, const TransportConfig& config, const crypto::KeyPair& key,
          boost::asio::ssl::context& tls, Transport::AllowPredicate is_allowed,
          TransportCallbacks callbacks, TransportSnapshots& snapshots, BlockSync& sync,
          const std::string& log_name);

  // Binds and listens on config.listen_host:listen_port. Returns the bound port; errors:
  // "P2P_BIND_FAILED". Call once, before Start.
  Result<uint16_t> Listen();

  // Starts accepting and dialing every persistent peer (their handlers run on the io thread).
  // Call once, after Listen and before the io thread runs.
  void Start();

  // Closes the acceptor and every connection (no disconnect callbacks) and stops dialing; after
  // it Broadcast, SendTo and Recheck do nothing. Failing the requests is BlockSync::Stop's job.
  void Shutdown();

  // The number of persistent peers it dials.
  size_t persistent_peers() const { return dialers_.size(); }

  // The authenticated connection to peer, or null (owned by the peer set).
  Connection* Find(const PeerKey& peer);

  // Records hash (frame's payload hash) in the seen-cache so echoes are dropped, then queues
  // frame to every authenticated peer but except (Broadcast) or to peer if it is
  // authenticated (SendTo). Nothing after Shutdown.
  void Broadcast(const FramePtr& frame, const crypto::Hash32& hash, std::optional<PeerKey> except);
  void SendTo(const PeerKey& peer, const FramePtr& frame, const crypto::Hash32& hash);

  // Closes the authenticated connections whose key the allow predicate now refuses
  // (P2P_UNAUTHORIZED).
  void Recheck();

  // ConnectionOwner.
  bool IsAllowed(const PeerKey& key) override;
  void OnAuthenticated(const std::shared_ptr<Connection>& conn) override;
  void OnFrame(Connection& conn, DecodedFrame& frame) override;
  void OnClosed(Connection& conn, bool was_open, const std::optional<PeerKey>& key,
                const Error& reason) override;

 private:
  // A persistent peer's dial state.
  struct Dialer {
    Dialer(boost::asio::io_context& ioc, PersistentPeer p, std::chrono::milliseconds backoff)
        : peer(std::move(p)), timer(ioc), backoff(backoff) {}
    PersistentPeer peer;
    boost::asio::steady_timer timer;
    std::chrono::milliseconds backoff;
    bool dialing = false;      // a connection of ours to it is connecting or handshaking
    bool timer_armed = false;  // a dial is scheduled
  };

  void Accept();
  void ScheduleDial(Dialer& d, std::chrono::milliseconds delay);
  void MaybeRedial(const PeerKey& key);
  void Dial(Dialer& d);
  void PublishPeers();

  boost::asio::io_context& ioc_;
  const TransportConfig& config_;
  const crypto::KeyPair& key_;
  const Transport::AllowPredicate is_allowed_;
  const TransportCallbacks callbacks_;
  TransportSnapshots& snapshots_;
  BlockSync& sync_;
  const std::string& log_name_;
  const ConnectionContext context_;

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;
  bool stopping_ = false;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections_;  // all open ones
  size_t inbound_open_ = 0;  // of connections_, the accepted ones
  // Of those, the ones not authenticated yet, with the address they came from (at most
  // max_pending_inbound, so counting one address's is a short walk).
  std::unordered_map<Connection*, boost::asio::ip::address> pending_inbound_;
  std::map<PeerKey, std::shared_ptr<Connection>> active_;  // authenticated, one per key
  std::vector<std::unique_ptr<Dialer>> dialers_;
  std::map<PeerKey, Dialer*> dialer_by_key_;
  SeenCache seen_;
  std::minstd_rand jitter_;
};

}  // namespace bas::node::p2p
