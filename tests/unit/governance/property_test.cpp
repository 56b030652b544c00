// Seeded random scenarios (proposals, votes and vote changes, withdrawals, applications,
// admissions, removals, role changes, key rotations, refused txs, time jumps past the ends),
// then invariants over the resulting state, checked through governance/query.h against an
// independent reading of the rules:
//   - each proposal's stored tally equals a recount of the latest votes by electorate group;
//   - the stored rule is the strictest of its actions' rules (found by search from the
//     definition, not by rules.cpp's loop), and end = accepted + period;
//   - each decision's outcome is what the rule gives for its tally;
//   - a proposal is closed iff a block at or after its end has run, at the first such block;
//   - each closed proposal has exactly one decision; numbers per coalition are 1..n in
//     closing order, closings within a block in acceptance order;
//   - a member id appears once per coalition; the printed members are the active ones;
//   - each key's nonce counts exactly its accepted txs;
//   - a second run gives the same output and app hash.
// A failing seed prints its scenario; keep it as a regression case.
#include <algorithm>
#include <array>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "governance/query.h"
#include "governance/rules.h"
#include "tests/unit/governance/scenario_fixture.h"

namespace bas::governance::testing {
namespace {

constexpr int kSeeds = 20;
constexpr int kTxsPerScenario = 300;

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  // Uniform enough in [0, n) and the same on every standard library (unlike the
  // distributions, whose algorithms are unspecified).
  int Below(int n) { return static_cast<int>(gen_() % static_cast<uint64_t>(n)); }
  bool Chance(int percent) { return Below(100) < percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(static_cast<int>(v.size()))];
  }

 private:
  std::mt19937_64 gen_;
};

struct Generated {
  json scenario;
  std::vector<int64_t> block_times;              // absolute, per step
  std::set<std::string> rotated;                 // ids whose key changed (nonce check skipped)
  std::vector<std::vector<std::string>> signer;  // [step][tx] -> "by"
};

constexpr std::array<const char*, 3> kChoices = {"YES", "NO", "ABSTAIN"};
constexpr std::array<const char*, 4> kRoles = {"MEMBER", "SECRETARIAT", "ASSESSOR", "OPERATOR"};

json RandomRule(Rng& rng) {
  static const std::vector<int64_t> periods = {60, 120, 300};
  static const std::vector<uint32_t> quorums = {0, 0, 100000, 250000, 334000, 500000};
  static const std::vector<uint32_t> thresholds = {0, 500000, 666667};
  if (rng.Chance(20)) return ConsensusRule(rng.Pick(periods), rng.Pick(quorums));
  if (rng.Chance(40)) {
    return GroupRule(rng.Pick(periods), rng.Pick(quorums), rng.Pick(thresholds), 200000, 500000);
  }
  return MajorityRule(rng.Pick(periods), rng.Pick(quorums), rng.Pick(thresholds));
}

json RandomMembers(Rng& rng, const std::string& prefix, std::vector<std::string>* ids) {
  json members = json::array();
  std::vector<int> groups = {0, 1, 2, 3, 4, 5};
  for (int i = 5; i > 0; --i) std::swap(groups[i], groups[rng.Below(i + 1)]);
  int group_count = 3 + rng.Below(4);
  for (int g = 0; g < group_count; ++g) {
    int n = 1 + rng.Below(3);
    for (int i = 1; i <= n; ++i) {
      std::string id = prefix + std::string(kGroupPrefixes[groups[g]]) + "-" + std::to_string(i);
      members.push_back(Member(id, kGroupNames[groups[g]]));
      ids->push_back(id);
    }
  }
  std::string sec = prefix + "sec-1";
  members.push_back(Member(sec, kGroupNames[groups[0]], {"SECRETARIAT"}));
  ids->push_back(sec);
  return members;
}

