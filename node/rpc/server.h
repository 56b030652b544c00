// The HTTP/JSON API of a node (docs/api.md) on Boost.Beast: status, tx submission (binary
// protobuf or JSON, optionally waiting for the commit), txs with inclusion proofs, blocks,
// governance records, and /metrics for Prometheus.
//
// Limits: body and header sizes, connections, and requests per second per client address;
// every error is a JSON body with a stable code. Keep-alive. Bad input never stops the server.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "crypto/result.h"
#include "node/daemon/config.h"
#include "node/daemon/node.h"

namespace bas::node::rpc {

class ApiServer {
 public:
  // Binds config.listen and serves on `threads` threads until Stop or destruction. node must
  // outlive the server. A request must arrive whole within request_timeout of the previous
  // response (or of the connection), else the connection is closed: idle keep-alive
  // connections and clients that trickle bytes do not hold a connection slot. Registers the
  // counter family bas_api_requests_total{route,status} in node.metrics().
  // Errors: "BIND_FAILED" with the reason.
  static Result<std::unique_ptr<ApiServer>> Start(
      daemon::Node& node, const daemon::RpcConfig& config, unsigned threads = 2,
      std::chrono::milliseconds request_timeout = std::chrono::seconds(30));
  ~ApiServer();  // Stop()
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // The bound port (useful when config.listen asked for port 0); still valid after Stop.
  uint16_t port() const;
  // Stops accepting, closes connections and joins the threads; requests waiting for a commit
  // are dropped with their connections. Idempotent. Not to be called from a handler.
  void Stop();

 private:
  struct Impl;
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bas::node::rpc
