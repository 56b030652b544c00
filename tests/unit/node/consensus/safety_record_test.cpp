// The SafetyRecord's disk layout (node/consensus/safety_record.h): a round trip with the blocks
// stored apart, every kind of damage (to the record or to a block it refers to) refused rather
// than read as a different record, version-1 records still read, and KeyValueSafetyStore's
// writes: each block once, in the write of the first record that refers to it, deleted in the
// write of the first record that no longer does.
#include "node/consensus/safety_record.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "crypto/encoding.h"
#include "node/chain/commit.h"
#include "node/chain/encoding.h"
#include "tests/unit/node/consensus/fixture.h"

namespace bas::node::consensus {
namespace {

using testing::Height;

using Blocks = std::map<std::string, std::string>;  // block hash -> bytes, as stored

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

// The blocks of an encoding as a store holds them.
Blocks Stored(const EncodedSafetyRecord& e) {
  Blocks out;
  for (const auto& [hash, block] : e.blocks) out[hash] = block->SerializeAsString();
  return out;
}

SafetyBlockLookup From(const Blocks& blocks) {
  return [&blocks](std::string_view hash) -> std::optional<std::string> {
    auto it = blocks.find(std::string(hash));
    if (it == blocks.end()) return std::nullopt;
    return it->second;
  };
}

// Encodes r and decodes it with its own blocks.
Result<SafetyRecord> RoundTrip(const SafetyRecord& r) {
  const EncodedSafetyRecord e = EncodeSafetyRecord(r);
  return DecodeSafetyRecord(e.bytes, From(Stored(e)));
}

std::string Code(const Result<SafetyRecord>& r) { return r.ok() ? "OK" : r.error().code; }

std::string Bytes(const SignedMessage& m) {
  return std::visit([](const auto& message) { return message.SerializeAsString(); }, m);
}

void ExpectSameRecord(const SafetyRecord& got, const SafetyRecord& want) {
  EXPECT_EQ(got.height, want.height);
  ASSERT_EQ(got.signed_messages.size(), want.signed_messages.size());
  for (size_t i = 0; i < got.signed_messages.size(); ++i) {
    EXPECT_EQ(got.signed_messages[i].index(), want.signed_messages[i].index()) << i;
    EXPECT_EQ(Bytes(got.signed_messages[i]), Bytes(want.signed_messages[i])) << i;
  }
  auto same_value = [](int32_t round, const auto& got_block, const auto& want_block) {
    if (round < 0) return got_block == nullptr;
    return got_block != nullptr && want_block != nullptr &&
           got_block->SerializeAsString() == want_block->SerializeAsString();
  };
  EXPECT_EQ(got.locked_round, want.locked_round);
  EXPECT_TRUE(same_value(want.locked_round, got.locked_block, want.locked_block));
  EXPECT_EQ(got.valid_round, want.valid_round);
  EXPECT_TRUE(same_value(want.valid_round, got.valid_block, want.valid_block));
}

TEST(SafetyRecordTest, RoundTrip) {
  const SafetyRecord r = Sample();
  const EncodedSafetyRecord e = EncodeSafetyRecord(r);
  auto back = DecodeSafetyRecord(e.bytes, From(Stored(e)));
  ASSERT_TRUE(back.ok()) << back.error().message;
  ExpectSameRecord(*back, r);
  EXPECT_EQ(EncodeSafetyRecord(*back).bytes, e.bytes);

  SafetyRecord empty;
  empty.height = 9;
  const EncodedSafetyRecord empty_e = EncodeSafetyRecord(empty);
  EXPECT_TRUE(empty_e.blocks.empty());
  auto empty_back = DecodeSafetyRecord(empty_e.bytes, nullptr);
  ASSERT_TRUE(empty_back.ok());
  ExpectSameRecord(*empty_back, empty);
}

// The block is not in the record's bytes, and one block is one entry however many parts of the
// record refer to it; decoding looks each one up once.
TEST(SafetyRecordTest, BlocksAreStoredApartOncePerHash) {
  Height h(4);
  bas::v1::Block a = h.Block("A");
  *a.add_txs() = std::string(10000, 't');
  const bas::v1::Block b = h.Block("B");
  SafetyRecord r;
  r.height = h.height();
  r.signed_messages.push_back(h.Proposal(0, a));
  r.signed_messages.push_back(h.Proposal(1, a, 0));  // the same block proposed again
  r.locked_round = 1;
  r.locked_block = std::make_shared<bas::v1::Block>(a);
  r.valid_round = 2;
  r.valid_block = std::make_shared<bas::v1::Block>(b);
  const EncodedSafetyRecord e = EncodeSafetyRecord(r);
  EXPECT_LT(e.bytes.size(), 1000u);
  ASSERT_EQ(e.blocks.size(), 2u);
  EXPECT_EQ(e.blocks.count(Height::Hash(a)), 1u);
  EXPECT_EQ(e.blocks.count(Height::Hash(b)), 1u);
  EXPECT_EQ(e.blocks.at(Height::Hash(b)), r.valid_block.get()) << "points into the record";

  const Blocks stored = Stored(e);
  std::map<std::string, int> lookups;
  auto back = DecodeSafetyRecord(e.bytes, [&](std::string_view hash) {
    ++lookups[std::string(hash)];
    return From(stored)(hash);
  });
  ASSERT_TRUE(back.ok()) << back.error().message;
  ExpectSameRecord(*back, r);
  EXPECT_EQ(lookups, (std::map<std::string, int>{{Height::Hash(a), 1}, {Height::Hash(b), 1}}));
}

// The record keeps every field of a proposal but its block: a field added to
// ConsensusProposal must be added to the encoder (WithoutBlock in safety_record.cpp) too.
TEST(SafetyRecordTest, ProposalWithoutBlockKeepsEveryField) {
  EXPECT_EQ(bas::v1::ConsensusProposal::descriptor()->field_count(), 6);
  Height h(4);
  const auto p = h.Proposal(3, h.Block("A"), 2);
  SafetyRecord r;
  r.height = h.height();
  r.signed_messages.push_back(p);
  auto back = RoundTrip(r);
  ASSERT_TRUE(back.ok()) << back.error().message;
  const auto& got = std::get<bas::v1::ConsensusProposal>(back->signed_messages.at(0));
  EXPECT_EQ(got.SerializeAsString(), p.SerializeAsString());
  EXPECT_TRUE(VerifyProposal(testing::kChain, got));
}

TEST(SafetyRecordTest, EveryTruncationIsRefused) {
  const SafetyRecord r = Sample();
  const EncodedSafetyRecord e = EncodeSafetyRecord(r);
  const Blocks stored = Stored(e);
  for (size_t n = 0; n < e.bytes.size(); ++n) {
    EXPECT_EQ(Code(DecodeSafetyRecord(e.bytes.substr(0, n), From(stored))), "CORRUPT_SAFETY_RECORD")
        << n;
  }
  EXPECT_EQ(Code(DecodeSafetyRecord(e.bytes + "x", From(stored))), "CORRUPT_SAFETY_RECORD");
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
      {"valid round without a block", [](SafetyRecord& r) { r.valid_block.reset(); }},
  };
  for (const Case& c : cases) {
    SafetyRecord r = Sample();
    c.edit(r);
    EXPECT_EQ(Code(RoundTrip(r)), "CORRUPT_SAFETY_RECORD") << c.name;
  }
}

// Bytes no encoder writes: each is refused.
TEST(SafetyRecordTest, ForeignBytesAreRefused) {
  Height h(4);
  const bas::v1::Block a = h.Block("A");
  const std::string hash = Height::Hash(a);
  const Blocks stored = {{hash, a.SerializeAsString()}};
  const auto proposal = h.Proposal(0, a);
  auto record = [&](uint8_t version, auto&& messages, std::string_view lock_hash) {
    chain::CanonicalWriter w;
    w.U8(version).U64(h.height());
    messages(w);
    w.I64(lock_hash.empty() ? -1 : 0).Opt32(lock_hash).I64(-1).Opt32("");
    return w.bytes();
  };
  auto none = [](chain::CanonicalWriter& w) { w.U32(0); };
  bas::v1::ConsensusProposal without_block = proposal;
  without_block.clear_block();
  struct Case {
    const char* name;
    std::string bytes;
  };
  const std::vector<Case> cases = {
      {"version 0", record(0, none, "")},
      {"version 3", record(3, none, "")},
      {"a proposal with its block inside", record(
                                               2,
                                               [&](chain::CanonicalWriter& w) {
                                                 w.U32(1).U8(1).H32(hash).Str(
                                                     proposal.SerializeAsString());
                                               },
                                               "")},
      {"a message of kind 3", record(
                                  2,
                                  [&](chain::CanonicalWriter& w) {
                                    w.U32(1).U8(3).H32(hash).Str(without_block.SerializeAsString());
                                  },
                                  "")},
      {"a vote that is not a vote", record(
                                        2,
                                        [&](chain::CanonicalWriter& w) {
                                          w.U32(1).U8(2).Str(without_block.SerializeAsString());
                                        },
                                        "")},
      {"a hash with round -1",
       [&] {
         chain::CanonicalWriter w;
         w.U8(2).U64(h.height()).U32(0).I64(-1).Opt32(hash).I64(-1).Opt32("");
         return w.bytes();
       }()},
      {"a round below -1",
       [&] {
         chain::CanonicalWriter w;
         w.U8(2).U64(h.height()).U32(0).I64(-2).Opt32("").I64(-1).Opt32("");
         return w.bytes();
       }()},
      {"an opt32 flag of 2",
       [&] {
         chain::CanonicalWriter w;
         w.U8(2).U64(h.height()).U32(0).I64(-1).U8(2).I64(-1).Opt32("");
         return w.bytes();
       }()},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Code(DecodeSafetyRecord(c.bytes, From(stored))), "CORRUPT_SAFETY_RECORD") << c.name;
  }
  // The builder itself writes records that decode.
  EXPECT_EQ(Code(DecodeSafetyRecord(record(2, none, hash), From(stored))), "OK");
}