Generated RandomScenario(uint64_t seed) {
  Rng rng(seed);
  Generated g;
  std::vector<std::string> bas_ids, alt_ids;
  json bas_members = RandomMembers(rng, "", &bas_ids);
  json alt_members = RandomMembers(rng, "alt-", &alt_ids);
  json bas_rules = {{"default", RandomRule(rng)}};
  if (rng.Chance(50)) bas_rules["resolution"] = RandomRule(rng);
  if (rng.Chance(50)) bas_rules["admit_member"] = RandomRule(rng);
  json alt_rules = {{"default", RandomRule(rng)}};

  std::vector<std::string> newcomers = {"new-0", "new-1", "new-2", "new-3", "new-4", "out-1"};
  std::vector<std::string> everyone = bas_ids;
  everyone.insert(everyone.end(), alt_ids.begin(), alt_ids.end());
  everyone.insert(everyone.end(), newcomers.begin(), newcomers.end());
  std::vector<std::string> refs;
  std::map<std::string, std::string> ref_coalition;
  std::map<std::string, std::string> ref_proposer;
  int next_ref = 0;
  int64_t t = 0;
  int txs = 0;
  std::vector<json> steps;

  auto coalition_ids = [&](const std::string& c) -> const std::vector<std::string>& {
    return c == "bas-dc" ? bas_ids : alt_ids;
  };
  auto random_action = [&](const std::string& c) -> json {
    int r = rng.Below(10);
    if (r < 4) return Resolution("Resolution " + std::to_string(rng.Below(1000)));
    if (r < 6) {
      return Admit(rng.Chance(80) ? rng.Pick(newcomers) : rng.Pick(coalition_ids(c)),
                   kGroupNames[rng.Below(6)]);
    }
    if (r < 8) return Remove(rng.Chance(85) ? rng.Pick(coalition_ids(c)) : rng.Pick(newcomers));
    std::vector<std::string> roles;
    for (std::string_view role : kRoles) {
      if (rng.Chance(role == "MEMBER" ? 70 : 25)) roles.emplace_back(role);
    }
    if (roles.empty()) roles.push_back("MEMBER");
    return SetRoles(rng.Chance(85) ? rng.Pick(coalition_ids(c)) : rng.Pick(newcomers), roles);
  };

  while (txs < kTxsPerScenario) {
    t += 1 + rng.Below(40);
    if (rng.Chance(5)) t += 200 + rng.Below(300);  // past most ends
    std::vector<json> block;
    std::vector<std::string> block_signers;
    int n = rng.Chance(15) ? 0 : 1 + rng.Below(6);
    for (int i = 0; i < n; ++i) {
      std::string coalition = rng.Chance(75) ? "bas-dc" : "alt-dc";
      const std::vector<std::string>& locals = coalition_ids(coalition);
      std::string by = rng.Chance(85) ? rng.Pick(locals) : rng.Pick(everyone);
      int kind = rng.Below(100);
      json tx;
      if (kind < 18) {
        std::string ref = "p" + std::to_string(next_ref++);
        std::vector<json> actions;
        int count = 1 + rng.Below(rng.Chance(90) ? 2 : 3);
        for (int a = 0; a < count; ++a) actions.push_back(random_action(coalition));
        tx = Propose(by, ref, actions, coalition, "Proposal " + ref);
        ref_coalition[ref] = coalition;
        ref_proposer[ref] = by;
        if (rng.Chance(30)) tx["summary"] = "Why " + ref;
        refs.push_back(ref);
      } else if (kind < 75) {
        // Votes go mostly to recent proposals, by members of their coalition, as in a live
        // coalition; some go anywhere.
        std::string ref = "nowhere";
        if (!refs.empty() && !rng.Chance(3)) {
          ref = rng.Chance(75) ? refs[refs.size() - 1 - rng.Below(std::min<int>(refs.size(), 6))]
                               : rng.Pick(refs);
          if (rng.Chance(90)) {
            by = rng.Pick(coalition_ids(ref_coalition[ref]));
            if (rng.Chance(10)) by = rng.Pick(newcomers);
          }
        }
        std::optional<std::string> reason;
        if (rng.Chance(40)) reason = "reason " + std::to_string(rng.Below(100));
        tx = Vote(by, ref, kChoices[rng.Below(3)], reason);
      } else if (kind < 80) {
        std::string ref = refs.empty()
                              ? "nowhere"
                              : refs[refs.size() - 1 - rng.Below(std::min<int>(refs.size(), 6))];
        if (rng.Chance(70) && ref_proposer.count(ref)) by = ref_proposer[ref];
        tx = Withdraw(by, ref);
      } else if (kind < 90) {
        std::string applicant = rng.Chance(80) ? rng.Pick(newcomers) : by;
        std::string ref = "a" + std::to_string(next_ref++);
        by = applicant;
        tx = Apply(applicant, ref, kGroupNames[rng.Below(6)], coalition);
        ref_coalition[ref] = coalition;
        if (rng.Chance(50)) tx["statement"] = "We would like to join.";
        refs.push_back(ref);
      } else if (kind < 92) {
        tx = RotateKey(by, "rk-" + std::to_string(next_ref++));
        g.rotated.insert(by);
      } else if (kind < 95) {
        tx = RecordMeeting(by, coalition);
      } else {
        tx = Vote(by, refs.empty() ? "nowhere" : refs.back(), kChoices[rng.Below(3)]);
      }
      if (rng.Chance(3)) tx["bad_signature"] = true;
      if (rng.Chance(3)) tx["nonce"] = 1000000;
      block.push_back(tx);
      block_signers.push_back(by);
      ++txs;
    }
    steps.push_back(Step(t, block));
    g.signer.push_back(block_signers);
    g.block_times.push_back(kStart + t);
  }
  t += 1000;  // everything still open closes
  steps.push_back(Step(t));
  g.signer.emplace_back();
  g.block_times.push_back(kStart + t);
  g.scenario = Scenario(
      {Coalition("bas-dc", bas_members, bas_rules), Coalition("alt-dc", alt_members, alt_rules)},
      steps);
  return g;
}

