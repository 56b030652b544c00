// `bas verify-vote`'s checks on a hand-built GET /v1/txs/{id} answer: every check holds on the
// real thing, and each tampering is caught by the check meant to catch it.
#include "cli/client/verify.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "bas/v1/chain.pb.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "governance/engine.h"
#include "node/chain/commit.h"
#include "node/chain/encoding.h"

namespace bas::client {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kChainId[] = "bas-test";
constexpr uint64_t kHeight = 7;
constexpr uint32_t kIndex = 1;

crypto::KeyPair Key(uint8_t seed) {
  crypto::SecretKey secret{};
  secret.fill(seed);
  return *crypto::KeyPair::FromSecret(secret);
}

std::string Bytes(crypto::ByteSpan b) { return std::string(crypto::AsStringView(b)); }

json ToJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &text, options).ok());
  return json::parse(text);
}

json Proof(const std::vector<crypto::Hash32>& leaves, uint64_t index) {
  json path = json::array();
  for (const auto& h : crypto::MerkleProof(leaves, index)) path.push_back(crypto::HexEncode(h));
  return {{"leaf_index", index}, {"leaf_count", leaves.size()}, {"path", path}};
}

// A block at kHeight with three votes; the one asked about is at kIndex. Validators: three of
// power 10; `signers` of them precommit.
struct Chain {
  std::vector<crypto::KeyPair> validators = {Key(0x11), Key(0x22), Key(0x33)};
  std::vector<std::string> txs;
  bas::v1::BlockResults results;
  bas::v1::BlockHeader header;
  bas::v1::ValidatorSet set;
  std::string tx_id_hex;

  explicit Chain(bool vote = true) {
    const crypto::KeyPair member = Key(0x42);
    for (uint64_t i = 0; i < 3; ++i) {
      bas::v1::TxBody body;
      body.set_chain_id(kChainId);
      body.set_nonce(i);
      if (vote || i != kIndex) {
        body.mutable_vote()->set_proposal_id(std::string(32, '\x07'));
        body.mutable_vote()->set_choice(i == kIndex ? bas::v1::NO : bas::v1::YES);
        body.mutable_vote()->set_reason(i == kIndex ? "no budget line" : "");
      } else {
        body.mutable_withdraw()->set_proposal_id(std::string(32, '\x07'));
      }
      governance::SignedTxBytes signed_tx = governance::SignTx(member, body);
      txs.push_back(signed_tx.bytes);
      bas::v1::TxResult* r = results.add_tx_results();
      r->set_code(0);
      bas::v1::Event* e = r->add_events();
      e->set_type("vote_cast");
      if (i == kIndex) tx_id_hex = crypto::HexEncode(signed_tx.tx_id);
    }
    for (const crypto::KeyPair& v : validators) {
      bas::v1::Validator* out = set.add_validators();
      out->set_key(Bytes(v.public_key()));
      out->set_power(10);
    }
    std::vector<bas::v1::Validator> list(set.validators().begin(), set.validators().end());
    const std::string zero(32, '\0');
    header.set_chain_id(kChainId);
    header.set_height(kHeight);
    header.set_time(1795685820);
    header.set_prev_block_hash(zero);
    google::protobuf::RepeatedPtrField<std::string> tx_field(txs.begin(), txs.end());
    header.set_tx_root(node::chain::HashBytes(node::chain::TxRoot(tx_field)));
    header.set_results_root(node::chain::HashBytes(node::chain::ResultsRoot(results)));
    header.set_app_hash(std::string(32, '\x09'));
    header.set_validators_hash(node::chain::HashBytes(node::chain::ValidatorSetHash(list)));
    header.set_next_validators_hash(header.validators_hash());
    header.set_proposer(Bytes(validators[0].public_key()));
    header.set_last_commit_hash(zero);
    header.set_evidence_hash(node::chain::HashBytes(crypto::MerkleRootFromLeafHashes({})));
  }

  std::string BlockHash() const { return node::chain::HashBytes(node::chain::BlockHash(header)); }

  bas::v1::Commit Commit(size_t signers) const {
    std::vector<bas::v1::ConsensusVote> votes;
    for (size_t i = 0; i < signers; ++i) {
      votes.push_back(node::chain::SignVote(validators[i], kChainId, bas::v1::PRECOMMIT, kHeight, 0,
                                            BlockHash()));
    }
    return node::chain::MakeCommit(kHeight, 0, BlockHash(), votes);
  }

