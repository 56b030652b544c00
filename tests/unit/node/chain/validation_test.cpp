// Block validation (node/chain/validation.h) against a chain built as Node::OnRequestBlock
// builds it: the valid next block is accepted, and each field of the header, the txs and the
// last commit tampered in turn is rejected with INVALID_BLOCK naming what is wrong.
#include "node/chain/validation.h"

#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "node/chain/commit.h"
#include "node/chain/encoding.h"
#include "tests/unit/node/test_chain.h"

namespace bas::node::chain {
namespace {

using testing::GenesisSpec;
using testing::ProducedBlock;
using testing::TestChain;
using testing::TxIdOf;

GenesisSpec FourValidators() {
  GenesisSpec spec;
  spec.validators = 4;
  spec.validator_power = 1;
  return spec;
}

// Produces a block after validating it as a peer would.
ProducedBlock ValidateAndAppend(TestChain& c, const std::vector<std::string>& txs,
                                std::optional<int64_t> time = std::nullopt) {
  ProducedBlock b = c.Build(txs, time);
  auto v = ValidateBlock(c.state(), b.block, c.Tip(), 2);
  EXPECT_TRUE(v.ok()) << "height " << c.height() + 1 << ": " << v.error().message;
  if (v.ok()) {
    EXPECT_EQ(v->app_hash, b.exec.app_hash);
    EXPECT_EQ(v->writes, b.exec.writes);
  }
  c.Append(b);
  return b;
}

// Four validators; proposals and votes over three blocks; the fourth block is built but not
// appended.
class ValidateBlockTest : public ::testing::Test {
 protected:
  ValidateBlockTest() : chain_(FourValidators()) {
    const std::string p1 = chain_.Propose(0, std::nullopt, "First");
    proposal1_ = TxIdOf(p1);
    ValidateAndAppend(chain_, {p1});
    const std::string p2 = chain_.Propose(3, std::nullopt, "Second");
    proposal2_ = TxIdOf(p2);
    ValidateAndAppend(chain_, {chain_.Vote(1, proposal1_), chain_.Vote(2, proposal1_), p2});
    ValidateAndAppend(chain_, {chain_.Vote(4, proposal1_), chain_.Vote(5, proposal2_)});
    next_txs_ = {chain_.Vote(1, proposal2_), chain_.Propose(2, std::nullopt, "Third"),
                 chain_.Vote(0, proposal2_)};
    next_ = chain_.Build(next_txs_);
  }

  BlockResult<ExecutedBlock> Validate(const bas::v1::Block& block, unsigned threads = 2) const {
    return ValidateBlock(chain_.state(), block, chain_.Tip(), threads);
  }

  // Expects block rejected with a message containing `names` that starts with the name of its
  // fault (the auditor reports the fault as the structure that is wrong).
  void ExpectRejected(const bas::v1::Block& block, const std::string& names,
                      const std::string& what) const {
    auto r = Validate(block);
    ASSERT_FALSE(r.ok()) << what << ": accepted";
    EXPECT_TRUE(r.error().message.starts_with(BlockFaultName(r.error().fault)))
        << what << ": \"" << r.error().message << "\" is not a fault of "
        << BlockFaultName(r.error().fault);
    EXPECT_NE(r.error().message.find(names), std::string::npos)
        << what << ": \"" << r.error().message << "\" does not name " << names;
  }

  static void RecomputeTxRoot(bas::v1::Block& b) {
    b.mutable_header()->set_tx_root(HashBytes(TxRoot(b.txs())));
  }
  static void RecomputeLastCommitHash(bas::v1::Block& b) {
    b.mutable_header()->set_last_commit_hash(HashBytes(CommitHash(b.last_commit())));
  }

