// The P2P transport of a node (DESIGN.md section 6; docs/p2p.md): TLS 1.3 connections on TCP,
// each peer proving its node key, length-prefixed protobuf frames, gossip of txs, proposals
// and votes, and block-sync requests. It knows nothing of consensus: an injected predicate says
// which keys may connect (the validators and the configured observers), and the owner (the
// validator driver) receives messages through callbacks and decides what to relay.
//
// Threading: the transport runs one io thread of its own. Every callback (TransportCallbacks,
// the allow predicate, BlockSource, request completions) runs on that thread, one at a time:
// keep them short, never block in them, and never call Stop (or destroy the transport) from
// them. Every public method is thread-safe and may be called from any thread, callbacks
// included (except Stop). Nothing thrown by a callback escapes: it is logged and dropped.
//
// Misbehaving peers (bad frames, oversized frames, floods, failed or slow handshakes, unknown
// keys) are disconnected with a stable reason code; the node goes on. Limits are in
// TransportConfig; the defaults suit a validator on a small permissioned network.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bas/v1/p2p.pb.h"
#include "crypto/result.h"
#include "crypto/schnorr.h"
#include "node/p2p/auth.h"

namespace bas::node::p2p {

// A peer to keep connected: dialed at Start and redialed with capped exponential backoff
// whenever no connection to its key is up.
struct PersistentPeer {
  std::string host;  // an IP address or a name to resolve
  uint16_t port = 0;
  PeerKey key{};  // the node key it must prove; any other key is refused (P2P_UNEXPECTED_KEY)
};

struct TransportConfig {
  std::string chain_id;  // peers must prove their key for this chain id
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 0;  // 0: an ephemeral port (Transport::port() tells which)
  // Peers whose key equals this node's own are ignored, so one list can serve every node.
  std::vector<PersistentPeer> persistent_peers;

  // Largest frame payload accepted or sent (a BlocksResponse is cut to fit).
  size_t max_frame_bytes = size_t{8} << 20;
  // Accepted connections open at once, handshaking or authenticated; more are closed at
  // accept (P2P_TOO_MANY_CONNECTIONS). Dials to persistent peers do not count against it.
  size_t max_inbound_connections = 64;
  // Accepted connections still in their handshake (TCP accepted, TLS and hello not done), from
  // one IP address and in all; one more is closed at accept (P2P_TOO_MANY_PENDING, counted in
  // pending_refused). A connection stops counting when it authenticates or closes. The total is
  // below max_inbound_connections so that sockets that never handshake cannot take every
  // inbound slot from the peers that do.
  size_t max_pending_per_ip = 8;
  size_t max_pending_inbound = 32;
  // TCP connect (outbound), TLS handshake and hello exchange must finish within this.
  std::chrono::milliseconds handshake_timeout{5000};
  // Per-peer send queue, counting the frame being written. A frame that does not fit is
  // dropped and counted (send_queue_drops); a write that makes no progress for
  // write_stall_timeout disconnects the peer (P2P_SLOW_PEER).
  size_t send_queue_max_frames = 4096;
  size_t send_queue_max_bytes = size_t{32} << 20;
  std::chrono::milliseconds write_stall_timeout{20000};
  // Per-peer token buckets on received frames and bytes (header included); a peer that runs
  // either dry is disconnected (P2P_FLOOD). flood_bytes_burst must be at least
  // max_frame_bytes + 4.
  double flood_frames_per_s = 2000;
  double flood_frames_burst = 4000;
  double flood_bytes_per_s = 32.0 * (1 << 20);
  double flood_bytes_burst = 64.0 * (1 << 20);
  // Hashes of gossiped messages remembered to drop duplicates (docs/p2p.md, "Gossip").
  size_t seen_cache_size = 65536;
  // Backoff between dials of a persistent peer: reconnect_min after a drop, doubling after
  // each failed dial up to reconnect_max, plus up to 25% random jitter.
  std::chrono::milliseconds reconnect_min{500};
  std::chrono::milliseconds reconnect_max{30000};
  // Block sync: how long a request waits for its response, and the most blocks one response
  // carries.
  std::chrono::milliseconds request_timeout{10000};
  uint64_t max_blocks_per_response = 64;
};

// An authenticated peer.
struct PeerInfo {
  PeerKey key{};
  bool outbound = false;  // this node dialed the connection
  std::string remote;     // address:port of the other end
};

// Totals since Start (a snapshot).
struct TransportCounters {
  uint64_t frames_in = 0;  // frames received from authenticated peers (hellos not counted)
  uint64_t frames_out = 0;
  uint64_t bytes_in = 0;  // including the 4-byte headers
  uint64_t bytes_out = 0;
  uint64_t send_queue_drops = 0;       // frames dropped because a peer's queue was full
  uint64_t duplicates_dropped = 0;     // gossip already seen, not delivered
  uint64_t unsolicited_responses = 0;  // responses to no pending request (late, or bogus)
  uint64_t dials = 0;                  // outbound connection attempts
  uint64_t accepted = 0;               // inbound TCP connections accepted
  uint64_t pending_refused = 0;        // of those, closed at once: over max_pending_*
  // Closed connections by reason code (handshake failures and refusals included), e.g.
  // {"P2P_FLOOD", 1}.
  std::map<std::string, uint64_t> disconnects;
};

// Serves block sync requests. Called on the io thread while other threads may commit blocks:
// implementations must be safe against that (a ChainStore read is).
class BlockSource {
 public:
  virtual ~BlockSource() = default;
  // The height of the last committed block; 0 before the first.
  virtual uint64_t Height() = 0;
  // The block at height with the commit that certifies it, or nullopt when not stored.
  virtual std::optional<bas::v1::BlockWithCommit> BlockAt(uint64_t height) = 0;
};

// What the owner hears. Each may be empty. All run on the io thread (see the file comment).
struct TransportCallbacks {
  // A tx, proposal or vote from an authenticated peer, the first time its payload is seen
  // (the seen-cache drops duplicates, including echoes of what this node sent). Hellos and
  // block-sync frames are handled by the transport and never reach here.
  std::function<void(const PeerKey& from, const bas::v1::P2pMessage& msg)> on_message;
  // A key's first connection is authenticated.
  std::function<void(const PeerKey& peer)> on_peer_connected;
  // A key's last connection closed (not when a duplicate connection is replaced, and not
  // during Stop).
  std::function<void(const PeerKey& peer, const Error& reason)> on_peer_disconnected;
};

class Transport {
 public:
  // True iff key may connect. Called on the io thread at every hello and by RecheckPeers; it
  // may read state other threads change, under the owner's own lock.
  using AllowPredicate = std::function<bool(const PeerKey& key)>;

