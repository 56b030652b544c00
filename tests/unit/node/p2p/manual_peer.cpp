#include "manual_peer.h"

#include <openssl/ssl.h>

#include "node/p2p/frame.h"
#include "node/p2p/tls.h"

namespace bas::node::p2p::test_util {

namespace net = boost::asio;
using tcp = net::ip::tcp;

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return cond();
}

uint16_t ReservePort() {
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

TransportConfig TestConfig() {
  TransportConfig c;
  c.chain_id = kChain;
  c.listen_host = "127.0.0.1";
  c.listen_port = 0;
  c.handshake_timeout = std::chrono::seconds(3);
  c.reconnect_min = std::chrono::milliseconds(50);
  c.reconnect_max = std::chrono::milliseconds(400);
  c.request_timeout = std::chrono::seconds(5);
  return c;
}

void AllowList::Add(const PeerKey& k) {
  std::lock_guard lock(*mu_);
  keys_->insert(k);
}
void AllowList::Remove(const PeerKey& k) {
  std::lock_guard lock(*mu_);
  keys_->erase(k);
}
Transport::AllowPredicate AllowList::Predicate() {
  return [mu = mu_, keys = keys_](const PeerKey& k) {
    std::lock_guard lock(*mu);
    return keys->contains(k);
  };
}

TransportCallbacks Recorder::Callbacks() {
  TransportCallbacks cb;
  cb.on_message = [this](const PeerKey& from, const bas::v1::P2pMessage& msg) {
    std::lock_guard lock(mu_);
    messages_.emplace_back(from, msg);
  };
  cb.on_peer_connected = [this](const PeerKey& k) {
    std::lock_guard lock(mu_);
    ++connects_[k];
    connected_.insert(k);
  };
  cb.on_peer_disconnected = [this](const PeerKey& k, const Error&) {
    std::lock_guard lock(mu_);
    ++disconnects_[k];
    connected_.erase(k);
  };
  return cb;
}
std::vector<std::pair<PeerKey, bas::v1::P2pMessage>> Recorder::Messages() const {
  std::lock_guard lock(mu_);
  return messages_;
}
int Recorder::Connects(const PeerKey& k) const {
  std::lock_guard lock(mu_);
  auto it = connects_.find(k);
  return it == connects_.end() ? 0 : it->second;
}
int Recorder::Disconnects(const PeerKey& k) const {
  std::lock_guard lock(mu_);
  auto it = disconnects_.find(k);
  return it == disconnects_.end() ? 0 : it->second;
}
bool Recorder::Connected(const PeerKey& k) const {
  std::lock_guard lock(mu_);
  return connected_.contains(k);
}
size_t Recorder::CountTx(const std::string& tx) const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [from, msg] : messages_) n += msg.has_tx() && msg.tx() == tx;
  return n;
}

Status TestNode::Start(TransportConfig config, Transport::AllowPredicate allow,
                       BlockSource* blocks) {
  auto t = Transport::Start(std::move(config), key, std::move(allow), events.Callbacks(), blocks);
  if (!t.ok()) return t.error();
  transport = std::move(*t);
  return Status::Ok();
}

uint64_t TestNode::Disconnects(const std::string& code) const {
  const auto counters = transport->counters();
  auto it = counters.disconnects.find(code);
  return it == counters.disconnects.end() ? 0 : it->second;
}

bas::v1::P2pMessage Tx(const std::string& payload) {
  bas::v1::P2pMessage m;
  m.set_tx(payload);
  return m;
}

ManualPeer::ManualPeer(crypto::KeyPair key) : key_(std::move(key)) {
  ctx_ = std::move(MakeTlsContext().value());
  stream_ = std::make_unique<Stream>(ioc_, *ctx_);
}

ManualPeer::~ManualPeer() { Close(); }

void ManualPeer::Close() {
  boost::system::error_code ignored;
  stream_->lowest_layer().close(ignored);
}

boost::system::error_code ManualPeer::Await(
    const std::function<void(std::function<void(boost::system::error_code)>)>& start,
    std::chrono::milliseconds timeout) {
  std::optional<boost::system::error_code> result;
  start([&result](boost::system::error_code ec) { result = ec; });
  ioc_.restart();
  ioc_.run_for(timeout);
  if (!result) {
    Close();  // aborts the operation; run it to completion so nothing refers to this frame
    ioc_.restart();
    ioc_.run();
    return net::error::timed_out;
  }
  return *result;
}

boost::system::error_code ManualPeer::ConnectTcp(uint16_t port) {
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
  return Await([&](auto done) {
    stream_->lowest_layer().async_connect(ep, [done](boost::system::error_code ec) { done(ec); });
  });
}

