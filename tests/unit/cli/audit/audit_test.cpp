// The auditor against a ledger of several validators whose set changes midway: a clean ledger
// audits clean from every source, and each way of forging it is caught and named by the first
// height, the structure and the reason.
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "cli/audit/auditor.h"
#include "cli/audit/ledger_source.h"
#include "governance/query.h"
#include "node/chain/commit.h"
#include "node/chain/encoding.h"
#include "node/storage/chain_store.h"
#include "tests/unit/cli/audit/ledger_fixture.h"

namespace bas::audit {
namespace {

using node::chain::HashBytes;
using node::testing::TestChain;
using testing::AuditFile;
using testing::BlockAt;
using testing::CommitAt;
using testing::Parse;
using testing::Record;
using testing::ResultsAt;

class AuditTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { chain_ = new TestChain(testing::BuildLedger()); }
  static void TearDownTestSuite() { delete chain_; }

  const TestChain& chain() const { return *chain_; }

  // Audits the records as a file.
  AuditResult Audit(const std::vector<Record>& records) {
    const auto file = dir_.path() / "ledger.basexp";
    testing::WriteRecords(file, records);
    Result<AuditResult> r = AuditFile(file, chain().genesis(), dir_.path());
    EXPECT_TRUE(r.ok()) << r.error().code << " " << r.error().message;
    return r.ok() ? std::move(*r) : AuditResult{};
  }

  // Audits a copy of the ledger changed by edit; expects the first discrepancy at height, in
  // structure, with a reason containing `reason`.
  void ExpectCaught(const std::function<void(std::vector<Record>&)>& edit, uint64_t height,
                    const std::string& structure, const std::string& reason) {
    std::vector<Record> records = testing::ExportRecords(chain());
    edit(records);
    const AuditResult r = Audit(records);
    ASSERT_TRUE(r.discrepancy.has_value()) << "not caught: " << structure << " " << reason;
    EXPECT_EQ(r.discrepancy->height, height) << DescribeDiscrepancy(*r.discrepancy);
    EXPECT_EQ(r.discrepancy->structure, structure) << DescribeDiscrepancy(*r.discrepancy);
    EXPECT_NE(r.discrepancy->reason.find(reason), std::string::npos)
        << DescribeDiscrepancy(*r.discrepancy);
    // Everything before the failing height verified, nothing after it was taken in.
    EXPECT_EQ(r.height, height - 1);
    EXPECT_EQ(r.block_hash, height > 1 ? chain().at(height - 1).block_hash : crypto::Hash32{});
  }

  static bas::v1::Block BlockOf(const std::vector<Record>& rs, uint64_t h) {
    return Parse<bas::v1::Block>(rs[BlockAt(h)]);
  }
  static void SetBlock(std::vector<Record>& rs, uint64_t h, const bas::v1::Block& b) {
    rs[BlockAt(h)].payload = b.SerializeAsString();
  }

