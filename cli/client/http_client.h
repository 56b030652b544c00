// A small synchronous HTTP/1.1 client on Boost.Beast, for `bas` talking to one node: plain
// http:// only, one kept-alive connection reused across requests, a deadline per connect and per
// request, bounded response sizes.
//
// A request on a reused connection that the server had already closed (an idle keep-alive
// connection times out on the node after 30 s) fails before any response byte arrives; such a
// request is sent once more on a new connection. That is safe for every request `bas` makes:
// reads are idempotent and the node answers a resubmitted tx as it did the first time.
//
// Not thread-safe: one client per thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "crypto/result.h"

namespace bas::client {

struct HttpUrl {
  std::string host;       // a name or an IPv4/IPv6 address (without brackets)
  std::string port;       // "80" when the URL has none
  std::string base_path;  // "" or a path prefix without a trailing slash ("/api")
};

// Parses "http://HOST[:PORT][/PATH]". Errors (code kInvalidInput): another scheme (https is not
// supported: put a TLS proxy in front and use its http:// side, or keep the node on loopback),
// no host, a port that is not 1..65535, a query or fragment.
Result<HttpUrl> ParseHttpUrl(std::string_view url);

struct HttpResponse {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  // From writing the request to the last byte of the response.
  std::chrono::milliseconds request_timeout{60'000};
  size_t max_response_bytes = size_t{64} << 20;
};

class HttpClient {
 public:
  explicit HttpClient(HttpUrl url, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  // Sends one request (target is appended to the URL's base path, e.g. "/v1/status") and reads
  // the whole response, whatever its status: HTTP errors are responses, not errors. Errors
  // (code kNetworkError): cannot resolve or connect, the connection failed or closed, the
  // deadline passed (the message says which), a response that is not HTTP/1.1 or is over
  // max_response_bytes. After an error the connection is closed; the next request opens a
  // new one.
  Result<HttpResponse> Get(std::string_view target);
  Result<HttpResponse> Post(std::string_view target, std::string_view body,
                            std::string_view content_type);

  // TCP connections opened so far (keep-alive keeps this at 1 across requests).
  int connections_opened() const;
  // "http://host:port": for messages.
  std::string origin() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bas::client
