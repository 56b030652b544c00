// A token bucket: `rate` tokens per second refill a bucket of at most `burst` tokens; a take
// succeeds while tokens last. The transport keeps two per peer (frames and bytes) and
// disconnects a peer whose take fails ("P2P_FLOOD"). Time is passed in, so tests need no clock.
// Not thread-safe per instance.
#pragma once

#include <algorithm>
#include <chrono>

namespace bas::node::p2p {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts full. rate and burst are per second and in tokens; burst >= 1.
  TokenBucket(double rate, double burst, Clock::time_point now)
      : rate_(rate), burst_(burst), tokens_(burst), last_(now) {}

  // Takes n tokens if the bucket holds them at `now`; false (taking none) otherwise.
  bool Take(double n, Clock::time_point now) {
    if (now > last_) {
      const double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
      last_ = now;
    }
    if (tokens_ < n) return false;
    tokens_ -= n;
    return true;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace bas::node::p2p
