// The HTTP client of `bas` against a tiny Beast server on 127.0.0.1:0: keep-alive, the retry
// on a connection the server closed, deadlines, size limits, and API error bodies.
#include "cli/client/http_client.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/client/errors.h"
#include "cli/client/node_client.h"

namespace bas::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// A one-thread HTTP/1.1 server. kRespond answers every request with the handler's response
// and keeps the connection; kHang reads a request and never answers; kCloseAfterResponse
// answers (claiming keep-alive) and then closes, as a server does whose idle timeout ran out.
class TestServer {
 public:
  enum class Mode { kRespond, kHang, kCloseAfterResponse };

  explicit TestServer(Mode mode, std::function<Response(const Request&)> handler)
      : mode_(mode),
        handler_(std::move(handler)),
        acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    Accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TestServer() {
    ioc_.stop();
    thread_.join();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return connections_; }
  std::vector<std::string> targets() {
    std::lock_guard lock(mu_);
    return targets_;
  }
  HttpUrl url() const { return HttpUrl{"127.0.0.1", std::to_string(port()), ""}; }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(tcp::socket socket, TestServer* server) : stream(std::move(socket)), server(server) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    Request request;
    Response response;
    TestServer* server;

    void Read() {
      request = {};
      http::async_read(stream, buffer, request,
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (!ec) self->OnRequest();
                       });
    }
    void OnRequest() {
      {
        std::lock_guard lock(server->mu_);
        server->targets_.push_back(std::string(request.target()));
      }
      if (server->mode_ == Mode::kHang) {
        server->hung_.push_back(shared_from_this());  // keeps the connection open, silent
        return;
      }
      response = server->handler_(request);
      response.keep_alive(true);
      response.prepare_payload();
      http::async_write(stream, response,
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          if (ec) return;
                          if (self->server->mode_ == Mode::kCloseAfterResponse) {
                            beast::error_code ignored;
                            self->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
                            self->stream.close();
                            return;
                          }
                          self->Read();
                        });
    }
  };

  void Accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      ++connections_;
      std::make_shared<Session>(std::move(socket), this)->Read();
      Accept();
    });
  }

  Mode mode_;
  std::function<Response(const Request&)> handler_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<std::string> targets_;
  std::vector<std::shared_ptr<Session>> hung_;
  std::thread thread_;
};

Response Json(unsigned status, const std::string& body) {
  Response r{static_cast<http::status>(status), 11};
  r.set(http::field::content_type, "application/json");
  r.body() = body;
  return r;
}

// Echoes the method, target, content type and body.
Response Echo(const Request& req) {
  return Json(200, std::string(req.method_string()) + " " + std::string(req.target()) + " " +
                       std::string(req[http::field::content_type]) + " " + req.body());
}

TEST(HttpClientTest, ReusesOneConnection) {
  TestServer server(TestServer::Mode::kRespond, Echo);
  HttpClient client(server.url());
  for (int i = 0; i < 3; ++i) {
    Result<HttpResponse> r = client.Get("/v1/status?i=" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(r->body, "GET /v1/status?i=" + std::to_string(i) + "  ");
    EXPECT_EQ(r->content_type, "application/json");
  }
  Result<HttpResponse> post =
      client.Post("/v1/txs", std::string("\x00\x01", 2), "application/x-protobuf");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->body, std::string("POST /v1/txs application/x-protobuf \x00\x01", 38));
  EXPECT_EQ(client.connections_opened(), 1);
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClientTest, BasePathIsPrefixed) {
  TestServer server(TestServer::Mode::kRespond, Echo);
  HttpUrl url = server.url();
  url.base_path = "/api";
  HttpClient client(url);
  ASSERT_TRUE(client.Get("/v1/status").ok());
  EXPECT_EQ(server.targets(), std::vector<std::string>{"/api/v1/status"});
}

TEST(HttpClientTest, SendsAgainWhenTheServerClosedTheIdleConnection) {
  TestServer server(TestServer::Mode::kCloseAfterResponse, Echo);
  HttpClient client(server.url());
  ASSERT_TRUE(client.Get("/a").ok());
  // Give the close time to arrive, as an idle timeout would have.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Result<HttpResponse> second = client.Get("/b");
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->body, "GET /b  ");
  EXPECT_EQ(client.connections_opened(), 2);
  EXPECT_EQ(server.targets(), (std::vector<std::string>{"/a", "/b"}));  // /b reached it once
}

TEST(HttpClientTest, GivesUpAtTheDeadline) {
  TestServer server(TestServer::Mode::kHang, Echo);
  HttpClientOptions options;
  options.request_timeout = std::chrono::milliseconds(300);
  HttpClient client(server.url(), options);
  const auto start = std::chrono::steady_clock::now();
  Result<HttpResponse> r = client.Get("/v1/status");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kNetworkError);
  EXPECT_THAT(r.error().message, HasSubstr("timed out"));
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  // A timed-out request is not sent again on a new connection.
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClientTest, RefusedConnectionIsANetworkError) {
  uint16_t port = 0;
  {
    TestServer closed(TestServer::Mode::kRespond, Echo);
    port = closed.port();
  }
  HttpClient client(HttpUrl{"127.0.0.1", std::to_string(port), ""});
  Result<HttpResponse> r = client.Get("/v1/status");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kNetworkError);
  EXPECT_THAT(r.error().message, HasSubstr("cannot connect to http://127.0.0.1:"));
}

