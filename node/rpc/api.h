// The endpoints of docs/api.md as a route table: one handler per endpoint, each a function of
// the node's committed state (one snapshot per request) and the request. Handlers are called
// concurrently from the server's threads; they never block except `?wait=commit`, which
// returns a deferred response completed by the CommitWatcher.
#pragma once

#include <vector>

#include "node/daemon/config.h"
#include "node/daemon/node.h"
#include "node/rpc/commit_watcher.h"
#include "node/rpc/router.h"

namespace bas::node::rpc {

struct ApiContext {
  daemon::Node& node;
  daemon::RpcConfig config;
  CommitWatcher& watcher;
};

// The routes of docs/api.md. ctx must outlive the routes. A handler may throw on a broken
// invariant (a store that lacks a committed block's parts); the server answers 500 INTERNAL.
std::vector<Route> ApiRoutes(ApiContext& ctx);

}  // namespace bas::node::rpc
