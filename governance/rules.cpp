#include "governance/rules.h"

#include <algorithm>

namespace bas::governance {
namespace {

using bas::v1::Action;
using bas::v1::EffectiveRule;

constexpr int64_t kDay = 24 * 3600;
// The longest voting period a rule may set; keeps end times far from overflow.
constexpr uint64_t kMaxVotingPeriodS = 366 * kDay;

EffectiveRule MakeRule(int64_t days, uint32_t quorum, uint32_t threshold, bool groups,
                       uint32_t group_quorum, uint32_t group_threshold) {
  EffectiveRule r;
  r.set_voting_period_s(days * kDay);
  r.set_mode(bas::v1::MAJORITY);
  r.set_quorum_ppm(quorum);
  r.set_threshold_ppm(threshold);
  r.set_groups_required(groups);
  r.set_group_quorum_ppm(group_quorum);
  r.set_group_threshold_ppm(group_threshold);
  r.set_objection_ppm(0);
  return r;
}

// Majority test of "Precise rules" 4: passes iff quorum met, yes+no > 0 and yes strictly
// above the threshold share of yes+no.
bool QuorumMet(uint64_t cast, uint64_t eligible, uint32_t quorum_ppm) {
  return cast * kPpm >= static_cast<uint64_t>(quorum_ppm) * eligible;
}
bool SupportMet(uint64_t yes, uint64_t no, uint32_t threshold_ppm) {
  return yes + no > 0 && yes * kPpm > static_cast<uint64_t>(threshold_ppm) * (yes + no);
}

}  // namespace

std::string_view ActionTypeName(Action::KindCase kind) {
  switch (kind) {
    case Action::kAdmitMember:
      return "admit_member";
    case Action::kRemoveMember:
      return "remove_member";
    case Action::kSetRoles:
      return "set_roles";
    case Action::kApproveAnnualPlan:
      return "approve_annual_plan";
    case Action::kListSolution:
      return "list_solution";
    case Action::kDelistSolution:
      return "delist_solution";
    case Action::kScheduleIgfSession:
      return "schedule_igf_session";
    case Action::kSetBmmModel:
      return "set_bmm_model";
    case Action::kChangeRules:
      return "change_rules";
    case Action::kUpdateValidators:
      return "update_validators";
    case Action::kCreateCoalition:
      return "create_coalition";
    case Action::kResolution:
      return "resolution";
    case Action::KIND_NOT_SET:
      break;
  }
  return "";
}

const std::vector<std::string_view>& ActionTypeNames() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (int k = Action::kAdmitMember; k <= Action::kResolution; ++k) {
      out.push_back(ActionTypeName(static_cast<Action::KindCase>(k)));
    }
    return out;
  }();
  return names;
}

bool IsRuleKey(std::string_view key) {
  if (key == kDefaultRuleKey) return true;
  const auto& names = ActionTypeNames();
  return std::find(names.begin(), names.end(), key) != names.end();
}

EffectiveRule BuiltinRule(std::string_view t) {
  if (t == "approve_annual_plan") return MakeRule(14, 500000, 500000, true, 200000, 500000);
  if (t == "remove_member" || t == "change_rules" || t == "set_bmm_model" ||
      t == "update_validators" || t == "create_coalition") {
    return MakeRule(14, 500000, 666667, true, 200000, 500000);
  }
  // resolution, schedule_igf_session, delist_solution, list_solution, admit_member, set_roles
  return MakeRule(7, 334000, 500000, false, 0, 0);
}

EffectiveRule ResolveRule(std::string_view action_type,
                          const std::optional<bas::v1::VotingRule>& specific,
                          const std::optional<bas::v1::VotingRule>& fallback) {
  EffectiveRule r = BuiltinRule(action_type);
  const std::optional<bas::v1::VotingRule>& stored = specific ? specific : fallback;
  if (!stored) return r;
  const bas::v1::VotingRule& s = *stored;
  if (s.has_voting_period_s()) r.set_voting_period_s(s.voting_period_s());
  if (s.has_mode()) r.set_mode(s.mode());
  if (s.has_quorum_ppm()) r.set_quorum_ppm(s.quorum_ppm());
  if (s.has_threshold_ppm()) r.set_threshold_ppm(s.threshold_ppm());
  if (s.has_groups_required()) r.set_groups_required(s.groups_required());
  if (s.has_group_quorum_ppm()) r.set_group_quorum_ppm(s.group_quorum_ppm());
  if (s.has_group_threshold_ppm()) r.set_group_threshold_ppm(s.group_threshold_ppm());
  if (s.has_objection_ppm()) r.set_objection_ppm(s.objection_ppm());
  return r;
}

