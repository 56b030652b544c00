// Internal to node/p2p. What threads other than the io thread read of the transport: its
// counters and its list of authenticated peers, copied under one mutex. The io thread's parts
// (connections, the peer set, block sync) write them; Transport's public getters read them.
#pragma once

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "node/p2p/transport.h"

namespace bas::node::p2p {

// Thread-safe: every method takes the mutex.
class TransportSnapshots {
 public:
  // Runs f(counters) under the mutex; f must be short and must not call back in here.
  template <typename F>
  void Count(F&& f) {
    std::lock_guard lock(mu_);
    f(counters_);
  }

  // Replaces the peer list (the peer set publishes it whenever its authenticated set changes).
  void SetPeers(std::vector<PeerInfo> peers) {
    std::lock_guard lock(mu_);
    peers_ = std::move(peers);
  }

  // True iff key is in the last published peer list.
  bool HasPeer(const PeerKey& key) const {
    std::lock_guard lock(mu_);
    return std::any_of(peers_.begin(), peers_.end(),
                       [&](const PeerInfo& p) { return p.key == key; });
  }

  std::vector<PeerInfo> Peers() const {
    std::lock_guard lock(mu_);
    return peers_;
  }

  TransportCounters Counters() const {
    std::lock_guard lock(mu_);
    return counters_;
  }

 private:
  mutable std::mutex mu_;
  TransportCounters counters_;
  std::vector<PeerInfo> peers_;
};

}  // namespace bas::node::p2p
