#include "node/rpc/rate_limiter.h"

#include <gtest/gtest.h>

namespace bas::node::rpc {
namespace {

using std::chrono::milliseconds;

TEST(RateLimiterTest, BurstIsTwoSecondsThenRefillsAtTheRate) {
  RateLimiter limiter(5);
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.Allow("a", t0)) << i;
  EXPECT_FALSE(limiter.Allow("a", t0));
  // Other clients have their own bucket.
  EXPECT_TRUE(limiter.Allow("b", t0));
  // 5 per second: one token every 200 ms.
  EXPECT_FALSE(limiter.Allow("a", t0 + milliseconds(150)));
  EXPECT_TRUE(limiter.Allow("a", t0 + milliseconds(210)));
  EXPECT_FALSE(limiter.Allow("a", t0 + milliseconds(210)));
  // A long pause refills to the burst, not beyond.
  const auto t1 = t0 + std::chrono::minutes(1);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.Allow("a", t1)) << i;
  EXPECT_FALSE(limiter.Allow("a", t1));
}

TEST(RateLimiterTest, ZeroRateDisablesTheLimit) {
  RateLimiter limiter(0);
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.Allow("a", t0));
}

TEST(RateLimiterTest, ForgetsRefilledClientsPastTheBound) {
  RateLimiter limiter(1, 2);
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_TRUE(limiter.Allow("a", t0));
  EXPECT_TRUE(limiter.Allow("a", t0));
  EXPECT_FALSE(limiter.Allow("a", t0));
  EXPECT_TRUE(limiter.Allow("b", t0));
  // "a" and "b" have refilled by now: forgetting them changes nothing for them.
  EXPECT_TRUE(limiter.Allow("c", t0 + std::chrono::seconds(3)));
  EXPECT_TRUE(limiter.Allow("a", t0 + std::chrono::seconds(3)));
  EXPECT_TRUE(limiter.Allow("a", t0 + std::chrono::seconds(3)));
  EXPECT_FALSE(limiter.Allow("a", t0 + std::chrono::seconds(3)));
}

}  // namespace
}  // namespace bas::node::rpc