// ---- An independent reading of the rules ----

std::string ActionType(const bas::v1::Action& action) {
  const google::protobuf::OneofDescriptor* kind = action.GetDescriptor()->FindOneofByName("kind");
  const google::protobuf::FieldDescriptor* field =
      action.GetReflection()->GetOneofFieldDescriptor(action, kind);
  return field == nullptr ? "" : field->name();
}

// The strictest of several rules, from the definition rather than from rules.cpp's loop
// (DESIGN.md 3: "a proposal with several actions uses the strictest of each field"). Each
// field has an order read from what makes a proposal harder to pass: a longer vote, a higher
// quorum or threshold, groups required, a lower objection share tolerated, and MAJORITY (a
// vote to be won) over CONSENSUS_CALL (passes unless objected). The strictest value is found
// by search: the candidate, among the rules' own values, that no rule's value beats.
struct RuleField {
  const char* name;
  int64_t (*get)(const bas::v1::EffectiveRule&);
  void (*set)(bas::v1::EffectiveRule&, int64_t);
  bool higher_is_stricter;
};

const std::vector<RuleField>& RuleFields() {
  using R = bas::v1::EffectiveRule;
  static const std::vector<RuleField> fields = {
      {"voting_period_s", [](const R& r) -> int64_t { return r.voting_period_s(); },
       [](R& r, int64_t v) { r.set_voting_period_s(v); }, true},
      {"mode",
       [](const R& r) -> int64_t {
         return r.mode() == bas::v1::MAJORITY ? 2 : r.mode() == bas::v1::CONSENSUS_CALL ? 1 : 0;
       },
       [](R& r, int64_t v) {
         r.set_mode(v == 2   ? bas::v1::MAJORITY
                    : v == 1 ? bas::v1::CONSENSUS_CALL
                             : bas::v1::MODE_UNSPECIFIED);
       },
       true},
      {"quorum_ppm", [](const R& r) -> int64_t { return r.quorum_ppm(); },
       [](R& r, int64_t v) { r.set_quorum_ppm(v); }, true},
      {"threshold_ppm", [](const R& r) -> int64_t { return r.threshold_ppm(); },
       [](R& r, int64_t v) { r.set_threshold_ppm(v); }, true},
      {"groups_required", [](const R& r) -> int64_t { return r.groups_required(); },
       [](R& r, int64_t v) { r.set_groups_required(v != 0); }, true},
      {"group_quorum_ppm", [](const R& r) -> int64_t { return r.group_quorum_ppm(); },
       [](R& r, int64_t v) { r.set_group_quorum_ppm(v); }, true},
      {"group_threshold_ppm", [](const R& r) -> int64_t { return r.group_threshold_ppm(); },
       [](R& r, int64_t v) { r.set_group_threshold_ppm(v); }, true},
      {"objection_ppm", [](const R& r) -> int64_t { return r.objection_ppm(); },
       [](R& r, int64_t v) { r.set_objection_ppm(v); }, false},
  };
  return fields;
}

