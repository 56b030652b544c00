// What governance/query.h says of a record that does not parse: the query aborts, as the
// engine does on the same bytes, instead of answering without it. An absent record is
// reported as absent.
#include "governance/query.h"

#include <functional>

#include <gtest/gtest.h>

#include "governance/engine.h"
#include "governance/keys.h"

namespace bas::governance {
namespace {

// Field 1, length-delimited, 5 bytes announced and 2 given: no message parses from it.
const std::string kGarbage(
    "\x0a\x05"
    "ab",
    4);
const crypto::Hash32 kId = crypto::ToHash(std::string(32, '\x01'));
const std::string kKey(32, '\x07');

// A state with a sound coalition (so that per-coalition scans reach its tables), proposal kId
// in the acceptance-order index (through which ListProposals finds it), and value at key.
MemoryKv StateWith(const std::string& key, const std::string& value) {
  MemoryKv kv;
  bas::v1::Coalition coalition;
  coalition.set_id("bas-dc");
  kv.Apply({{keys::Coalition("bas-dc"), coalition.SerializeAsString()},
            {keys::ProposalBySeq(0), crypto::HashBytes(kId)}});
  kv.Apply({{key, value}});
  return kv;
}

struct QueryCase {
  const char* name;
  std::string key;  // where the bad record is
  std::function<void(const KvReader&)> query;
};

std::vector<QueryCase> Cases() {
  const std::string id = crypto::HashBytes(kId);
  return {
      {"ListCoalitions", keys::Coalition("alt-dc"),
       [](const KvReader& kv) { (void)ListCoalitions(kv); }},
      {"GetCoalition", keys::Coalition("alt-dc"),
       [](const KvReader& kv) { (void)GetCoalition(kv, "alt-dc"); }},
      {"ListMembers", keys::Member("bas-dc", "alice"),
       [](const KvReader& kv) { (void)ListMembers(kv, "bas-dc", /*active_only=*/true); }},
      {"GetProposal", keys::Proposal(id), [](const KvReader& kv) { (void)GetProposal(kv, kId); }},
      {"ListProposals", keys::Proposal(id),
       [](const KvReader& kv) { (void)ListProposals(kv, ""); }},
      {"ListDecisions of every coalition", keys::Decision("bas-dc", 1),
       [](const KvReader& kv) { (void)ListDecisions(kv, ""); }},
      {"ListDirectory", keys::Listing("sol-1"),
       [](const KvReader& kv) { (void)ListDirectory(kv); }},
      {"GetAccount", keys::Account(kKey),
       [](const KvReader& kv) { (void)GetAccount(kv, crypto::ToHash(kKey)); }},
      {"RuleFor", keys::Rule("bas-dc", "default"),
       [](const KvReader& kv) { (void)RuleFor(kv, "bas-dc", "resolution"); }},
  };
}

TEST(QueryCorruptRecordDeathTest, EveryKindOfQueryAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  for (const QueryCase& c : Cases()) {
    SCOPED_TRACE(c.name);
    const MemoryKv kv = StateWith(c.key, kGarbage);
    EXPECT_DEATH(c.query(kv), "corrupt state: the record at key [0-9a-f]+ does not parse");
  }
}

TEST(QueryCorruptRecordDeathTest, TheEngineAbortsOnTheSameBytes) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const MemoryKv kv = StateWith(keys::Coalition("alt-dc"), kGarbage);
  CheckedTx tx;
  tx.signed_tx.set_signer(kKey);
  tx.body.mutable_propose()->set_coalition("alt-dc");
  EXPECT_DEATH(
      {
        Engine engine(kv);
        engine.BeginBlock({"test-chain", 1, 1700000000});
        (void)engine.DeliverTx(tx);
      },
      "corrupt state");
}

TEST(QueryTest, AnAbsentRecordIsAbsent) {
  const MemoryKv kv =
      StateWith(keys::Coalition("bas-dc"), bas::v1::Coalition().SerializeAsString());
  EXPECT_FALSE(GetCoalition(kv, "alt-dc").has_value());
  EXPECT_FALSE(GetProposal(kv, kId).has_value());
  EXPECT_TRUE(ListMembers(kv, "bas-dc", false).empty());
  EXPECT_TRUE(ListDecisions(kv, "").empty());
  EXPECT_EQ(GetAccount(kv, crypto::ToHash(kKey)).next_nonce(), 0u);
}

}  // namespace
}  // namespace bas::governance