EffectiveRule Strictest(const std::vector<EffectiveRule>& rules) {
  EffectiveRule out = rules.front();
  for (const EffectiveRule& r : rules) {
    out.set_voting_period_s(std::max(out.voting_period_s(), r.voting_period_s()));
    out.set_quorum_ppm(std::max(out.quorum_ppm(), r.quorum_ppm()));
    out.set_threshold_ppm(std::max(out.threshold_ppm(), r.threshold_ppm()));
    out.set_group_quorum_ppm(std::max(out.group_quorum_ppm(), r.group_quorum_ppm()));
    out.set_group_threshold_ppm(std::max(out.group_threshold_ppm(), r.group_threshold_ppm()));
    out.set_groups_required(out.groups_required() || r.groups_required());
    out.set_objection_ppm(std::min(out.objection_ppm(), r.objection_ppm()));
    if (r.mode() == bas::v1::MAJORITY) out.set_mode(bas::v1::MAJORITY);
  }
  return out;
}

std::string FailedTest(const EffectiveRule& rule, const bas::v1::ProposalTally& tally) {
  if (rule.mode() == bas::v1::CONSENSUS_CALL) {
    const bool objected =
        tally.no() * kPpm > static_cast<uint64_t>(rule.objection_ppm()) * tally.eligible();
    return objected ? "OBJECTED" : "";
  }
  const uint64_t cast = tally.yes() + tally.no() + tally.abstain();
  if (!QuorumMet(cast, tally.eligible(), rule.quorum_ppm())) return "QUORUM";
  if (!SupportMet(tally.yes(), tally.no(), rule.threshold_ppm())) return "SUPPORT";
  if (rule.groups_required()) {
    // tally.groups() holds every group with eligible members, in enum order.
    for (const bas::v1::GroupTally& g : tally.groups()) {
      if (g.eligible() == 0) continue;
      const std::string name = bas::v1::StakeholderGroup_Name(g.group());
      if (!QuorumMet(g.yes() + g.no() + g.abstain(), g.eligible(), rule.group_quorum_ppm())) {
        return "GROUP_QUORUM:" + name;
      }
      if (!SupportMet(g.yes(), g.no(), rule.group_threshold_ppm())) {
        return "GROUP_SUPPORT:" + name;
      }
    }
  }
  return "";
}

std::string ValidateRule(const bas::v1::VotingRule& rule) {
  if (rule.has_voting_period_s() &&
      (rule.voting_period_s() == 0 || rule.voting_period_s() > kMaxVotingPeriodS)) {
    return "voting_period_s must be in 1.." + std::to_string(kMaxVotingPeriodS);
  }
  if (rule.has_mode() && rule.mode() != bas::v1::MAJORITY &&
      rule.mode() != bas::v1::CONSENSUS_CALL) {
    return "mode must be MAJORITY or CONSENSUS_CALL";
  }
  for (const auto& [present, value, name] :
       {std::tuple{rule.has_quorum_ppm(), rule.quorum_ppm(), "quorum_ppm"},
        std::tuple{rule.has_threshold_ppm(), rule.threshold_ppm(), "threshold_ppm"},
        std::tuple{rule.has_group_quorum_ppm(), rule.group_quorum_ppm(), "group_quorum_ppm"},
        std::tuple{rule.has_group_threshold_ppm(), rule.group_threshold_ppm(),
                   "group_threshold_ppm"},
        std::tuple{rule.has_objection_ppm(), rule.objection_ppm(), "objection_ppm"}}) {
    if (present && value > kPpm) return std::string(name) + " must be at most 1000000";
  }
  return "";
}

}  // namespace bas::governance
