// A bounded set of recently seen message hashes, first in first out. The transport keeps one to
// deliver each gossiped tx, proposal and vote to its owner once and to drop peers' echoes of what
// it sent (docs/p2p.md, "Gossip"). Not thread-safe per instance.
#pragma once

#include <cstddef>
#include <cstring>
#include <deque>
#include <unordered_set>

#include "crypto/hash.h"

namespace bas::node::p2p {

class SeenCache {
 public:
  // capacity >= 1 hashes; the oldest is forgotten when a new one would exceed it.
  explicit SeenCache(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // Records h; returns true iff it was not in the cache.
  bool Insert(const crypto::Hash32& h) {
    if (!set_.insert(h).second) return false;
    order_.push_back(h);
    if (order_.size() > capacity_) {
      set_.erase(order_.front());
      order_.pop_front();
    }
    return true;
  }
  bool Contains(const crypto::Hash32& h) const { return set_.contains(h); }
  size_t size() const { return order_.size(); }

 private:
  // The hashes are SHA-256 outputs: their first bytes are already uniform.
  struct HashOfHash {
    size_t operator()(const crypto::Hash32& h) const {
      size_t v;
      std::memcpy(&v, h.data(), sizeof(v));
      return v;
    }
  };
  size_t capacity_;
  std::deque<crypto::Hash32> order_;
  std::unordered_set<crypto::Hash32, HashOfHash> set_;
};

}  // namespace bas::node::p2p