// A record that refers to a block the store does not give back as it was is refused, whichever
// part of the record refers to it.
TEST(SafetyRecordTest, MissingOrWrongBlocksAreRefused) {
  Height h(4);
  const bas::v1::Block a = h.Block("A");
  const bas::v1::Block b = h.Block("B");
  SafetyRecord r;
  r.height = h.height();
  r.signed_messages.push_back(h.Proposal(0, a));
  r.locked_round = r.valid_round = 0;
  r.locked_block = std::make_shared<bas::v1::Block>(b);
  r.valid_block = r.locked_block;
  const EncodedSafetyRecord e = EncodeSafetyRecord(r);
  const Blocks good = Stored(e);
  ASSERT_EQ(Code(DecodeSafetyRecord(e.bytes, From(good))), "OK");
  bas::v1::Block bad_header = a;
  bad_header.mutable_header()->set_tx_root("short");
  struct Case {
    const char* name;
    std::function<void(Blocks&)> edit;
  };
  const std::vector<Case> cases = {
      {"the proposal's block missing", [&](Blocks& s) { s.erase(Height::Hash(a)); }},
      {"the locked block missing", [&](Blocks& s) { s.erase(Height::Hash(b)); }},
      {"another block under the proposal's hash",
       [&](Blocks& s) { s[Height::Hash(a)] = b.SerializeAsString(); }},
      {"another block under the lock's hash",
       [&](Blocks& s) { s[Height::Hash(b)] = a.SerializeAsString(); }},
      {"bytes that do not parse", [&](Blocks& s) { s[Height::Hash(a)] = "\xff\xff"; }},
      {"empty bytes", [&](Blocks& s) { s[Height::Hash(a)] = ""; }},
      {"a malformed header",
       [&](Blocks& s) { s[Height::Hash(a)] = bad_header.SerializeAsString(); }},
  };
  for (const Case& c : cases) {
    Blocks stored = good;
    c.edit(stored);
    EXPECT_EQ(Code(DecodeSafetyRecord(e.bytes, From(stored))), "CORRUPT_SAFETY_RECORD") << c.name;
  }
}

