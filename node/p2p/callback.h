// Internal to node/p2p. How the io thread calls what the owner gave the transport (its
// callbacks, request completions): an exception thrown by one is logged and dropped, so none
// propagates into Asio and the transport goes on (transport.h, "Threading").
#pragma once

#include <exception>
#include <utility>

#include <spdlog/spdlog.h>

namespace bas::node::p2p {

// Calls f(args...) if f is set; `what` names it in the log line if it throws.
template <typename F, typename... Args>
void InvokeCallback(const char* what, const F& f, Args&&... args) {
  if (!f) return;
  try {
    f(std::forward<Args>(args)...);
  } catch (const std::exception& e) {
    spdlog::error("p2p: the {} callback threw: {}", what, e.what());
  } catch (...) {
    spdlog::error("p2p: the {} callback threw", what);
  }
}

}  // namespace bas::node::p2p