  testing::TempDir dir_;
  static TestChain* chain_;
};
TestChain* AuditTest::chain_ = nullptr;

TEST_F(AuditTest, CleanLedgerVerifiesAndFollowsTheValidatorChange) {
  // The set did change: otherwise this test would not show that the audit follows it.
  ASSERT_EQ(chain().ValidatorsAt(testing::kNewSetHeight - 1).validators_size(), 4);
  ASSERT_EQ(chain().ValidatorsAt(testing::kNewSetHeight).validators_size(), 5);
  ASSERT_EQ(chain().at(testing::kNewSetHeight).commit.signatures_size(), 5);

  const AuditResult r = Audit(testing::ExportRecords(chain()));
  ASSERT_TRUE(r.clean()) << DescribeDiscrepancy(*r.discrepancy);
  EXPECT_EQ(r.height, chain().height());
  EXPECT_EQ(r.block_hash, chain().at(chain().height()).block_hash);
  EXPECT_EQ(r.app_hash, chain().app_hash());
  EXPECT_EQ(r.blocks, chain().height());
  uint64_t txs = 0;
  for (uint64_t h = 1; h <= chain().height(); ++h) txs += chain().at(h).block.txs_size();
  EXPECT_EQ(r.txs, txs);
  EXPECT_EQ(r.validators.validators_size(), 5);
  // The replayed state is the chain's: same register, same members.
  const auto replayed = governance::ListDecisions(*r.state, "");
  const auto expected = governance::ListDecisions(chain().state(), "");
  ASSERT_EQ(replayed.size(), 3u);
  ASSERT_EQ(replayed.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(replayed[i].SerializeAsString(), expected[i].SerializeAsString()) << i;
  }
  // Every block re-executed to the same results and app hash without the vote history in the
  // replayed state (governance::ReadByExecution): the chain holds one, the replay does not.
  auto count = [](const governance::KvReader& kv, std::string_view prefix) {
    size_t n = 0;
    kv.Scan(prefix, [&](std::string_view, std::string_view) { return ++n > 0; });
    return n;
  };
  EXPECT_GT(count(chain().state(), "vh/"), 0u);
  EXPECT_EQ(count(*r.state, "vh/"), 0u);
  EXPECT_EQ(count(*r.state, "v/"), count(chain().state(), "v/"));
}

TEST_F(AuditTest, ToHeightStopsThere) {
  const auto file = dir_.path() / "ledger.basexp";
  testing::WriteRecords(file, testing::ExportRecords(chain()));
  auto source = OpenExportSource(file);
  ASSERT_TRUE(source.ok());
  AuditOptions options;
  options.to_height = 3;
  options.scratch_dir = dir_.path();
  std::vector<uint64_t> seen;
  options.progress = [&](const AuditProgress& p) {
    seen.push_back(p.height);
    EXPECT_EQ(p.last_height, 3u);
  };
  auto r = AuditLedger(**source, chain().genesis(), options);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->clean());
  EXPECT_EQ(r->height, 3u);
  EXPECT_EQ(r->block_hash, chain().at(3).block_hash);
  EXPECT_EQ(r->app_hash, chain().at(3).exec.app_hash);
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3}));

  auto again = OpenExportSource(file);
  ASSERT_TRUE(again.ok());
  options.to_height = chain().height() + 1;
  options.progress = nullptr;
  auto beyond = AuditLedger(**again, chain().genesis(), options);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.error().code, kHeightOutOfRange);
}

TEST_F(AuditTest, DataDirOfANodeAuditsLikeItsExport) {
  const auto data = dir_.path() / "data";
  {
    auto store = node::storage::ChainStore::Open(data);
    ASSERT_TRUE(store.ok());
    const auto& g = chain().genesis_state();
    ASSERT_TRUE((*store)->InitGenesis(chain().genesis(), g.writes, g.app_hash).ok());
    for (uint64_t h = 1; h <= chain().height(); ++h) {
      const auto& b = chain().at(h);
      ASSERT_TRUE((*store)
                      ->CommitBlock(b.block, b.commit, b.exec.results, b.exec.tx_ids, b.exec.writes,
                                    b.tip_after)
                      .ok());
    }
  }
  auto source = OpenDataDirSource(data);
  ASSERT_TRUE(source.ok()) << source.error().message;
  EXPECT_EQ((*source)->last_height(), chain().height());
  AuditOptions options;
  options.scratch_dir = dir_.path();
  auto r = AuditLedger(**source, chain().genesis(), options);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->clean()) << DescribeDiscrepancy(*r->discrepancy);
  EXPECT_EQ(r->block_hash, chain().at(chain().height()).block_hash);

  // bas export --data-dir writes what the fixture writes, byte for byte.
  auto reopened = OpenDataDirSource(data);
  ASSERT_TRUE(reopened.ok());
  const auto file = dir_.path() / "from-store.basexp";
  ASSERT_TRUE(ExportLedger(**reopened, file, std::nullopt, nullptr).ok());
  const auto copy = dir_.path() / "fixture.basexp";
  testing::WriteRecords(copy, testing::ExportRecords(chain()));
  std::ifstream a(file, std::ios::binary), b(copy, std::ios::binary);
  const std::string bytes_a((std::istreambuf_iterator<char>(a)), {});
  const std::string bytes_b((std::istreambuf_iterator<char>(b)), {});
  EXPECT_EQ(bytes_a, bytes_b);
}

TEST_F(AuditTest, AnotherGenesisIsCaughtAtHeightZero) {
  bas::v1::Genesis other = chain().genesis();
  other.set_genesis_time(other.genesis_time() + 1);
  const auto file = dir_.path() / "ledger.basexp";
  testing::WriteRecords(file, testing::ExportRecords(chain()));
  auto r = AuditFile(file, other, dir_.path());
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->discrepancy.has_value());
  EXPECT_EQ(r->discrepancy->height, 0u);
  EXPECT_EQ(r->discrepancy->structure, "genesis");
}

