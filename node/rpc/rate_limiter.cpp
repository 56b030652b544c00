#include "node/rpc/rate_limiter.h"

#include <algorithm>

namespace bas::node::rpc {

RateLimiter::RateLimiter(double rate_per_s, size_t max_clients)
    : rate_per_s_(rate_per_s), burst_(std::max(1.0, 2 * rate_per_s)), max_clients_(max_clients) {}

bool RateLimiter::Allow(std::string_view client, Clock::time_point now) {
  if (rate_per_s_ <= 0) return true;
  std::lock_guard lock(mu_);
  auto it = buckets_.find(std::string(client));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_clients_) ForgetFullBucketsLocked(now);
    it = buckets_.emplace(std::string(client), Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  const double elapsed_s = std::chrono::duration<double>(now - b.updated).count();
  // A clock that steps back (only in tests) must not drain the bucket.
  if (elapsed_s > 0) {
    b.tokens = std::min(burst_, b.tokens + elapsed_s * rate_per_s_);
    b.updated = now;
  }
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

void RateLimiter::ForgetFullBucketsLocked(Clock::time_point now) {
  const auto refill = std::chrono::duration<double>(burst_ / rate_per_s_);
  std::erase_if(buckets_, [&](const auto& entry) {
    return std::chrono::duration<double>(now - entry.second.updated) >= refill;
  });
}

}  // namespace bas::node::rpc
