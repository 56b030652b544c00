// The mempool (node/mempool/mempool.h): admission (CheckTx, the nonce window, duplicates),
// the limits, the order Reap hands txs out in, and Update after a block.
#include "node/mempool/mempool.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "governance/engine.h"
#include "tests/unit/node/test_chain.h"

namespace bas::node::mempool {
namespace {

using testing::TestChain;
using testing::TxIdOf;

constexpr size_t kUnlimited = 1 << 30;

Limits Roomy() { return Limits{1000, 1 << 24, 100, 8}; }

// The raw bytes of what Reap returned, in order.
std::vector<std::string> Raw(const std::vector<TxPtr>& txs) {
  std::vector<std::string> out;
  for (const auto& tx : txs) out.push_back(tx->raw);
  return out;
}

void ExpectAccepted(const AddResult& r, std::string_view tx) {
  EXPECT_EQ(r.code, AddCode::kAccepted) << r.message;
  EXPECT_EQ(r.tx_id, TxIdOf(tx));
}

class MempoolTest : public ::testing::Test {
 protected:
  MempoolTest() : pool_(chain_.chain_id(), Roomy()) {}

  AddResult Add(const std::string& tx) { return pool_.Add(tx, chain_.state()); }
  AddResult Add(Mempool& pool, const std::string& tx) { return pool.Add(tx, chain_.state()); }
  std::vector<std::string> ReapAll() const {
    return Raw(pool_.Reap(kUnlimited, kUnlimited, chain_.state()));
  }
  // Member i's tx with nonce n (a proposal: valid for any member at any nonce).
  std::string Tx(size_t member, uint64_t nonce) const {
    return chain_.Propose(member, nonce,
                          "m" + std::to_string(member) + "n" + std::to_string(nonce));
  }