bas::v1::EffectiveRule StrictestByDefinition(const std::vector<bas::v1::EffectiveRule>& rules) {
  bas::v1::EffectiveRule out;
  for (const RuleField& f : RuleFields()) {
    auto stricter = [&](int64_t a, int64_t b) { return f.higher_is_stricter ? a > b : a < b; };
    std::optional<int64_t> strictest;
    for (const bas::v1::EffectiveRule& candidate : rules) {
      const int64_t c = f.get(candidate);
      const bool beaten = std::any_of(rules.begin(), rules.end(),
                                      [&](const auto& r) { return stricter(f.get(r), c); });
      if (!beaten) strictest = c;
    }
    EXPECT_TRUE(strictest.has_value()) << f.name << ": no rule's value is the strictest";
    if (strictest) f.set(out, *strictest);
  }
  return out;
}

// "" when the tally passes the rule, else the failed test (DESIGN.md 3, "Precise rules" 4).
std::string FailedTest(const bas::v1::EffectiveRule& rule, const bas::v1::ProposalTally& t) {
  const uint64_t d = kD;
  if (rule.mode() == bas::v1::CONSENSUS_CALL) {
    return t.no() * d <= uint64_t{rule.objection_ppm()} * t.eligible() ? "" : "OBJECTED";
  }
  auto fails_support = [&](uint64_t yes, uint64_t no, uint64_t threshold) {
    return yes + no == 0 || !(yes * d > threshold * (yes + no));
  };
  if ((t.yes() + t.no() + t.abstain()) * d < uint64_t{rule.quorum_ppm()} * t.eligible()) {
    return "QUORUM";
  }
  if (fails_support(t.yes(), t.no(), rule.threshold_ppm())) return "SUPPORT";
  if (rule.groups_required()) {
    for (const bas::v1::GroupTally& g : t.groups()) {
      if (g.eligible() == 0) continue;
      std::string name = bas::v1::StakeholderGroup_Name(g.group());
      if ((g.yes() + g.no() + g.abstain()) * d < uint64_t{rule.group_quorum_ppm()} * g.eligible()) {
        return "GROUP_QUORUM:" + name;
      }
      if (fails_support(g.yes(), g.no(), rule.group_threshold_ppm()))
        return "GROUP_SUPPORT:" + name;
    }
  }
  return "";
}

