// Engine-level checks that a scenario cannot express: bytes that are not valid UTF-8, a
// malformed signed tx, the signatures of CheckTx, a rotated-out key, and a refused DeliverTx
// writing nothing (governance/engine.h, scenarios/README.md "Precise rules" 1).
#include <functional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "governance/engine.h"
#include "governance/query.h"
#include "tests/unit/governance/scenario_fixture.h"

namespace bas::governance::testing {
namespace {

constexpr std::string_view kChain = scenario::kScenarioChainId;

crypto::KeyPair Key(std::string_view id) {
  Result<crypto::KeyPair> pair = crypto::KeyPair::FromSecret(scenario::ScenarioSecretKey(id));
  EXPECT_TRUE(pair.ok()) << id;
  return pair.value();
}

template <size_t N>
std::string Bytes(const std::array<uint8_t, N>& a) {
  return std::string(a.begin(), a.end());
}

// A SignedTx over body bytes: signer's key in the signer field, signed by sig_by (the signer
// itself by default) over tagged_hash("bas/tx", body).
std::string SignBytes(const std::string& body, const crypto::KeyPair& signer,
                      const crypto::KeyPair* sig_by = nullptr) {
  bas::v1::SignedTx tx;
  tx.set_body(body);
  tx.set_signer(Bytes(signer.public_key()));
  crypto::Hash32 msg = TxSigHash(body);
  tx.set_signature(Bytes((sig_by ? *sig_by : signer).Sign(msg)));
  return tx.SerializeAsString();
}

std::string Sign(const bas::v1::TxBody& body, const crypto::KeyPair& signer,
                 const crypto::KeyPair* sig_by = nullptr) {
  return SignBytes(body.SerializeAsString(), signer, sig_by);
}

bas::v1::TxBody ProposeBody(uint64_t nonce, const std::string& title) {
  bas::v1::TxBody body;
  body.set_chain_id(std::string(kChain));
  body.set_nonce(nonce);
  bas::v1::Propose* p = body.mutable_propose();
  p->set_coalition("bas-dc");
  p->set_title(title);
  p->add_actions()->mutable_resolution()->set_text("The coalition resolves.");
  return body;
}

bas::v1::TxBody VoteBody(uint64_t nonce, const crypto::Hash32& proposal, bas::v1::VoteChoice c,
                         const std::string& reason = "") {
  bas::v1::TxBody body;
  body.set_chain_id(std::string(kChain));
  body.set_nonce(nonce);
  bas::v1::Vote* v = body.mutable_vote();
  v->set_proposal_id(Bytes(proposal));
  v->set_choice(c);
  v->set_reason(reason);
  return body;
}

bas::v1::TxBody RotateBody(uint64_t nonce, const crypto::KeyPair& old_key,
                           const crypto::KeyPair& new_key, const crypto::KeyPair& new_sig_by,
                           std::string_view chain = kChain) {
  bas::v1::TxBody body;
  body.set_chain_id(std::string(kChain));
  body.set_nonce(nonce);
  bas::v1::RotateKey* r = body.mutable_rotate_key();
  r->set_new_key(Bytes(new_key.public_key()));
  r->set_new_key_signature(
      Bytes(new_sig_by.Sign(RotateKeySigHash(old_key.public_key(), new_key.public_key(), chain))));
  return body;
}

// Serialises body and swaps marker for bad (same length, so every length prefix still holds):
// a way to put bytes protobuf would refuse to serialise into a string field.
std::string WithRawBytes(const bas::v1::TxBody& body, const std::string& marker,
                         const std::string& bad) {
  EXPECT_EQ(marker.size(), bad.size());
  std::string bytes = body.SerializeAsString();
  size_t at = bytes.find(marker);
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) bytes.replace(at, marker.size(), bad);
  return bytes;
}

constexpr char kMarker[] = "@@MARK@@";  // 8 bytes

struct CheckCase {
  std::string name;
  std::function<std::string()> make;  // the signed tx bytes
  Code want;
};

std::vector<CheckCase> Cases() {
  static const crypto::KeyPair gov1 = Key("gov-1");
  static const crypto::KeyPair gov2 = Key("gov-2");
  static const crypto::KeyPair fresh = Key("gov-1-new");
  const crypto::Hash32 some_proposal = crypto::TaggedHash("bas/scenario-ref", "p1");
  auto marked_title = [] { return ProposeBody(0, kMarker); };
  auto bad_title = [=](const std::string& bad) {
    return [=] { return SignBytes(WithRawBytes(marked_title(), kMarker, bad), gov1); };
  };
  return {
      {"ValidPropose", [] { return Sign(ProposeBody(0, "Plain title"), gov1); }, Code::kOk},
      {"ValidMultibyteTitle",
       [] { return Sign(ProposeBody(0, "Plan \xe2\x82\xac \xf0\x9f\x8c\x8d caf\xc3\xa9"), gov1); },
       Code::kOk},
      // ---- Not UTF-8 ----
      {"InvalidUtf8TitleBadLeadBytes",
       bad_title("\xff\xfe"
                 "abcdef"),
       Code::kInvalidArgument},
      {"InvalidUtf8TitleLoneContinuation",
       bad_title("ab\x80"
                 "cdefg"),
       Code::kInvalidArgument},
      {"InvalidUtf8TitleOverlong",
       bad_title("\xc0\xaf"
                 "abcdef"),
       Code::kInvalidArgument},
      {"InvalidUtf8TitleSurrogate",
       bad_title("\xed\xa0\x80"
                 "abcde"),
       Code::kInvalidArgument},
      {"InvalidUtf8TitleTruncatedAtEnd", bad_title("abcdef\xe2\x82"), Code::kInvalidArgument},
      {"InvalidUtf8TitleAboveU10FFFF",
       bad_title("\xf4\x90\x80\x80"
                 "abcd"),
       Code::kInvalidArgument},
      {"InvalidUtf8Summary",
       [] {
         bas::v1::TxBody body = ProposeBody(0, "Title");
         body.mutable_propose()->set_summary(kMarker);
         return SignBytes(WithRawBytes(body, kMarker,
                                       "\xfe"
                                       "summary"),
                          gov1);
       },
       Code::kInvalidArgument},
      {"InvalidUtf8ResolutionText",
       [] {
         bas::v1::TxBody body = ProposeBody(0, "Title");
         body.mutable_propose()->mutable_actions(0)->mutable_resolution()->set_text(kMarker);
         return SignBytes(WithRawBytes(body, kMarker,
                                       "text\xc3"
                                       "abc"),
                          gov1);
       },
       Code::kInvalidArgument},
      {"InvalidUtf8VoteReason",
       [=] {
         return SignBytes(WithRawBytes(VoteBody(0, some_proposal, bas::v1::NO, kMarker), kMarker,
                                       "reason\xff"
                                       "!"),
                          gov2);
       },
       Code::kInvalidArgument},
      {"InvalidUtf8ApplicationStatement",
       [] {
         bas::v1::TxBody body;
         body.set_chain_id(std::string(kChain));
         bas::v1::ApplyForMembership* a = body.mutable_apply();
         a->set_coalition("bas-dc");
         a->set_member_id("new-1");
         a->set_group(bas::v1::ACADEMIA);
         a->set_statement(kMarker);
         return SignBytes(WithRawBytes(body, kMarker,
                                       "\xc3\x28"
                                       "statem"),
                          Key("new-1"));
       },
       Code::kInvalidArgument},
      // ---- Malformed ----
      {"NotAProtobuf", [] { return std::string("not a protobuf at all \xff\xff"); },
       Code::kInvalidArgument},
      {"EmptySignedTx", [] { return std::string(); }, Code::kInvalidArgument},
      {"BodyNotATxBody", [] { return SignBytes("\xff\xff\xff garbage", gov1); },
       Code::kInvalidArgument},
      {"BodyWithoutTx",
       [] {
         bas::v1::TxBody body;
         body.set_chain_id(std::string(kChain));
         return Sign(body, gov1);
       },
       Code::kInvalidArgument},
      {"WrongChainId",
       [] {
         bas::v1::TxBody body = ProposeBody(0, "Title");
         body.set_chain_id("another-chain");
         return Sign(body, gov1);
       },
       Code::kInvalidArgument},
      {"SignerNot32Bytes",
       [] {
         bas::v1::SignedTx tx;
         tx.ParseFromString(Sign(ProposeBody(0, "Title"), gov1));
         tx.set_signer(tx.signer().substr(0, 31));
         return tx.SerializeAsString();
       },
       Code::kInvalidArgument},
      {"SignatureNot64Bytes",
       [] {
         bas::v1::SignedTx tx;
         tx.ParseFromString(Sign(ProposeBody(0, "Title"), gov1));
         tx.set_signature(tx.signature().substr(0, 63));
         return tx.SerializeAsString();
       },
       Code::kInvalidArgument},
      // ---- Signatures ----
      {"SignedByAnotherKey", [] { return Sign(ProposeBody(0, "Title"), gov1, &gov2); },
       Code::kBadSignature},
      {"SignatureOfAnotherBody",
       [] {
         bas::v1::SignedTx tx;
         tx.ParseFromString(Sign(ProposeBody(0, "Title"), gov1));
         tx.set_body(ProposeBody(0, "Other title").SerializeAsString());
         return tx.SerializeAsString();
       },
       Code::kBadSignature},
      {"SignatureOverUntaggedBody",  // BIP340 over the raw body, not tagged_hash("bas/tx", .)
       [] {
         std::string body = ProposeBody(0, "Title").SerializeAsString();
         bas::v1::SignedTx tx;
         tx.set_body(body);
         tx.set_signer(Bytes(gov1.public_key()));
         tx.set_signature(Bytes(gov1.Sign(crypto::AsBytes(body))));
         return tx.SerializeAsString();
       },
       Code::kBadSignature},
      // ---- INVALID_ARGUMENT comes before BAD_SIGNATURE ----
      {"OverLimitTitleWithBadSignature",
       [] { return Sign(ProposeBody(0, std::string(kMaxTitleBytes + 1, 't')), gov1, &gov2); },
       Code::kInvalidArgument},
      {"InvalidUtf8WithBadSignature",
       [=] {
         return SignBytes(WithRawBytes(marked_title(), kMarker,
                                       "\xff"
                                       "1234567"),
                          gov1, &gov2);
       },
       Code::kInvalidArgument},
      {"WrongChainWithBadSignature",
       [] {
         bas::v1::TxBody body = ProposeBody(0, "Title");
         body.set_chain_id("another-chain");
         return Sign(body, gov1, &gov2);
       },
       Code::kInvalidArgument},
      // ---- RotateKey carries a second signature ----
      {"RotateKeyValid", [] { return Sign(RotateBody(0, gov1, fresh, fresh), gov1); }, Code::kOk},
      {"RotateKeyNewKeySignatureByAnotherKey",
       [] { return Sign(RotateBody(0, gov1, fresh, gov2), gov1); }, Code::kBadSignature},
      {"RotateKeyNewKeySignatureForAnotherChain",
       [] { return Sign(RotateBody(0, gov1, fresh, fresh, "another-chain"), gov1); },
       Code::kBadSignature},
      {"RotateKeyNewKeyNot32Bytes",
       [] {
         bas::v1::TxBody body = RotateBody(0, gov1, fresh, fresh);
         body.mutable_rotate_key()->set_new_key(Bytes(fresh.public_key()).substr(0, 31));
         return Sign(body, gov1);
       },
       Code::kInvalidArgument},
  };
}

class CheckTxTest : public ::testing::TestWithParam<CheckCase> {};

TEST_P(CheckTxTest, ReturnsTheExpectedCode) {
  const CheckCase& c = GetParam();
  CheckTxResult r = CheckTx(c.make(), kChain);
  EXPECT_EQ(CodeName(r.outcome.code), CodeName(c.want)) << r.outcome.message;
  if (!r.outcome.ok()) {
    EXPECT_FALSE(r.outcome.message.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Stateless, CheckTxTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<CheckCase>& info) {
                           return info.param.name;
                         });

TEST(CheckTxTest, AcceptedTxCarriesSignerBodyAndId) {
  crypto::KeyPair gov1 = Key("gov-1");
  bas::v1::TxBody body = ProposeBody(3, "Plain title");
  std::string body_bytes = body.SerializeAsString();
  CheckTxResult r = CheckTx(SignBytes(body_bytes, gov1), kChain);
  ASSERT_TRUE(r.outcome.ok()) << r.outcome.message;
  EXPECT_EQ(r.tx.signer, gov1.public_key());
  EXPECT_EQ(r.tx.body.nonce(), 3u);
  EXPECT_EQ(r.tx.body.propose().title(), "Plain title");
  EXPECT_EQ(r.tx.signed_tx.body(), body_bytes);
  EXPECT_EQ(r.tx.tx_id, TxId(gov1.public_key(), body_bytes));
  // The id does not depend on the signature's randomness.
  CheckTxResult again = CheckTx(SignBytes(body_bytes, gov1), kChain);
  ASSERT_TRUE(again.outcome.ok());
  EXPECT_EQ(again.tx.tx_id, r.tx.tx_id);
}

TEST(CheckTxTest, TxIdIsTheTaggedHashOfSignerAndBody) {
  crypto::KeyPair gov1 = Key("gov-1");
  std::string body = ProposeBody(0, "x").SerializeAsString();
  EXPECT_EQ(TxId(gov1.public_key(), body),
            crypto::TaggedHash("bas/txid", Bytes(gov1.public_key()) + body));
  EXPECT_EQ(TxSigHash(body), crypto::TaggedHash("bas/tx", body));
}

TEST(CheckTxTest, SkipsSignatureWhenTheCallerVouchesForIt) {
  crypto::KeyPair gov1 = Key("gov-1");
  crypto::KeyPair gov2 = Key("gov-2");
  std::string bad = Sign(ProposeBody(0, "Title"), gov1, &gov2);
  EXPECT_EQ(CheckTx(bad, kChain, /*verify_signature=*/false).outcome.code, Code::kOk);
  EXPECT_EQ(CheckTx(bad, kChain, /*verify_signature=*/true).outcome.code, Code::kBadSignature);
  // Limits are still checked.
  std::string long_title = Sign(ProposeBody(0, std::string(kMaxTitleBytes + 1, 't')), gov1);
  EXPECT_EQ(CheckTx(long_title, kChain, false).outcome.code, Code::kInvalidArgument);
}

TEST(CodesTest, NamesAreStableAndRoundTrip) {
  const std::vector<std::pair<Code, std::string>> names = {
      {Code::kOk, "OK"},
      {Code::kInvalidArgument, "INVALID_ARGUMENT"},
      {Code::kBadSignature, "BAD_SIGNATURE"},
      {Code::kBadNonce, "BAD_NONCE"},
      {Code::kNotMember, "NOT_MEMBER"},
      {Code::kNotAuthorized, "NOT_AUTHORIZED"},
      {Code::kNotEligible, "NOT_ELIGIBLE"},
      {Code::kUnknownProposal, "UNKNOWN_PROPOSAL"},
      {Code::kVotingClosed, "VOTING_CLOSED"},
      {Code::kDuplicate, "DUPLICATE"},
      {Code::kNotFound, "NOT_FOUND"}};
  for (const auto& [code, name] : names) {
    EXPECT_EQ(CodeName(code), name);
    std::optional<Code> back = CodeFromName(name);
    ASSERT_TRUE(back.has_value()) << name;
    EXPECT_EQ(*back, code);
  }
  EXPECT_FALSE(CodeFromName("NOT_A_CODE").has_value());
  EXPECT_FALSE(CodeFromName("").has_value());
}

// ---- DeliverTx over a state the runner left ----

// gov-1 proposes p1 (a resolution, 7 days); gov-2 rotates its key at t = 10.
TestRun RotatedState() {
  return RunOk(Scenario({Coalition("bas-dc", Members({2, 0, 1, 1}))},
                        {Step(0, {Propose("gov-1", "p1", {Resolution()})}),
                         Step(10, {RotateKey("gov-2", "gov-2-next")})}));
}

BlockContext NextBlock(int64_t t) {
  BlockContext ctx;
  ctx.chain_id = std::string(kChain);
  ctx.height = 3;  // the scenario's two steps were heights 1 and 2 (or 0 and 1)
  ctx.time = kStart + t;
  return ctx;
}

TEST(DeliverTxTest, RotatedOutKeyIsNoLongerAMember) {
  TestRun run = RotatedState();
  ASSERT_THAT(Rejections(run.output), ::testing::IsEmpty());
  ASSERT_EQ(run.refs.count("p1"), 1u);
  const crypto::Hash32 p1 = run.refs.at("p1");
  crypto::KeyPair old_key = Key("gov-2");
  crypto::KeyPair new_key = Key("gov-2-next");
  ASSERT_EQ(GetAccount(run.state, old_key.public_key()).next_nonce(), 1u);

  Engine engine(run.state);
  engine.BeginBlock(NextBlock(100));
  CheckTxResult by_old = CheckTx(Sign(VoteBody(1, p1, bas::v1::YES), old_key), kChain);
  ASSERT_TRUE(by_old.outcome.ok()) << by_old.outcome.message;
  EXPECT_EQ(engine.DeliverTx(by_old.tx).outcome.code, Code::kNotMember);
  CheckTxResult by_new = CheckTx(Sign(VoteBody(0, p1, bas::v1::YES), new_key), kChain);
  ASSERT_TRUE(by_new.outcome.ok()) << by_new.outcome.message;
  TxResult accepted = engine.DeliverTx(by_new.tx);
  EXPECT_EQ(accepted.outcome.code, Code::kOk) << accepted.outcome.message;
  // The vote is gov-2's, under its stable member id.
  std::vector<bas::v1::VoteRecord> votes = ListVotes(engine.view(), p1);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].member_id(), "gov-2");
}

