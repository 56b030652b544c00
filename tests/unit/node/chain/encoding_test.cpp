// The canonical encodings of node/chain/encoding.h against docs/encoding.md "Blocks": every
// expected byte string is written out here by hand from the document, not through
// CanonicalWriter, so a layout change in the code fails these tests.
#include "node/chain/encoding.h"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/merkle.h"

namespace bas::node::chain {
namespace {

std::string H(char fill) { return std::string(32, fill); }
std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
std::string Be64(uint64_t v) { return Be32(static_cast<uint32_t>(v >> 32)) + Be32(v & 0xffffffff); }
std::string Str(std::string_view s) {
  return Be32(static_cast<uint32_t>(s.size())) + std::string(s);
}
std::string B(const crypto::Hash32& h) { return HashBytes(h); }

// BIP340 tagged hash from its definition, independent of crypto::TaggedHash.
crypto::Hash32 Tagged(std::string_view tag, std::string_view msg) {
  const std::string t = B(crypto::Sha256Of(tag));
  return crypto::Sha256Of(t + t + std::string(msg));
}

bas::v1::BlockHeader KnownHeader() {
  bas::v1::BlockHeader h;
  h.set_chain_id("bas-test");
  h.set_height(0x0102030405060708ULL);
  h.set_time(-2);  // two's complement: ff..fe
  h.set_prev_block_hash(H('\x11'));
  h.set_tx_root(H('\x22'));
  h.set_results_root(H('\x33'));
  h.set_app_hash(H('\x44'));
  h.set_validators_hash(H('\x55'));
  h.set_next_validators_hash(H('\x66'));
  h.set_proposer(H('\x77'));
  h.set_last_commit_hash(H('\x88'));
  h.set_evidence_hash(H('\x99'));
  return h;
}

TEST(EncodeHeaderTest, LayoutIsExactlyTheDocumentedOne) {
  const std::string expected = std::string("\x00\x00\x00\x08", 4) + "bas-test" +
                               std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8) +
                               std::string("\xff\xff\xff\xff\xff\xff\xff\xfe", 8) + H('\x11') +
                               H('\x22') + H('\x33') + H('\x44') + H('\x55') + H('\x66') +
                               H('\x77') + H('\x88') + H('\x99');
  ASSERT_EQ(expected.size(), 4u + 8 + 8 + 8 + 9 * 32);
  EXPECT_EQ(EncodeHeader(KnownHeader()), expected);
}

TEST(EncodeHeaderTest, PositiveTimeAndEmptyChainId) {
  bas::v1::BlockHeader h = KnownHeader();
  h.set_chain_id("");
  h.set_height(1);
  h.set_time(1767225600);  // 0x6955b900
  const std::string enc = EncodeHeader(h);
  EXPECT_EQ(enc.substr(0, 4 + 8 + 8),
            std::string(4, '\0') + Be64(1) + std::string("\x00\x00\x00\x00\x69\x55\xb9\x00", 8));
}

TEST(BlockHashTest, IsTheTaggedHashOfTheEncodedHeader) {
  const bas::v1::BlockHeader h = KnownHeader();
  EXPECT_EQ(BlockHash(h), crypto::TaggedHash("bas/block", EncodeHeader(h)));
  EXPECT_EQ(BlockHash(h), Tagged("bas/block", EncodeHeader(h)));
  EXPECT_NE(BlockHash(h), crypto::TaggedHash("bas/other", EncodeHeader(h)));
}

TEST(BlockHashTest, EveryFieldIsCovered) {
  const std::vector<std::pair<const char*, std::function<void(bas::v1::BlockHeader&)>>> edits = {
      {"chain_id", [](auto& h) { h.set_chain_id("bas-tesu"); }},
      {"height", [](auto& h) { h.set_height(h.height() + 1); }},
      {"time", [](auto& h) { h.set_time(h.time() - 1); }},
      {"prev_block_hash", [](auto& h) { (*h.mutable_prev_block_hash())[31] ^= 1; }},
      {"tx_root", [](auto& h) { (*h.mutable_tx_root())[0] ^= 1; }},
      {"results_root", [](auto& h) { (*h.mutable_results_root())[5] ^= 1; }},
      {"app_hash", [](auto& h) { (*h.mutable_app_hash())[7] ^= 1; }},
      {"validators_hash", [](auto& h) { (*h.mutable_validators_hash())[9] ^= 1; }},
      {"next_validators_hash", [](auto& h) { (*h.mutable_next_validators_hash())[11] ^= 1; }},
      {"proposer", [](auto& h) { (*h.mutable_proposer())[13] ^= 1; }},
      {"last_commit_hash", [](auto& h) { (*h.mutable_last_commit_hash())[31] ^= 0x80; }},
      {"evidence_hash", [](auto& h) { (*h.mutable_evidence_hash())[2] ^= 4; }},
  };
  const crypto::Hash32 base = BlockHash(KnownHeader());
  for (const auto& [field, edit] : edits) {
    bas::v1::BlockHeader h = KnownHeader();
    edit(h);
    EXPECT_NE(BlockHash(h), base) << field;
  }
}

TEST(CheckHeaderShapeTest, NamesEachFieldThatIsNot32Bytes) {
  EXPECT_EQ(CheckHeaderShape(KnownHeader()), "");
  const std::vector<std::pair<const char*, std::function<std::string*(bas::v1::BlockHeader&)>>>
      fields = {
          {"prev_block_hash", [](auto& h) { return h.mutable_prev_block_hash(); }},
          {"tx_root", [](auto& h) { return h.mutable_tx_root(); }},
          {"results_root", [](auto& h) { return h.mutable_results_root(); }},
          {"app_hash", [](auto& h) { return h.mutable_app_hash(); }},
          {"validators_hash", [](auto& h) { return h.mutable_validators_hash(); }},
          {"next_validators_hash", [](auto& h) { return h.mutable_next_validators_hash(); }},
          {"proposer", [](auto& h) { return h.mutable_proposer(); }},
          {"last_commit_hash", [](auto& h) { return h.mutable_last_commit_hash(); }},
          {"evidence_hash", [](auto& h) { return h.mutable_evidence_hash(); }},
      };
  for (const auto& [field, get] : fields) {
    for (size_t size : {size_t{0}, size_t{31}, size_t{33}}) {
      bas::v1::BlockHeader h = KnownHeader();
      get(h)->resize(size, 'x');
      EXPECT_EQ(CheckHeaderShape(h), std::string("header.") + field + ": must be 32 bytes")
          << field << " of " << size << " bytes";
    }
  }
}

TEST(VoteSignHashTest, NilAndBlockVotes) {
  const std::string block = H('\xab');
  const std::string prefix = Str("bas-test");
  EXPECT_EQ(VoteSignHash("bas-test", bas::v1::PREVOTE, 7, 3, ""),
            Tagged("bas/vote", prefix + '\x01' + Be64(7) + Be32(3) + '\x00'));
  EXPECT_EQ(VoteSignHash("bas-test", bas::v1::PRECOMMIT, 7, 3, block),
            Tagged("bas/vote", prefix + '\x02' + Be64(7) + Be32(3) + '\x01' + block));
  EXPECT_EQ(VoteSignHash("bas-test", bas::v1::PRECOMMIT, 0x0a0b0c0d0e0f1011ULL, 0xfffffffe, ""),
            crypto::TaggedHash("bas/vote", prefix + '\x02' +
                                               std::string("\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11", 8) +
                                               std::string("\xff\xff\xff\xfe", 4) + '\x00'));
}

TEST(VoteSignHashTest, EveryPartIsCovered) {
  const std::string block = H('\xab');
  const crypto::Hash32 base = VoteSignHash("bas-test", bas::v1::PRECOMMIT, 7, 3, block);
  EXPECT_NE(VoteSignHash("bas-tesu", bas::v1::PRECOMMIT, 7, 3, block), base);
  EXPECT_NE(VoteSignHash("bas-test", bas::v1::PREVOTE, 7, 3, block), base);
  EXPECT_NE(VoteSignHash("bas-test", bas::v1::PRECOMMIT, 8, 3, block), base);
  EXPECT_NE(VoteSignHash("bas-test", bas::v1::PRECOMMIT, 7, 4, block), base);
  EXPECT_NE(VoteSignHash("bas-test", bas::v1::PRECOMMIT, 7, 3, H('\xac')), base);
  EXPECT_NE(VoteSignHash("bas-test", bas::v1::PRECOMMIT, 7, 3, ""), base);
}

bas::v1::Commit ThreeSigCommit() {
  bas::v1::Commit c;
  c.set_height(42);
  c.set_round(2);
  c.set_block_hash(H('\xbb'));
  for (char v : {'\x30', '\x10', '\x20'}) {
    auto* s = c.add_signatures();
    s->set_validator(H(v));
    s->set_signature(std::string(64, static_cast<char>(v + 1)));
  }
  return c;
}

TEST(CommitHashTest, LayoutWithSignaturesInValidatorKeyOrder) {
  // opt32(block_hash): 0x01 || hash.
  std::string expected = Be64(42) + Be32(2) + "\x01" + H('\xbb') + Be32(3);
  for (char v : {'\x10', '\x20', '\x30'}) {
    expected += H(v) + Str(std::string(64, static_cast<char>(v + 1)));
  }
  EXPECT_EQ(CommitHash(ThreeSigCommit()), Tagged("bas/commit", expected));
}

TEST(CommitHashTest, IndependentOfSignatureOrder) {
  const bas::v1::Commit base = ThreeSigCommit();
  std::vector<int> order = {0, 1, 2};
  do {
    bas::v1::Commit c = base;
    c.clear_signatures();
    for (int i : order) *c.add_signatures() = base.signatures(i);
    EXPECT_EQ(CommitHash(c), CommitHash(base));
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST(CommitHashTest, CoversHeightRoundHashAndSignatures) {
  const crypto::Hash32 base = CommitHash(ThreeSigCommit());
  const std::vector<std::function<void(bas::v1::Commit&)>> edits = {
      [](auto& c) { c.set_height(43); },
      [](auto& c) { c.set_round(3); },
      [](auto& c) { (*c.mutable_block_hash())[0] ^= 1; },
      [](auto& c) { (*c.mutable_signatures(1)->mutable_signature())[63] ^= 1; },
      [](auto& c) { (*c.mutable_signatures(2)->mutable_validator())[0] ^= 1; },
      [](auto& c) { c.mutable_signatures()->RemoveLast(); },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    bas::v1::Commit c = ThreeSigCommit();
    edits[i](c);
    EXPECT_NE(CommitHash(c), base) << "edit " << i;
  }
}

TEST(CommitHashTest, EmptyCommitIsZero) {
  EXPECT_EQ(CommitHash(bas::v1::Commit()), crypto::Hash32{});
  // A commit that names a block is not empty, even without signatures.
  bas::v1::Commit c;
  c.set_block_hash(H('\x01'));
  EXPECT_EQ(CommitHash(c), Tagged("bas/commit", Be64(0) + Be32(0) + "\x01" + H('\x01') + Be32(0)));
  // Nor is one with only a height: every field set is hashed.
  bas::v1::Commit h;
  h.set_height(1);
  EXPECT_EQ(CommitHash(h),
            Tagged("bas/commit", Be64(1) + Be32(0) + std::string(1, '\0') + Be32(0)));
}

bas::v1::Validator V(char key, uint64_t power, std::string name = "") {
  bas::v1::Validator v;
  v.set_key(H(key));
  v.set_power(power);
  v.set_name(std::move(name));
  return v;
}

TEST(ValidatorSetHashTest, LayoutWithKeysInBytewiseOrder) {
  // 0x80 sorts after 0x7f bytewise (unsigned), the trap of a signed-char comparison.
  const std::vector<bas::v1::Validator> set = {V('\x80', 5), V('\x01', 0x0102030405ULL),
                                               V('\x7f', 1)};
  const std::string expected =
      Be32(3) + H('\x01') + Be64(0x0102030405ULL) + H('\x7f') + Be64(1) + H('\x80') + Be64(5);
  EXPECT_EQ(ValidatorSetHash(set), Tagged("bas/validators", expected));
  EXPECT_EQ(ValidatorSetHash({}), Tagged("bas/validators", Be32(0)));
}

TEST(ValidatorSetHashTest, IndependentOfOrderAndNamesButNotPower) {
  std::vector<bas::v1::Validator> set = {V('\x03', 1, "c"), V('\x01', 2, "a"), V('\x02', 3, "b")};
  const crypto::Hash32 base = ValidatorSetHash(set);
  std::sort(set.begin(), set.end(), [](const auto& a, const auto& b) { return a.key() < b.key(); });
  do {
    EXPECT_EQ(ValidatorSetHash(set), base);
  } while (std::next_permutation(set.begin(), set.end(),
                                 [](const auto& a, const auto& b) { return a.key() < b.key(); }));
  std::vector<bas::v1::Validator> renamed = {V('\x03', 1, "x"), V('\x01', 2), V('\x02', 3)};
  EXPECT_EQ(ValidatorSetHash(renamed), base);
  std::vector<bas::v1::Validator> repowered = {V('\x03', 2), V('\x01', 2), V('\x02', 3)};
  EXPECT_NE(ValidatorSetHash(repowered), base);
}

TEST(TxRootTest, IsTheMerkleRootOverTheTxBytes) {
  const std::vector<std::string> all = {"tx-a", std::string("\x00\x01", 2), "",
                                        std::string(300, 'z'), "tx-e"};
  for (size_t n = 0; n <= all.size(); ++n) {
    const std::vector<std::string> txs(all.begin(), all.begin() + n);
    google::protobuf::RepeatedPtrField<std::string> field(txs.begin(), txs.end());
    EXPECT_EQ(TxRoot(field), crypto::MerkleRoot(txs)) << n << " txs";
  }
  google::protobuf::RepeatedPtrField<std::string> none;
  EXPECT_EQ(TxRoot(none), crypto::Sha256Of(""));
  // Order matters.
  google::protobuf::RepeatedPtrField<std::string> ab, ba;
  *ab.Add() = "a";
  *ab.Add() = "b";
  *ba.Add() = "b";
  *ba.Add() = "a";
  EXPECT_NE(TxRoot(ab), TxRoot(ba));
}

bas::v1::Event Ev(std::string type, std::vector<std::pair<std::string, std::string>> attrs) {
  bas::v1::Event e;
  e.set_type(std::move(type));
  for (auto& [k, v] : attrs) {
    auto* a = e.add_attributes();
    a->set_key(k);
    a->set_value(v);
  }
  return e;
}

bas::v1::BlockResults KnownResults() {
  bas::v1::BlockResults r;
  auto* t0 = r.add_tx_results();
  t0->set_code(0);
  t0->set_message("not hashed");
  *t0->add_events() = Ev("proposal_opened", {{"id", "p1"}, {"coalition", "bas-dc"}});
  auto* t1 = r.add_tx_results();
  t1->set_code(0x01020304);
  *r.add_end_block_events() = Ev("proposal_closed", {{"id", "p1"}});
  *r.add_end_block_events() = Ev("empty", {});
  *r.add_validator_updates() = V('\x09', 7, "ignored name");
  return r;
}

TEST(ResultsLeafTest, TxResultLeafLayout) {
  const bas::v1::BlockResults r = KnownResults();
  EXPECT_EQ(EncodeTxResultLeaf(r.tx_results(0)), Be32(0) + Be32(1) + Str("proposal_opened") +
                                                     Be32(2) + Str("id") + Str("p1") +
                                                     Str("coalition") + Str("bas-dc"));
  EXPECT_EQ(EncodeTxResultLeaf(r.tx_results(1)), Be32(0x01020304) + Be32(0));
}

TEST(ResultsLeafTest, EndBlockLeafLayout) {
  EXPECT_EQ(EncodeEndBlockLeaf(KnownResults()), Be32(2) + Str("proposal_closed") + Be32(1) +
                                                    Str("id") + Str("p1") + Str("empty") + Be32(0) +
                                                    Be32(1) + H('\x09') + Be64(7));
  EXPECT_EQ(EncodeEndBlockLeaf(bas::v1::BlockResults()), Be32(0) + Be32(0));
}

TEST(ResultsRootTest, OneLeafPerTxThenTheEndOfBlock) {
  const bas::v1::BlockResults r = KnownResults();
  EXPECT_EQ(ResultsRoot(r),
            crypto::MerkleRoot({EncodeTxResultLeaf(r.tx_results(0)),
                                EncodeTxResultLeaf(r.tx_results(1)), EncodeEndBlockLeaf(r)}));
  // A block without txs still has its end-of-block leaf.
  EXPECT_EQ(ResultsRoot(bas::v1::BlockResults()), crypto::MerkleRoot({Be32(0) + Be32(0)}));
}

TEST(ResultsRootTest, MessagesAreNotHashedButCodesAndEventsAre) {
  const crypto::Hash32 base = ResultsRoot(KnownResults());
  bas::v1::BlockResults r = KnownResults();
  r.mutable_tx_results(1)->set_message("another message");
  r.mutable_validator_updates(0)->set_name("another name");
  EXPECT_EQ(ResultsRoot(r), base);

  const std::vector<std::function<void(bas::v1::BlockResults&)>> edits = {
      [](auto& r) { r.mutable_tx_results(1)->set_code(1); },
      [](auto& r) { r.mutable_tx_results(0)->mutable_events(0)->set_type("x"); },
      [](auto& r) {
        r.mutable_tx_results(0)->mutable_events(0)->mutable_attributes(1)->set_value("x");
      },
      [](auto& r) { r.mutable_end_block_events()->RemoveLast(); },
      [](auto& r) { r.mutable_validator_updates(0)->set_power(8); },
      [](auto& r) { r.mutable_tx_results()->SwapElements(0, 1); },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    bas::v1::BlockResults e = KnownResults();
    edits[i](e);
    EXPECT_NE(ResultsRoot(e), base) << "edit " << i;
  }
}

}  // namespace
}  // namespace bas::node::chain