// The golden version-1 record of safety_record_v1.hex ("" when it cannot be read).
std::string GoldenVersion1() {
  std::ifstream in(std::string(BAS_SOURCE_DIR) + "/tests/unit/node/consensus/safety_record_v1.hex");
  std::string line, hex;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') hex += line;
  }
  auto raw = crypto::HexDecode(hex);
  return raw.ok() ? std::string(raw->begin(), raw->end()) : std::string();
}

// A record written before blocks were stored apart (version 1) is read as it was written,
// without looking up any block.
TEST(SafetyRecordTest, Version1IsStillRead) {
  const std::string bytes = GoldenVersion1();
  ASSERT_FALSE(bytes.empty());
  ASSERT_EQ(bytes[0], 1) << "version 1";
  auto r = DecodeSafetyRecord(bytes, [](std::string_view) -> std::optional<std::string> {
    ADD_FAILURE() << "a version-1 record has its blocks inside";
    return std::nullopt;
  });
  ASSERT_TRUE(r.ok()) << r.error().message;

  // The golden record was signed with other aux randomness: compare all but the signatures,
  // and check those.
  Height h(4);
  const bas::v1::Block a = h.Block("A");
  const std::string hash = Height::Hash(a);
  EXPECT_EQ(r->height, h.height());
  ASSERT_EQ(r->signed_messages.size(), 3u);
  const auto& p = std::get<bas::v1::ConsensusProposal>(r->signed_messages[0]);
  EXPECT_TRUE(VerifyProposal(testing::kChain, p));
  EXPECT_EQ(p.proposer(), testing::KeyBytes(h.key(h.Proposer(1))));
  EXPECT_EQ(p.round(), 1u);
  EXPECT_EQ(p.valid_round(), 0);
  EXPECT_EQ(p.block().SerializeAsString(), a.SerializeAsString());
  for (int i : {1, 2}) {
    const auto& v = std::get<bas::v1::ConsensusVote>(r->signed_messages[i]);
    EXPECT_TRUE(chain::VerifyVote(testing::kChain, v)) << i;
    EXPECT_EQ(v.type(), i == 1 ? bas::v1::PREVOTE : bas::v1::PRECOMMIT);
    EXPECT_EQ(v.round(), 1u);
    EXPECT_EQ(v.block_hash(), hash);
  }
  EXPECT_EQ(r->locked_round, 1);
  ASSERT_NE(r->locked_block, nullptr);
  EXPECT_EQ(r->locked_block->SerializeAsString(), a.SerializeAsString());
  EXPECT_EQ(r->valid_round, 1);
  ASSERT_NE(r->valid_block, nullptr);
  EXPECT_EQ(r->valid_block->SerializeAsString(), a.SerializeAsString());

  // Damage is refused in version 1 as in version 2.
  for (size_t n = 0; n < bytes.size(); n += 7) {
    EXPECT_EQ(Code(DecodeSafetyRecord(bytes.substr(0, n), nullptr)), "CORRUPT_SAFETY_RECORD") << n;
  }
  EXPECT_EQ(Code(DecodeSafetyRecord(bytes + "x", nullptr)), "CORRUPT_SAFETY_RECORD");
}

