// Compact builders for governance scenarios (docs/scenarios.md format) and accessors over what
// bas::scenario::RunScenario returns, shared by the governance tests. Expected values in the tests
// come from the rules in DESIGN.md section 3 and scenarios/README.md, worked out by hand.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/scenario/runner.h"
#include "crypto/hash.h"
#include "crypto/schnorr.h"
#include "governance/kv.h"

namespace bas::governance::testing {

using nlohmann::json;

// Unix time of step 0 in every test scenario.
inline constexpr int64_t kStart = 1767225600;
inline constexpr int64_t kDay = 86400;
inline constexpr uint32_t kD = 1000000;  // parts per million

// Group names in enum order, and the id prefix Members() gives each.
inline constexpr std::array<std::string_view, 6> kGroupNames = {
    "GOVERNMENT",          "PRIVATE_SECTOR", "CIVIL_SOCIETY",
    "TECHNICAL_COMMUNITY", "ACADEMIA",       "INTERGOVERNMENTAL"};
inline constexpr std::array<std::string_view, 6> kGroupPrefixes = {"gov",  "priv", "civ",
                                                                   "tech", "aca",  "igo"};

// ---- Genesis ----

json Member(std::string_view id, std::string_view group,
            const std::vector<std::string>& roles = {"MEMBER"});
// Voting members named <prefix>-<i> (i from 1), counts per group in enum order:
// {2, 0, 1} = gov-1, gov-2, civ-1.
json Members(const std::vector<int>& counts_per_group);
// members: a JSON array; appended to it are the extra members given.
json With(json members, const std::vector<json>& extra);
json Coalition(std::string_view id, json members, json rules = nullptr);
json Scenario(std::vector<json> coalitions, std::vector<json> steps);

// A rule with every MAJORITY field set (no group tests).
json MajorityRule(int64_t period_s, uint32_t quorum_ppm, uint32_t threshold_ppm);
// A MAJORITY rule with the per-group tests.
json GroupRule(int64_t period_s, uint32_t quorum_ppm, uint32_t threshold_ppm,
               uint32_t group_quorum_ppm, uint32_t group_threshold_ppm);
json ConsensusRule(int64_t period_s, uint32_t objection_ppm);

// ---- Steps, transactions, actions ----

json Step(int64_t t, std::vector<json> txs = {});
json Propose(std::string_view by, std::string_view ref, std::vector<json> actions,
             std::string_view coalition = "bas-dc", std::string_view title = "A proposal");
json Vote(std::string_view by, std::string_view ref, std::string_view choice,
          std::optional<std::string> reason = std::nullopt);
json Withdraw(std::string_view by, std::string_view ref);
json Apply(std::string_view by, std::string_view ref, std::string_view group,
           std::string_view coalition = "bas-dc");
json RecordMeeting(std::string_view by, std::string_view coalition = "bas-dc");
json SubmitAssessment(std::string_view by, std::string_view ref, std::string_view solution_id,
                      std::string_view bmm_version, int level, int64_t valid_until_t);
json RotateKey(std::string_view by, std::string_view new_id_seed);

json Resolution(std::string_view text = "The coalition resolves.");
json Admit(std::string_view id, std::string_view group,
           const std::vector<std::string>& roles = {"MEMBER"});
json Remove(std::string_view id);
json SetRoles(std::string_view id, const std::vector<std::string>& roles);
json AnnualPlan(int year, std::string_view sha256_hex);
json IgfSession(std::string_view title = "Workshop");

// A sha256 field value: 64 hex digits made of the digit c.
std::string Hex64(char c);

// ---- Running and reading the result ----

// What a run left, with the output as plain JSON: objects compare whatever their key order.
struct TestRun {
  json output;
  MemoryKv state;
  std::map<std::string, crypto::Hash32> refs;  // ref -> proposal or assessment id
};

// Runs the scenario; a runner error is a test failure (and an empty run is returned).
TestRun RunOk(const json& scenario);

// The rejected txs as "step:tx:CODE", in output order.
std::vector<std::string> Rejections(const json& output);
// The decision whose "proposal" is ref, or null.
json DecisionFor(const json& output, std::string_view ref);
// output["members"][coalition] as a vector (empty when missing).
std::vector<std::string> ActiveMembers(const json& output, std::string_view coalition);
// The keys of a decision's "groups" object (sorted: JSON objects carry no order).
std::vector<std::string> GroupNames(const json& decision);

// The x-only public key the runner signs with for a scenario id.
crypto::PublicKey ScenarioKey(std::string_view id);

}  // namespace bas::governance::testing
