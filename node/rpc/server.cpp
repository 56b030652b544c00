#include "node/rpc/server.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "node/rpc/api.h"
#include "node/rpc/commit_watcher.h"
#include "node/rpc/rate_limiter.h"
#include "node/rpc/router.h"

namespace bas::node::rpc {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// After refusing a body or headers as too large, the rest of the request is read and dropped
// for a while before closing: closing with unread data makes the kernel send a reset, which
// can destroy the 413 before the client reads it.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

std::string MediaType(std::string_view content_type) {
  std::string out(content_type.substr(0, content_type.find(';')));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  while (!out.empty() && out.front() == ' ') out.erase(out.begin());
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Session;

// Everything sessions share. Sessions hold it by reference: Impl destroys the io_context (and
// with it every pending handler and session) before it.
struct ServerState {
  ServerState(daemon::Node& node, const daemon::RpcConfig& config,
              std::chrono::milliseconds request_timeout)
      : config(config),
        request_timeout(request_timeout),
        watcher(node),
        api{node, config, watcher},
        router(ApiRoutes(api)),
        limiter(config.rate_limit_per_s),
        requests(prometheus::BuildCounter()
                     .Name("bas_api_requests_total")
                     .Help("API requests by route pattern and HTTP status")
                     .Register(node.metrics())) {}

  void Count(std::string_view route, unsigned status) {
    requests.Add({{"route", std::string(route)}, {"status", std::to_string(status)}}).Increment();
  }

  const daemon::RpcConfig config;
  const std::chrono::milliseconds request_timeout;
  CommitWatcher watcher;
  ApiContext api;
  const Router router;
  RateLimiter limiter;
  prometheus::Family<prometheus::Counter>& requests;
  std::atomic<size_t> connections{0};  // sessions serving requests (not refusals)
  // Open sessions, so Stop can close them.
  std::mutex sessions_mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
};

// One HTTP/1.1 connection: read a request, answer it, repeat while keep-alive. Every handler
// runs on the connection's strand, so the session needs no lock.
class Session : public std::enable_shared_from_this<Session> {
 public:
  // refused: the connection is over rpc.max_connections; it gets 503 TOO_MANY_CONNECTIONS
  // and is closed, and does not count as a connection.
  Session(tcp::socket&& socket, ServerState& state, bool refused)
      : stream_(std::move(socket)), state_(state), refused_(refused) {
    if (!refused_) ++state_.connections;
    beast::error_code ec;
    client_ = stream_.socket().remote_endpoint(ec).address().to_string();
  }
  ~Session() {
    if (!refused_) --state_.connections;
    std::lock_guard lock(state_.sessions_mu);
    state_.sessions.erase(this);
  }

  void Run() {
    {
      std::lock_guard lock(state_.sessions_mu);
      state_.sessions.emplace(this, weak_from_this());
    }
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->refused_) {
        self->Read();
        return;
      }
      self->state_.Count("none", 503);
      self->Write(ErrorResponse(503, "TOO_MANY_CONNECTIONS",
                                "over " + std::to_string(self->state_.config.max_connections) +
                                    " connections"),
                  false, true);
    });
  }

  // Precondition: no thread runs the io_context (ApiServer::Stop).
  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(state_.config.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(
        std::min<size_t>(state_.config.max_header_bytes, std::numeric_limits<uint32_t>::max())));
    // The whole request must arrive within the timeout, so a client that trickles bytes
    // (slowloris) cannot hold the connection.
    stream_.expires_after(state_.request_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) {
      OnReadError(ec);
      return;
    }
    // Clients such as curl send "Expect: 100-continue" with larger bodies and hold the body
    // back (for a second) until told to go on. A body over the limit has been refused above.
    if (!beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      ReadBody();
      return;
    }
    auto go_on = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
    http::async_write(stream_, *go_on,
                      [self = shared_from_this(), go_on](beast::error_code ec, size_t) {
                        if (!ec) self->ReadBody();
                      });
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec) {
      OnReadError(ec);
      return;
    }
    Handle(parser_->release());
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      const bool body = ec == http::error::body_limit;
      state_.Count("none", 413);
      Write(ErrorResponse(
                413, "TOO_LARGE",
                body ? "the body is over " + std::to_string(state_.config.max_body_bytes) + " bytes"
                     : "the headers are over " + std::to_string(state_.config.max_header_bytes) +
                           " bytes"),
            false, true);
      return;
    }
    if (ec == http::error::end_of_stream) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    // Otherwise malformed HTTP, a timeout or a reset: nothing to answer on this connection.
  }

  void Handle(http::request<http::string_body> req) {
    const bool keep_alive = req.keep_alive();
    Router::Match match;
    ApiResponse res;
    auto target = ParseTarget(req.target());
    if (!target) {
      res = ErrorResponse(400, "MALFORMED", "the request target does not parse");
    } else {
      match = state_.router.Find(req.method(), target->path);
      if (!state_.limiter.Allow(client_, RateLimiter::Clock::now())) {
        res = ErrorResponse(429, "RATE_LIMITED",
                            "over " + std::to_string(state_.config.rate_limit_per_s) +
                                " requests per second from this address");
      } else if (match.route == nullptr) {
        res = match.status == 405
                  ? ErrorResponse(405, "METHOD_NOT_ALLOWED",
                                  std::string(req.method_string()) + " is not allowed here")
                  : ErrorResponse(404, "NOT_FOUND", "no route " + target->path);
      } else {
        ApiRequest api_req;
        api_req.method = req.method();
        api_req.path = std::move(target->path);
        api_req.query = std::move(target->query);
        api_req.params = std::move(match.params);
        api_req.content_type = MediaType(req[http::field::content_type]);
        api_req.body = std::move(req.body());
        res = Dispatch(*match.route, api_req);
      }
    }
    const std::string label(match.label.empty() ? "none" : match.label);
    if (!res.deferred) {
      state_.Count(label, res.status);
      Write(std::move(res), keep_alive, false);
      return;
    }
    // ?wait=commit: the response comes from the watcher thread, back onto this strand. The
    // connection reads nothing meanwhile (no pipelining), so nothing can interleave.
    auto deliver = [self = shared_from_this(), keep_alive,
                    label](std::function<ApiResponse()> build) {
      net::post(self->stream_.get_executor(),
                [self, keep_alive, label, build = std::move(build)]() mutable {
                  ApiResponse r;
                  try {
                    r = build();
                  } catch (const std::exception& e) {
                    r = ErrorResponse(500, "INTERNAL", e.what());
                  }
                  self->state_.Count(label, r.status);
                  self->Write(std::move(r), keep_alive, false);
                });
    };
    try {
      res.deferred(std::move(deliver));
    } catch (const std::exception& e) {
      Write(ErrorResponse(500, "INTERNAL", e.what()), keep_alive, false);
    }
  }

  // A handler's exception is a bug, never a reason to stop serving.
  ApiResponse Dispatch(const Route& route, const ApiRequest& req) {
    try {
      return route.handler(req);
    } catch (const std::exception& e) {
      spdlog::error("API {} {}: {}", route.pattern, req.path, e.what());
      return ErrorResponse(500, "INTERNAL", e.what());
    } catch (...) {
      spdlog::error("API {} {}: unknown exception", route.pattern, req.path);
      return ErrorResponse(500, "INTERNAL", "unknown exception");
    }
  }

  void Write(ApiResponse r, bool keep_alive, bool linger) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), 11);
    res->set(http::field::server, "basd");
    res->set(http::field::content_type, r.content_type);
    res->keep_alive(keep_alive);
    res->body() = std::move(r.body);
    res->prepare_payload();
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive, linger](
                          beast::error_code ec, size_t) { self->OnWrite(ec, keep_alive, linger); });
  }

  void OnWrite(beast::error_code ec, bool keep_alive, bool linger) {
    if (ec) return;
    if (keep_alive) {
      Read();
      return;
    }
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (linger) {
      stream_.expires_after(kLingerTime);
      Discard();
    }
  }

  // Reads and drops until the client closes or the linger time ends.
  void Discard() {
    drain_.resize(size_t{64} * 1024);
    stream_.async_read_some(net::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (!ec) self->Discard();
                            });
  }

  beast::tcp_stream stream_;
  ServerState& state_;
  const bool refused_;
  std::string client_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::vector<char> drain_;
};

}  // namespace

