#include <chrono>

#include <gtest/gtest.h>

#include "node/p2p/seen_cache.h"
#include "node/p2p/token_bucket.h"

namespace bas::node::p2p {
namespace {

using std::chrono::milliseconds;

TEST(P2pTokenBucketTest, StartsFullRefillsAtRateAndCapsAtBurst) {
  const auto t0 = TokenBucket::Clock::time_point{};
  TokenBucket bucket(10, 5, t0);  // 10 per second, burst 5
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(bucket.Take(1, t0)) << i;
  EXPECT_FALSE(bucket.Take(1, t0));
  EXPECT_FALSE(bucket.Take(1, t0 + milliseconds(50)));  // half a token
  EXPECT_TRUE(bucket.Take(1, t0 + milliseconds(100)));
  // A long pause refills to the burst, not beyond.
  const auto t1 = t0 + std::chrono::seconds(100);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(bucket.Take(1, t1)) << i;
  EXPECT_FALSE(bucket.Take(1, t1));
}

TEST(P2pTokenBucketTest, FailedTakeTakesNothing) {
  const auto t0 = TokenBucket::Clock::time_point{};
  TokenBucket bucket(1, 100, t0);
  EXPECT_FALSE(bucket.Take(101, t0));
  EXPECT_TRUE(bucket.Take(100, t0));
}

crypto::Hash32 H(uint8_t i) {
  crypto::Hash32 h{};
  h[0] = i;
  h[31] = static_cast<uint8_t>(~i);
  return h;
}

TEST(P2pSeenCacheTest, RemembersTheNewestCapacityHashes) {
  SeenCache cache(3);
  EXPECT_TRUE(cache.Insert(H(1)));
  EXPECT_FALSE(cache.Insert(H(1)));
  EXPECT_TRUE(cache.Insert(H(2)));
  EXPECT_TRUE(cache.Insert(H(3)));
  EXPECT_TRUE(cache.Insert(H(4)));  // forgets 1
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.Contains(H(1)));
  EXPECT_TRUE(cache.Contains(H(2)));
  EXPECT_TRUE(cache.Insert(H(1)));  // new again
  EXPECT_FALSE(cache.Contains(H(2)));
}

}  // namespace
}  // namespace bas::node::p2p
