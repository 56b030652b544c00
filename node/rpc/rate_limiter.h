// Requests per second per client address, as a token bucket per address (docs/api.md, 429
// RATE_LIMITED). The clock is a parameter, so tests drive it. Thread-safe (one mutex).
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bas::node::rpc {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // rate_per_s tokens refill per second up to a burst of 2 s worth (at least 1 token).
  // rate_per_s <= 0 disables the limit. max_clients bounds the memory: once that many clients
  // are known, buckets that have refilled completely are forgotten (a full bucket is the same
  // as no bucket); only clients active within one refill time (2 s) are kept past it.
  explicit RateLimiter(double rate_per_s, size_t max_clients = 100000);

  // Takes one token from client's bucket at time now; false when the bucket is empty.
  bool Allow(std::string_view client, Clock::time_point now);

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  void ForgetFullBucketsLocked(Clock::time_point now);

  const double rate_per_s_;
  const double burst_;
  const size_t max_clients_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace bas::node::rpc
