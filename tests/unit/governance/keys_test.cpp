// governance/keys.h: each inverse gives back the parts its builder was given, also when the
// fixed-width parts (raw keys, big-endian numbers) contain the separator byte '/'.
#include "governance/keys.h"

#include <gtest/gtest.h>

namespace bas::governance {
namespace {

// 0x2f is '/': a number or raw key made of it would fool a parser that looked for separators.
constexpr uint64_t kSlashes = 0x2f2f2f2f2f2f2f2full;
const std::string kSlashKey(keys::kRawIdBytes, '/');

TEST(KeysTest, PendingCloseGivesBackTheEndAndTheSequence) {
  for (const auto& [end, seq] : {std::pair<int64_t, uint64_t>{0, 0},
                                 {1700000000, 42},
                                 {static_cast<int64_t>(kSlashes), kSlashes},
                                 {INT64_MAX, UINT64_MAX}}) {
    const keys::PendingCloseEntry e = keys::ParsePendingClose(keys::PendingClose(end, seq));
    EXPECT_EQ(e.end, end);
    EXPECT_EQ(e.seq, seq);
  }
}

TEST(KeysTest, ListingExpiryGivesBackTheTimeAndTheSolution) {
  for (const int64_t t : {int64_t{0}, int64_t{1700000000}, static_cast<int64_t>(kSlashes)}) {
    const std::string key = keys::ListingExpiry(t, "sol-1");
    const keys::ListingExpiryEntry e = keys::ParseListingExpiry(key);
    EXPECT_EQ(e.valid_until, t);
    EXPECT_EQ(e.solution_id, "sol-1");
  }
}

TEST(KeysTest, TrailingIdsComeBack) {
  EXPECT_EQ(keys::CoalitionIdOf(keys::Coalition("bas-dc")), "bas-dc");
  EXPECT_EQ(keys::KeyMembershipCoalition(keys::KeyMembership(kSlashKey, "bas-dc")), "bas-dc");
  EXPECT_EQ(keys::ElectorMemberId(keys::Elector(kSlashes, "alice")), "alice");
  EXPECT_EQ(keys::ElectorMemberId(keys::Elector(0, "alice")), "alice");
}

}  // namespace
}  // namespace bas::governance
