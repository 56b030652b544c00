// What governance/kv.h says of the state's keys: which ones execution never reads (the vote
// history) and which ones every tx reads (the signer's account and membership by key), built
// with the key layout itself so that a change of layout shows here.
#include "governance/kv.h"

#include <gtest/gtest.h>

#include "governance/keys.h"

namespace bas::governance {
namespace {

const std::string kKey(32, '\x07');

TEST(KvKeysTest, EveryTxReadsTheSignersAccountAndMembershipOnly) {
  EXPECT_TRUE(ReadByEveryTx(keys::Account(kKey)));
  EXPECT_TRUE(ReadByEveryTx(keys::MemberByKey("bas-dc", kKey)));

  EXPECT_FALSE(ReadByEveryTx(keys::Member("bas-dc", "alice")));
  EXPECT_FALSE(ReadByEveryTx(keys::KeyMembership(kKey, "bas-dc")));
  EXPECT_FALSE(ReadByEveryTx(keys::MembershipEvent("bas-dc", 1)));
  EXPECT_FALSE(ReadByEveryTx(keys::Assessment("sol-1")));  // "as/": starts like "a/"
  EXPECT_FALSE(ReadByEveryTx(keys::Elector(1, "alice")));
  EXPECT_FALSE(ReadByEveryTx(keys::LatestVote(1, "alice")));
  EXPECT_FALSE(ReadByEveryTx(keys::Proposal(std::string(32, '\x01'))));
}

TEST(KvKeysTest, ExecutionReadsEverythingButTheVoteHistory) {
  EXPECT_FALSE(ReadByExecution(keys::VoteHistory(1, 2, 3)));
  EXPECT_TRUE(ReadByExecution(keys::LatestVote(1, "alice")));
  EXPECT_TRUE(ReadByExecution(keys::Account(kKey)));
  EXPECT_TRUE(ReadByExecution(keys::Validator(kKey)));
}

}  // namespace
}  // namespace bas::governance
