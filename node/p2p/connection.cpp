#include "node/p2p/connection.h"

#include <chrono>
#include <utility>

#include "node/p2p/tls.h"

namespace bas::node::p2p {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// Frames up to this size are written several at a time (Connection::WriteNext).
constexpr size_t kCoalesceBytes = 64 * 1024;

Error Lost(const boost::system::error_code& ec) {
  if (ec == net::error::eof || ec == ssl::error::stream_truncated) {
    return Error{"P2P_CONNECTION_LOST", "closed by the peer"};
  }
  return Error{"P2P_CONNECTION_LOST", ec.message()};
}

}  // namespace

Connection::Connection(const ConnectionContext& context, tcp::socket socket,
                       const PersistentPeer* dial_target)
    : context_(context),
      stream_(std::move(socket), context.tls),
      resolver_(stream_.get_executor()),
      dial_target_(dial_target),
      deadline_(stream_.get_executor()),
      write_timer_(stream_.get_executor()),
      decoder_(kMaxHelloFrameBytes),
      frame_bucket_(context.config.flood_frames_per_s, context.config.flood_frames_burst,
                    Clock::now()),
      byte_bucket_(context.config.flood_bytes_per_s, context.config.flood_bytes_burst,
                   Clock::now()) {}

void Connection::StartInbound() {
  ArmDeadline();
  SetRemote();
  Handshake(ssl::stream_base::server);
}

void Connection::StartOutbound() {
  ArmDeadline();
  const PersistentPeer& p = *dial_target_;
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

bool Connection::Enqueue(const FramePtr& frame) {
  if (state_ != State::kOpen) return false;
  return Push(frame);
}

void Connection::Close(const Error& reason) {
  if (state_ == State::kClosed) return;
  auto self = shared_from_this();  // the owner drops its reference in OnClosed
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
  context_.owner.OnClosed(*this, was_open, key, reason);
}

void Connection::ArmDeadline() {
  deadline_.expires_after(context_.config.handshake_timeout);
  deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->state_ == State::kOpen || self->state_ == State::kClosed) return;
    self->Close(Error{"P2P_HANDSHAKE_TIMEOUT",
                      "no authenticated TLS session within " +
                          std::to_string(self->context_.config.handshake_timeout.count()) + " ms"});
  });
}

void Connection::SetRemote() {
  boost::system::error_code ec;
  const auto ep = stream_.lowest_layer().remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
}

void Connection::Handshake(ssl::stream_base::handshake_type role) {
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

void Connection::OnTlsReady() {
  auto exporter = ExportAuthValue(stream_.native_handle());
  if (!exporter.ok()) {
    Close(exporter.error());
    return;
  }
  exporter_ = *exporter;
  bas::v1::P2pMessage msg;
  *msg.mutable_hello() = MakeHello(context_.key, context_.config.chain_id, exporter_,
                                   outbound() ? TlsRole::kClient : TlsRole::kServer);
  auto frame = EncodeFrame(msg, kMaxHelloFrameBytes);
  if (!frame.ok()) {
    Close(frame.error());
    return;
  }
  Push(std::make_shared<const std::string>(std::move(*frame)));
  Read();
}

void Connection::Read() {
  stream_.async_read_some(net::buffer(read_buf_),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      size_t n) { self->OnRead(ec, n); });
}

void Connection::OnRead(const boost::system::error_code& ec, size_t n) {
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

void Connection::OnFrame(DecodedFrame& frame) {
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
  context_.snapshots.Count([&](TransportCounters& c) {
    ++c.frames_in;
    c.bytes_in += bytes;
  });
  context_.owner.OnFrame(*this, frame);
}

void Connection::OnHello(const bas::v1::P2pMessage& msg) {
  if (!msg.has_hello()) {
    Close(Error{"P2P_BAD_HELLO", "the first frame is not a hello"});
    return;
  }
  auto key = VerifyHello(msg.hello(), context_.config.chain_id, exporter_,
                         outbound() ? TlsRole::kServer : TlsRole::kClient);
  if (!key.ok()) {
    Close(key.error());
    return;
  }
  peer_key_ = *key;
  key_known_ = true;
  if (peer_key_ == context_.key.public_key()) {
    Close(Error{"P2P_SELF_CONNECTION", "connected to itself"});
    return;
  }
  if (dial_target_ != nullptr && peer_key_ != dial_target_->key) {
    Close(Error{"P2P_UNEXPECTED_KEY", remote_ + " proved key " + ShortKey(peer_key_) +
                                          ", expected " + ShortKey(dial_target_->key)});
    return;
  }
  if (!context_.owner.IsAllowed(peer_key_)) {
    Close(Error{"P2P_UNAUTHORIZED", "key " + ShortKey(peer_key_) + " is not allowed"});
    return;
  }
  state_ = State::kOpen;
  deadline_.cancel();
  const TransportConfig& config = context_.config;
  decoder_.set_max_payload_bytes(config.max_frame_bytes);
  const auto now = Clock::now();
  frame_bucket_ = TokenBucket(config.flood_frames_per_s, config.flood_frames_burst, now);
  byte_bucket_ = TokenBucket(config.flood_bytes_per_s, config.flood_bytes_burst, now);
  context_.owner.OnAuthenticated(shared_from_this());
}

bool Connection::Push(const FramePtr& frame) {
  if (queue_.size() >= context_.config.send_queue_max_frames ||
      queued_bytes_ + frame->size() > context_.config.send_queue_max_bytes) {
    context_.snapshots.Count([](TransportCounters& c) { ++c.send_queue_drops; });
    return false;
  }
  queue_.push_back(frame);
  queued_bytes_ += frame->size();
  if (!writing_) WriteNext();
  return true;
}

// Small frames (txs and votes, a few hundred bytes each) are copied into one buffer and written
// together: one TLS write and one system call for many frames instead of one each, which under a
// stream of gossiped txs was a tenth of a validator's CPU. A large frame (a block) is written
// alone, from the queue, uncopied.
void Connection::WriteNext() {
  writing_ = true;
  const uint64_t generation = ++write_generation_;
  write_timer_.expires_after(context_.config.write_stall_timeout);
  write_timer_.async_wait(
      [self = shared_from_this(), generation](const boost::system::error_code& ec) {
        if (ec || self->state_ == State::kClosed || !self->writing_ ||
            self->write_generation_ != generation) {
          return;
        }
        self->Close(Error{"P2P_SLOW_PEER",
                          "a frame waited over " +
                              std::to_string(self->context_.config.write_stall_timeout.count()) +
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

void Connection::OnWritten(const boost::system::error_code& ec) {
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
    context_.snapshots.Count([&](TransportCounters& c) {
      c.frames_out += writing_frames_;
      c.bytes_out += bytes;
    });
  }
  writing_frames_ = 0;
  if (!queue_.empty()) WriteNext();
}

}  // namespace bas::node::p2p