  TestChain chain_;
  Mempool pool_;
};

TEST_F(MempoolTest, AcceptsAValidTx) {
  const std::string tx = Tx(0, 0);
  ExpectAccepted(Add(tx), tx);
  EXPECT_EQ(pool_.size(), 1u);
  EXPECT_EQ(pool_.bytes(), tx.size());
  EXPECT_FALSE(pool_.empty());
  const auto reaped = pool_.Reap(10, kUnlimited, chain_.state());
  ASSERT_EQ(reaped.size(), 1u);
  EXPECT_EQ(reaped[0]->raw, tx);
  EXPECT_EQ(reaped[0]->tx_id, TxIdOf(tx));
  EXPECT_EQ(pool_.size(), 1u) << "Reap leaves the txs in the pool";
}

TEST_F(MempoolTest, RejectsWhatCheckTxRejects) {
  bas::v1::SignedTx bad_sig;
  ASSERT_TRUE(bad_sig.ParseFromString(Tx(0, 0)));
  (*bad_sig.mutable_signature())[3] ^= 1;
  bas::v1::SignedTx other_signer;
  ASSERT_TRUE(other_signer.ParseFromString(Tx(0, 0)));
  other_signer.set_signer(testing::KeyBytes(chain_.member(1)));
  struct Case {
    const char* what;
    std::string bytes;
    governance::Code code;
  };
  const std::vector<Case> cases = {
      {"flipped signature byte", bad_sig.SerializeAsString(), governance::Code::kBadSignature},
      {"signature of another key", other_signer.SerializeAsString(),
       governance::Code::kBadSignature},
      {"malformed bytes", "\xff\xff\xff", governance::Code::kInvalidArgument},
      {"empty", "", governance::Code::kInvalidArgument},
      {"another chain", testing::ProposeTx("bas-other", chain_.member(0), 0),
       governance::Code::kInvalidArgument},
      {"too large", std::string(governance::kMaxTxBytes + 1, 'x'),
       governance::Code::kInvalidArgument},
  };
  for (const auto& c : cases) {
    const AddResult r = Add(c.bytes);
    EXPECT_EQ(r.code, AddCode::kRejected) << c.what;
    EXPECT_EQ(r.governance_code, c.code) << c.what << ": " << r.message;
  }
  EXPECT_EQ(pool_.size(), 0u);
  EXPECT_EQ(pool_.bytes(), 0u);
}

TEST_F(MempoolTest, NonceWindow) {
  // Member 0's account moves to nonce 2.
  chain_.Produce({Tx(0, 0)});
  chain_.Produce({Tx(0, 1)});
  ASSERT_EQ(chain_.NextNonce(0), 2u);
  const uint64_t gap = Roomy().max_nonce_gap;
  struct Case {
    uint64_t nonce;
    bool accepted;
  };
  const std::vector<Case> cases = {
      {0, false}, {1, false}, {2, true}, {2 + gap, true}, {3 + gap, false}, {~uint64_t{0}, false},
  };
  for (const auto& c : cases) {
    const AddResult r = Add(Tx(0, c.nonce));
    if (c.accepted) {
      EXPECT_EQ(r.code, AddCode::kAccepted) << "nonce " << c.nonce << ": " << r.message;
    } else {
      EXPECT_EQ(r.code, AddCode::kRejected) << "nonce " << c.nonce;
      EXPECT_EQ(r.governance_code, governance::Code::kBadNonce) << "nonce " << c.nonce;
    }
  }
  EXPECT_EQ(pool_.size(), 2u);
  // A new key's account starts at 0.
  const std::string outsider =
      testing::ProposeTx(chain_.chain_id(), testing::DeterministicKey("x", 0), 0);
  EXPECT_EQ(Add(outsider).code, AddCode::kAccepted);
}

TEST_F(MempoolTest, DuplicatesAndConflicts) {
  const std::string tx = Tx(0, 0);
  ExpectAccepted(Add(tx), tx);
  const AddResult again = Add(tx);
  EXPECT_EQ(again.code, AddCode::kAlreadyKnown);
  EXPECT_EQ(again.tx_id, TxIdOf(tx));
  // The same body signed again (fresh BIP340 randomness): the same tx id, the same tx.
  bas::v1::SignedTx parsed;
  ASSERT_TRUE(parsed.ParseFromString(tx));
  bas::v1::TxBody body;
  ASSERT_TRUE(body.ParseFromString(parsed.body()));
  const std::string resigned = governance::SignTx(chain_.member(0), body).bytes;
  ASSERT_NE(resigned, tx);
  EXPECT_EQ(Add(resigned).code, AddCode::kAlreadyKnown);
  // Another body with the signer's same nonce.
  const AddResult conflict = Add(chain_.Propose(0, 0, "Something else"));
  EXPECT_EQ(conflict.code, AddCode::kRejected);
  EXPECT_EQ(conflict.governance_code, governance::Code::kBadNonce);
  EXPECT_EQ(pool_.size(), 1u);
  EXPECT_EQ(pool_.bytes(), tx.size());
  EXPECT_EQ(ReapAll(), std::vector<std::string>{tx});
  // The same nonce of another signer is no conflict.
  EXPECT_EQ(Add(Tx(1, 0)).code, AddCode::kAccepted);
}

TEST_F(MempoolTest, MaxTxs) {
  Mempool pool(chain_.chain_id(), Limits{2, 1 << 24, 100, 8});
  EXPECT_EQ(Add(pool, Tx(0, 0)).code, AddCode::kAccepted);
  EXPECT_EQ(Add(pool, Tx(1, 0)).code, AddCode::kAccepted);
  const std::string third = Tx(2, 0);
  const AddResult full = Add(pool, third);
  EXPECT_EQ(full.code, AddCode::kFull);
  EXPECT_EQ(pool.size(), 2u);
  // A tx already in the pool is known, not "full".
  EXPECT_EQ(Add(pool, Tx(0, 0)).code, AddCode::kAlreadyKnown);
  // Room again once a block took one.
  chain_.Produce({Tx(0, 0)});
  pool.Update(chain_.state(), {});
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_EQ(Add(pool, third).code, AddCode::kAccepted);
}

TEST_F(MempoolTest, MaxBytes) {
  const std::string a = Tx(0, 0), b = Tx(1, 0), small = Tx(2, 0);
  Mempool pool(chain_.chain_id(), Limits{100, a.size() + b.size() - 1, 100, 8});
  EXPECT_EQ(Add(pool, a).code, AddCode::kAccepted);
  EXPECT_EQ(Add(pool, b).code, AddCode::kFull);
  EXPECT_EQ(pool.bytes(), a.size());
  Mempool exact(chain_.chain_id(), Limits{100, a.size() + b.size(), 100, 8});
  EXPECT_EQ(Add(exact, a).code, AddCode::kAccepted);
  EXPECT_EQ(Add(exact, b).code, AddCode::kAccepted);
  EXPECT_EQ(exact.bytes(), a.size() + b.size());
  EXPECT_EQ(Add(exact, small).code, AddCode::kFull);
}

TEST_F(MempoolTest, MaxPerSigner) {
  Mempool pool(chain_.chain_id(), Limits{100, 1 << 24, 2, 8});
  EXPECT_EQ(Add(pool, Tx(0, 0)).code, AddCode::kAccepted);
  EXPECT_EQ(Add(pool, Tx(0, 1)).code, AddCode::kAccepted);
  EXPECT_EQ(Add(pool, Tx(0, 2)).code, AddCode::kFull);
  EXPECT_EQ(Add(pool, Tx(1, 0)).code, AddCode::kAccepted) << "the limit is per signer";
  EXPECT_EQ(Add(pool, Tx(1, 1)).code, AddCode::kAccepted);
  EXPECT_EQ(pool.size(), 4u);
}

TEST_F(MempoolTest, ReapGivesEachSignersTxsInNonceOrder) {
  const std::string a0 = Tx(0, 0), a1 = Tx(0, 1), a2 = Tx(0, 2);
  ExpectAccepted(Add(a2), a2);
  ExpectAccepted(Add(a1), a1);
  EXPECT_TRUE(ReapAll().empty()) << "nonce 0 is missing";
  ExpectAccepted(Add(a0), a0);
  EXPECT_EQ(ReapAll(), (std::vector<std::string>{a0, a1, a2}));
}

TEST_F(MempoolTest, GapHoldsBackLaterTxs) {
  const std::string a0 = Tx(0, 0), a2 = Tx(0, 2), a3 = Tx(0, 3), b0 = Tx(1, 0);
  for (const auto& tx : {a0, a2, a3, b0}) ExpectAccepted(Add(tx), tx);
  EXPECT_EQ(ReapAll(), (std::vector<std::string>{a0, b0}));
  const std::string a1 = Tx(0, 1);
  ExpectAccepted(Add(a1), a1);
  EXPECT_EQ(ReapAll(), (std::vector<std::string>{a0, b0, a1, a2, a3}));
}

TEST_F(MempoolTest, ArrivalOrderAcrossSigners) {
  const std::string a0 = Tx(0, 0), a1 = Tx(0, 1), b0 = Tx(1, 0), b1 = Tx(1, 1), c0 = Tx(2, 0);
  for (const auto& tx : {b0, a0, c0, a1, b1}) ExpectAccepted(Add(tx), tx);
  EXPECT_EQ(ReapAll(), (std::vector<std::string>{b0, a0, c0, a1, b1}));
  // A signer whose nonce 1 came before its nonce 0 is ready when nonce 0 arrives.
  Mempool pool(chain_.chain_id(), Roomy());
  for (const auto& tx : {a1, b0, a0, b1}) ExpectAccepted(Add(pool, tx), tx);
  EXPECT_EQ(Raw(pool.Reap(kUnlimited, kUnlimited, chain_.state())),
            (std::vector<std::string>{b0, a0, a1, b1}));
}

TEST_F(MempoolTest, ReapCaps) {
  std::vector<std::string> txs;
  for (size_t m = 0; m < 4; ++m) txs.push_back(Tx(m, 0));
  for (const auto& tx : txs) ExpectAccepted(Add(tx), tx);
  EXPECT_EQ(Raw(pool_.Reap(2, kUnlimited, chain_.state())),
            (std::vector<std::string>{txs[0], txs[1]}));
  EXPECT_TRUE(pool_.Reap(0, kUnlimited, chain_.state()).empty());
  const size_t two = txs[0].size() + txs[1].size();
  EXPECT_EQ(Raw(pool_.Reap(10, two, chain_.state())), (std::vector<std::string>{txs[0], txs[1]}));
  EXPECT_EQ(Raw(pool_.Reap(10, two - 1, chain_.state())), (std::vector<std::string>{txs[0]}));
  EXPECT_TRUE(pool_.Reap(10, txs[0].size() - 1, chain_.state()).empty());
  EXPECT_EQ(pool_.size(), 4u);
}

TEST_F(MempoolTest, UpdateRemovesIncludedAndStaleTxs) {
  const std::string a0 = Tx(0, 0), a1 = Tx(0, 1), b0 = Tx(1, 0), c0 = Tx(2, 0), d0 = Tx(3, 0);
  for (const auto& tx : {a0, a1, b0, c0, d0}) ExpectAccepted(Add(tx), tx);
  // A block includes a0 and b0. b0 is not reported as removed: its nonce is stale.
  // d0 is reported (the proposer dropped it) although the state did not move.
  chain_.Produce({a0, b0});
  pool_.Update(chain_.state(), {TxIdOf(a0), TxIdOf(d0), crypto::Sha256Of("unknown id")});
  EXPECT_EQ(pool_.size(), 2u);
  EXPECT_EQ(pool_.bytes(), a1.size() + c0.size());
  EXPECT_EQ(ReapAll(), (std::vector<std::string>{a1, c0}));
  // The removed txs are gone, not merely held: b0 is refused now, d0 is admitted afresh.
  EXPECT_EQ(Add(b0).code, AddCode::kRejected);
  EXPECT_EQ(Add(d0).code, AddCode::kAccepted);
  // A signer's later nonce becomes stale when another tx of the same nonce was included.
  const std::string c0_other = chain_.Propose(2, 0, "Included instead");
  chain_.Produce({c0_other});
  pool_.Update(chain_.state(), {TxIdOf(c0_other)});
  EXPECT_EQ(ReapAll(), (std::vector<std::string>{a1, d0}));
  chain_.Produce({a1, d0});
  pool_.Update(chain_.state(), {TxIdOf(a1), TxIdOf(d0)});
  EXPECT_TRUE(pool_.empty());
  EXPECT_EQ(pool_.bytes(), 0u);
}

}  // namespace
}  // namespace bas::node::mempool
