// Consensus votes and commit certificates (node/chain/commit.h, docs/encoding.md: "A commit
// certifies a block when its signatures verify over the PRECOMMIT sign bytes of that height,
// round and block hash, by distinct validators of the block's set holding more than 2/3 of
// its power").
#include "node/chain/commit.h"

#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "node/chain/encoding.h"
#include "tests/unit/node/test_chain.h"

namespace bas::node::chain {
namespace {

using testing::DeterministicKey;
using testing::KeyBytes;

constexpr std::string_view kChain = "bas-test";
constexpr uint64_t kHeight = 9;
constexpr uint32_t kRound = 1;

const std::string& Block() {
  static const std::string block = HashBytes(crypto::Sha256Of("block 9"));
  return block;
}

crypto::KeyPair Val(int i) { return DeterministicKey("validator", i); }

bas::v1::ValidatorSet Set(const std::vector<uint64_t>& powers) {
  bas::v1::ValidatorSet set;
  for (size_t i = 0; i < powers.size(); ++i) {
    auto* v = set.add_validators();
    v->set_key(KeyBytes(Val(static_cast<int>(i))));
    v->set_power(powers[i]);
  }
  return set;
}

bas::v1::ConsensusVote Precommit(int validator, uint64_t height = kHeight, uint32_t round = kRound,
                                 std::string_view block = Block(),
                                 std::string_view chain = kChain) {
  return SignVote(Val(validator), chain, bas::v1::PRECOMMIT, height, round, block);
}

bas::v1::Commit CommitBy(const std::vector<int>& validators) {
  std::vector<bas::v1::ConsensusVote> votes;
  for (int v : validators) votes.push_back(Precommit(v));
  return MakeCommit(kHeight, kRound, Block(), votes);
}

TEST(VoteTest, SignVerifyRoundTrip) {
  for (auto type : {bas::v1::PREVOTE, bas::v1::PRECOMMIT}) {
    for (std::string_view block : {std::string_view(Block()), std::string_view()}) {
      const bas::v1::ConsensusVote v = SignVote(Val(0), kChain, type, kHeight, kRound, block);
      EXPECT_EQ(v.type(), type);
      EXPECT_EQ(v.height(), kHeight);
      EXPECT_EQ(v.round(), kRound);
      EXPECT_EQ(v.block_hash(), block);
      EXPECT_EQ(v.validator(), KeyBytes(Val(0)));
      ASSERT_EQ(v.signature().size(), 64u);
      EXPECT_TRUE(VerifyVote(kChain, v)) << "type " << type << ", nil " << block.empty();
      // The signature is BIP340 over the documented sign bytes.
      crypto::Signature sig;
      std::copy(v.signature().begin(), v.signature().end(), sig.begin());
      EXPECT_TRUE(crypto::Verify(Val(0).public_key(),
                                 VoteSignHash(kChain, type, kHeight, kRound, block), sig));
    }
  }
}

TEST(VoteTest, AnyChangeBreaksTheSignature) {
  const bas::v1::ConsensusVote base = Precommit(0);
  const std::vector<std::pair<const char*, std::function<void(bas::v1::ConsensusVote&)>>> edits = {
      {"type", [](auto& v) { v.set_type(bas::v1::PREVOTE); }},
      {"height", [](auto& v) { v.set_height(kHeight + 1); }},
      {"round", [](auto& v) { v.set_round(kRound + 1); }},
      {"block_hash", [](auto& v) { (*v.mutable_block_hash())[3] ^= 1; }},
      {"block_hash nil", [](auto& v) { v.clear_block_hash(); }},
      {"block_hash 31 bytes", [](auto& v) { v.mutable_block_hash()->pop_back(); }},
      {"validator", [](auto& v) { v.set_validator(KeyBytes(Val(1))); }},
      {"validator 31 bytes", [](auto& v) { v.mutable_validator()->pop_back(); }},
      {"signature byte", [](auto& v) { (*v.mutable_signature())[10] ^= 1; }},
      {"signature 63 bytes", [](auto& v) { v.mutable_signature()->pop_back(); }},
      {"signature 65 bytes", [](auto& v) { v.mutable_signature()->push_back('\0'); }},
  };
  for (const auto& [what, edit] : edits) {
    bas::v1::ConsensusVote v = base;
    edit(v);
    EXPECT_FALSE(VerifyVote(kChain, v)) << what;
  }
  EXPECT_FALSE(VerifyVote("bas-other", base)) << "another chain";
}

TEST(MakeCommitTest, CarriesTheVotes) {
  const bas::v1::Commit c = CommitBy({2, 0, 1});
  EXPECT_EQ(c.height(), kHeight);
  EXPECT_EQ(c.round(), kRound);
  EXPECT_EQ(c.block_hash(), Block());
  ASSERT_EQ(c.signatures_size(), 3);
  EXPECT_EQ(c.signatures(0).validator(), KeyBytes(Val(2)));
  EXPECT_EQ(c.signatures(1).validator(), KeyBytes(Val(0)));
  EXPECT_EQ(c.signatures(2).signature().size(), 64u);
  EXPECT_TRUE(VerifyCommit(kChain, kHeight, Block(), c, Set({1, 1, 1})).ok());
}

struct PowerCase {
  const char* name;
  std::vector<uint64_t> powers;
  std::vector<int> signers;
  bool certifies;
};

TEST(VerifyCommitTest, MoreThanTwoThirdsOfThePower) {
  constexpr uint64_t kBig = (uint64_t{1} << 63) - 1;  // sums and products overflow 64 bits
  const std::vector<PowerCase> cases = {
      {"3 of 3", {1, 1, 1}, {0, 1, 2}, true},
      {"2 of 3 is exactly 2/3", {1, 1, 1}, {0, 1}, false},
      {"1 of 3", {1, 1, 1}, {2}, false},
      {"none", {1, 1, 1}, {}, false},
      {"3 of 4", {1, 1, 1, 1}, {0, 1, 3}, true},
      {"2 of 4", {1, 1, 1, 1}, {1, 2}, false},
      {"heavy + light: 3 of 4 power", {1, 1, 2}, {0, 2}, true},
      {"heavy alone: 2 of 4 power", {1, 1, 2}, {2}, false},
      {"light pair: 2 of 4 power", {1, 1, 2}, {0, 1}, false},
      {"one validator", {10}, {0}, true},
      {"6 of 9 is exactly 2/3", {3, 3, 3}, {0, 1}, false},
      {"67 of 100", {67, 33}, {0}, true},
      {"66 of 99 is exactly 2/3", {66, 33}, {0}, false},
      {"huge powers, 3 of 3", {kBig, kBig, kBig}, {0, 1, 2}, true},
      {"huge powers, 2 of 3", {kBig, kBig, kBig}, {0, 2}, false},
      {"huge powers, 2 of 3 + 2", {kBig, kBig, kBig - 1, 2}, {0, 1, 3}, true},
      {"huge powers, 1 of 2 + 1", {kBig, kBig, 1}, {0, 2}, false},
  };
  for (const auto& c : cases) {
    const Status s = VerifyCommit(kChain, kHeight, Block(), CommitBy(c.signers), Set(c.powers));
    EXPECT_EQ(s.ok(), c.certifies) << c.name;
    if (!s.ok()) {
      EXPECT_EQ(s.code(), "INVALID_COMMIT") << c.name;
      EXPECT_NE(s.message().find("2/3"), std::string::npos) << c.name << ": " << s.message();
    }
  }
}

TEST(VerifyCommitTest, EmptySetCertifiesNothing) {
  EXPECT_FALSE(VerifyCommit(kChain, kHeight, Block(), CommitBy({}), Set({})).ok());
}

struct BadCommitCase {
  const char* name;
  std::function<void(bas::v1::Commit&)> edit;
  const char* message_part;  // expected in the error
};

TEST(VerifyCommitTest, RejectsEachWayOfBeingWrong) {
  const std::vector<BadCommitCase> cases = {
      {"duplicate signer", [](auto& c) { *c.add_signatures() = c.signatures(0); }, "twice"},
      {"duplicate signer standing in for a missing one",
       [](auto& c) { *c.mutable_signatures(2) = c.signatures(0); }, "twice"},
      {"non-member",
       [](auto& c) {
         const auto v = Precommit(5);
         auto* s = c.add_signatures();
         s->set_validator(v.validator());
         s->set_signature(v.signature());
       },
       "not a validator"},
      {"commit for another height", [](auto& c) { c.set_height(kHeight + 1); }, "height"},
      {"commit for another block", [](auto& c) { (*c.mutable_block_hash())[0] ^= 1; },
       "another block"},
      {"round changed after signing", [](auto& c) { c.set_round(kRound + 1); }, "does not verify"},
      {"signatures for another height",
       [](auto& c) {
         *c.mutable_signatures(1) = MakeCommit(0, 0, "", {Precommit(1, kHeight + 1)}).signatures(0);
       },
       "does not verify"},
      {"signatures for another round",
       [](auto& c) {
         *c.mutable_signatures(1) =
             MakeCommit(0, 0, "", {Precommit(1, kHeight, kRound + 1)}).signatures(0);
       },
       "does not verify"},
      {"signatures for another block",
       [](auto& c) {
         const std::string other = HashBytes(crypto::Sha256Of("other"));
         *c.mutable_signatures(1) =
             MakeCommit(0, 0, "", {Precommit(1, kHeight, kRound, other)}).signatures(0);
       },
       "does not verify"},
      {"signatures for nil",
       [](auto& c) {
         *c.mutable_signatures(1) =
             MakeCommit(0, 0, "", {Precommit(1, kHeight, kRound, "")}).signatures(0);
       },
       "does not verify"},
      {"signatures on another chain",
       [](auto& c) {
         *c.mutable_signatures(1) =
             MakeCommit(0, 0, "", {Precommit(1, kHeight, kRound, Block(), "bas-other")})
                 .signatures(0);
       },
       "does not verify"},
      {"prevote signatures",
       [](auto& c) {
         const auto v = SignVote(Val(1), kChain, bas::v1::PREVOTE, kHeight, kRound, Block());
         c.mutable_signatures(1)->set_signature(v.signature());
       },
       "does not verify"},
      {"flipped signature byte",
       [](auto& c) { (*c.mutable_signatures(2)->mutable_signature())[17] ^= 0x40; },
       "does not verify"},
      {"short signature", [](auto& c) { c.mutable_signatures(0)->mutable_signature()->pop_back(); },
       "does not verify"},
      {"signature of another member",
       [](auto& c) { c.mutable_signatures(0)->set_signature(c.signatures(1).signature()); },
       "does not verify"},
  };
  const bas::v1::ValidatorSet set = Set({1, 1, 1, 1});
  ASSERT_TRUE(VerifyCommit(kChain, kHeight, Block(), CommitBy({0, 1, 2}), set).ok());
  for (const auto& c : cases) {
    bas::v1::Commit commit = CommitBy({0, 1, 2});
    c.edit(commit);
    const Status s = VerifyCommit(kChain, kHeight, Block(), commit, set);
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.code(), "INVALID_COMMIT") << c.name;
    EXPECT_NE(s.message().find(c.message_part), std::string::npos) << c.name << ": " << s.message();
  }
}

TEST(VerifyCommitTest, ChecksAgainstTheGivenHeightAndHash) {
  const bas::v1::Commit c = CommitBy({0, 1, 2});
  const bas::v1::ValidatorSet set = Set({1, 1, 1});
  EXPECT_FALSE(VerifyCommit(kChain, kHeight + 1, Block(), c, set).ok());
  EXPECT_FALSE(VerifyCommit(kChain, kHeight, HashBytes(crypto::Sha256Of("x")), c, set).ok());
  EXPECT_FALSE(VerifyCommit("bas-other", kHeight, Block(), c, set).ok());
  // Another validator set: the same signers hold no power in it.
  bas::v1::ValidatorSet others;
  for (int i = 4; i < 7; ++i) {
    auto* v = others.add_validators();
    v->set_key(KeyBytes(Val(i)));
    v->set_power(1);
  }
  EXPECT_FALSE(VerifyCommit(kChain, kHeight, Block(), c, others).ok());
}

}  // namespace
}  // namespace bas::node::chain