// ---- KeyValueSafetyStore ----

// A key-value database in memory that applies and logs what a KeyValueSafetyStore writes.
class MemoryKv {
 public:
  struct Write {
    std::vector<std::string> put_keys;
    std::vector<std::string> deletes;
    size_t bytes = 0;  // keys and values put
  };
  KeyValueSafetyStore::AtomicWrite Writer() {
    return [this](const KeyValueSafetyStore::KeyValues& puts,
                  const std::vector<std::string>& deletes) -> Status {
      if (fail_next) {
        fail_next = false;
        return Error{"STORAGE_ERROR", "disk full (test)"};
      }
      Write w{{}, deletes, 0};
      for (const auto& [key, value] : puts) {
        data[key] = value;
        w.put_keys.push_back(key);
        w.bytes += key.size() + value.size();
      }
      for (const std::string& key : deletes) data.erase(key);
      writes.push_back(std::move(w));
      return Status::Ok();
    };
  }
  std::optional<std::string> Get(std::string_view key) const {
    auto it = data.find(std::string(key));
    if (it == data.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::string> BlockKeys() const {
    std::vector<std::string> out;
    for (const auto& [key, value] : data) {
      if (key.starts_with(kSafetyBlockKeyPrefix)) out.push_back(key);
    }
    return out;
  }
  Result<std::optional<SafetyRecord>> Load() const {
    return LoadSafetyRecord([this](std::string_view key) { return Get(key); });
  }

  std::map<std::string, std::string> data;
  std::vector<Write> writes;
  bool fail_next = false;
};

// The records a proposer saves at a height, in order: its proposal, its prevote, its precommit
// with the lock and valid value.
std::vector<SafetyRecord> ProposerHeight(const Height& h, const bas::v1::Block& block) {
  const size_t self = h.Proposer(0);
  const std::string hash = Height::Hash(block);
  std::vector<SafetyRecord> out(3);
  for (SafetyRecord& r : out) r.height = h.height();
  out[0].signed_messages = {h.Proposal(0, block)};
  out[1].signed_messages = {out[0].signed_messages[0], h.Prevote(self, 0, hash)};
  out[2].signed_messages = out[1].signed_messages;
  out[2].signed_messages.push_back(h.Precommit(self, 0, hash));
  out[2].locked_round = out[2].valid_round = 0;
  out[2].locked_block = std::make_shared<bas::v1::Block>(block);
  out[2].valid_block = out[2].locked_block;
  return out;
}

TEST(KeyValueSafetyStoreTest, EachBlockIsWrittenOnceAndDeletedWithTheFirstRecordWithoutIt) {
  Height h(4);
  Height next(4, h.height() + 1);
  const bas::v1::Block a = h.Block("A");
  const std::string key_a = SafetyBlockKey(Height::Hash(a));
  const std::string record_key(kSafetyRecordKey);
  MemoryKv db;
  KeyValueSafetyStore store({}, db.Writer());
  auto nothing = db.Load();
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(nothing->has_value()) << "nothing stored yet";

  std::vector<SafetyRecord> records = ProposerHeight(h, a);
  SafetyRecord later;
  later.height = next.height();
  later.signed_messages = {next.Prevote(next.Proposer(0), 0, "")};
  records.push_back(later);
  const std::vector<MemoryKv::Write> want = {
      {{key_a, record_key}, {}, 0},  // the block with the first record that refers to it
      {{record_key}, {}, 0},
      {{record_key}, {}, 0},       // the lock and valid value are the same block
      {{record_key}, {key_a}, 0},  // gone with the first record that does not refer to it
  };
  for (size_t i = 0; i < records.size(); ++i) {
    SCOPED_TRACE("save " + std::to_string(i));
    ASSERT_TRUE(store.Save(records[i]).ok());
    ASSERT_EQ(db.writes.size(), i + 1);
    EXPECT_EQ(db.writes[i].put_keys, want[i].put_keys);
    EXPECT_EQ(db.writes[i].deletes, want[i].deletes);
    auto loaded = db.Load();
    ASSERT_TRUE(loaded.ok() && loaded->has_value());
    ExpectSameRecord(**loaded, records[i]);
  }
  EXPECT_TRUE(db.BlockKeys().empty());
}

// A failed write changed nothing (the AtomicWrite contract): the store still writes the block
// with the next record, and still deletes what it held.
TEST(KeyValueSafetyStoreTest, AFailedWriteIsForgotten) {
  Height h(4);
  const bas::v1::Block a = h.Block("A");
  const bas::v1::Block b = h.Block("B");
  MemoryKv db;
  KeyValueSafetyStore store({}, db.Writer());
  const std::vector<SafetyRecord> with_a = ProposerHeight(h, a);
  const std::vector<SafetyRecord> with_b = ProposerHeight(h, b);
  ASSERT_TRUE(store.Save(with_a[0]).ok());
  db.fail_next = true;
  const Status failed = store.Save(with_b[0]);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.code(), "STORAGE_ERROR");
  EXPECT_EQ(db.BlockKeys(), std::vector<std::string>{SafetyBlockKey(Height::Hash(a))});
  ASSERT_TRUE(store.Save(with_b[0]).ok());
  EXPECT_EQ(db.writes.back().put_keys, (std::vector<std::string>{SafetyBlockKey(Height::Hash(b)),
                                                                 std::string(kSafetyRecordKey)}));
  EXPECT_EQ(db.writes.back().deletes, std::vector<std::string>{SafetyBlockKey(Height::Hash(a))});
  EXPECT_EQ(db.BlockKeys(), std::vector<std::string>{SafetyBlockKey(Height::Hash(b))});
}

// After a restart the store is built with the block keys the database holds: those the record
// refers to are not written again, the others (left by any earlier process) are deleted.
TEST(KeyValueSafetyStoreTest, BlocksFoundInTheDatabaseAreNotWrittenAgain) {
  Height h(4);
  const bas::v1::Block a = h.Block("A");
  const std::string stray = SafetyBlockKey(Height::Hash(h.Block("X")));
  MemoryKv db;
  const std::vector<SafetyRecord> records = ProposerHeight(h, a);
  {
    KeyValueSafetyStore before_crash({}, db.Writer());
    ASSERT_TRUE(before_crash.Save(records[0]).ok());
  }
  db.data[stray] = h.Block("X").SerializeAsString();
  KeyValueSafetyStore store(db.BlockKeys(), db.Writer());
  ASSERT_TRUE(store.Save(records[1]).ok());
  EXPECT_EQ(db.writes.back().put_keys, std::vector<std::string>{std::string(kSafetyRecordKey)});
  EXPECT_EQ(db.writes.back().deletes, std::vector<std::string>{stray});
  auto loaded = db.Load();
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  ExpectSameRecord(**loaded, records[1]);
}

// A node upgraded in the middle of a height: the version-1 record it finds is read, and the
// first save replaces it with version 2 and writes the block with it.
TEST(KeyValueSafetyStoreTest, TheFirstSaveReplacesAVersion1Record) {
  MemoryKv db;
  db.data[std::string(kSafetyRecordKey)] = GoldenVersion1();
  auto loaded = db.Load();
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  SafetyRecord record = std::move(**loaded);
  Height h(4);
  record.signed_messages.push_back(h.Prevote(h.Proposer(1), 2, ""));
  KeyValueSafetyStore store(db.BlockKeys(), db.Writer());
  ASSERT_TRUE(store.Save(record).ok());
  EXPECT_EQ(db.writes.back().put_keys,
            (std::vector<std::string>{SafetyBlockKey(Height::Hash(h.Block("A"))),
                                      std::string(kSafetyRecordKey)}));
  EXPECT_EQ(db.data.at(std::string(kSafetyRecordKey))[0], 2) << "version 2";
  auto reloaded = db.Load();
  ASSERT_TRUE(reloaded.ok() && reloaded->has_value());
  ExpectSameRecord(**reloaded, record);
}

// What a height costs on disk with a full block (5,000 txs of 200 bytes, about 1 MB): the
// proposer's three saves write the block once and three small records. (Version 1 wrote the
// whole record each time: the block once, twice, then three times with the lock and valid
// value, about 5 MB.)
TEST(KeyValueSafetyStoreTest, AHeightWritesAFullBlockOnce) {
  Height h(4);
  bas::v1::Block a = h.Block("A");
  for (int i = 0; i < 5000; ++i) *a.add_txs() = std::string(200, static_cast<char>('a' + i % 26));
  const size_t block_bytes = a.ByteSizeLong();
  MemoryKv db;
  KeyValueSafetyStore store({}, db.Writer());
  size_t written = 0;
  for (const SafetyRecord& r : ProposerHeight(h, a)) {
    ASSERT_TRUE(store.Save(r).ok());
    written += db.writes.back().bytes;
  }
  EXPECT_GT(written, block_bytes);
  EXPECT_LT(written, block_bytes + 2048);
}

}  // namespace
}  // namespace bas::node::consensus
