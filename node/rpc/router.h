// The API's request and response values and the route table that maps a method and a path
// pattern ("/v1/txs/{id}") to a handler. Independent of the network: handlers take an
// ApiRequest and return an ApiResponse, so they run the same under the server and in tests.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include "node/rpc/json.h"

namespace bas::node::rpc {

struct ApiRequest {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string path;                          // percent-decoded, without the query
  std::map<std::string, std::string> query;  // percent-decoded; the last value of a name wins
  std::vector<std::string> params;           // the path's {placeholders}, in order
  std::string content_type;                  // media type only, lowercase, no parameters
  std::string body;

  // The query value of name, or nullopt when absent.
  std::optional<std::string_view> Query(std::string_view name) const;
};

struct ApiResponse;
// Delivers a deferred response; may be called on any thread, exactly once. The function it
// is given builds the response later on the connection's own thread (so the caller, e.g. the
// node's block producer, only hands over the outcome); if it throws, the answer is 500.
using Reply = std::function<void(std::function<ApiResponse()>)>;

struct ApiResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  // When set, the response is not ready: the server calls deferred with a Reply to deliver it
  // later (`?wait=commit`) and serves nothing else on the connection meanwhile. status and
  // body are ignored.
  std::function<void(Reply)> deferred;
};

// A JSON body: as DumpJson writes it, or a JsonWriter's text (node/rpc/json.h).
ApiResponse JsonResponse(unsigned status, const nlohmann::ordered_json& body);
ApiResponse JsonResponse(unsigned status, JsonWriter&& body);
// {"error": {"code": code, "message": message}} (docs/api.md, "Conventions").
ApiResponse ErrorResponse(unsigned status, std::string_view code, std::string_view message);

using Handler = std::function<ApiResponse(const ApiRequest&)>;

struct Route {
  boost::beast::http::verb method;
  std::string pattern;  // segments separated by '/'; "{name}" matches one non-empty segment
  Handler handler;
};

class Router {
 public:
  explicit Router(std::vector<Route> routes);

  struct Match {
    const Route* route = nullptr;  // null: see status
    unsigned status = 0;           // 404 (no path matches) or 405 (another method does)
    std::string_view label;        // the pattern matched ("none" for 404): a metric label
    std::vector<std::string> params;
  };
  // The route for method and a percent-decoded path. Thread-safe (const).
  Match Find(boost::beast::http::verb method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

// Splits a request target into a percent-decoded path and query; nullopt when an escape is
// malformed or the target is not an absolute path.
struct Target {
  std::string path;
  std::map<std::string, std::string> query;
};
std::optional<Target> ParseTarget(std::string_view target);

}  // namespace bas::node::rpc