  // The answer of GET /v1/txs/{id}, as node/rpc builds it.
  json TxAnswer(size_t signers = 3) const {
    std::vector<crypto::Hash32> tx_leaves, result_leaves;
    for (const auto& tx : txs) tx_leaves.push_back(crypto::MerkleLeafHash(crypto::AsBytes(tx)));
    for (const auto& r : results.tx_results()) {
      result_leaves.push_back(
          crypto::MerkleLeafHash(crypto::AsBytes(node::chain::EncodeTxResultLeaf(r))));
    }
    result_leaves.push_back(
        crypto::MerkleLeafHash(crypto::AsBytes(node::chain::EncodeEndBlockLeaf(results))));
    bas::v1::SignedTx tx;
    tx.ParseFromString(txs[kIndex]);
    return {{"tx_id", tx_id_hex},
            {"height", kHeight},
            {"index", kIndex},
            {"tx", ToJson(tx)},
            {"result", ToJson(results.tx_results(kIndex))},
            {"tx_proof", Proof(tx_leaves, kIndex)},
            {"result_proof", Proof(result_leaves, kIndex)},
            {"header", ToJson(header)},
            {"block_hash", crypto::HexEncode(BlockHash())},
            {"commit", ToJson(Commit(signers))},
            {"validators", ToJson(set)}};
  }

  // The answer of GET /v1/blocks/{height} (the parts verify-vote reads).
  json BlockAnswer() const {
    bas::v1::Block block;
    *block.mutable_header() = header;
    for (const auto& tx : txs) block.add_txs(tx);
    return {{"block", ToJson(block)}, {"block_hash", crypto::HexEncode(BlockHash())}};
  }
};

std::map<std::string, bool> Outcomes(const VerifyReport& report) {
  std::map<std::string, bool> out;
  for (const VerifyCheck& c : report.checks) out[c.name] = c.ok;
  return out;
}

const std::vector<std::string> kChecks = {"signature",  "inclusion", "result",
                                          "block hash", "commit",    "validators"};

TEST(VerifyTest, AValidAnswerPassesEveryCheck) {
  Chain chain;
  const VerifyReport report =
      VerifyTxResponse(chain.tx_id_hex, chain.TxAnswer(), chain.BlockAnswer());
  ASSERT_EQ(report.checks.size(), kChecks.size());
  for (size_t i = 0; i < kChecks.size(); ++i) {
    EXPECT_EQ(report.checks[i].name, kChecks[i]);
    EXPECT_TRUE(report.checks[i].ok) << report.checks[i].name << ": " << report.checks[i].detail;
  }
  EXPECT_TRUE(report.ok());
  EXPECT_TRUE(report.is_vote);
  EXPECT_THAT(report.tx_description, HasSubstr("vote NO on proposal 0707"));
  EXPECT_THAT(report.checks[1].detail, HasSubstr("leaf 1 of 3"));
  EXPECT_THAT(report.checks[1].detail, HasSubstr("from the block"));
  EXPECT_THAT(report.checks[4].detail, HasSubstr("3 of 3 validators, power 30 of 30"));
  EXPECT_EQ(report.validators.size(), 3u);
  const std::string text = FormatVerifyReport(report);
  EXPECT_THAT(text, HasSubstr("ok    signature: "));
  EXPECT_THAT(text, HasSubstr("must itself be trusted"));
  EXPECT_THAT(text, HasSubstr("verified: this vote"));
}

TEST(VerifyTest, WithoutTheBlockTheLeafCountComesFromTheProof) {
  Chain chain;
  const VerifyReport report = VerifyTxResponse(chain.tx_id_hex, chain.TxAnswer(), std::nullopt);
  EXPECT_TRUE(report.ok());
  EXPECT_THAT(report.checks[1].detail, HasSubstr("taken from the proof"));
}

TEST(VerifyTest, SaysWhenTheTxIsNotAVote) {
  Chain chain(/*vote=*/false);
  const VerifyReport report =
      VerifyTxResponse(chain.tx_id_hex, chain.TxAnswer(), chain.BlockAnswer());
  EXPECT_TRUE(report.ok());
  EXPECT_FALSE(report.is_vote);
  EXPECT_THAT(report.checks[0].detail, HasSubstr("non-vote tx: withdraw proposal"));
  EXPECT_THAT(FormatVerifyReport(report), HasSubstr("(not a vote)"));
}

// Flips the lowest bit of the first byte of a hex string.
std::string FlipHex(std::string hex) {
  hex[1] = hex[1] == '0' ? '1' : '0';
  return hex;
}

// Flips a bit in the middle of a base64 string (a bytes field of the JSON mapping).
std::string FlipBase64(const std::string& b64) {
  auto bytes = crypto::Base64Decode(b64);
  (*bytes)[bytes->size() / 2] ^= 0x01;
  return crypto::Base64Encode(*bytes);
}

struct TamperCase {
  std::string name;
  std::function<void(const Chain&, json& tx, json& block, std::string& id)> tamper;
  std::vector<std::string> failing;  // the checks that must fail; all others must hold
};

void PrintTo(const TamperCase& c, std::ostream* os) { *os << c.name; }