TEST(HttpClientTest, RefusesAnOversizedResponse) {
  TestServer server(TestServer::Mode::kRespond,
                    [](const Request&) { return Json(200, std::string(5000, 'x')); });
  HttpClientOptions options;
  options.max_response_bytes = 1000;
  HttpClient client(server.url(), options);
  Result<HttpResponse> r = client.Get("/big");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("over 1000 bytes"));
}

struct ErrorCase {
  unsigned status;
  std::string body;
  std::string code;     // the client error code (cli/client/errors.h)
  std::string message;  // a substring of the message
  std::string api_code;
};

class ApiErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ApiErrorTest, MapsStatusAndBody) {
  const ErrorCase& c = GetParam();
  TestServer server(TestServer::Mode::kRespond,
                    [&](const Request&) { return Json(c.status, c.body); });
  NodeClient node(server.url());
  Result<nlohmann::json> r = node.GetJson("/v1/txs/00");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, c.code);
  EXPECT_THAT(r.error().message, HasSubstr(c.message));
  std::string api_code;
  ApiErrorOf(HttpResponse{c.status, "application/json", c.body}, &api_code);
  EXPECT_EQ(api_code, c.api_code);
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, ApiErrorTest,
    ::testing::Values(
        ErrorCase{422, R"({"error": {"code": "BAD_NONCE", "message": "nonce 3, expected 4"}})",
                  "REFUSED", "refused: BAD_NONCE: nonce 3, expected 4", "BAD_NONCE"},
        ErrorCase{404, R"({"error": {"code": "NOT_FOUND", "message": "no committed tx"}})",
                  "NOT_FOUND", "not found: no committed tx", "NOT_FOUND"},
        ErrorCase{400, R"({"error": {"code": "MALFORMED", "message": "a tx id is 64 hex"}})",
                  "INVALID_INPUT", "MALFORMED: a tx id is 64 hex", "MALFORMED"},
        ErrorCase{504, R"({"error": {"code": "TIMEOUT", "message": "not committed in 10 s"}})",
                  "COMMIT_TIMEOUT", "HTTP 504 TIMEOUT: not committed in 10 s", "TIMEOUT"},
        ErrorCase{504, R"({"error": {"code": "GATEWAY", "message": "proxy"}})", "API_ERROR",
                  "HTTP 504 GATEWAY: proxy", "GATEWAY"},
        ErrorCase{503, R"({"error": {"code": "MEMPOOL_FULL", "message": "full"}})", "API_ERROR",
                  "HTTP 503 MEMPOOL_FULL: full", "MEMPOOL_FULL"},
        ErrorCase{502, "<html>bad gateway</html>", "API_ERROR",
                  "HTTP 502: <html>bad gateway</html>", ""}));

TEST(NodeClientTest, StatusNonceAndSubmission) {
  TestServer server(TestServer::Mode::kRespond, [](const Request& req) {
    const std::string target(req.target());
    if (target == "/v1/status") return Json(200, R"({"chain_id": "bas-dev", "height": 7})");
    if (target.starts_with("/v1/accounts/")) return Json(200, R"({"next_nonce": 3})");
    if (target == "/v1/txs?wait=commit") {
      return Json(200, R"({"tx_id": "ab", "height": 8, "index": 0, "result": {"code": 0}})");
    }
    return Json(202, R"({"tx_id": "ab", "code": "OK"})");
  });
  NodeClient node(server.url());
  Result<ChainStatus> status = node.Status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->chain_id, "bas-dev");
  EXPECT_EQ(status->height, 7u);
  EXPECT_EQ(*node.NextNonce(crypto::PublicKey{}), 3u);
  Result<SubmitResult> committed = node.SubmitTx("tx", true);
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ(committed->http_status, 200u);
  EXPECT_EQ(committed->body["height"], 8);
  EXPECT_EQ(node.SubmitTx("tx", false)->http_status, 202u);
  EXPECT_EQ(node.http().connections_opened(), 1);
}

struct UrlCase {
  std::string url;
  std::string host;  // "" = refused
  std::string port;
  std::string base_path;
};

TEST(ParseHttpUrlTest, AcceptsHttpOnly) {
  for (const UrlCase& c : std::vector<UrlCase>{
           {"http://127.0.0.1:26657", "127.0.0.1", "26657", ""},
           {"http://localhost", "localhost", "80", ""},
           {"http://node.example/api/", "node.example", "80", "/api"},
           {"http://[::1]:8080", "::1", "8080", ""},
           {"https://node.example", "", "", ""},
           {"127.0.0.1:26657", "", "", ""},
           {"http://:80", "", "", ""},
           {"http://h:0", "", "", ""},
           {"http://h:70000", "", "", ""},
           {"http://h:", "", "", ""},
           {"http://h/x?y=1", "", "", ""},
           {"http://user@h", "", "", ""},
       }) {
    Result<HttpUrl> url = ParseHttpUrl(c.url);
    if (c.host.empty()) {
      ASSERT_FALSE(url.ok()) << c.url;
      EXPECT_EQ(url.error().code, kInvalidInput);
      continue;
    }
    ASSERT_TRUE(url.ok()) << c.url << ": " << url.error().message;
    EXPECT_EQ(url->host, c.host) << c.url;
    EXPECT_EQ(url->port, c.port) << c.url;
    EXPECT_EQ(url->base_path, c.base_path) << c.url;
  }
}

}  // namespace
}  // namespace bas::client