TEST(DeliverTxTest, RefusedTxWritesNothing) {
  TestRun run = RotatedState();
  ASSERT_EQ(run.refs.count("p1"), 1u);
  const crypto::Hash32 p1 = run.refs.at("p1");
  crypto::KeyPair civ = Key("civ-1");
  Engine engine(run.state);
  engine.BeginBlock(NextBlock(100));
  (void)engine.TakeWrites();  // whatever the block itself records

  struct Refused {
    std::string what;
    bas::v1::TxBody body;
    const char* signer;
    Code want;
  };
  bas::v1::TxBody closed_vote = VoteBody(0, p1, bas::v1::YES);
  const std::vector<Refused> refused = {
      {"nonce too high", VoteBody(5, p1, bas::v1::YES), "civ-1", Code::kBadNonce},
      {"unknown proposal", VoteBody(0, crypto::TaggedHash("x", "y"), bas::v1::YES), "civ-1",
       Code::kUnknownProposal},
      {"not a member", VoteBody(0, p1, bas::v1::NO, "outside"), "outsider-1", Code::kNotMember},
      {"proposal to unknown coalition",
       [] {
         bas::v1::TxBody b = ProposeBody(0, "Title");
         b.mutable_propose()->set_coalition("nope-dc");
         return b;
       }(),
       "civ-1", Code::kNotFound},
  };
  for (const Refused& r : refused) {
    CheckTxResult checked = CheckTx(Sign(r.body, Key(r.signer)), kChain);
    ASSERT_TRUE(checked.outcome.ok()) << r.what << ": " << checked.outcome.message;
    EXPECT_EQ(CodeName(engine.DeliverTx(checked.tx).outcome.code), CodeName(r.want)) << r.what;
    EXPECT_THAT(engine.TakeWrites(), ::testing::IsEmpty()) << r.what;
  }
  EXPECT_EQ(GetAccount(engine.view(), civ.public_key()).next_nonce(), 0u);
  CheckTxResult ok = CheckTx(Sign(VoteBody(0, p1, bas::v1::YES), civ), kChain);
  ASSERT_TRUE(ok.outcome.ok());
  EXPECT_EQ(engine.DeliverTx(ok.tx).outcome.code, Code::kOk);
  // view() reads through the pending writes, which TakeWrites hands over.
  EXPECT_EQ(GetAccount(engine.view(), civ.public_key()).next_nonce(), 1u);
  EXPECT_FALSE(engine.TakeWrites().empty());
}

TEST(DeliverTxTest, VoteAtOrAfterEndIsVotingClosed) {
  TestRun run = RotatedState();
  ASSERT_EQ(run.refs.count("p1"), 1u);
  const crypto::Hash32 p1 = run.refs.at("p1");
  std::optional<bas::v1::Proposal> p = GetProposal(run.state, p1);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->end_time(), kStart + 7 * kDay);
  {
    Engine engine(run.state);
    engine.BeginBlock(NextBlock(7 * kDay - 1));
    CheckTxResult v = CheckTx(Sign(VoteBody(0, p1, bas::v1::YES), Key("civ-1")), kChain);
    ASSERT_TRUE(v.outcome.ok());
    EXPECT_EQ(engine.DeliverTx(v.tx).outcome.code, Code::kOk);
  }
  {
    Engine engine(run.state);
    engine.BeginBlock(NextBlock(7 * kDay));
    CheckTxResult v = CheckTx(Sign(VoteBody(0, p1, bas::v1::YES), Key("civ-1")), kChain);
    ASSERT_TRUE(v.outcome.ok());
    EXPECT_EQ(engine.DeliverTx(v.tx).outcome.code, Code::kVotingClosed);
  }
}

}  // namespace
}  // namespace bas::governance::testing