class TamperTest : public ::testing::TestWithParam<TamperCase> {};

TEST_P(TamperTest, IsCaughtByTheRightCheck) {
  const TamperCase& c = GetParam();
  Chain chain;
  json tx = chain.TxAnswer();
  json block = chain.BlockAnswer();
  std::string id = chain.tx_id_hex;
  c.tamper(chain, tx, block, id);
  const VerifyReport report = VerifyTxResponse(id, tx, block);
  EXPECT_FALSE(report.ok());
  std::map<std::string, bool> outcomes = Outcomes(report);
  for (const std::string& name : kChecks) {
    const bool should_fail = std::find(c.failing.begin(), c.failing.end(), name) != c.failing.end();
    ASSERT_TRUE(outcomes.count(name)) << name;
    EXPECT_EQ(outcomes[name], !should_fail) << name;
  }
  EXPECT_THAT(FormatVerifyReport(report), HasSubstr("NOT verified"));
}

INSTANTIATE_TEST_SUITE_P(
    Answers, TamperTest,
    ::testing::Values(
        TamperCase{"flipped_proof_byte",
                   [](const Chain&, json& tx, json&, std::string&) {
                     tx["tx_proof"]["path"][0] = FlipHex(tx["tx_proof"]["path"][0]);
                   },
                   {"inclusion"}},
        TamperCase{"wrong_block_hash",
                   [](const Chain&, json& tx, json&, std::string&) {
                     tx["block_hash"] = FlipHex(tx["block_hash"]);
                   },
                   {"block hash", "commit"}},
        TamperCase{"too_few_signatures",
                   [](const Chain& chain, json& tx, json&, std::string&) {
                     tx["commit"] = ToJson(chain.Commit(2));  // 20 of 30: not more than 2/3
                   },
                   {"commit"}},
        TamperCase{"forged_commit_signature",
                   [](const Chain&, json& tx, json&, std::string&) {
                     tx["commit"]["signatures"][2]["signature"] =
                         FlipBase64(tx["commit"]["signatures"][2]["signature"]);
                   },
                   {"commit"}},
        TamperCase{"other_validator_set",
                   [](const Chain& chain, json& tx, json&, std::string&) {
                     bas::v1::ValidatorSet set = chain.set;
                     set.mutable_validators(0)->set_key(Bytes(Key(0x55).public_key()));
                     tx["validators"] = ToJson(set);
                   },
                   {"commit", "validators"}},
        TamperCase{
            "changed_vote_choice",
            [](const Chain&, json& tx, json&, std::string&) {
              // The body as signed, with NO turned into YES: the signature no longer
              // holds and the tx is no longer the leaf.
              bas::v1::SignedTx signed_tx;
              ASSERT_TRUE(
                  google::protobuf::util::JsonStringToMessage(tx["tx"].dump(), &signed_tx).ok());
              bas::v1::TxBody body;
              body.ParseFromString(signed_tx.body());
              body.mutable_vote()->set_choice(bas::v1::YES);
              signed_tx.set_body(body.SerializeAsString());
              tx["tx"] = ToJson(signed_tx);
            },
            {"signature", "inclusion"}},
        TamperCase{"other_tx_id",
                   [](const Chain&, json&, json&, std::string& id) { id = FlipHex(id); },
                   {"signature"}},
        TamperCase{"wrong_leaf_count_in_block",
                   [](const Chain&, json&, json& block, std::string&) {
                     block["block"]["txs"].erase(2);  // the block no longer hashes to tx_root
                   },
                   {"inclusion"}},
        TamperCase{"refused_result",
                   [](const Chain&, json& tx, json&, std::string&) {
                     tx["result"]["code"] = 3;  // not the result under results_root
                   },
                   {"result"}},
        TamperCase{"header_of_another_height",
                   [](const Chain&, json& tx, json&, std::string&) { tx["height"] = 8; },
                   {"block hash", "commit"}}),
    [](const auto& info) { return info.param.name; });

TEST(VerifyTest, AMalformedAnswerFailsAtOnce) {
  Chain chain;
  json tx = chain.TxAnswer();
  tx.erase("header");
  VerifyReport report = VerifyTxResponse(chain.tx_id_hex, tx, std::nullopt);
  ASSERT_EQ(report.checks.size(), 1u);
  EXPECT_EQ(report.checks[0].name, "response");
  EXPECT_THAT(report.checks[0].detail, HasSubstr("no \"header\""));
  EXPECT_FALSE(report.ok());

  tx = chain.TxAnswer();
  tx["header"]["tx_root"] = "AAAA";  // 3 bytes: not a 32-byte hash
  report = VerifyTxResponse(chain.tx_id_hex, tx, std::nullopt);
  EXPECT_EQ(report.checks[0].name, "response");
  EXPECT_FALSE(report.ok());
}

}  // namespace
}  // namespace bas::client