  // Binds config.listen_host:listen_port, starts the io thread and dials the persistent
  // peers. blocks may be null (requests are then answered with height 0 and no blocks); it
  // must outlive the transport. Errors: "P2P_BAD_CONFIG" (missing chain id or inconsistent
  // limits), "P2P_BIND_FAILED", "P2P_TLS_SETUP_FAILED".
  static Result<std::unique_ptr<Transport>> Start(TransportConfig config, crypto::KeyPair key,
                                                  AllowPredicate is_allowed,
                                                  TransportCallbacks callbacks,
                                                  BlockSource* blocks = nullptr);
  ~Transport();  // Stop()
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Closes every connection, fails pending requests with "P2P_STOPPED" (on the io thread),
  // then joins the io thread. No callback runs after it returns. Idempotent. Precondition:
  // not called from a callback.
  void Stop();

  // The bound port; valid after Start, and after Stop.
  uint16_t port() const;
  const PeerKey& key() const;

  // Queues msg (a tx, proposal or vote) to every authenticated peer but `except`, and records
  // it in the seen-cache so echoes are dropped. Always sends, even if msg was seen before:
  // relaying is the owner's decision. Errors: "P2P_BAD_MESSAGE" (another kind),
  // "P2P_FRAME_TOO_LARGE", "P2P_STOPPED". A full peer queue drops the frame and counts it.
  Status Broadcast(const bas::v1::P2pMessage& msg, std::optional<PeerKey> except = std::nullopt);

  // Queues msg (a tx, proposal or vote) to one peer. Errors as Broadcast, and
  // "P2P_NOT_CONNECTED" when peer is not authenticated at the call (if it goes away before
  // the frame is written, the frame is dropped silently).
  Status Send(const PeerKey& peer, const bas::v1::P2pMessage& msg);

  // Block sync. Asks peer for its height / for blocks from..to (inclusive) with their commits;
  // done is called once on the io thread with the response or "P2P_NOT_CONNECTED",
  // "P2P_PEER_GONE" (disconnected before answering), "P2P_REQUEST_TIMEOUT",
  // "P2P_SEND_QUEUE_FULL" or "P2P_STOPPED" (if Stop races the call, done may not be called).
  // A BlocksResponse may hold a prefix of the range (or nothing); checking the blocks and
  // commits is the caller's job.
  void RequestStatus(const PeerKey& peer,
                     std::function<void(Result<bas::v1::StatusResponse>)> done);
  void RequestBlocks(const PeerKey& peer, uint64_t from_height, uint64_t to_height,
                     std::function<void(Result<bas::v1::BlocksResponse>)> done);

  // Runs the allow predicate again over the authenticated peers and disconnects those it now
  // refuses (P2P_UNAUTHORIZED), e.g. after a validator set change. Asynchronous.
  void RecheckPeers();

  // The authenticated peers, one per key, sorted by key.
  std::vector<PeerInfo> Peers() const;
  TransportCounters counters() const;

 private:
  struct Impl;
  explicit Transport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bas::node::p2p