boost::system::error_code ManualPeer::Connect(uint16_t port, HelloFault fault, bool tls12_only) {
  if (tls12_only) {
    SSL_set_min_proto_version(stream_->native_handle(), TLS1_2_VERSION);
    SSL_set_max_proto_version(stream_->native_handle(), TLS1_2_VERSION);
  }
  if (auto ec = ConnectTcp(port)) return ec;
  if (auto ec = Await([&](auto done) {
        stream_->async_handshake(net::ssl::stream_base::client,
                                 [done](boost::system::error_code ec) { done(ec); });
      })) {
    return ec;
  }
  return Hellos(TlsRole::kClient, fault);
}

boost::system::error_code ManualPeer::Accept(tcp::acceptor& acceptor) {
  if (auto ec = Await([&](auto done) {
        acceptor.async_accept(stream_->lowest_layer(),
                              [done](boost::system::error_code ec) { done(ec); });
      })) {
    return ec;
  }
  if (auto ec = Await([&](auto done) {
        stream_->async_handshake(net::ssl::stream_base::server,
                                 [done](boost::system::error_code ec) { done(ec); });
      })) {
    return ec;
  }
  return Hellos(TlsRole::kServer, HelloFault::kNone);
}

boost::system::error_code ManualPeer::Hellos(TlsRole my_role, HelloFault fault) {
  const crypto::Hash32 exporter = ExportAuthValue(stream_->native_handle()).value();
  auto theirs = ReadMessage();
  if (!theirs || !theirs->has_hello()) return net::error::invalid_argument;
  peer_hello_ = theirs->hello();
  const TlsRole their_role = my_role == TlsRole::kClient ? TlsRole::kServer : TlsRole::kClient;
  if (!VerifyHello(peer_hello_, kChain, exporter, their_role).ok()) {
    return net::error::access_denied;
  }
  bas::v1::P2pMessage mine;
  auto& hello = *mine.mutable_hello();
  switch (fault) {
    case HelloFault::kNone:
      hello = MakeHello(key_, kChain, exporter, my_role);
      break;
    case HelloFault::kWrongExporter:
      hello = MakeHello(key_, kChain, crypto::Hash32{}, my_role);
      break;
    case HelloFault::kSignedOtherChain:
      hello = MakeHello(key_, "other-chain", exporter, my_role);
      hello.set_chain_id(kChain);
      break;
    case HelloFault::kOtherChain:
      hello = MakeHello(key_, "other-chain", exporter, my_role);
      break;
    case HelloFault::kWrongRole:
      hello = MakeHello(key_, kChain, exporter, their_role);
      break;
    case HelloFault::kReflect:
      hello = peer_hello_;
      break;
    case HelloFault::kBadVersion:
      hello = MakeHello(key_, kChain, exporter, my_role);
      hello.set_version(kProtocolVersion + 1);
      break;
    case HelloFault::kNotHello:
      mine = Tx("not a hello");
      break;
    case HelloFault::kGarbage:
      return WriteRaw(std::string("\0\0\0\5", 4) + std::string(5, '\xff'));
  }
  return WriteMessage(mine);
}

boost::system::error_code ManualPeer::WriteRaw(const std::string& bytes) {
  return Await([&](auto done) {
    net::async_write(*stream_, net::buffer(bytes),
                     [done](boost::system::error_code ec, size_t) { done(ec); });
  });
}

boost::system::error_code ManualPeer::WriteMessage(const bas::v1::P2pMessage& msg) {
  return WriteRaw(EncodeFrame(msg, size_t{64} << 20).value());
}

std::optional<bas::v1::P2pMessage> ManualPeer::ReadMessage() {
  std::array<uint8_t, 4> header{};
  if (Await([&](auto done) {
        net::async_read(*stream_, net::buffer(header),
                        [done](boost::system::error_code ec, size_t) { done(ec); });
      })) {
    return std::nullopt;
  }
  const uint32_t n = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) |
                     (uint32_t{header[2]} << 8) | header[3];
  std::string payload(n, '\0');
  if (Await([&](auto done) {
        net::async_read(*stream_, net::buffer(payload),
                        [done](boost::system::error_code ec, size_t) { done(ec); });
      })) {
    return std::nullopt;
  }
  bas::v1::P2pMessage msg;
  if (!msg.ParseFromString(payload)) return std::nullopt;
  return msg;
}

bool ManualPeer::ReadUntilClosed(bool raw_tcp, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::array<char, 4096> buf;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto ec = Await(
        [&](auto done) {
          auto on_read = [done](boost::system::error_code ec, size_t) { done(ec); };
          if (raw_tcp) {
            stream_->next_layer().async_read_some(net::buffer(buf), on_read);
          } else {
            stream_->async_read_some(net::buffer(buf), on_read);
          }
        },
        std::max(left, std::chrono::milliseconds(1)));
    if (ec == net::error::timed_out) return false;
    if (ec) return true;
  }
  return false;
}

}  // namespace bas::node::p2p::test_util
