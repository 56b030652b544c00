// Test helpers for the transport tests: a hand-driven TLS peer that can break the protocol on
// purpose (bad hellos, garbage, floods, never reading), and small waiting utilities. Blocking
// calls on the test thread, each bounded by a deadline so a bug fails a test instead of
// hanging it. Everything on 127.0.0.1.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "bas/v1/p2p.pb.h"
#include "crypto/schnorr.h"
#include "node/p2p/auth.h"
#include "node/p2p/transport.h"

namespace bas::node::p2p::test_util {

inline constexpr char kChain[] = "bas-p2p-test";

// Polls cond every few milliseconds until it holds or timeout passes; returns cond().
bool WaitFor(const std::function<bool()>& cond,
             std::chrono::milliseconds timeout = std::chrono::seconds(15));

// A free TCP port on 127.0.0.1 (bound and released: for tests that must know a port before
// the transport that will listen on it starts).
uint16_t ReservePort();

// Test defaults: short timeouts and backoff so tests run fast.
TransportConfig TestConfig();

// A thread-safe set of allowed keys, usable as the allow predicate.
class AllowList {
 public:
  void Add(const PeerKey& k);
  void Remove(const PeerKey& k);
  Transport::AllowPredicate Predicate();

 private:
  std::shared_ptr<std::mutex> mu_ = std::make_shared<std::mutex>();
  std::shared_ptr<std::set<PeerKey>> keys_ = std::make_shared<std::set<PeerKey>>();
};

// What a transport told its owner, recorded for assertions.
class Recorder {
 public:
  TransportCallbacks Callbacks();
  std::vector<std::pair<PeerKey, bas::v1::P2pMessage>> Messages() const;
  int Connects(const PeerKey& k) const;
  int Disconnects(const PeerKey& k) const;
  bool Connected(const PeerKey& k) const;
  size_t CountTx(const std::string& tx) const;

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<PeerKey, bas::v1::P2pMessage>> messages_;
  std::map<PeerKey, int> connects_;
  std::map<PeerKey, int> disconnects_;
  std::set<PeerKey> connected_;
};

// A transport with its key and recorder.
struct TestNode {
  crypto::KeyPair key = crypto::KeyPair::Generate().value();
  Recorder events;
  std::unique_ptr<Transport> transport;

  // Starts the transport (asserting success through the returned status).
  Status Start(TransportConfig config, Transport::AllowPredicate allow,
               BlockSource* blocks = nullptr);
  const PeerKey& pub() const { return key.public_key(); }
  uint64_t Disconnects(const std::string& code) const;
};

bas::v1::P2pMessage Tx(const std::string& payload);

// How ManualPeer's hello goes wrong.
enum class HelloFault {
  kNone,
  kWrongExporter,     // signed over another session's exporter value
  kSignedOtherChain,  // claims our chain, signed for another
  kOtherChain,        // another chain, consistently
  kWrongRole,         // signed with the other side's role byte
  kReflect,           // sends the transport's own hello back
  kBadVersion,        // version 2
  kNotHello,          // a tx frame first
  kGarbage,           // a first frame that does not parse as a P2pMessage
};

class ManualPeer {
 public:
  explicit ManualPeer(crypto::KeyPair key = crypto::KeyPair::Generate().value());
  ~ManualPeer();

  const PeerKey& pub() const { return key_.public_key(); }
  boost::asio::io_context& ioc() { return ioc_; }

  // Opens only TCP to 127.0.0.1:port.
  boost::system::error_code ConnectTcp(uint16_t port);
  // TCP, the TLS handshake as client (tls12_only: offer TLS 1.2 at most), then the hello
  // exchange with `fault`. Returns the first error.
  boost::system::error_code Connect(uint16_t port, HelloFault fault = HelloFault::kNone,
                                    bool tls12_only = false);
  // Accepts one connection on acceptor (made on ioc()) and runs the server side.
  boost::system::error_code Accept(boost::asio::ip::tcp::acceptor& acceptor);

  // The peer's hello and key once exchanged.
  const bas::v1::P2pHello& peer_hello() const { return peer_hello_; }

  boost::system::error_code WriteRaw(const std::string& bytes);
  boost::system::error_code WriteMessage(const bas::v1::P2pMessage& msg);
  // Reads one frame (deadline: 10 s).
  std::optional<bas::v1::P2pMessage> ReadMessage();
  // Reads and drops (TLS records, or raw TCP bytes when raw_tcp) until the connection fails;
  // true iff it did within the timeout.
  bool ReadUntilClosed(bool raw_tcp = false,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void Close();

 private:
  using Stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
  boost::system::error_code Await(
      const std::function<void(std::function<void(boost::system::error_code)>)>& start,
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  boost::system::error_code Hellos(TlsRole my_role, HelloFault fault);

  crypto::KeyPair key_;
  boost::asio::io_context ioc_;
  std::unique_ptr<boost::asio::ssl::context> ctx_;
  std::unique_ptr<Stream> stream_;
  bas::v1::P2pHello peer_hello_;
};

}  // namespace bas::node::p2p::test_util
