#include "cli/client/http_client.h"

#include <charconv>
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "cli/client/errors.h"

namespace bas::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

Error UrlError(std::string_view url, const std::string& why) {
  return Error{std::string(kInvalidInput), "node URL " + std::string(url) + ": " + why};
}

// Errors that mean "the server closed the connection", as opposed to a deadline or a malformed
// answer: on a reused keep-alive connection, the request may be sent again.
bool IsClosedConnection(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted;
}

}  // namespace

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    return UrlError(url, url.starts_with("https://") ? "https is not supported (see docs/cli.md)"
                                                     : "expected http://HOST[:PORT]");
  }
  std::string_view rest = url.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return UrlError(url, "a query or fragment is not allowed");
  }
  HttpUrl out;
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    out.base_path = std::string(rest.substr(slash));
    while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  }
  std::string_view port;
  if (authority.starts_with("[")) {  // [IPv6]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return UrlError(url, "unclosed [ in the host");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(":")) return UrlError(url, "expected :PORT after ]");
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return UrlError(url, "no host");
  if (authority.find('@') != std::string_view::npos) {
    return UrlError(url, "user information is not allowed");
  }
  out.port = "80";
  if (!port.empty() || authority.ends_with(":")) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
      return UrlError(url, "the port must be 1 to 65535");
    }
    out.port = std::to_string(value);
  }
  return out;
}

struct HttpClient::Impl {
  HttpUrl url;
  HttpClientOptions options;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  int connections = 0;

  std::string Origin() const {
    const bool v6 = url.host.find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + url.host + "]" : url.host) + ":" + url.port;
  }

  // Runs the pending asynchronous operation to completion (or to its deadline).
  void Run() {
    ioc.restart();
    ioc.run();
  }

  void Close() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->close();
    }
    stream.reset();
    buffer.clear();
  }

  Error NetworkError(const std::string& what, const beast::error_code& ec) {
    Close();
    const std::string why = ec == beast::error::timeout ? "timed out" : ec.message();
    return Error{std::string(kNetworkError), what + " " + Origin() + ": " + why};
  }

  Status Connect() {
    Close();
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    const tcp::resolver::results_type endpoints = resolver.resolve(url.host, url.port, ec);
    if (ec) return NetworkError("cannot resolve", ec);
    stream.emplace(ioc);
    stream->expires_after(options.connect_timeout);
    stream->async_connect(endpoints,
                          [&ec](const beast::error_code& e, const tcp::endpoint&) { ec = e; });
    Run();
    if (ec) return NetworkError("cannot connect to", ec);
    ++connections;
    return Status::Ok();
  }

  // One request and its response on the open connection. *retryable is set when the server
  // closed the connection before answering anything.
  Result<HttpResponse> Exchange(const http::request<http::string_body>& request, bool* retryable) {
    *retryable = false;
    beast::error_code ec;
    stream->expires_after(options.request_timeout);
    http::async_write(*stream, request, [&ec](const beast::error_code& e, size_t) { ec = e; });
    Run();
    if (ec) {
      *retryable = IsClosedConnection(ec);
      return NetworkError("cannot send to", ec);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(options.max_response_bytes);
    http::async_read(*stream, buffer, parser,
                     [&ec](const beast::error_code& e, size_t) { ec = e; });
    Run();
    if (ec) {
      *retryable = IsClosedConnection(ec) && !parser.got_some();
      if (ec == http::error::body_limit) {
        return NetworkError(
            "response over " + std::to_string(options.max_response_bytes) + " bytes from", ec);
      }
      return NetworkError("no complete response from", ec);
    }
    stream->expires_never();
    http::response<http::string_body> response = parser.release();
    HttpResponse out;
    out.status = response.result_int();
    out.content_type = std::string(response[http::field::content_type]);
    out.body = std::move(response.body());
    if (!response.keep_alive()) Close();
    return out;
  }

  Result<HttpResponse> Send(http::verb verb, std::string_view target, std::string_view body,
                            std::string_view content_type) {
    http::request<http::string_body> request{verb, url.base_path + std::string(target), 11};
    request.set(http::field::host, url.host + ":" + url.port);
    request.set(http::field::user_agent, "bas");
    request.set(http::field::accept, "application/json");
    if (verb == http::verb::post) {
      request.set(http::field::content_type, content_type);
      request.body() = std::string(body);
    }
    request.keep_alive(true);
    request.prepare_payload();

    const bool reused = stream.has_value();
    if (!reused) {
      if (Status s = Connect(); !s.ok()) return s.error();
    }
    bool retryable = false;
    Result<HttpResponse> response = Exchange(request, &retryable);
    if (response.ok() || !reused || !retryable) return response;
    if (Status s = Connect(); !s.ok()) return s.error();
    return Exchange(request, &retryable);
  }

  Result<HttpResponse> SendGuarded(http::verb verb, std::string_view target, std::string_view body,
                                   std::string_view content_type) {
    // Beast and Asio report through error codes here; the catch is the adapter's boundary for
    // what they may still throw (bad_alloc, an invalid header value).
    try {
      return Send(verb, target, body, content_type);
    } catch (const std::exception& e) {
      Close();
      return Error{"INTERNAL", "HTTP client: " + std::string(e.what())};
    }
  }
};

HttpClient::HttpClient(HttpUrl url, HttpClientOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->url = std::move(url);
  impl_->options = options;
}

HttpClient::~HttpClient() {
  if (impl_) impl_->Close();
}

HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

Result<HttpResponse> HttpClient::Get(std::string_view target) {
  return impl_->SendGuarded(http::verb::get, target, "", "");
}

Result<HttpResponse> HttpClient::Post(std::string_view target, std::string_view body,
                                      std::string_view content_type) {
  return impl_->SendGuarded(http::verb::post, target, body, content_type);
}

int HttpClient::connections_opened() const { return impl_->connections; }

std::string HttpClient::origin() const { return impl_->Origin(); }

}  // namespace bas::client