bas::v1::ProposalTally Recount(const KvReader& state, const crypto::Hash32& id) {
  std::map<std::string, bas::v1::StakeholderGroup> electorate;
  for (const auto& [member, group] : Electorate(state, id)) electorate[member] = group;
  std::map<int, bas::v1::GroupTally> groups;
  bas::v1::ProposalTally t;
  t.set_eligible(electorate.size());
  for (const auto& [member, group] : electorate) {
    bas::v1::GroupTally& g = groups[group];
    g.set_group(group);
    g.set_eligible(g.eligible() + 1);
  }
  for (const bas::v1::VoteRecord& v : ListVotes(state, id)) {
    auto it = electorate.find(v.member_id());
    EXPECT_NE(it, electorate.end()) << "vote by " << v.member_id() << " outside the electorate";
    if (it == electorate.end()) continue;
    EXPECT_EQ(v.group(), it->second) << v.member_id();
    bas::v1::GroupTally& g = groups[it->second];
    switch (v.choice()) {
      case bas::v1::YES:
        t.set_yes(t.yes() + 1);
        g.set_yes(g.yes() + 1);
        break;
      case bas::v1::NO:
        t.set_no(t.no() + 1);
        g.set_no(g.no() + 1);
        break;
      case bas::v1::ABSTAIN:
        t.set_abstain(t.abstain() + 1);
        g.set_abstain(g.abstain() + 1);
        break;
      default:
        ADD_FAILURE() << "vote without a choice by " << v.member_id();
    }
  }
  for (const auto& [group, g] : groups) *t.add_groups() = g;  // enum order
  return t;
}

std::string Hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

