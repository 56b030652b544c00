// Proposal sign bytes and signatures (node/consensus/messages.h; docs/encoding.md,
// "Consensus proposals").
#include "node/consensus/messages.h"

#include <functional>

#include <gtest/gtest.h>

#include "node/chain/encoding.h"
#include "tests/unit/node/consensus/fixture.h"

namespace bas::node::consensus {
namespace {

using testing::Height;

TEST(ProposalSignatureTest, SignBytesAreTheDocumentedEncoding) {
  const std::string block_hash(32, '\x07');
  // str(chain_id) || u64(height) || u32(round) || i64(valid_round) || h32(block_hash)
  std::string expected;
  expected += std::string("\x00\x00\x00\x03", 4) + "abc";
  expected += std::string("\x00\x00\x00\x00\x00\x00\x00\x05", 8);
  expected += std::string("\x00\x00\x00\x02", 4);
  expected += std::string(8, '\xff');  // -1
  expected += block_hash;
  EXPECT_EQ(ProposalSignHash("abc", 5, 2, -1, block_hash),
            crypto::TaggedHash("bas/proposal", expected));
  EXPECT_NE(ProposalSignHash("abc", 5, 2, 1, block_hash),
            ProposalSignHash("abc", 5, 2, -1, block_hash));
}

TEST(ProposalSignatureTest, SignedProposalVerifiesAndAnyChangeBreaksIt) {
  Height h(4);
  const bas::v1::ConsensusProposal p = h.Proposal(2, h.Block("A"), 1);
  EXPECT_TRUE(VerifyProposal(testing::kChain, p));
  EXPECT_EQ(p.proposer(), testing::KeyBytes(h.key(h.Proposer(2))));
  EXPECT_EQ(ProposalBlockHash(p), Height::Hash(p.block()));
  EXPECT_FALSE(VerifyProposal("another-chain", p));
  const std::vector<std::pair<const char*, std::function<void(bas::v1::ConsensusProposal&)>>>
      edits = {
          {"round", [](auto& x) { x.set_round(3); }},
          {"valid_round", [](auto& x) { x.set_valid_round(0); }},
          {"height",
           [](auto& x) {
             x.set_height(x.height() + 1);
             x.mutable_block()->mutable_header()->set_height(x.height());
           }},
          {"header", [](auto& x) { x.mutable_block()->mutable_header()->set_time(7); }},
          {"proposer", [&](auto& x) { x.set_proposer(testing::KeyBytes(h.key(0))); }},
          {"signature", [](auto& x) { (*x.mutable_signature())[10] ^= 1; }},
      };
  for (const auto& [name, edit] : edits) {
    bas::v1::ConsensusProposal changed = p;
    edit(changed);
    if (changed.proposer() == p.proposer() && std::string(name) == "proposer") continue;
    EXPECT_FALSE(VerifyProposal(testing::kChain, changed)) << name;
  }
}

TEST(ProposalSignatureTest, ShapeChecks) {
  Height h(4);
  const bas::v1::ConsensusProposal p = h.Proposal(2, h.Block("A"), 1);
  EXPECT_EQ(CheckProposalShape(p, testing::kChain), "");
  const std::vector<std::pair<const char*, std::function<void(bas::v1::ConsensusProposal&)>>>
      edits = {
          {"valid_round = round", [](auto& x) { x.set_valid_round(2); }},
          {"valid_round < -1", [](auto& x) { x.set_valid_round(-2); }},
          {"short proposer", [](auto& x) { x.set_proposer("abc"); }},
          {"short signature", [](auto& x) { x.set_signature("abc"); }},
          {"no header", [](auto& x) { x.mutable_block()->clear_header(); }},
          {"short app hash",
           [](auto& x) { x.mutable_block()->mutable_header()->set_app_hash("a"); }},
          {"block of another height",
           [](auto& x) { x.mutable_block()->mutable_header()->set_height(1); }},
          {"block of another chain",
           [](auto& x) { x.mutable_block()->mutable_header()->set_chain_id("x"); }},
      };
  for (const auto& [name, edit] : edits) {
    bas::v1::ConsensusProposal changed = p;
    edit(changed);
    EXPECT_NE(CheckProposalShape(changed, testing::kChain), "") << name;
    EXPECT_FALSE(VerifyProposal(testing::kChain, changed)) << name;
  }
}

TEST(SigningPositionTest, SigningOrder) {
  Height h(4);
  const auto proposal = h.Proposal(1, h.Block("A"));
  const auto prevote = h.Prevote(0, 1, "");
  const auto precommit = h.Precommit(0, 1, "");
  const auto next_round = h.Prevote(0, 2, "");
  EXPECT_LT(PositionOf(proposal), PositionOf(prevote));
  EXPECT_LT(PositionOf(prevote), PositionOf(precommit));
  EXPECT_LT(PositionOf(precommit), PositionOf(next_round));
  EXPECT_EQ(PositionOf(precommit), (Position{h.height(), 1, Step::kPrecommit}));
}

}  // namespace
}  // namespace bas::node::consensus