// One byte of a tx's body (inside the vote's reason): its signature no longer holds.
TEST_F(AuditTest, FlippedByteInATx) {
  ExpectCaught(
      [](std::vector<Record>& rs) {
        bas::v1::Block b = BlockOf(rs, 2);
        std::string& tx = *b.mutable_txs(3);
        const size_t at = tx.find("test vote");
        ASSERT_NE(at, std::string::npos);
        tx[at] ^= 0x01;
        SetBlock(rs, 2, b);
      },
      2, "tx", "tx 3: BAD_SIGNATURE");
}

// One byte of a tx's signature (the last field of a SignedTx).
TEST_F(AuditTest, FlippedByteInATxSignature) {
  ExpectCaught(
      [](std::vector<Record>& rs) {
        bas::v1::Block b = BlockOf(rs, 5);
        b.mutable_txs(4)->back() ^= 0x40;
        SetBlock(rs, 5, b);
      },
      5, "tx", "tx 4: BAD_SIGNATURE");
}

// A header field the validators signed (the app hash, the time): the header no longer hashes to
// the block its commit certifies.
TEST_F(AuditTest, ChangedHeaderField) {
  for (auto edit : std::vector<std::function<void(bas::v1::BlockHeader&)>>{
           [](auto& h) { (*h.mutable_app_hash())[5] ^= 1; },
           [](auto& h) { h.set_time(h.time() + 1); },
           [](auto& h) { (*h.mutable_results_root())[0] ^= 1; }}) {
    ExpectCaught(
        [&](std::vector<Record>& rs) {
          bas::v1::Block b = BlockOf(rs, 4);
          edit(*b.mutable_header());
          SetBlock(rs, 4, b);
        },
        4, "header", "the validators' commit certifies");
  }
  // A field the chain so far determines is named by the header check itself.
  ExpectCaught(
      [](std::vector<Record>& rs) {
        bas::v1::Block b = BlockOf(rs, 6);
        (*b.mutable_header()->mutable_validators_hash())[0] ^= 1;
        SetBlock(rs, 6, b);
      },
      6, "header", "header.validators_hash");
}

// The header of the last block: only the commit stored beside it certifies it.
TEST_F(AuditTest, ChangedHeaderOfTheLastBlock) {
  const uint64_t last = chain().height();
  ExpectCaught(
      [last](std::vector<Record>& rs) {
        bas::v1::Block b = BlockOf(rs, last);
        b.mutable_header()->set_time(b.header().time() + 5);
        SetBlock(rs, last, b);
      },
      last, "header", "the validators' commit certifies");
}

TEST_F(AuditTest, FlippedByteInACommitSignature) {
  ExpectCaught(
      [](std::vector<Record>& rs) {
        auto c = Parse<bas::v1::Commit>(rs[CommitAt(3)]);
        (*c.mutable_signatures(1)->mutable_signature())[10] ^= 1;
        rs[CommitAt(3)].payload = c.SerializeAsString();
      },
      3, "commit", "signatures[1]: signature does not verify");
  // In a block's last_commit (covered by the block's header hash, so re-hashed and re-signed by
  // nobody: the header check names it).
  ExpectCaught(
      [](std::vector<Record>& rs) {
        bas::v1::Block b = BlockOf(rs, 4);
        (*b.mutable_last_commit()->mutable_signatures(0)->mutable_signature())[3] ^= 1;
        SetBlock(rs, 4, b);
      },
      4, "header", "header.last_commit_hash");
}

TEST_F(AuditTest, RemovedBlock) {
  ExpectCaught(
      [](std::vector<Record>& rs) {
        rs.erase(rs.begin() + static_cast<long>(BlockAt(3)),
                 rs.begin() + static_cast<long>(BlockAt(4)));
      },
      3, "header", "header.height: 4, expected 3");
}

TEST_F(AuditTest, SwappedTxs) {
  ExpectCaught(
      [](std::vector<Record>& rs) {
        bas::v1::Block b = BlockOf(rs, 2);
        // Members 0 and 1 on the resolution: different signers, so both still execute.
        b.mutable_txs()->SwapElements(0, 1);
        SetBlock(rs, 2, b);
      },
      2, "tx_root", "tx_root differs");
}

