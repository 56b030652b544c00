#include "node/p2p/transport.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <spdlog/spdlog.h>

#include "node/p2p/frame.h"
#include "node/p2p/seen_cache.h"
#include "node/p2p/tls.h"
#include "node/p2p/token_bucket.h"

namespace bas::node::p2p {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using FramePtr = std::shared_ptr<const std::string>;

// A hello is a version, a chain id (at most kMaxChainIdBytes), a key and a signature.
constexpr size_t kMaxHelloFrameBytes = 512;
constexpr size_t kReadChunkBytes = 16 * 1024;
// Frames up to this size are written several at a time (Connection::WriteNext).
constexpr size_t kCoalesceBytes = 64 * 1024;
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
// Room left in a BlocksResponse frame for its request id and each block's field header.
constexpr size_t kResponseOverheadBytes = 16;
constexpr size_t kBlockFieldOverheadBytes = 11;

bool IsGossip(const bas::v1::P2pMessage& msg) {
  switch (msg.kind_case()) {
    case bas::v1::P2pMessage::kTx:
    case bas::v1::P2pMessage::kProposal:
    case bas::v1::P2pMessage::kVote:
      return true;
    default:
      return false;
  }
}

crypto::Hash32 PayloadHash(const std::string& frame) {
  return crypto::Sha256Of(std::string_view(frame).substr(kFrameHeaderBytes));
}

// Calls an owner's callback; whatever it throws is logged, never propagated into Asio.
template <typename F, typename... Args>
void Invoke(const char* what, const F& f, Args&&... args) {
  if (!f) return;
  try {
    f(std::forward<Args>(args)...);
  } catch (const std::exception& e) {
    spdlog::error("p2p: the {} callback threw: {}", what, e.what());
  } catch (...) {
    spdlog::error("p2p: the {} callback threw", what);
  }
}

Error Lost(const boost::system::error_code& ec) {
  if (ec == net::error::eof || ec == ssl::error::stream_truncated) {
    return Error{"P2P_CONNECTION_LOST", "closed by the peer"};
  }
  return Error{"P2P_CONNECTION_LOST", ec.message()};
}

class Connection;

// Everything the transport is, shared by its connections. Transport::Impl is this; the
// connections name it as Core because Transport::Impl is private.
struct Core {
  using AllowPredicate = Transport::AllowPredicate;

  // A persistent peer's dial state (io thread only).
  struct Dialer {
    Dialer(net::io_context& ioc, PersistentPeer p, std::chrono::milliseconds backoff)
        : peer(std::move(p)), timer(ioc), backoff(backoff) {}
    PersistentPeer peer;
    net::steady_timer timer;
    std::chrono::milliseconds backoff;
    bool dialing = false;      // a connection of ours to it is connecting or handshaking
    bool timer_armed = false;  // a dial is scheduled
  };

  // A block-sync request waiting for its response (io thread only).
  struct PendingRequest {
    PeerKey peer;
    bas::v1::P2pMessage::KindCase response_kind;
    std::function<void(Result<bas::v1::P2pMessage>)> done;
    std::unique_ptr<net::steady_timer> timer;
  };

  Core(TransportConfig cfg, crypto::KeyPair k, AllowPredicate allow, TransportCallbacks cb,
       BlockSource* blocks, std::unique_ptr<ssl::context> tls)
      : config(std::move(cfg)),
        key(std::move(k)),
        is_allowed(std::move(allow)),
        callbacks(std::move(cb)),
        block_source(blocks),
        tls(std::move(tls)),
        work(net::make_work_guard(ioc)),
        acceptor(ioc),
        accept_retry(ioc),
        seen(config.seen_cache_size),
        jitter(std::random_device{}()),
        log_name(ShortKey(key.public_key())) {}

  void Accept();
  void ScheduleDial(Dialer& d, std::chrono::milliseconds delay);
  void MaybeRedial(const PeerKey& key);
  void Dial(Dialer& d);
  void OnAuthenticated(const std::shared_ptr<Connection>& conn);
  void EndPending(Connection& conn);
  void OnClosed(Connection& conn, bool was_open, const std::optional<PeerKey>& key, Dialer* dialer,
                const Error& reason);
  void Dispatch(Connection& conn, DecodedFrame& frame);
  void ServeStatus(Connection& conn, const bas::v1::StatusRequest& req);
  void ServeBlocks(Connection& conn, const bas::v1::BlocksRequest& req);
  void CompleteRequest(const PeerKey& from, bas::v1::P2pMessage&& msg, uint64_t request_id);
  void StartRequest(const PeerKey& peer, bas::v1::P2pMessage msg,
                    std::function<void(Result<bas::v1::P2pMessage>)> done);
  void FailRequests(const std::optional<PeerKey>& peer, const Error& error);
  void Shutdown();
  void PublishPeers();
  template <typename F>
  void Count(F&& f) {
    std::lock_guard lock(mu);
    f(counters);
  }