  TestChain chain_;
  crypto::Hash32 proposal1_{};
  crypto::Hash32 proposal2_{};
  std::vector<std::string> next_txs_;
  ProducedBlock next_;
};

TEST_F(ValidateBlockTest, AcceptsTheNextBlock) {
  ASSERT_EQ(chain_.height(), 3u);
  ASSERT_EQ(next_.block.txs_size(), 3);
  ASSERT_EQ(next_.block.last_commit().signatures_size(), 4);
  for (unsigned threads : {1u, 4u}) {
    auto r = Validate(next_.block, threads);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->app_hash, next_.exec.app_hash);
    EXPECT_EQ(r->tx_root, next_.exec.tx_root);
    EXPECT_EQ(r->results_root, next_.exec.results_root);
    EXPECT_EQ(r->writes, next_.exec.writes);
  }
  EXPECT_TRUE(ValidateHeader(next_.block, chain_.Tip()).ok());
}

TEST_F(ValidateBlockTest, AcceptsEqualTimeAndAnyProposerOfTheSet) {
  bas::v1::Block same_time = chain_.Build(next_txs_, chain_.Info().time).block;
  EXPECT_TRUE(Validate(same_time).ok());
  for (const auto& v : chain_.ValidatorsAt(4).validators()) {
    bas::v1::Block b = next_.block;
    b.mutable_header()->set_proposer(v.key());
    EXPECT_TRUE(Validate(b).ok());
  }
}

struct HeaderCase {
  const char* field;  // named by the error
  std::function<void(bas::v1::BlockHeader&)> edit;
};

TEST_F(ValidateBlockTest, RejectsEachTamperedHeaderField) {
  const int64_t tip_time = chain_.Info().time;
  const std::string outsider = testing::KeyBytes(testing::DeterministicKey("validator", 7));
  const std::vector<HeaderCase> cases = {
      {"header.chain_id", [](auto& h) { h.set_chain_id("bas-other"); }},
      {"header.chain_id", [](auto& h) { h.clear_chain_id(); }},
      {"header.height", [](auto& h) { h.set_height(h.height() + 1); }},
      {"header.height", [](auto& h) { h.set_height(h.height() - 1); }},
      {"header.height", [](auto& h) { h.set_height(0); }},
      {"header.time", [tip_time](auto& h) { h.set_time(tip_time - 1); }},
      {"header.time", [](auto& h) { h.set_time(-1); }},
      {"header.prev_block_hash", [](auto& h) { (*h.mutable_prev_block_hash())[0] ^= 1; }},
      {"header.prev_block_hash", [](auto& h) { h.set_prev_block_hash(std::string(32, '\0')); }},
      {"header.prev_block_hash", [](auto& h) { h.mutable_prev_block_hash()->pop_back(); }},
      {"tx_root", [](auto& h) { (*h.mutable_tx_root())[31] ^= 1; }},
      {"tx_root", [](auto& h) { h.mutable_tx_root()->clear(); }},
      {"results_root", [](auto& h) { (*h.mutable_results_root())[7] ^= 1; }},
      {"app_hash", [](auto& h) { (*h.mutable_app_hash())[13] ^= 1; }},
      {"header.validators_hash", [](auto& h) { (*h.mutable_validators_hash())[2] ^= 1; }},
      {"header.next_validators_hash", [](auto& h) { (*h.mutable_next_validators_hash())[2] ^= 1; }},
      {"header.proposer", [outsider](auto& h) { h.set_proposer(outsider); }},
      {"header.proposer", [](auto& h) { (*h.mutable_proposer())[0] ^= 1; }},
      {"header.proposer", [](auto& h) { h.mutable_proposer()->append("x"); }},
      {"header.last_commit_hash", [](auto& h) { (*h.mutable_last_commit_hash())[4] ^= 1; }},
      {"header.last_commit_hash", [](auto& h) { h.set_last_commit_hash(std::string(32, '\0')); }},
  };
  for (const auto& c : cases) {
    bas::v1::Block b = next_.block;
    c.edit(*b.mutable_header());
    ExpectRejected(b, c.field, c.field);
  }
}

TEST_F(ValidateBlockTest, RejectsTamperedTxs) {
  {
    bas::v1::Block b = next_.block;
    b.mutable_txs(1)->back() ^= 1;  // the last byte is in the signature
    ExpectRejected(b, "tx 1: BAD_SIGNATURE", "signature byte flipped");
  }
  {
    bas::v1::Block b = next_.block;
    bas::v1::SignedTx tx;
    ASSERT_TRUE(tx.ParseFromString(b.txs(0)));
    tx.mutable_body()->back() ^= 1;  // a byte of the vote's reason
    *b.mutable_txs(0) = tx.SerializeAsString();
    ExpectRejected(b, "tx 0: BAD_SIGNATURE", "body byte flipped");
  }
  {
    bas::v1::Block b = next_.block;
    *b.mutable_txs(2) = "\x0a\x03\x01";  // a truncated SignedTx
    ExpectRejected(b, "tx 2: INVALID_ARGUMENT", "malformed tx");
  }
  {
    bas::v1::Block b = next_.block;
    b.mutable_txs()->SwapElements(0, 1);
    ExpectRejected(b, "tx_root", "two txs swapped");
  }
  {
    bas::v1::Block b = next_.block;
    b.mutable_txs()->SwapElements(0, 1);
    RecomputeTxRoot(b);
    auto r = Validate(b);
    ASSERT_FALSE(r.ok()) << "two txs swapped, tx root recomputed";
    EXPECT_TRUE(r.error().fault == BlockFault::kResultsRoot ||
                r.error().fault == BlockFault::kAppHash);
    EXPECT_TRUE(r.error().message.starts_with("results_root") ||
                r.error().message.starts_with("app_hash"))
        << r.error().message;
  }
  {
    bas::v1::Block b = next_.block;
    b.mutable_txs()->RemoveLast();
    ExpectRejected(b, "tx_root", "a tx removed");
  }
  {
    bas::v1::Block b = next_.block;
    b.mutable_txs()->RemoveLast();
    RecomputeTxRoot(b);
    ExpectRejected(b, "results_root", "a tx removed, tx root recomputed");
  }
  {
    bas::v1::Block b = next_.block;
    b.clear_txs();
    ExpectRejected(b, "tx_root", "all txs removed");
  }
  {
    bas::v1::Block b = next_.block;
    *b.add_txs() = b.txs(0);
    RecomputeTxRoot(b);
    ExpectRejected(b, "tx 3 is refused: BAD_NONCE", "a tx twice");
  }
}

TEST_F(ValidateBlockTest, RejectsATxTheRulesRefuseEvenWithARecomputedTxRoot) {
  struct Case {
    const char* what;
    std::string tx;
    const char* names;
  };
  const std::vector<Case> cases = {
      {"nonce gap", chain_.Propose(5, chain_.NextNonce(5) + 2), "tx 3 is refused: BAD_NONCE"},
      {"nonce reused", chain_.Propose(4, chain_.NextNonce(4) - 1), "tx 3 is refused: BAD_NONCE"},
      {"unknown proposal", chain_.Vote(5, crypto::Sha256Of("none")),
       "tx 3 is refused: UNKNOWN_PROPOSAL"},
      {"not a member", testing::ProposeTx(chain_.chain_id(), testing::DeterministicKey("x", 1), 0),
       "tx 3 is refused: NOT_MEMBER"},
      {"another chain", testing::ProposeTx("bas-other", chain_.member(5), 0),
       "tx 3: INVALID_ARGUMENT"},
  };
  for (const auto& c : cases) {
    bas::v1::Block b = next_.block;
    *b.add_txs() = c.tx;
    RecomputeTxRoot(b);
    ExpectRejected(b, c.names, c.what);
  }
}

// A peer's block is input: a last commit of the wrong shape is INVALID_BLOCK, never an
// assertion failure (STYLE.md: "assert guards invariants, never input"). CommitHash asserts
// on 32-byte fields, so in a build with assertions this test dies instead of failing.
TEST_F(ValidateBlockTest, MalformedLastCommitIsAnErrorNotACrash) {
  const std::vector<std::pair<const char*, std::function<void(bas::v1::Commit&)>>> cases = {
      {"block_hash of 31 bytes", [](auto& c) { c.mutable_block_hash()->pop_back(); }},
      {"block_hash of 33 bytes", [](auto& c) { c.mutable_block_hash()->push_back('x'); }},
      {"validator of 31 bytes",
       [](auto& c) { c.mutable_signatures(0)->mutable_validator()->pop_back(); }},
      {"validator of 0 bytes", [](auto& c) { c.mutable_signatures(1)->clear_validator(); }},
  };
  for (const auto& [what, edit] : cases) {
    bas::v1::Block b = next_.block;
    edit(*b.mutable_last_commit());
    ExpectRejected(b, "last_commit", what);
  }
}

TEST_F(ValidateBlockTest, LastCommitNeedsMoreThanTwoThirds) {
  {
    bas::v1::Block b = next_.block;
    b.mutable_last_commit()->mutable_signatures()->RemoveLast();
    RecomputeLastCommitHash(b);
    auto r = Validate(b);
    EXPECT_TRUE(r.ok()) << "3 of 4 signatures certify: " << r.error().message;
  }
  {
    bas::v1::Block b = next_.block;
    b.mutable_last_commit()->mutable_signatures()->RemoveLast();
    ExpectRejected(b, "header.last_commit_hash", "a signature missing, hash kept");
  }
  {
    bas::v1::Block b = next_.block;
    b.mutable_last_commit()->mutable_signatures()->RemoveLast();
    b.mutable_last_commit()->mutable_signatures()->RemoveLast();
    RecomputeLastCommitHash(b);
    ExpectRejected(b, "last_commit: signers hold 2/3", "2 of 4 signatures");
  }
  {
    bas::v1::Block b = next_.block;
    b.mutable_last_commit()->clear_signatures();
    RecomputeLastCommitHash(b);
    ExpectRejected(b, "last_commit", "no signatures");
  }
}

TEST_F(ValidateBlockTest, RejectsATamperedLastCommit) {
  const std::string outsider_sig =
      SignVote(testing::DeterministicKey("validator", 7), chain_.chain_id(), bas::v1::PRECOMMIT, 3,
               0, HashBytes(chain_.at(3).block_hash))
          .signature();
  const std::vector<std::pair<std::string, std::function<void(bas::v1::Commit&)>>> cases = {
      {"signature does not verify",
       [](auto& c) { (*c.mutable_signatures(1)->mutable_signature())[5] ^= 1; }},
      {"a validator twice", [](auto& c) { *c.mutable_signatures(3) = c.signatures(0); }},
      {"not a validator",
       [&outsider_sig](auto& c) {
         auto* s = c.add_signatures();
         s->set_validator(testing::KeyBytes(testing::DeterministicKey("validator", 7)));
         s->set_signature(outsider_sig);
       }},
      {"commit is for height", [](auto& c) { c.set_height(2); }},
      {"another block", [](auto& c) { (*c.mutable_block_hash())[0] ^= 1; }},
      {"signature does not verify", [](auto& c) { c.set_round(1); }},
  };
  for (const auto& [names, edit] : cases) {
    bas::v1::Block b = next_.block;
    edit(*b.mutable_last_commit());
    RecomputeLastCommitHash(b);
    ExpectRejected(b, "last_commit: ", names);
    ExpectRejected(b, names, names);
  }
  // The commit of an earlier block in place of the tip's.
  bas::v1::Block b = next_.block;
  *b.mutable_last_commit() = chain_.at(2).commit;
  RecomputeLastCommitHash(b);
  ExpectRejected(b, "last_commit: ", "the commit of height 2");
}

TEST(ValidateFirstBlockTest, LastCommitMustBeEmptyAtHeightOne) {
  TestChain c(FourValidators());
  const ProducedBlock first = c.Build({c.Propose(0)});
  ASSERT_TRUE(ValidateBlock(c.state(), first.block, c.Tip(), 1).ok());
  EXPECT_EQ(first.block.header().prev_block_hash(), std::string(32, '\0'));
  EXPECT_EQ(first.block.header().last_commit_hash(), std::string(32, '\0'));

  // A later block's commit presented as height 1's last commit.
  TestChain other(FourValidators());
  other.Produce({});
  bas::v1::Block b = first.block;
  *b.mutable_last_commit() = other.at(1).commit;
  b.mutable_header()->set_last_commit_hash(HashBytes(CommitHash(b.last_commit())));
  auto r = ValidateBlock(c.state(), b, c.Tip(), 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().fault, BlockFault::kLastCommit);
  EXPECT_NE(r.error().message.find("last_commit: must be empty"), std::string::npos)
      << r.error().message;
}

// docs/encoding.md: "an empty commit (height 1's last commit) hashes to 32 zero bytes". A
// last commit that is not empty must not pass as height 1's: it would be a second encoding of
// the same block (one block hash, two blocks).
TEST(ValidateFirstBlockTest, LastCommitWithOnlyHeightOrRoundIsNotEmpty) {
  TestChain c;
  const ProducedBlock first = c.Build({c.Propose(0)});
  for (const auto& [what, edit] :
       std::vector<std::pair<const char*, std::function<void(bas::v1::Commit&)>>>{
           {"height", [](auto& lc) { lc.set_height(1); }},
           {"round", [](auto& lc) { lc.set_round(2); }},
       }) {
    bas::v1::Block b = first.block;
    edit(*b.mutable_last_commit());
    auto r = ValidateBlock(c.state(), b, c.Tip(), 1);
    EXPECT_FALSE(r.ok()) << "height 1 accepted a last_commit with a " << what;
  }
}

TEST(ValidateFirstBlockTest, TimeMayNotPrecedeGenesis) {
  TestChain c;
  const ProducedBlock b = c.Build({}, testing::kGenesisTime - 1);
  auto r = ValidateBlock(c.state(), b.block, c.Tip(), 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("header.time"), std::string::npos) << r.error().message;
  EXPECT_TRUE(ValidateBlock(c.state(), c.Build({}, testing::kGenesisTime).block, c.Tip(), 1).ok());
}

// A validator joins by proposal: it decides from two heights after the block that closed the
// proposal, and from then a commit needs its signature too.
TEST(ValidatorChangeTest, NewSetTakesOverTwoHeightsLater) {
  TestChain c;  // one validator of power 10
  const std::string add = testing::ValidatorUpdateTx(c.chain_id(), c.member(0), 0,
                                                     testing::DeterministicKey("validator", 1), 10);
  const crypto::Hash32 proposal = TxIdOf(add);
  ValidateAndAppend(c, {add});
  std::vector<std::string> votes;
  for (size_t i = 0; i < c.member_count(); ++i) votes.push_back(c.Vote(i, proposal));
  ValidateAndAppend(c, votes);
  // The voting period (3600 s) ends: this block closes the proposal.
  const ProducedBlock closing = ValidateAndAppend(c, {}, c.Info().time + 3600);
  const uint64_t h = closing.block.header().height();
  ASSERT_EQ(closing.exec.results.validator_updates_size(), 1) << "the proposal did not pass";
  ASSERT_EQ(closing.tip_after.next_validators.validators_size(), 2);
  EXPECT_EQ(c.ValidatorsAt(h + 1).validators_size(), 1);
  EXPECT_EQ(c.ValidatorsAt(h + 2).validators_size(), 2);

  // Height h + 1 is still decided by the old set, but announces the new one.
  const ProducedBlock b1 = ValidateAndAppend(c, {});
  EXPECT_EQ(b1.block.header().next_validators_hash(),
            HashBytes(testing::SetHash(c.ValidatorsAt(h + 2))));
  EXPECT_EQ(b1.commit.signatures_size(), 1);
  // Height h + 2 is decided by both; height h + 3's last commit must carry both signatures.
  const ProducedBlock b2 = ValidateAndAppend(c, {});
  EXPECT_EQ(b2.block.header().validators_hash(),
            HashBytes(testing::SetHash(c.ValidatorsAt(h + 2))));
  EXPECT_EQ(b2.commit.signatures_size(), 2);
  ProducedBlock b3 = c.Build({});
  ASSERT_TRUE(ValidateBlock(c.state(), b3.block, c.Tip(), 1).ok());
  bas::v1::Block half = b3.block;
  half.mutable_last_commit()->mutable_signatures()->RemoveLast();
  half.mutable_header()->set_last_commit_hash(HashBytes(CommitHash(half.last_commit())));
  auto r = ValidateBlock(c.state(), half, c.Tip(), 1);
  ASSERT_FALSE(r.ok()) << "one of two equal validators certified a block";
  EXPECT_NE(r.error().message.find("2/3"), std::string::npos) << r.error().message;
  // The block of the old set's hash is refused once the set has changed.
  bas::v1::Block stale = b3.block;
  stale.mutable_header()->set_validators_hash(b1.block.header().validators_hash());
  EXPECT_FALSE(ValidateBlock(c.state(), stale, c.Tip(), 1).ok());
}

}  // namespace
}  // namespace bas::node::chain