// The commit stored beside a block with 2 of 4 signatures: half the power.
TEST_F(AuditTest, CommitWithTwoThirdsOrLess) {
  ExpectCaught(
      [](std::vector<Record>& rs) {
        auto c = Parse<bas::v1::Commit>(rs[CommitAt(2)]);
        ASSERT_EQ(c.signatures_size(), 4);
        c.mutable_signatures()->DeleteSubrange(2, 2);
        rs[CommitAt(2)].payload = c.SerializeAsString();
      },
      2, "commit", "signers hold 2/3 of the power or less");
  // The last block's commit, which no later block repeats.
  const uint64_t last = chain().height();
  ExpectCaught(
      [last](std::vector<Record>& rs) {
        auto c = Parse<bas::v1::Commit>(rs[CommitAt(last)]);
        ASSERT_EQ(c.signatures_size(), 5);
        // The four genesis validators: all of the old set, 4 of 14 of the power now.
        const std::string joined = HashBytes(testing::NewValidatorKey().public_key());
        for (int i = 0; i < c.signatures_size(); ++i) {
          if (c.signatures(i).validator() == joined) c.mutable_signatures()->DeleteSubrange(i, 1);
        }
        ASSERT_EQ(c.signatures_size(), 4);
        rs[CommitAt(last)].payload = c.SerializeAsString();
      },
      last, "commit", "signers hold 2/3 of the power or less");
}

// After the set changed, a commit by the genesis set alone (all of its members, properly
// signed) does not certify: an auditor that kept the genesis set would accept it.
TEST_F(AuditTest, CommitOfTheOldSetAfterTheChange) {
  const uint64_t h = testing::kNewSetHeight;
  ExpectCaught(
      [&](std::vector<Record>& rs) {
        const std::string block_hash = HashBytes(chain().at(h).block_hash);
        std::vector<bas::v1::ConsensusVote> votes;
        for (int i = 0; i < 4; ++i) {
          votes.push_back(node::chain::SignVote(node::testing::DeterministicKey("validator", i),
                                                chain().chain_id(), bas::v1::PRECOMMIT, h, 0,
                                                block_hash));
        }
        rs[CommitAt(h)].payload =
            node::chain::MakeCommit(h, 0, block_hash, votes).SerializeAsString();
      },
      h, "commit", "2/3");
}

// A vote whose choice was changed and that was re-signed, by a key that is not a member's.
TEST_F(AuditTest, VoteChangedAndResignedByANonMember) {
  ExpectCaught(
      [](std::vector<Record>& rs) {
        bas::v1::Block b = BlockOf(rs, 2);
        bas::v1::SignedTx tx;
        ASSERT_TRUE(tx.ParseFromString(b.txs(3)));
        bas::v1::TxBody body;
        ASSERT_TRUE(body.ParseFromString(tx.body()));
        ASSERT_TRUE(body.has_vote());
        ASSERT_EQ(body.vote().choice(), bas::v1::NO);
        body.mutable_vote()->set_choice(bas::v1::YES);
        body.set_nonce(0);
        *b.mutable_txs(3) =
            governance::SignTx(node::testing::DeterministicKey("outsider", 0), body).bytes;
        SetBlock(rs, 2, b);
      },
      2, "tx", "tx 3 is refused: NOT_MEMBER");
}

TEST_F(AuditTest, ResultsThatDifferFromReExecution) {
  ExpectCaught(
      [](std::vector<Record>& rs) {
        auto r = Parse<bas::v1::BlockResults>(rs[ResultsAt(2)]);
        r.mutable_tx_results(5)->set_message("forged");
        rs[ResultsAt(2)].payload = r.SerializeAsString();
      },
      2, "results", "tx_results[5]");
}

