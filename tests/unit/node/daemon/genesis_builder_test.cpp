// BuildGenesis (node/daemon/genesis_builder.h): the text forms of `basd genesis new`, and each
// way a part can fail to parse.
#include "node/daemon/genesis_builder.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace bas::node::daemon {
namespace {

using ::testing::HasSubstr;

const std::string kKey(64, 'a');

GenesisSpec ValidSpec() {
  return GenesisSpec{
      .chain_id = "bas-test",
      .genesis_time = 1767225600,
      .idle_block_interval_s = 30,
      .coalitions = {"bas-dc=BAS Dynamic Coalition", "igf"},
      .members = {"bas-dc/gov-1/GOVERNMENT/MEMBER+SECRETARIAT/" + kKey + "/Ministry / Office",
                  "igf/acad-1/ACADEMIA/MEMBER/" + kKey},
      .validators = {kKey, kKey + ":7"},
      .rules = {"bas-dc/resolution/600"},
  };
}

TEST(BuildGenesisTest, BuildsEveryPartUnderItsCoalition) {
  Result<bas::v1::Genesis> g = BuildGenesis(ValidSpec());
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->chain_id(), "bas-test");
  EXPECT_EQ(g->genesis_time(), 1767225600);
  EXPECT_EQ(g->params().idle_block_interval_s(), 30u);
  ASSERT_EQ(g->coalitions_size(), 2);
  EXPECT_EQ(g->coalitions(0).name(), "BAS Dynamic Coalition");
  EXPECT_EQ(g->coalitions(1).name(), "");
  ASSERT_EQ(g->coalitions(0).members_size(), 1);
  const bas::v1::MemberInfo& m = g->coalitions(0).members(0);
  EXPECT_EQ(m.id(), "gov-1");
  EXPECT_EQ(m.group(), bas::v1::GOVERNMENT);
  ASSERT_EQ(m.roles_size(), 2);
  EXPECT_EQ(m.roles(1), bas::v1::SECRETARIAT);
  EXPECT_EQ(m.name(), "Ministry / Office");  // the name keeps its '/'
  EXPECT_EQ(m.key(), std::string(32, '\xaa'));
  EXPECT_EQ(g->coalitions(1).members(0).id(), "acad-1");
  ASSERT_EQ(g->coalitions(0).rules_size(), 1);
  EXPECT_EQ(g->coalitions(0).rules(0).action_type(), "resolution");
  EXPECT_EQ(g->coalitions(0).rules(0).rule().voting_period_s(), 600u);
  ASSERT_EQ(g->validators_size(), 2);
  EXPECT_EQ(g->validators(0).power(), 10u);
  EXPECT_EQ(g->validators(1).power(), 7u);
}

TEST(BuildGenesisTest, RefusesWhatDoesNotParseNamingIt) {
  struct Case {
    void (*change)(GenesisSpec&);
    std::string message;
  };
  const Case cases[] = {
      {[](GenesisSpec& s) { s.members = {"bas-dc/gov-1/GOVERNMENT/MEMBER"}; },
       "member bas-dc/gov-1/GOVERNMENT/MEMBER: expected"},
      {[](GenesisSpec& s) { s.members = {"bas-dc/gov-1/GOVERMENT/MEMBER/" + kKey}; },
       "unknown group GOVERMENT"},
      {[](GenesisSpec& s) { s.members = {"bas-dc/gov-1/GOVERNMENT/MEMBER+BOSS/" + kKey}; },
       "unknown role BOSS"},
      {[](GenesisSpec& s) { s.members = {"bas-dc/gov-1/GOVERNMENT/MEMBER/abc"}; }, "key:"},
      {[](GenesisSpec& s) { s.members = {"nowhere/gov-1/GOVERNMENT/MEMBER/" + kKey}; },
       "no such coalition"},
      {[](GenesisSpec& s) { s.rules = {"bas-dc/resolution"}; }, "rule bas-dc/resolution:"},
      {[](GenesisSpec& s) { s.rules = {"nowhere/resolution/60"}; }, "rule nowhere/resolution/60"},
      {[](GenesisSpec& s) { s.rules = {"bas-dc/resolution/60s"}; }, "rule bas-dc/resolution/60s"},
      {[](GenesisSpec& s) { s.rules = {"bas-dc/resolution/-1"}; }, "rule bas-dc/resolution/-1"},
      {[](GenesisSpec& s) { s.validators = {"xyz"}; }, "validator xyz:"},
      {[](GenesisSpec& s) { s.validators = {kKey + ":ten"}; }, "power must be a whole number"},
      {[](GenesisSpec& s) { s.validators = {kKey + ":"}; }, "power must be a whole number"},
  };
  for (const Case& c : cases) {
    GenesisSpec spec = ValidSpec();
    c.change(spec);
    Result<bas::v1::Genesis> g = BuildGenesis(spec);
    ASSERT_FALSE(g.ok()) << c.message;
    EXPECT_EQ(g.error().code, "INVALID_GENESIS");
    EXPECT_THAT(g.error().message, HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace bas::node::daemon