struct ApiServer::Impl {
  Impl(daemon::Node& node, const daemon::RpcConfig& config,
       std::chrono::milliseconds request_timeout)
      : state(node, config, request_timeout), acceptor(ioc), retry_timer(ioc) {}
  ~Impl() { Stop(); }

  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) {
        // Out of descriptors or memory: back off instead of spinning on the error.
        spdlog::warn("API accept failed: {}", ec.message());
        retry_timer.expires_after(kAcceptRetryDelay);
        retry_timer.async_wait([this](beast::error_code e) {
          if (!e) Accept();
        });
        return;
      }
      const bool refused = state.connections.load() >= state.config.max_connections;
      std::make_shared<Session>(std::move(socket), state, refused)->Run();
      Accept();
    });
  }

  void Stop() {
    if (stopped.exchange(true)) return;
    // First the watcher, so no wait completes into a stopped io_context; then the threads.
    state.watcher.Stop();
    ioc.stop();
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
    // No thread runs a handler now: sockets can be closed from here.
    beast::error_code ec;
    acceptor.close(ec);
    std::vector<std::shared_ptr<Session>> open;
    {
      std::lock_guard lock(state.sessions_mu);
      for (auto& [ptr, weak] : state.sessions) {
        if (auto s = weak.lock()) open.push_back(std::move(s));
      }
    }
    for (auto& s : open) s->Close();
  }

  // Destroyed in reverse order: the acceptor, then the io_context with every pending handler
  // and session, then the state the sessions refer to.
  ServerState state;
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::steady_timer retry_timer;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  std::atomic<bool> stopped{false};
};

Result<std::unique_ptr<ApiServer>> ApiServer::Start(daemon::Node& node,
                                                    const daemon::RpcConfig& config,
                                                    unsigned threads,
                                                    std::chrono::milliseconds request_timeout) {
  auto host_port = daemon::SplitHostPort(config.listen);
  if (!host_port.ok()) return Error{"BIND_FAILED", host_port.error().message};
  auto impl = std::make_unique<Impl>(node, config, request_timeout);
  beast::error_code ec;
  tcp::resolver resolver(impl->ioc);
  const auto endpoints = resolver.resolve(host_port->first, std::to_string(host_port->second),
                                          tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return Error{"BIND_FAILED", config.listen + ": " + (ec ? ec.message() : "no address")};
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  auto& acceptor = impl->acceptor;
  if (acceptor.open(endpoint.protocol(), ec); !ec) {
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Error{"BIND_FAILED", config.listen + ": " + ec.message()};
  impl->port = acceptor.local_endpoint(ec).port();

  impl->Accept();
  for (unsigned i = 0; i < std::max(1u, threads); ++i) {
    impl->threads.emplace_back([ioc = &impl->ioc] {
      // A handler's exception is caught in the session; this keeps a thread alive through
      // anything that still escapes (an exception from Asio itself).
      while (true) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("API thread: {}", e.what());
        }
      }
    });
  }
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiServer::~ApiServer() { Stop(); }

uint16_t ApiServer::port() const { return impl_->port; }

void ApiServer::Stop() { impl_->Stop(); }

}  // namespace bas::node::rpc