namespace bas::node::chain {
namespace {

// Two prevotes of validator `v` at height/round for different blocks.
bas::v1::Evidence Equivocation(std::string_view chain_id, int v, uint64_t height,
                               bas::v1::VoteType type = bas::v1::PREVOTE) {
  const crypto::KeyPair key = testing::DeterministicKey("validator", v);
  bas::v1::Evidence e;
  *e.mutable_vote_a() = SignVote(key, chain_id, type, height, 1, std::string(32, '\x0a'));
  *e.mutable_vote_b() = SignVote(key, chain_id, type, height, 1, std::string(32, '\x0b'));
  return e;
}

void SetEvidence(bas::v1::Block& b, std::vector<bas::v1::Evidence> evidence) {
  b.clear_evidence();
  for (auto& e : evidence) *b.add_evidence() = std::move(e);
  b.mutable_header()->set_evidence_hash(HashBytes(EvidenceRoot(b.evidence())));
}

TEST_F(ValidateBlockTest, AcceptsEvidenceOfThisHeightAndTheLast) {
  const std::string& id = chain_.chain_id();
  for (uint64_t at : {chain_.height(), chain_.height() + 1}) {
    bas::v1::Block b = next_.block;
    SetEvidence(b, {Equivocation(id, 2, at), Equivocation(id, 3, at, bas::v1::PRECOMMIT)});
    auto r = Validate(b);
    EXPECT_TRUE(r.ok()) << "evidence of height " << at << ": " << r.error().message;
  }
  // nil against a block is an equivocation too.
  bas::v1::Block b = next_.block;
  bas::v1::Evidence nil = Equivocation(id, 1, chain_.height());
  *nil.mutable_vote_b() = SignVote(testing::DeterministicKey("validator", 1), id, bas::v1::PREVOTE,
                                   chain_.height(), 1, "");
  SetEvidence(b, {nil});
  EXPECT_TRUE(Validate(b).ok());
}

TEST_F(ValidateBlockTest, RejectsEvidenceNotCoveredByTheHeader) {
  bas::v1::Block b = next_.block;
  *b.add_evidence() = Equivocation(chain_.chain_id(), 2, chain_.height());
  ExpectRejected(b, "header.evidence_hash", "evidence added, hash kept");
  SetEvidence(b, {Equivocation(chain_.chain_id(), 2, chain_.height())});
  b.mutable_evidence(0)->mutable_vote_a()->set_round(2);  // after hashing
  ExpectRejected(b, "header.evidence_hash", "evidence edited, hash kept");
  bas::v1::Block short_hash = next_.block;
  short_hash.mutable_header()->mutable_evidence_hash()->pop_back();
  ExpectRejected(short_hash, "header.evidence_hash: must be 32 bytes", "31-byte hash");
}

TEST_F(ValidateBlockTest, RejectsEvidenceThatProvesNothing) {
  const std::string& id = chain_.chain_id();
  const uint64_t h = chain_.height();
  const crypto::KeyPair v2 = testing::DeterministicKey("validator", 2);
  struct Case {
    const char* names;
    std::function<void(bas::v1::Evidence&)> edit;
  };
  const std::vector<Case> cases = {
      {"do not conflict", [&](auto& e) { *e.mutable_vote_b() = e.vote_a(); }},
      {"different validators",
       [&](auto& e) {
         *e.mutable_vote_b() = SignVote(testing::DeterministicKey("validator", 3), id,
                                        bas::v1::PREVOTE, h, 1, std::string(32, '\x0b'));
       }},
      {"one height, round and type",
       [&](auto& e) {
         *e.mutable_vote_b() = SignVote(v2, id, bas::v1::PREVOTE, h, 2, std::string(32, '\x0b'));
       }},
      {"one height, round and type",
       [&](auto& e) {
         *e.mutable_vote_b() = SignVote(v2, id, bas::v1::PRECOMMIT, h, 1, std::string(32, '\x0b'));
       }},
      {"vote_b: signature does not verify",
       [](auto& e) { (*e.mutable_vote_b()->mutable_signature())[9] ^= 1; }},
      {"vote_a: signature does not verify",
       [&](auto& e) {
         *e.mutable_vote_a() =
             SignVote(v2, "bas-other", bas::v1::PREVOTE, h, 1, std::string(32, '\x0a'));
       }},
      {"not a validator", [&](auto& e) { e = Equivocation(id, 7, h); }},
      {"not for this height or the last", [&](auto& e) { e = Equivocation(id, 2, h - 1); }},
      {"not for this height or the last", [&](auto& e) { e = Equivocation(id, 2, h + 2); }},
      {"not a prevote or precommit",
       [&](auto& e) {
         e.mutable_vote_a()->set_type(bas::v1::VOTE_TYPE_UNSPECIFIED);
         e.mutable_vote_b()->set_type(bas::v1::VOTE_TYPE_UNSPECIFIED);
       }},
      {"evidence.vote_a.validator: 32 bytes",
       [](auto& e) { e.mutable_vote_a()->mutable_validator()->pop_back(); }},
      {"evidence.vote_b.signature: 64 bytes",
       [](auto& e) { e.mutable_vote_b()->mutable_signature()->push_back('x'); }},
  };
  for (const auto& c : cases) {
    bas::v1::Evidence e = Equivocation(id, 2, h);
    c.edit(e);
    bas::v1::Block b = next_.block;
    b.clear_evidence();
    *b.add_evidence() = e;
    if (CheckEvidenceShape(e).empty()) {
      b.mutable_header()->set_evidence_hash(HashBytes(EvidenceRoot(b.evidence())));
    }
    ExpectRejected(b, c.names, c.names);
  }
  bas::v1::Block twice = next_.block;
  SetEvidence(twice, {Equivocation(id, 2, h), Equivocation(id, 2, h)});
  ExpectRejected(twice, "evidence[1]: twice", "the same evidence twice");
}

// The schedule: each set moves down a height, and the set a block leaves decides two heights
// later. Height 1's block carries no last commit (not even an empty one: its bytes would differ).
TEST(NextTipTest, TheSetABlockLeavesDecidesTwoHeightsLater) {
  TestChain c(FourValidators());
  const ChainTip genesis = GenesisTip(c.genesis(), c.genesis_state().app_hash);
  EXPECT_EQ(genesis.height, 0u);
  EXPECT_EQ(genesis.time, c.genesis().genesis_time());
  EXPECT_EQ(genesis.validators.SerializeAsString(), c.ValidatorsAt(1).SerializeAsString());
  EXPECT_EQ(genesis.next_validators.SerializeAsString(), c.ValidatorsAt(2).SerializeAsString());

  const ProducedBlock first = c.Build({});
  EXPECT_FALSE(first.block.has_last_commit());
  bas::v1::ValidatorSet after;
  *after.add_validators() = genesis.validators.validators(0);
  const ChainTip next = NextTip(genesis, first.block.header(), after);
  EXPECT_EQ(next.height, 1u);
  EXPECT_EQ(next.block_hash, first.block_hash);
  EXPECT_EQ(next.app_hash, first.exec.app_hash);
  EXPECT_EQ(next.time, first.block.header().time());
  EXPECT_EQ(next.tip_validators.SerializeAsString(), genesis.validators.SerializeAsString());
  EXPECT_EQ(next.validators.SerializeAsString(), genesis.next_validators.SerializeAsString());
  EXPECT_EQ(next.next_validators.SerializeAsString(), after.SerializeAsString());

  c.Append(first);
  EXPECT_TRUE(c.Build({}).block.has_last_commit());
}

}  // namespace
}  // namespace bas::node::chain