  // Set at Start, then read-only.
  const TransportConfig config;
  const crypto::KeyPair key;
  const AllowPredicate is_allowed;
  const TransportCallbacks callbacks;
  BlockSource* const block_source;
  // Declared before the io_context: streams still owned by its pending handlers when it is
  // destroyed were made from this context.
  const std::unique_ptr<ssl::context> tls;
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work;
  tcp::acceptor acceptor;
  net::steady_timer accept_retry;
  std::thread thread;
  std::thread::id io_thread_id;
  uint16_t port = 0;
  std::atomic<bool> stopped{false};

  // io thread only.
  bool stopping = false;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections;  // all open ones
  size_t inbound_open = 0;  // of connections, the accepted ones
  // Of those, the ones not authenticated yet, with the address they came from (at most
  // max_pending_inbound, so counting one address's is a short walk).
  std::unordered_map<Connection*, net::ip::address> pending_inbound;
  std::map<PeerKey, std::shared_ptr<Connection>> active;  // authenticated, one per key
  std::vector<std::unique_ptr<Dialer>> dialers;
  std::map<PeerKey, Dialer*> dialer_by_key;
  SeenCache seen;
  std::unordered_map<uint64_t, PendingRequest> pending;
  uint64_t next_request_id = 1;
  std::minstd_rand jitter;
  const std::string log_name;

  // Snapshots for other threads.
  mutable std::mutex mu;
  TransportCounters counters;
  std::vector<PeerInfo> peers;
};

// One TCP + TLS connection, from connect or accept to close. Lives on the io thread only
// (there is one), so it needs no lock. Owned by Impl::connections while open, and by its
// pending handlers.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Impl = Core;

  Connection(Impl& impl, tcp::socket socket, Impl::Dialer* dialer)
      : impl_(impl),
        stream_(std::move(socket), *impl.tls),
        resolver_(impl.ioc),
        outbound_(dialer != nullptr),
        dialer_(dialer),
        deadline_(impl.ioc),
        write_timer_(impl.ioc),
        decoder_(kMaxHelloFrameBytes),
        frame_bucket_(impl.config.flood_frames_per_s, impl.config.flood_frames_burst, Clock::now()),
        byte_bucket_(impl.config.flood_bytes_per_s, impl.config.flood_bytes_burst, Clock::now()) {}

  bool outbound() const { return outbound_; }
  const PeerKey& peer_key() const { return peer_key_; }
  const std::string& remote() const { return remote_; }

  // Inbound: the socket is connected; runs the TLS handshake as the server.
  void StartInbound() {
    ArmDeadline();
    SetRemote();
    Handshake(ssl::stream_base::server);
  }

  // Outbound: resolves and connects to the dialer's peer, then the TLS handshake as client.
  void StartOutbound() {
    ArmDeadline();
    const PersistentPeer& p = dialer_->peer;
    remote_ = p.host + ":" + std::to_string(p.port);
    resolver_.async_resolve(
        p.host, std::to_string(p.port), tcp::resolver::numeric_service,
        [self = shared_from_this()](const boost::system::error_code& ec,
                                    const tcp::resolver::results_type& results) {
          if (self->state_ == State::kClosed) return;
          if (ec) {
            self->Close(Error{"P2P_DIAL_FAILED", "resolve " + self->remote_ + ": " + ec.message()});
            return;
          }
          net::async_connect(
              self->stream_.lowest_layer(), results,
              [self](const boost::system::error_code& ec, const tcp::endpoint&) {
                if (self->state_ == State::kClosed) return;
                if (ec) {
                  self->Close(Error{"P2P_DIAL_FAILED", self->remote_ + ": " + ec.message()});
                  return;
                }
                self->SetRemote();
                self->Handshake(ssl::stream_base::client);
              });
        });
  }

  // Queues a frame if the connection is authenticated; drops and counts it when the queue is
  // full. Returns false iff the frame was not queued.
  bool Enqueue(const FramePtr& frame) {
    if (state_ != State::kOpen) return false;
    return Push(frame);
  }

  // Closes the socket and tells Impl; idempotent.
  void Close(const Error& reason) {
    if (state_ == State::kClosed) return;
    auto self = shared_from_this();  // Impl drops its reference below
    const bool was_open = state_ == State::kOpen;
    std::optional<PeerKey> key;
    if (was_open || key_known_) key = peer_key_;
    state_ = State::kClosed;
    deadline_.cancel();
    write_timer_.cancel();
    resolver_.cancel();
    boost::system::error_code ignored;
    stream_.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.lowest_layer().close(ignored);
    queue_.clear();
    queued_bytes_ = 0;
    impl_.OnClosed(*this, was_open, key, dialer_, reason);
  }