// Damage the tamperer did not cover up: the record's checksum names it.
TEST_F(AuditTest, DamagedRecord) {
  const auto file = dir_.path() / "damaged.basexp";
  std::vector<Record> records = testing::ExportRecords(chain());
  testing::WriteRecords(file, records);
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // The offset of height 6's block record, then a byte inside its payload.
  size_t offset = kExportMagic.size();
  for (size_t i = 0; i < BlockAt(6); ++i) {
    offset += 5 + records[i].payload.size() + kExportChecksumBytes;
  }
  bytes[offset + 5 + 40] ^= 0x01;
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  auto r = AuditFile(file, chain().genesis(), dir_.path());
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->discrepancy.has_value());
  EXPECT_EQ(r->discrepancy->height, 6u);
  EXPECT_EQ(r->discrepancy->structure, "ledger");
  EXPECT_NE(r->discrepancy->reason.find("checksum"), std::string::npos) << r->discrepancy->reason;
  EXPECT_EQ(r->height, 5u);

  // A file cut short: the height the header promises is missing.
  std::ofstream(file, std::ios::binary | std::ios::trunc)
      << bytes.substr(0, offset);  // everything before height 6
  auto cut = AuditFile(file, chain().genesis(), dir_.path());
  ASSERT_TRUE(cut.ok());
  ASSERT_TRUE(cut->discrepancy.has_value());
  EXPECT_EQ(cut->discrepancy->height, 6u);
  EXPECT_EQ(cut->discrepancy->structure, "ledger");
}

// Evidence of an equivocation in a block is checked by the header check and reported.
TEST(AuditEvidenceTest, EvidenceIsVerifiedAndReported) {
  node::testing::GenesisSpec spec;
  spec.validators = 4;
  TestChain c(spec);
  c.Produce({c.Propose(0)});
  node::testing::ProducedBlock b = c.Build({});
  const uint64_t h = b.block.header().height();
  const crypto::KeyPair v2 = node::testing::DeterministicKey("validator", 2);
  bas::v1::Evidence e;
  *e.mutable_vote_a() =
      node::chain::SignVote(v2, c.chain_id(), bas::v1::PREVOTE, h - 1, 0, std::string(32, '\x0a'));
  *e.mutable_vote_b() =
      node::chain::SignVote(v2, c.chain_id(), bas::v1::PREVOTE, h - 1, 0, std::string(32, '\x0b'));
  *b.block.add_evidence() = e;
  b.block.mutable_header()->set_evidence_hash(
      HashBytes(node::chain::EvidenceRoot(b.block.evidence())));
  b.block_hash = node::chain::BlockHash(b.block.header());
  std::vector<bas::v1::ConsensusVote> votes;
  for (int i = 0; i < 4; ++i) {
    votes.push_back(node::chain::SignVote(node::testing::DeterministicKey("validator", i),
                                          c.chain_id(), bas::v1::PRECOMMIT, h, 0,
                                          HashBytes(b.block_hash)));
  }
  b.commit = node::chain::MakeCommit(h, 0, HashBytes(b.block_hash), votes);
  c.Append(b);
  c.Produce({});

  testing::TempDir dir;
  const auto file = dir.path() / "evidence.basexp";
  std::vector<Record> records = testing::ExportRecords(c);
  testing::WriteRecords(file, records);
  auto r = AuditFile(file, c.genesis(), dir.path());
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->clean()) << DescribeDiscrepancy(*r->discrepancy);
  ASSERT_EQ(r->evidence.size(), 1u);
  EXPECT_EQ(r->evidence[0].included_at, h);
  EXPECT_EQ(r->evidence[0].evidence.SerializeAsString(), e.SerializeAsString());

  // Evidence that proves nothing (a vote re-signed by nobody), with the hashes redone: the
  // header check refuses it, so it cannot be reported as an equivocation.
  bas::v1::Block forged = Parse<bas::v1::Block>(records[BlockAt(h)]);
  (*forged.mutable_evidence(0)->mutable_vote_b()->mutable_signature())[7] ^= 1;
  forged.mutable_header()->set_evidence_hash(
      HashBytes(node::chain::EvidenceRoot(forged.evidence())));
  records[BlockAt(h)].payload = forged.SerializeAsString();
  testing::WriteRecords(file, records);
  auto bad = AuditFile(file, c.genesis(), dir.path());
  ASSERT_TRUE(bad.ok());
  ASSERT_TRUE(bad->discrepancy.has_value());
  EXPECT_EQ(bad->discrepancy->height, h);
  EXPECT_EQ(bad->discrepancy->structure, "evidence");
  EXPECT_NE(bad->discrepancy->reason.find("vote_b: signature does not verify"), std::string::npos)
      << bad->discrepancy->reason;
}

}  // namespace
}  // namespace bas::audit
