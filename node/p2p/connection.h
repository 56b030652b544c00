// Internal to node/p2p. One TCP + TLS 1.3 connection to a peer, from connect or accept to
// close (docs/p2p.md, "Connection lifecycle"): the TLS handshake, the hello exchange that
// authenticates the peer's key, framing, the flood limits on what it receives, and the send
// queue with its write-stall limit. It knows nothing of other connections or of what frames
// mean: what it learns goes to its ConnectionOwner (the peer set).
//
// Threading: a connection lives on the io thread only (there is one), so it needs no lock; every
// method must be called there. Ownership: shared; the owner holds a reference while it is open,
// and its pending Asio handlers hold one each.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "crypto/hash.h"
#include "crypto/result.h"
#include "crypto/schnorr.h"
#include "node/p2p/auth.h"
#include "node/p2p/frame.h"
#include "node/p2p/snapshots.h"
#include "node/p2p/token_bucket.h"
#include "node/p2p/transport.h"

namespace bas::node::p2p {

// A whole frame (header and payload), shared by the send queues it is on.
using FramePtr = std::shared_ptr<const std::string>;

// The largest payload of a first frame: a hello is a version, a chain id (at most
// kMaxChainIdBytes), a key and a signature. Transport::Start refuses a max_frame_bytes below it.
inline constexpr size_t kMaxHelloFrameBytes = 512;

class Connection;

// What a connection reports. Every call is on the io thread, from inside a Connection method or
// handler; the owner may call the connection back (Enqueue, Close) from it.
class ConnectionOwner {
 public:
  // True iff the key a hello proved may connect (the last check of the hello, after the
  // self-connection and expected-key checks); false refuses it with P2P_UNAUTHORIZED.
  virtual bool IsAllowed(const PeerKey& key) = 0;
  // conn authenticated: frames now flow both ways. The owner may close it (or another).
  virtual void OnAuthenticated(const std::shared_ptr<Connection>& conn) = 0;
  // An authenticated connection received a frame within its flood limits (counted in
  // frames_in and bytes_in). frame.message may be moved from.
  virtual void OnFrame(Connection& conn, DecodedFrame& frame) = 0;
  // conn closed, once, for reason. was_open: it had authenticated. key: the key its hello proved
  // (set iff was_open, or the hello verified and a later check refused it). The connection
  // holds a reference to itself for the duration of the call.
  virtual void OnClosed(Connection& conn, bool was_open, const std::optional<PeerKey>& key,
                        const Error& reason) = 0;

 protected:
  ~ConnectionOwner() = default;
};

// What every connection of one transport reads and adds to. Each referent is owned by the
// transport and outlives every connection (and every handler still holding one).
struct ConnectionContext {
  const TransportConfig& config;  // chain id, handshake, flood and send-queue limits
  const crypto::KeyPair& key;     // this node's key: signs our hello, spots self-connections
  boost::asio::ssl::context& tls;
  TransportSnapshots& snapshots;  // frames and bytes in and out, send-queue drops
  ConnectionOwner& owner;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // socket: connected (inbound) or not yet open (outbound). dial_target: the persistent peer to
  // dial, null for an accepted socket. context and dial_target are owned by the peer set and
  // outlive the connection. Nothing happens until StartInbound or StartOutbound.
  Connection(const ConnectionContext& context, boost::asio::ip::tcp::socket socket,
             const PersistentPeer* dial_target);

  // True iff this node dialed it.
  bool outbound() const { return dial_target_ != nullptr; }
  // The persistent peer it dials; null for an inbound connection.
  const PersistentPeer* dial_target() const { return dial_target_; }
  // The key its hello proved; meaningful once it has authenticated.
  const PeerKey& peer_key() const { return peer_key_; }
  // address:port of the other end (for an outbound one, host:port until it connects).
  const std::string& remote() const { return remote_; }

  // Inbound: the socket is connected; runs the TLS handshake as the server, then the hellos.
  void StartInbound();
  // Outbound: resolves and connects to dial_target, then the TLS handshake as the client and
  // the hellos. Failures close it with P2P_DIAL_FAILED.
  void StartOutbound();

  // Queues frame if the connection is authenticated; a frame that does not fit the send queue
  // is dropped and counted (send_queue_drops). Returns false iff frame was not queued.
  bool Enqueue(const FramePtr& frame);

  // Closes the socket, drops the send queue and tells the owner (OnClosed). Idempotent: only
  // the first call has an effect.
  void Close(const Error& reason);

 private:
  enum class State { kConnecting, kHandshaking, kOpen, kClosed };

  void ArmDeadline();
  void SetRemote();
  void Handshake(boost::asio::ssl::stream_base::handshake_type role);
  void OnTlsReady();
  void Read();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void OnFrame(DecodedFrame& frame);
  void OnHello(const bas::v1::P2pMessage& msg);
  bool Push(const FramePtr& frame);
  void WriteNext();
  void OnWritten(const boost::system::error_code& ec);

  static constexpr size_t kReadChunkBytes = 16 * 1024;

  const ConnectionContext& context_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  boost::asio::ip::tcp::resolver resolver_;
  const PersistentPeer* const dial_target_;
  State state_ = State::kConnecting;
  PeerKey peer_key_{};
  bool key_known_ = false;  // the hello verified (the key may still have been refused)
  std::string remote_;
  crypto::Hash32 exporter_{};
  boost::asio::steady_timer deadline_;
  boost::asio::steady_timer write_timer_;
  uint64_t write_generation_ = 0;
  FrameDecoder decoder_;
  std::array<uint8_t, kReadChunkBytes> read_buf_{};
  std::deque<FramePtr> queue_;  // the first writing_frames_ are being written
  size_t writing_frames_ = 0;
  std::string write_buf_;  // the small frames being written, back to back
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  TokenBucket frame_bucket_;
  TokenBucket byte_bucket_;
};

}  // namespace bas::node::p2p
