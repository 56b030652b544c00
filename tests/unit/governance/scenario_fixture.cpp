#include "tests/unit/governance/scenario_fixture.h"

#include <utility>

#include <gtest/gtest.h>

namespace bas::governance::testing {

json Member(std::string_view id, std::string_view group, const std::vector<std::string>& roles) {
  return {{"id", id}, {"group", group}, {"roles", roles}};
}

json Members(const std::vector<int>& counts_per_group) {
  json members = json::array();
  for (size_t g = 0; g < counts_per_group.size() && g < kGroupNames.size(); ++g) {
    for (int i = 1; i <= counts_per_group[g]; ++i) {
      members.push_back(
          Member(std::string(kGroupPrefixes[g]) + "-" + std::to_string(i), kGroupNames[g]));
    }
  }
  return members;
}

json With(json members, const std::vector<json>& extra) {
  for (const json& m : extra) members.push_back(m);
  return members;
}

json Coalition(std::string_view id, json members, json rules) {
  json c = {{"id", id}, {"name", std::string(id) + " coalition"}, {"members", std::move(members)}};
  if (!rules.is_null()) c["rules"] = std::move(rules);
  return c;
}

json Scenario(std::vector<json> coalitions, std::vector<json> steps) {
  return {{"start", kStart}, {"coalitions", coalitions}, {"steps", steps}};
}

json MajorityRule(int64_t period_s, uint32_t quorum_ppm, uint32_t threshold_ppm) {
  return {{"voting_period_s", period_s},    {"mode", "MAJORITY"},       {"quorum_ppm", quorum_ppm},
          {"threshold_ppm", threshold_ppm}, {"groups_required", false}, {"group_quorum_ppm", 0},
          {"group_threshold_ppm", 0},       {"objection_ppm", 0}};
}

json GroupRule(int64_t period_s, uint32_t quorum_ppm, uint32_t threshold_ppm,
               uint32_t group_quorum_ppm, uint32_t group_threshold_ppm) {
  json rule = MajorityRule(period_s, quorum_ppm, threshold_ppm);
  rule["groups_required"] = true;
  rule["group_quorum_ppm"] = group_quorum_ppm;
  rule["group_threshold_ppm"] = group_threshold_ppm;
  return rule;
}

json ConsensusRule(int64_t period_s, uint32_t objection_ppm) {
  json rule = MajorityRule(period_s, 0, 0);
  rule["mode"] = "CONSENSUS_CALL";
  rule["objection_ppm"] = objection_ppm;
  return rule;
}

json Step(int64_t t, std::vector<json> txs) {
  json step = {{"t", t}};
  if (!txs.empty()) step["txs"] = txs;
  return step;
}

json Propose(std::string_view by, std::string_view ref, std::vector<json> actions,
             std::string_view coalition, std::string_view title) {
  return {{"type", "propose"},      {"by", by},       {"ref", ref},
          {"coalition", coalition}, {"title", title}, {"actions", actions}};
}

json Vote(std::string_view by, std::string_view ref, std::string_view choice,
          std::optional<std::string> reason) {
  json tx = {{"type", "vote"}, {"by", by}, {"proposal", ref}, {"choice", choice}};
  if (reason) tx["reason"] = *reason;
  return tx;
}

json Withdraw(std::string_view by, std::string_view ref) {
  return {{"type", "withdraw"}, {"by", by}, {"proposal", ref}};
}

json Apply(std::string_view by, std::string_view ref, std::string_view group,
           std::string_view coalition) {
  return {{"type", "apply"},        {"by", by},       {"ref", ref},
          {"coalition", coalition}, {"group", group}, {"name", std::string(by) + " org"}};
}

json RecordMeeting(std::string_view by, std::string_view coalition) {
  return {{"type", "record_meeting"},
          {"by", by},
          {"coalition", coalition},
          {"date", "2026-01-15"},
          {"uri", "https://example.org/minutes-2026-01.pdf"},
          {"sha256", Hex64('a')}};
}

json SubmitAssessment(std::string_view by, std::string_view ref, std::string_view solution_id,
                      std::string_view bmm_version, int level, int64_t valid_until_t) {
  return {{"type", "submit_assessment"},
          {"by", by},
          {"ref", ref},
          {"solution_id", solution_id},
          {"solution_name", std::string(solution_id) + " ledger"},
          {"vendor", "Example Vendor"},
          {"bmm_version", bmm_version},
          {"level", level},
          {"elements", {{"governance", level}, {"security", level}}},
          {"valid_until_t", valid_until_t}};
}

json RotateKey(std::string_view by, std::string_view new_id_seed) {
  return {{"type", "rotate_key"}, {"by", by}, {"new_id_seed", new_id_seed}};
}

json Resolution(std::string_view text) { return {{"type", "resolution"}, {"text", text}}; }

json Admit(std::string_view id, std::string_view group, const std::vector<std::string>& roles) {
  return {{"type", "admit_member"}, {"member", Member(id, group, roles)}};
}

json Remove(std::string_view id) { return {{"type", "remove_member"}, {"member_id", id}}; }

json SetRoles(std::string_view id, const std::vector<std::string>& roles) {
  return {{"type", "set_roles"}, {"member_id", id}, {"roles", roles}};
}

json AnnualPlan(int year, std::string_view sha256_hex) {
  return {{"type", "approve_annual_plan"},
          {"year", year},
          {"uri", "https://example.org/plan-" + std::to_string(year) + ".pdf"},
          {"sha256", sha256_hex}};
}

json IgfSession(std::string_view title) {
  return {{"type", "schedule_igf_session"},
          {"igf_year", 2026},
          {"title", title},
          {"format", "WORKSHOP"}};
}

std::string Hex64(char c) { return std::string(64, c); }

TestRun RunOk(const json& scenario) {
  Result<scenario::ScenarioRun> run = scenario::RunScenario(scenario);
  if (!run.ok()) {
    ADD_FAILURE() << "RunScenario failed: " << run.error().code << ": " << run.error().message
                  << "\nscenario: " << scenario.dump();
    return TestRun{};
  }
  return TestRun{json::parse(run->output.dump()), std::move(run->state), std::move(run->refs)};
}

std::vector<std::string> Rejections(const json& output) {
  std::vector<std::string> out;
  if (!output.is_object() || !output.contains("rejected")) return out;
  for (const json& r : output["rejected"]) {
    out.push_back(std::to_string(r.value("step", -1)) + ":" + std::to_string(r.value("tx", -1)) +
                  ":" + r.value("code", std::string("?")));
  }
  return out;
}

json DecisionFor(const json& output, std::string_view ref) {
  if (!output.is_object() || !output.contains("decisions")) return nullptr;
  for (const json& d : output["decisions"]) {
    if (d.value("proposal", std::string()) == ref) return d;
  }
  return nullptr;
}

std::vector<std::string> ActiveMembers(const json& output, std::string_view coalition) {
  std::vector<std::string> out;
  if (!output.is_object() || !output.contains("members")) return out;
  const json& members = output["members"];
  auto it = members.find(std::string(coalition));
  if (it == members.end()) return out;
  for (const json& id : *it) out.push_back(id.get<std::string>());
  return out;
}

std::vector<std::string> GroupNames(const json& decision) {
  std::vector<std::string> out;
  if (!decision.is_object() || !decision.contains("groups")) return out;
  for (auto it = decision["groups"].begin(); it != decision["groups"].end(); ++it) {
    out.push_back(it.key());
  }
  return out;
}

crypto::PublicKey ScenarioKey(std::string_view id) {
  Result<crypto::KeyPair> pair = crypto::KeyPair::FromSecret(scenario::ScenarioSecretKey(id));
  if (!pair.ok()) {
    ADD_FAILURE() << "no key for " << id;
    return {};
  }
  return pair->public_key();
}

}  // namespace bas::governance::testing