 private:
  enum class State { kConnecting, kHandshaking, kOpen, kClosed };

  void ArmDeadline() {
    deadline_.expires_after(impl_.config.handshake_timeout);
    deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->state_ == State::kOpen || self->state_ == State::kClosed) return;
      self->Close(Error{"P2P_HANDSHAKE_TIMEOUT",
                        "no authenticated TLS session within " +
                            std::to_string(self->impl_.config.handshake_timeout.count()) + " ms"});
    });
  }

  void SetRemote() {
    boost::system::error_code ec;
    const auto ep = stream_.lowest_layer().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  void Handshake(ssl::stream_base::handshake_type role) {
    state_ = State::kHandshaking;
    stream_.async_handshake(role, [self = shared_from_this()](const boost::system::error_code& ec) {
      if (self->state_ == State::kClosed) return;
      if (ec) {
        self->Close(Error{"P2P_TLS_FAILED", "TLS handshake: " + ec.message()});
        return;
      }
      self->OnTlsReady();
    });
  }

  void OnTlsReady() {
    auto exporter = ExportAuthValue(stream_.native_handle());
    if (!exporter.ok()) {
      Close(exporter.error());
      return;
    }
    exporter_ = *exporter;
    bas::v1::P2pMessage msg;
    *msg.mutable_hello() = MakeHello(impl_.key, impl_.config.chain_id, exporter_,
                                     outbound_ ? TlsRole::kClient : TlsRole::kServer);
    auto frame = EncodeFrame(msg, kMaxHelloFrameBytes);
    if (!frame.ok()) {
      Close(frame.error());
      return;
    }
    Push(std::make_shared<const std::string>(std::move(*frame)));
    Read();
  }

  void Read() {
    stream_.async_read_some(net::buffer(read_buf_),
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(const boost::system::error_code& ec, size_t n) {
    if (state_ == State::kClosed) return;
    if (ec) {
      Close(Lost(ec));
      return;
    }
    decoder_.Append(crypto::ByteSpan(read_buf_.data(), n));
    while (true) {
      auto next = decoder_.Next();
      if (!next.ok()) {
        Close(next.error());
        return;
      }
      if (!next->has_value()) break;
      OnFrame(**next);
      if (state_ == State::kClosed) return;
    }
    Read();
  }

  void OnFrame(DecodedFrame& frame) {
    if (state_ != State::kOpen) {
      OnHello(frame.message);
      return;
    }
    const auto now = Clock::now();
    const size_t bytes = kFrameHeaderBytes + frame.payload.size();
    if (!frame_bucket_.Take(1, now) || !byte_bucket_.Take(static_cast<double>(bytes), now)) {
      Close(Error{"P2P_FLOOD", "over the frame or byte rate limit"});
      return;
    }
    impl_.Count([&](TransportCounters& c) {
      ++c.frames_in;
      c.bytes_in += bytes;
    });
    impl_.Dispatch(*this, frame);
  }

  void OnHello(const bas::v1::P2pMessage& msg) {
    if (!msg.has_hello()) {
      Close(Error{"P2P_BAD_HELLO", "the first frame is not a hello"});
      return;
    }
    auto key = VerifyHello(msg.hello(), impl_.config.chain_id, exporter_,
                           outbound_ ? TlsRole::kServer : TlsRole::kClient);
    if (!key.ok()) {
      Close(key.error());
      return;
    }
    peer_key_ = *key;
    key_known_ = true;
    if (peer_key_ == impl_.key.public_key()) {
      Close(Error{"P2P_SELF_CONNECTION", "connected to itself"});
      return;
    }
    if (dialer_ != nullptr && peer_key_ != dialer_->peer.key) {
      Close(Error{"P2P_UNEXPECTED_KEY", remote_ + " proved key " + ShortKey(peer_key_) +
                                            ", expected " + ShortKey(dialer_->peer.key)});
      return;
    }
    bool allowed = false;
    try {
      allowed = impl_.is_allowed && impl_.is_allowed(peer_key_);
    } catch (const std::exception& e) {
      spdlog::error("p2p: the allow predicate threw: {}", e.what());
    }
    if (!allowed) {
      Close(Error{"P2P_UNAUTHORIZED", "key " + ShortKey(peer_key_) + " is not allowed"});
      return;
    }
    state_ = State::kOpen;
    deadline_.cancel();
    decoder_.set_max_payload_bytes(impl_.config.max_frame_bytes);
    const auto now = Clock::now();
    frame_bucket_ =
        TokenBucket(impl_.config.flood_frames_per_s, impl_.config.flood_frames_burst, now);
    byte_bucket_ = TokenBucket(impl_.config.flood_bytes_per_s, impl_.config.flood_bytes_burst, now);
    impl_.OnAuthenticated(shared_from_this());
  }

  bool Push(const FramePtr& frame) {
    if (queue_.size() >= impl_.config.send_queue_max_frames ||
        queued_bytes_ + frame->size() > impl_.config.send_queue_max_bytes) {
      impl_.Count([](TransportCounters& c) { ++c.send_queue_drops; });
      return false;
    }
    queue_.push_back(frame);
    queued_bytes_ += frame->size();
    if (!writing_) WriteNext();
    return true;
  }

  // Writes the frames at the front of the queue. Small frames (txs and votes, a few hundred
  // bytes each) are copied into one buffer and written together: one TLS write and one system
  // call for many frames instead of one each, which under a stream of gossiped txs was a tenth
  // of a validator's CPU. A large frame (a block) is written alone, from the queue, uncopied.
  void WriteNext() {
    writing_ = true;
    const uint64_t generation = ++write_generation_;
    write_timer_.expires_after(impl_.config.write_stall_timeout);
    write_timer_.async_wait(
        [self = shared_from_this(), generation](const boost::system::error_code& ec) {
          if (ec || self->state_ == State::kClosed || !self->writing_ ||
              self->write_generation_ != generation) {
            return;
          }
          self->Close(Error{"P2P_SLOW_PEER",
                            "a frame waited over " +
                                std::to_string(self->impl_.config.write_stall_timeout.count()) +
                                " ms to be written"});
        });
    writing_frames_ = 1;
    if (queue_.front()->size() >= kCoalesceBytes || queue_.size() == 1) {
      FramePtr frame = queue_.front();
      net::async_write(stream_, net::buffer(*frame),
                       [self = shared_from_this(), frame](const boost::system::error_code& ec,
                                                          size_t) { self->OnWritten(ec); });
      return;
    }
    write_buf_.clear();
    write_buf_.append(*queue_.front());
    while (writing_frames_ < queue_.size() &&
           write_buf_.size() + queue_[writing_frames_]->size() <= kCoalesceBytes) {
      write_buf_.append(*queue_[writing_frames_]);
      ++writing_frames_;
    }
    net::async_write(stream_, net::buffer(write_buf_),
                     [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                       self->OnWritten(ec);
                     });
  }

  void OnWritten(const boost::system::error_code& ec) {
    if (state_ == State::kClosed) return;
    writing_ = false;
    write_timer_.cancel();
    if (ec) {
      Close(Lost(ec));
      return;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < writing_frames_; ++i) {
      bytes += queue_.front()->size();
      queue_.pop_front();
    }
    queued_bytes_ -= bytes;
    if (state_ == State::kOpen) {
      impl_.Count([&](TransportCounters& c) {
        c.frames_out += writing_frames_;
        c.bytes_out += bytes;
      });
    }
    writing_frames_ = 0;
    if (!queue_.empty()) WriteNext();
  }

  Impl& impl_;
  ssl::stream<tcp::socket> stream_;
  tcp::resolver resolver_;
  const bool outbound_;
  Impl::Dialer* const dialer_;  // set iff outbound; owned by Impl, outlives the connection
  State state_ = State::kConnecting;
  PeerKey peer_key_{};
  bool key_known_ = false;  // the hello verified (the key may still have been refused)
  std::string remote_;
  crypto::Hash32 exporter_{};
  net::steady_timer deadline_;
  net::steady_timer write_timer_;
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

// The connection to keep when two are authenticated for one key: the one dialed by the lower
// key of the pair, so both ends pick the same; between two dialed by the same side, the newer
// (the older is likely from before a restart).
bool PreferNew(const Connection& existing, const Connection& incoming, const PeerKey& self) {
  const PeerKey& peer = incoming.peer_key();
  auto dialer = [&](const Connection& c) { return c.outbound() ? self : peer; };
  if (dialer(existing) == dialer(incoming)) return true;
  return dialer(incoming) == std::min(self, peer);
}

void Core::Accept() {
  acceptor.async_accept(ioc, [this](const boost::system::error_code& ec, tcp::socket socket) {
    if (stopping || ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors or memory: back off instead of spinning on the error.
      spdlog::warn("p2p {}: accept failed: {}", log_name, ec.message());
      accept_retry.expires_after(kAcceptRetryDelay);
      accept_retry.async_wait([this](const boost::system::error_code& e) {
        if (!e && !stopping) Accept();
      });
      return;
    }
    Count([](TransportCounters& c) { ++c.accepted; });
    boost::system::error_code remote_ec;
    const net::ip::address from = socket.remote_endpoint(remote_ec).address();
    const auto from_ip = static_cast<size_t>(
        std::count_if(pending_inbound.begin(), pending_inbound.end(),
                      [&](const auto& pending) { return pending.second == from; }));
    std::string refusal, why;
    if (remote_ec) {
      refusal = "P2P_CONNECTION_LOST";  // reset before we got to it
      why = remote_ec.message();
    } else if (inbound_open >= config.max_inbound_connections) {
      refusal = "P2P_TOO_MANY_CONNECTIONS";
      why = std::to_string(inbound_open) + " inbound open";
    } else if (from_ip >= config.max_pending_per_ip) {
      refusal = "P2P_TOO_MANY_PENDING";
      why = std::to_string(from_ip) + " handshaking from " + from.to_string();
    } else if (pending_inbound.size() >= config.max_pending_inbound) {
      refusal = "P2P_TOO_MANY_PENDING";
      why = std::to_string(pending_inbound.size()) + " handshaking";
    }
    if (!refusal.empty()) {
      const bool pending_limit = refusal == "P2P_TOO_MANY_PENDING";
      Count([&](TransportCounters& c) {
        ++c.disconnects[refusal];
        if (pending_limit) ++c.pending_refused;
      });
      // Closed before any TLS byte: such a socket costs one accept and nothing more.
      boost::system::error_code ignored;
      socket.close(ignored);
      if (remote_ec) {
        spdlog::debug("p2p {}: accepted a connection already gone: {}", log_name, why);
      } else {
        spdlog::warn("p2p {}: refused a connection: {} ({})", log_name, refusal, why);
      }
    } else {
      ++inbound_open;
      auto conn = std::make_shared<Connection>(*this, std::move(socket), nullptr);
      connections.emplace(conn.get(), conn);
      pending_inbound.emplace(conn.get(), from);
      conn->StartInbound();
    }
    Accept();
  });
}

void Core::ScheduleDial(Dialer& d, std::chrono::milliseconds delay) {
  d.timer_armed = true;
  d.timer.expires_after(delay);
  d.timer.async_wait([this, &d](const boost::system::error_code& ec) {
    d.timer_armed = false;
    if (ec || stopping) return;
    Dial(d);
  });
}

void Core::MaybeRedial(const PeerKey& peer) {
  auto it = dialer_by_key.find(peer);
  if (it == dialer_by_key.end()) return;
  Dialer& d = *it->second;
  if (stopping || d.dialing || d.timer_armed || active.contains(peer)) return;
  const auto jitter_ms = std::uniform_int_distribution<int64_t>(0, d.backoff.count() / 4)(jitter);
  ScheduleDial(d, d.backoff + std::chrono::milliseconds(jitter_ms));
  d.backoff = std::min(d.backoff * 2, config.reconnect_max);
}

void Core::Dial(Dialer& d) {
  if (stopping || d.dialing || active.contains(d.peer.key)) return;
  d.dialing = true;
  Count([](TransportCounters& c) { ++c.dials; });
  auto conn = std::make_shared<Connection>(*this, tcp::socket(ioc), &d);
  connections.emplace(conn.get(), conn);
  conn->StartOutbound();
}

void Core::EndPending(Connection& conn) { pending_inbound.erase(&conn); }

void Core::OnAuthenticated(const std::shared_ptr<Connection>& conn) {
  EndPending(*conn);
  const PeerKey& peer = conn->peer_key();
  if (auto d = dialer_by_key.find(peer); d != dialer_by_key.end()) {
    d->second->backoff = config.reconnect_min;
  }
  auto it = active.find(peer);
  if (it != active.end()) {
    std::shared_ptr<Connection> existing = it->second;
    if (!PreferNew(*existing, *conn, key.public_key())) {
      conn->Close(Error{"P2P_DUPLICATE_CONNECTION", "kept the other connection"});
      return;
    }
    // Replace first, so closing the old one does not look like the peer going away.
    it->second = conn;
    PublishPeers();
    existing->Close(Error{"P2P_DUPLICATE_CONNECTION", "replaced by a newer connection"});
    return;
  }
  active.emplace(peer, conn);
  PublishPeers();
  spdlog::info("p2p {}: peer {} connected ({} {})", log_name, ShortKey(peer),
               conn->outbound() ? "to" : "from", conn->remote());
  Invoke("on_peer_connected", callbacks.on_peer_connected, peer);
}

void Core::OnClosed(Connection& conn, bool was_open, const std::optional<PeerKey>& peer,
                    Dialer* dialer, const Error& reason) {
  auto self = connections.find(&conn);
  if (self != connections.end()) connections.erase(self);
  if (!conn.outbound()) --inbound_open;
  EndPending(conn);
  Count([&](TransportCounters& c) { ++c.disconnects[reason.code]; });
  if (dialer != nullptr) dialer->dialing = false;
  if (stopping) return;

  const std::string who = peer ? ShortKey(*peer) : conn.remote();
  const bool ordinary = reason.code == "P2P_CONNECTION_LOST" || reason.code == "P2P_DIAL_FAILED" ||
                        reason.code == "P2P_DUPLICATE_CONNECTION";
  if (ordinary) {
    spdlog::debug("p2p {}: closed {}: {} ({})", log_name, who, reason.code, reason.message);
  } else {
    spdlog::warn("p2p {}: disconnected {}: {} ({})", log_name, who, reason.code, reason.message);
  }

  if (was_open) {
    auto it = active.find(*peer);
    if (it != active.end() && it->second.get() == &conn) {
      active.erase(it);
      PublishPeers();
      spdlog::info("p2p {}: peer {} disconnected: {}", log_name, who, reason.code);
      FailRequests(*peer, Error{"P2P_PEER_GONE", "the peer disconnected: " + reason.code});
      Invoke("on_peer_disconnected", callbacks.on_peer_disconnected, *peer, reason);
    }
  }
  if (dialer != nullptr) {
    MaybeRedial(dialer->peer.key);
  } else if (peer) {
    MaybeRedial(*peer);
  }
}

void Core::Dispatch(Connection& conn, DecodedFrame& frame) {
  const PeerKey& from = conn.peer_key();
  bas::v1::P2pMessage& msg = frame.message;
  switch (msg.kind_case()) {
    case bas::v1::P2pMessage::kHello:
      conn.Close(Error{"P2P_BAD_FRAME", "a second hello"});
      return;
    case bas::v1::P2pMessage::kTx:
    case bas::v1::P2pMessage::kProposal:
    case bas::v1::P2pMessage::kVote:
      if (!seen.Insert(crypto::Sha256Of(frame.payload))) {
        Count([](TransportCounters& c) { ++c.duplicates_dropped; });
        return;
      }
      Invoke("on_message", callbacks.on_message, from, msg);
      return;
    case bas::v1::P2pMessage::kStatusRequest:
      ServeStatus(conn, msg.status_request());
      return;
    case bas::v1::P2pMessage::kBlocksRequest:
      ServeBlocks(conn, msg.blocks_request());
      return;
    case bas::v1::P2pMessage::kStatusResponse: {
      const uint64_t id = msg.status_response().request_id();
      CompleteRequest(from, std::move(msg), id);
      return;
    }
    case bas::v1::P2pMessage::kBlocksResponse: {
      const uint64_t id = msg.blocks_response().request_id();
      CompleteRequest(from, std::move(msg), id);
      return;
    }
    case bas::v1::P2pMessage::KIND_NOT_SET:
      break;  // the decoder refuses these
  }
}

void Core::ServeStatus(Connection& conn, const bas::v1::StatusRequest& req) {
  bas::v1::P2pMessage out;
  auto* res = out.mutable_status_response();
  res->set_request_id(req.request_id());
  if (block_source != nullptr) {
    try {
      res->set_height(block_source->Height());
    } catch (const std::exception& e) {
      spdlog::error("p2p {}: BlockSource::Height threw: {}", log_name, e.what());
      return;
    }
  }
  auto frame = EncodeFrame(out, config.max_frame_bytes);
  if (frame.ok()) conn.Enqueue(std::make_shared<const std::string>(std::move(*frame)));
}

void Core::ServeBlocks(Connection& conn, const bas::v1::BlocksRequest& req) {
  bas::v1::P2pMessage out;
  auto* res = out.mutable_blocks_response();
  res->set_request_id(req.request_id());
  if (block_source != nullptr && req.from_height() <= req.to_height()) {
    // The count is capped first, so a request for [1, 2^64-1] costs no more than any other.
    const uint64_t last = req.from_height() + std::min(req.to_height() - req.from_height(),
                                                       config.max_blocks_per_response - 1);
    size_t size = kResponseOverheadBytes;
    try {
      for (uint64_t h = req.from_height();; ++h) {
        auto block = block_source->BlockAt(h);
        if (!block) break;
        const size_t block_size = block->ByteSizeLong() + kBlockFieldOverheadBytes;
        if (size + block_size > config.max_frame_bytes) break;
        size += block_size;
        *res->add_blocks() = std::move(*block);
        if (h == last) break;  // no wrap past 2^64-1
      }
    } catch (const std::exception& e) {
      spdlog::error("p2p {}: BlockSource::BlockAt threw: {}", log_name, e.what());
    }
  }
  auto frame = EncodeFrame(out, config.max_frame_bytes);
  if (!frame.ok()) {
    spdlog::error("p2p {}: blocks response: {}", log_name, frame.error().message);
    return;
  }
  conn.Enqueue(std::make_shared<const std::string>(std::move(*frame)));
}

void Core::CompleteRequest(const PeerKey& from, bas::v1::P2pMessage&& msg, uint64_t request_id) {
  auto it = pending.find(request_id);
  if (it == pending.end() || it->second.peer != from ||
      it->second.response_kind != msg.kind_case()) {
    Count([](TransportCounters& c) { ++c.unsolicited_responses; });
    return;
  }
  PendingRequest req = std::move(it->second);
  pending.erase(it);
  req.timer->cancel();
  Invoke("request completion", req.done, Result<bas::v1::P2pMessage>(std::move(msg)));
}

void Core::StartRequest(const PeerKey& peer, bas::v1::P2pMessage msg,
                        std::function<void(Result<bas::v1::P2pMessage>)> done) {
  if (stopping) {
    Invoke("request completion", done,
           Result<bas::v1::P2pMessage>(Error{"P2P_STOPPED", "the transport is stopping"}));
    return;
  }
  auto conn = active.find(peer);
  if (conn == active.end()) {
    Invoke("request completion", done,
           Result<bas::v1::P2pMessage>(
               Error{"P2P_NOT_CONNECTED", "no connection to " + ShortKey(peer)}));
    return;
  }
  const uint64_t id = next_request_id++;
  bas::v1::P2pMessage::KindCase response_kind;
  if (msg.has_status_request()) {
    msg.mutable_status_request()->set_request_id(id);
    response_kind = bas::v1::P2pMessage::kStatusResponse;
  } else {
    msg.mutable_blocks_request()->set_request_id(id);
    response_kind = bas::v1::P2pMessage::kBlocksResponse;
  }
  auto frame = EncodeFrame(msg, config.max_frame_bytes);
  if (!frame.ok() ||
      !conn->second->Enqueue(std::make_shared<const std::string>(std::move(*frame)))) {
    Invoke("request completion", done,
           Result<bas::v1::P2pMessage>(
               Error{"P2P_SEND_QUEUE_FULL", "the request could not be queued"}));
    return;
  }
  PendingRequest req{peer, response_kind, std::move(done),
                     std::make_unique<net::steady_timer>(ioc, config.request_timeout)};
  req.timer->async_wait([this, id](const boost::system::error_code& ec) {
    if (ec) return;
    auto it = pending.find(id);
    if (it == pending.end()) return;
    auto callback = std::move(it->second.done);
    pending.erase(it);
    Invoke("request completion", callback,
           Result<bas::v1::P2pMessage>(Error{"P2P_REQUEST_TIMEOUT", "no response in time"}));
  });
  pending.emplace(id, std::move(req));
}

void Core::FailRequests(const std::optional<PeerKey>& peer, const Error& error) {
  std::vector<std::function<void(Result<bas::v1::P2pMessage>)>> failed;
  for (auto it = pending.begin(); it != pending.end();) {
    if (!peer || it->second.peer == *peer) {
      it->second.timer->cancel();
      failed.push_back(std::move(it->second.done));
      it = pending.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& done : failed) {
    Invoke("request completion", done, Result<bas::v1::P2pMessage>(error));
  }
}

void Core::Shutdown() {
  stopping = true;
  boost::system::error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  for (auto& d : dialers) d->timer.cancel();
  std::vector<std::shared_ptr<Connection>> open;
  for (auto& [ptr, conn] : connections) open.push_back(conn);
  for (auto& conn : open) conn->Close(Error{"P2P_STOPPED", "the transport stopped"});
  active.clear();
  PublishPeers();
  FailRequests(std::nullopt, Error{"P2P_STOPPED", "the transport stopped"});
}

void Core::PublishPeers() {
  std::vector<PeerInfo> list;
  list.reserve(active.size());
  for (const auto& [k, conn] : active)
    list.push_back(PeerInfo{k, conn->outbound(), conn->remote()});
  std::lock_guard lock(mu);
  peers = std::move(list);
}

}  // namespace

struct Transport::Impl : Core {
  using Core::Core;
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
  const TransportConfig& cfg = impl->config;
  boost::system::error_code ec;
  const auto address = net::ip::make_address(cfg.listen_host, ec);
  if (ec) return Error{"P2P_BIND_FAILED", cfg.listen_host + " is not an IP address"};
  const tcp::endpoint endpoint(address, cfg.listen_port);
  const std::string where = cfg.listen_host + ":" + std::to_string(cfg.listen_port);
  auto& acceptor = impl->acceptor;
  if (acceptor.open(endpoint.protocol(), ec); !ec) {
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Error{"P2P_BIND_FAILED", where + ": " + ec.message()};
  impl->port = acceptor.local_endpoint(ec).port();

  for (const PersistentPeer& p : cfg.persistent_peers) {
    if (p.key == impl->key.public_key() || impl->dialer_by_key.contains(p.key)) continue;
    impl->dialers.push_back(std::make_unique<Core::Dialer>(impl->ioc, p, cfg.reconnect_min));
    impl->dialer_by_key.emplace(p.key, impl->dialers.back().get());
  }
  impl->Accept();
  for (auto& d : impl->dialers) impl->ScheduleDial(*d, std::chrono::milliseconds(0));

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
  spdlog::info("p2p {}: listening on {}:{}, {} persistent peers", impl->log_name, cfg.listen_host,
               impl->port, impl->dialers.size());
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
    impl.Shutdown();
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
  if (!IsGossip(msg)) return Error{"P2P_BAD_MESSAGE", "only txs, proposals and votes gossip"};
  if (impl_->stopped) return Error{"P2P_STOPPED", "the transport is stopped"};
  auto frame = EncodeFrame(msg, impl_->config.max_frame_bytes);
  if (!frame.ok()) return frame.error();
  auto shared = std::make_shared<const std::string>(std::move(*frame));
  const crypto::Hash32 hash = PayloadHash(*shared);
  Impl* impl = impl_.get();
  net::post(impl->ioc, [impl, shared, hash, except] {
    if (impl->stopping) return;
    impl->seen.Insert(hash);
    for (auto& [k, conn] : impl->active) {
      if (!except || k != *except) conn->Enqueue(shared);
    }
  });
  return Status::Ok();
}

Status Transport::Send(const PeerKey& peer, const bas::v1::P2pMessage& msg) {
  if (!IsGossip(msg)) return Error{"P2P_BAD_MESSAGE", "only txs, proposals and votes gossip"};
  if (impl_->stopped) return Error{"P2P_STOPPED", "the transport is stopped"};
  {
    std::lock_guard lock(impl_->mu);
    const auto& peers = impl_->peers;
    if (std::none_of(peers.begin(), peers.end(),
                     [&](const PeerInfo& p) { return p.key == peer; })) {
      return Error{"P2P_NOT_CONNECTED", "no connection to " + ShortKey(peer)};
    }
  }
  auto frame = EncodeFrame(msg, impl_->config.max_frame_bytes);
  if (!frame.ok()) return frame.error();
  auto shared = std::make_shared<const std::string>(std::move(*frame));
  const crypto::Hash32 hash = PayloadHash(*shared);
  Impl* impl = impl_.get();
  net::post(impl->ioc, [impl, shared, hash, peer] {
    if (impl->stopping) return;
    impl->seen.Insert(hash);
    if (auto it = impl->active.find(peer); it != impl->active.end()) it->second->Enqueue(shared);
  });
  return Status::Ok();
}

void Transport::RequestStatus(const PeerKey& peer,
                              std::function<void(Result<bas::v1::StatusResponse>)> done) {
  bas::v1::P2pMessage msg;
  msg.mutable_status_request();
  Impl* impl = impl_.get();
  net::post(impl->ioc, [impl, peer, msg = std::move(msg), done = std::move(done)]() mutable {
    impl->StartRequest(peer, std::move(msg), [done = std::move(done)](auto r) {
      if (!r.ok()) {
        done(r.error());
      } else {
        done(std::move(*r->mutable_status_response()));
      }
    });
  });
}

void Transport::RequestBlocks(const PeerKey& peer, uint64_t from_height, uint64_t to_height,
                              std::function<void(Result<bas::v1::BlocksResponse>)> done) {
  bas::v1::P2pMessage msg;
  msg.mutable_blocks_request()->set_from_height(from_height);
  msg.mutable_blocks_request()->set_to_height(to_height);
  Impl* impl = impl_.get();
  net::post(impl->ioc, [impl, peer, msg = std::move(msg), done = std::move(done)]() mutable {
    impl->StartRequest(peer, std::move(msg), [done = std::move(done)](auto r) {
      if (!r.ok()) {
        done(r.error());
      } else {
        done(std::move(*r->mutable_blocks_response()));
      }
    });
  });
}

void Transport::RecheckPeers() {
  Impl* impl = impl_.get();
  net::post(impl->ioc, [impl] {
    if (impl->stopping) return;
    std::vector<std::shared_ptr<Connection>> refused;
    for (auto& [k, conn] : impl->active) {
      bool allowed = false;
      try {
        allowed = impl->is_allowed && impl->is_allowed(k);
      } catch (const std::exception& e) {
        spdlog::error("p2p: the allow predicate threw: {}", e.what());
      }
      if (!allowed) refused.push_back(conn);
    }
    for (auto& conn : refused) {
      conn->Close(
          Error{"P2P_UNAUTHORIZED", "key " + ShortKey(conn->peer_key()) + " is no longer allowed"});
    }
  });
}

std::vector<PeerInfo> Transport::Peers() const {
  std::lock_guard lock(impl_->mu);
  return impl_->peers;
}

TransportCounters Transport::counters() const {
  std::lock_guard lock(impl_->mu);
  return impl_->counters;
}

}  // namespace bas::node::p2p
