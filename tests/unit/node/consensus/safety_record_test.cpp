// The SafetyRecord's disk encoding (node/consensus/safety_record.h): a round trip, and every
// kind of damage refused rather than read as a different record.
#include "node/consensus/safety_record.h"

#include <gtest/gtest.h>

#include "node/chain/encoding.h"
#include "tests/unit/node/consensus/fixture.h"

namespace bas::node::consensus {
namespace {

using testing::Height;

SafetyRecord Sample() {
  Height h(4);
  SafetyRecord r;
  r.height = h.height();
  r.signed_messages.push_back(h.Proposal(1, h.Block("A"), 0));
  r.signed_messages.push_back(h.Prevote(h.Proposer(1), 1, Height::Hash(h.Block("A"))));
  r.signed_messages.push_back(h.Precommit(h.Proposer(1), 1, Height::Hash(h.Block("A"))));
  r.locked_round = 1;
  r.locked_block = std::make_shared<bas::v1::Block>(h.Block("A"));
  r.valid_round = 1;
  r.valid_block = r.locked_block;
  return r;
}

std::string Code(const Result<SafetyRecord>& r) { return r.ok() ? "OK" : r.error().code; }

TEST(SafetyRecordTest, RoundTrip) {
  const SafetyRecord r = Sample();
  const std::string bytes = EncodeSafetyRecord(r);
  auto back = DecodeSafetyRecord(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->height, r.height);
  ASSERT_EQ(back->signed_messages.size(), 3u);
  EXPECT_EQ(std::get<bas::v1::ConsensusProposal>(back->signed_messages[0]).SerializeAsString(),
            std::get<bas::v1::ConsensusProposal>(r.signed_messages[0]).SerializeAsString());
  EXPECT_EQ(std::get<bas::v1::ConsensusVote>(back->signed_messages[2]).SerializeAsString(),
            std::get<bas::v1::ConsensusVote>(r.signed_messages[2]).SerializeAsString());
  EXPECT_EQ(back->locked_round, 1);
  EXPECT_EQ(back->locked_block->SerializeAsString(), r.locked_block->SerializeAsString());
  EXPECT_EQ(back->valid_round, 1);
  EXPECT_EQ(EncodeSafetyRecord(*back), bytes);

  SafetyRecord empty;
  empty.height = 9;
  auto empty_back = DecodeSafetyRecord(EncodeSafetyRecord(empty));
  ASSERT_TRUE(empty_back.ok());
  EXPECT_EQ(empty_back->height, 9u);
  EXPECT_TRUE(empty_back->signed_messages.empty());
  EXPECT_EQ(empty_back->locked_round, -1);
  EXPECT_EQ(empty_back->locked_block, nullptr);
}

TEST(SafetyRecordTest, EveryTruncationIsRefused) {
  const std::string bytes = EncodeSafetyRecord(Sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(Code(DecodeSafetyRecord(bytes.substr(0, n))), "CORRUPT_SAFETY_RECORD") << n;
  }
  EXPECT_EQ(Code(DecodeSafetyRecord(bytes + "x")), "CORRUPT_SAFETY_RECORD");
}

TEST(SafetyRecordTest, InconsistentRecordsAreRefused) {
  struct Case {
    const char* name;
    std::function<void(SafetyRecord&)> edit;
  };
  const std::vector<Case> cases = {
      {"message at another height", [](SafetyRecord& r) { r.height += 1; }},
      {"messages out of order",
       [](SafetyRecord& r) { std::swap(r.signed_messages[1], r.signed_messages[2]); }},
      {"a message twice", [](SafetyRecord& r) { r.signed_messages[2] = r.signed_messages[1]; }},
      {"locked round without a block", [](SafetyRecord& r) { r.locked_block.reset(); }},
  };
  for (const Case& c : cases) {
    SafetyRecord r = Sample();
    c.edit(r);
    EXPECT_EQ(Code(DecodeSafetyRecord(EncodeSafetyRecord(r))), "CORRUPT_SAFETY_RECORD") << c.name;
  }
  std::string bad_version = EncodeSafetyRecord(Sample());
  bad_version[0] = 2;
  EXPECT_EQ(Code(DecodeSafetyRecord(bad_version)), "CORRUPT_SAFETY_RECORD");
}

}  // namespace
}  // namespace bas::node::consensus
