// Validator sets as the consensus core counts them: thresholds by voting power and the
// weighted round-robin proposer (node/consensus/validator_set.h).
#include "node/consensus/validator_set.h"

#include <map>

#include <gtest/gtest.h>

#include "tests/unit/node/consensus/fixture.h"

namespace bas::node::consensus {
namespace {

bas::v1::ValidatorSet Proto(const std::vector<uint64_t>& powers) {
  const auto keys = testing::SortedKeys(powers.size());
  bas::v1::ValidatorSet set;
  for (size_t i = 0; i < powers.size(); ++i) {
    auto* v = set.add_validators();
    v->set_key(testing::KeyBytes(keys[i]));
    v->set_power(powers[i]);
  }
  return set;
}

ValidatorSet Make(const std::vector<uint64_t>& powers) {
  auto set = ValidatorSet::From(Proto(powers));
  EXPECT_TRUE(set.ok());
  return *set;
}

TEST(ValidatorSetTest, ThresholdsAreStrictFractionsOfThePower) {
  struct Case {
    std::vector<uint64_t> powers;
    uint64_t power;
    bool quorum;    // > 2/3
    bool blocking;  // > 1/3
  };
  const Case cases[] = {
      {{1, 1, 1, 1}, 2, false, true},
      {{1, 1, 1, 1}, 3, true, true},
      {{1, 1, 1, 1}, 1, false, false},
      {{1, 1, 1}, 2, false, true},
      {{1, 1, 1}, 1, false, false},
      {{1, 1, 1, 1, 1, 1}, 4, false, true},
      {{1, 1, 1, 1, 1, 1}, 5, true, true},
      {{1, 1, 1, 1, 1, 1}, 2, false, false},
      {{1}, 1, true, true},
      // Huge powers: no overflow in the comparison.
      {{uint64_t{1} << 61, uint64_t{1} << 61, uint64_t{1} << 61},
       (uint64_t{1} << 62) + 1,
       true,
       true},
      {{uint64_t{1} << 61, uint64_t{1} << 61, uint64_t{1} << 61}, uint64_t{1} << 62, false, true},
  };
  for (const Case& c : cases) {
    const ValidatorSet set = Make(c.powers);
    EXPECT_EQ(set.IsQuorum(c.power), c.quorum) << c.power << " of " << set.total_power();
    EXPECT_EQ(set.IsBlocking(c.power), c.blocking) << c.power << " of " << set.total_power();
  }
}

TEST(ValidatorSetTest, RefusesMalformedSets) {
  auto refused = [](const bas::v1::ValidatorSet& s) {
    auto r = ValidatorSet::From(s);
    return !r.ok() && r.error().code == "INVALID_VALIDATOR_SET";
  };
  EXPECT_TRUE(refused(bas::v1::ValidatorSet()));
  bas::v1::ValidatorSet zero = Proto({1, 0});
  EXPECT_TRUE(refused(zero));
  bas::v1::ValidatorSet twice = Proto({1, 1});
  twice.mutable_validators(1)->set_key(twice.validators(0).key());
  EXPECT_TRUE(refused(twice));
  bas::v1::ValidatorSet short_key = Proto({1});
  short_key.mutable_validators(0)->set_key("short");
  EXPECT_TRUE(refused(short_key));
  EXPECT_TRUE(refused(Proto({uint64_t{1} << 62, uint64_t{1} << 62})));
}

TEST(ValidatorSetTest, MembersAreInKeyOrderWhateverTheInputOrder) {
  bas::v1::ValidatorSet reversed = Proto({1, 2, 3});
  std::reverse(reversed.mutable_validators()->begin(), reversed.mutable_validators()->end());
  const ValidatorSet set = *ValidatorSet::From(reversed);
  const auto keys = testing::SortedKeys(3);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(set.key(i), testing::KeyBytes(keys[i]));
    EXPECT_EQ(set.power(i), i + 1);
    EXPECT_EQ(set.IndexOf(set.key(i)), i);
  }
  EXPECT_EQ(set.IndexOf(std::string(32, 'x')), std::nullopt);
  EXPECT_EQ(set.total_power(), 6u);
}

TEST(ValidatorSetTest, EqualPowersArePlainRoundRobin) {
  const ValidatorSet set = Make({7, 7, 7, 7});
  for (uint64_t h = 1; h < 10; ++h) {
    for (uint32_t r = 0; r < 10; ++r) EXPECT_EQ(set.Proposer(h, r), (h + r) % 4);
  }
}

// Over any window of (reduced) total power slots, each validator proposes as often as its
// power; the heavy validator's turns are spread, not consecutive.
TEST(ValidatorSetTest, WeightedRoundRobinIsProportionalAndSpread) {
  const ValidatorSet set = Make({1, 2, 3, 6});  // gcd 1, cycle 12
  for (uint64_t start = 0; start < 24; ++start) {
    std::map<size_t, int> turns;
    for (uint64_t s = start; s < start + 12; ++s) ++turns[set.Proposer(s, 0)];
    EXPECT_EQ(turns[0], 1);
    EXPECT_EQ(turns[1], 2);
    EXPECT_EQ(turns[2], 3);
    EXPECT_EQ(turns[3], 6);
  }
  int longest_run = 0, run = 0;
  for (uint64_t s = 0; s < 24; ++s) {
    run = set.Proposer(s, 0) == 3 && s > 0 && set.Proposer(s - 1, 0) == 3 ? run + 1 : 1;
    longest_run = std::max(longest_run, run);
  }
  EXPECT_LE(longest_run, 2);
  // Round r + 1 of a height has the proposer of round r of the next height.
  for (uint64_t h = 0; h < 30; ++h) EXPECT_EQ(set.Proposer(h, 1), set.Proposer(h + 1, 0));
  // Powers with a common divisor give the same cycle.
  const ValidatorSet scaled = Make({1000, 2000, 3000, 6000});
  for (uint64_t s = 0; s < 24; ++s) EXPECT_EQ(scaled.Proposer(s, 0), set.Proposer(s, 0));
}

TEST(ValidatorSetTest, HugeCoprimePowersStillRotate) {
  const ValidatorSet set = Make({1000003, 1000033, 1000037});
  std::map<size_t, int> turns;
  for (uint64_t s = 0; s < 30; ++s) ++turns[set.Proposer(s, 0)];
  EXPECT_EQ(turns.size(), 3u);
  for (const auto& [i, n] : turns) EXPECT_EQ(n, 10) << i;
}

}  // namespace
}  // namespace bas::node::consensus