crypto::Hash32 ToHash(const std::string& bytes) {
  crypto::Hash32 h{};
  if (bytes.size() == h.size()) std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

void CheckInvariants(const Generated& g, const TestRun& run) {
  using google::protobuf::util::MessageDifferencer;
  const KvReader& state = run.state;
  const int64_t last_time = g.block_times.back();

  // Rejection codes are the stable ones.
  static const std::set<std::string> codes = {
      "BAD_SIGNATURE",    "BAD_NONCE",     "NOT_MEMBER", "NOT_AUTHORIZED",   "NOT_ELIGIBLE",
      "UNKNOWN_PROPOSAL", "VOTING_CLOSED", "DUPLICATE",  "INVALID_ARGUMENT", "NOT_FOUND"};
  std::set<std::pair<int, int>> refused;
  for (const json& r : run.output["rejected"]) {
    EXPECT_TRUE(codes.count(r.value("code", ""))) << r.dump();
    refused.insert({r.value("step", -1), r.value("tx", -1)});
  }

  // Decisions by proposal id, and per-coalition registers.
  std::map<std::string, std::vector<bas::v1::Decision>> decisions_of;
  size_t decision_count = 0;
  std::map<std::string, int64_t> sequence_of;
  for (const bas::v1::Proposal& p : ListProposals(state, "")) sequence_of[p.id()] = p.sequence();
  for (const bas::v1::Coalition& c : ListCoalitions(state)) {
    std::vector<bas::v1::Decision> reg = ListDecisions(state, c.id());
    decision_count += reg.size();
    for (size_t i = 0; i < reg.size(); ++i) {
      const bas::v1::Decision& d = reg[i];
      EXPECT_EQ(d.coalition(), c.id());
      EXPECT_EQ(d.number(), i + 1) << c.id();
      decisions_of[d.proposal_id()].push_back(d);
      if (i == 0) continue;
      const bas::v1::Decision& prev = reg[i - 1];
      EXPECT_LE(prev.close_time(), d.close_time()) << c.id() << "#" << d.number();
      if (prev.close_time() == d.close_time()) {
        bool prev_withdrawn = prev.status() == bas::v1::Proposal::WITHDRAWN;
        bool cur_withdrawn = d.status() == bas::v1::Proposal::WITHDRAWN;
        // Withdrawals happen during the block, closings at its end.
        EXPECT_FALSE(!prev_withdrawn && cur_withdrawn) << c.id() << "#" << d.number();
        if (!prev_withdrawn && !cur_withdrawn) {
          EXPECT_LT(sequence_of[prev.proposal_id()], sequence_of[d.proposal_id()])
              << c.id() << "#" << d.number() << ": closings in acceptance order";
        }
      }
    }

    // Members: one entry per id; the printed list is the active ones.
    std::set<std::string> seen;
    std::vector<std::string> active;
    for (const bas::v1::Member& m : ListMembers(state, c.id(), false)) {
      EXPECT_TRUE(seen.insert(m.info().id()).second) << c.id() << ": " << m.info().id() << " twice";
      if (m.active()) active.push_back(m.info().id());
    }
    EXPECT_EQ(ActiveMembers(run.output, c.id()), active) << c.id();
  }
  EXPECT_EQ(run.output["decisions"].size(), decision_count);

  // Proposals.
  for (const bas::v1::Proposal& p : ListProposals(state, "")) {
    SCOPED_TRACE("proposal " + p.title() + " " + Hex(p.id()));
    const crypto::Hash32 id = ToHash(p.id());
    std::optional<bas::v1::ProposalTally> tally = GetTally(state, id);
    ASSERT_TRUE(tally.has_value());
    bas::v1::ProposalTally recount = Recount(state, id);
    EXPECT_TRUE(MessageDifferencer::Equals(*tally, recount))
        << "stored " << tally->ShortDebugString() << "\nrecount " << recount.ShortDebugString();

    // Every vote in the history is by an electorate member, before the end.
    for (const bas::v1::VoteRecord& v : VoteHistory(state, id)) {
      EXPECT_LT(v.time(), p.end_time()) << v.member_id();
    }

    // The rule: strictest of the actions' rules (rules never change in these scenarios).
    std::vector<bas::v1::EffectiveRule> rules;
    for (const bas::v1::Action& a : p.actions())
      rules.push_back(RuleFor(state, p.coalition(), ActionType(a)));
    ASSERT_FALSE(rules.empty());
    bas::v1::EffectiveRule want_rule = StrictestByDefinition(rules);
    EXPECT_TRUE(MessageDifferencer::Equals(p.rule(), want_rule))
        << "stored " << p.rule().ShortDebugString() << "\nwant " << want_rule.ShortDebugString();
    EXPECT_EQ(p.end_time(), p.created_time() + static_cast<int64_t>(p.rule().voting_period_s()));

    const std::vector<bas::v1::Decision>& ds = decisions_of[p.id()];
    if (p.status() == bas::v1::Proposal::ACTIVE) {
      EXPECT_TRUE(ds.empty());
      EXPECT_GT(p.end_time(), last_time) << "a block at or after its end has run";
      continue;
    }
    ASSERT_EQ(ds.size(), 1u) << "closed proposals have exactly one decision";
    const bas::v1::Decision& d = ds[0];
    EXPECT_EQ(d.status(), p.status());
    EXPECT_TRUE(MessageDifferencer::Equals(d.tally(), *tally));
    EXPECT_EQ(d.coalition(), p.coalition());
    if (p.status() == bas::v1::Proposal::WITHDRAWN) {
      EXPECT_LT(d.close_time(), p.end_time());
      EXPECT_EQ(d.failed_test(), "");
      continue;
    }
    // Closed at the first block whose time is >= its end.
    auto first = std::lower_bound(g.block_times.begin(), g.block_times.end(), p.end_time());
    ASSERT_NE(first, g.block_times.end());
    EXPECT_EQ(d.close_time(), *first);
    std::string want_failed = FailedTest(p.rule(), *tally);
    if (p.status() == bas::v1::Proposal::REJECTED) {
      EXPECT_NE(want_failed, "") << "rejected, but the tally passes " << tally->ShortDebugString();
      EXPECT_EQ(d.failed_test(), want_failed) << tally->ShortDebugString();
    } else {
      EXPECT_EQ(want_failed, "") << "passed, but the tally fails " << tally->ShortDebugString();
      if (p.status() == bas::v1::Proposal::PASSED) {
        EXPECT_EQ(d.failed_test(), "");
      }
      if (p.status() == bas::v1::Proposal::FAILED) {
        EXPECT_TRUE(d.failed_test() == "NOT_FOUND" || d.failed_test() == "DUPLICATE")
            << d.failed_test();
      }
    }
    // Dissent: electorate members whose last vote is NO, by id.
    std::vector<std::string> want_dissent, got_dissent;
    for (const bas::v1::VoteRecord& v : ListVotes(state, id)) {
      if (v.choice() == bas::v1::NO) want_dissent.push_back(v.member_id());
    }
    for (const bas::v1::Dissent& x : d.dissent()) got_dissent.push_back(x.member_id());
    EXPECT_EQ(got_dissent, want_dissent);
  }
  for (const auto& [pid, ds] : decisions_of) {
    EXPECT_TRUE(sequence_of.count(pid)) << "decision for an unknown proposal " << Hex(pid);
  }

  // Nonces: a key's next nonce counts its accepted txs (ids that never rotated).
  std::map<std::string, uint64_t> accepted;
  for (size_t s = 0; s < g.signer.size(); ++s) {
    for (size_t i = 0; i < g.signer[s].size(); ++i) {
      if (!refused.count({static_cast<int>(s), static_cast<int>(i)})) ++accepted[g.signer[s][i]];
    }
  }
  for (const auto& [id, count] : accepted) {
    if (g.rotated.count(id)) continue;
    EXPECT_EQ(GetAccount(state, ScenarioKey(id)).next_nonce(), count) << id;
  }
}

class PropertyTest : public ::testing::TestWithParam<int> {};

TEST_P(PropertyTest, InvariantsHold) {
  const uint64_t seed = 0x6261732d676f7600ull + static_cast<uint64_t>(GetParam());
  Generated g = RandomScenario(seed);
  TestRun run = RunOk(g.scenario);
  ASSERT_TRUE(run.output.is_object());
  // The generator must exercise the rules, not only the refusals.
  EXPECT_GT(ListProposals(run.state, "").size(), 10u);
  CheckInvariants(g, run);
  TestRun again = RunOk(g.scenario);
  EXPECT_EQ(again.output["app_hash"], run.output["app_hash"]);
  EXPECT_EQ(again.output, run.output);
  if (HasFailure()) {
    ADD_FAILURE() << "seed " << seed << " scenario:\n" << g.scenario.dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, PropertyTest, ::testing::Range(0, kSeeds));

// The engine's Strictest against the definition over random sets of rules whose every field
// takes values that tie, cross and reach the ends of its range (the scenarios above keep most
// fields at their defaults).
TEST(StrictestTest, IsTheStrictestOfEachFieldByDefinition) {
  static const std::vector<int64_t> periods = {1, 60, 86400, 366 * 86400};
  static const std::vector<int64_t> ppms = {0, 1, 334000, 500000, 999999, 1000000};
  static const std::vector<bas::v1::VotingMode> modes = {bas::v1::MAJORITY,
                                                         bas::v1::CONSENSUS_CALL};
  Rng rng(0x73747269637465ull);
  for (int round = 0; round < 2000; ++round) {
    std::vector<bas::v1::EffectiveRule> rules(1 + rng.Below(4));
    for (bas::v1::EffectiveRule& r : rules) {
      r.set_voting_period_s(rng.Pick(periods));
      r.set_mode(rng.Pick(modes));
      r.set_quorum_ppm(rng.Pick(ppms));
      r.set_threshold_ppm(rng.Pick(ppms));
      r.set_groups_required(rng.Chance(50));
      r.set_group_quorum_ppm(rng.Pick(ppms));
      r.set_group_threshold_ppm(rng.Pick(ppms));
      r.set_objection_ppm(rng.Pick(ppms));
    }
    const bas::v1::EffectiveRule got = governance::Strictest(rules);
    const bas::v1::EffectiveRule want = StrictestByDefinition(rules);
    ASSERT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got, want))
        << "round " << round << "\ngot  " << got.ShortDebugString() << "\nwant "
        << want.ShortDebugString();
  }
}

}  // namespace
}  // namespace bas::governance::testing
