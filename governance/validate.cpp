#include "governance/validate.h"

#include <set>

#include "crypto/schnorr.h"
#include "governance/rules.h"
#include "governance/tx_check.h"

namespace bas::governance {
namespace {

using bas::v1::Action;
using bas::v1::TxBody;

constexpr size_t kMaxNameBytes = 200;
constexpr size_t kMaxUriBytes = 2048;
constexpr size_t kMaxTextBytes = 10000;
constexpr size_t kMaxBmmNames = 64;
constexpr size_t kMaxMembersPerAction = 1000;
constexpr size_t kMaxGenesisMembers = 1000000;
constexpr uint32_t kMinYear = 1970;
constexpr uint32_t kMaxYear = 9999;
constexpr uint64_t kMaxValidatorPower = uint64_t{1} << 50;

// Checks a text field: valid UTF-8, at most max bytes, and not empty when required.
std::string Text(std::string_view field, std::string_view value, size_t max, bool required) {
  if (!IsValidUtf8(value)) return std::string(field) + ": not valid UTF-8";
  if (value.size() > max) {
    return std::string(field) + ": " + std::to_string(value.size()) + " bytes, at most " +
           std::to_string(max);
  }
  if (required && value.empty()) return std::string(field) + ": required";
  return "";
}

std::string Slug(std::string_view field, std::string_view value) {
  if (!IsSlug(value)) return std::string(field) + ": not a valid id (1-64 of [A-Za-z0-9._-])";
  return "";
}

std::string Key32(std::string_view field, std::string_view key) {
  if (key.size() != 32) return std::string(field) + ": must be 32 bytes";
  crypto::PublicKey pk;
  std::copy(key.begin(), key.end(), pk.begin());
  if (!crypto::IsValidPublicKey(pk)) return std::string(field) + ": not a valid public key";
  return "";
}

std::string Id32(std::string_view field, std::string_view id) {
  return id.size() == 32 ? "" : std::string(field) + ": must be 32 bytes";
}

std::string Doc(std::string_view field, const bas::v1::Document& doc) {
  if (auto e = Text(std::string(field) + ".uri", doc.uri(), kMaxUriBytes, true); !e.empty()) {
    return e;
  }
  if (doc.sha256().size() != 32) return std::string(field) + ".sha256: must be 32 bytes";
  return "";
}

std::string Year(std::string_view field, uint32_t year) {
  if (year < kMinYear || year > kMaxYear) return std::string(field) + ": not a valid year";
  return "";
}

std::string Roles(std::string_view field, const google::protobuf::RepeatedField<int>& roles) {
  if (roles.empty()) return std::string(field) + ": at least one role";
  std::set<int> seen;
  for (int r : roles) {
    if (r == bas::v1::ROLE_UNSPECIFIED || !bas::v1::Role_IsValid(r)) {
      return std::string(field) + ": unknown role";
    }
    if (!seen.insert(r).second) return std::string(field) + ": a role twice";
  }
  return "";
}

bool IsGroup(int g) {
  return g != bas::v1::GROUP_UNSPECIFIED && bas::v1::StakeholderGroup_IsValid(g);
}

std::string NameList(std::string_view field,
                     const google::protobuf::RepeatedPtrField<std::string>& names) {
  if (names.empty()) return std::string(field) + ": at least one";
  if (static_cast<size_t>(names.size()) > kMaxBmmNames) return std::string(field) + ": too many";
  std::set<std::string_view> seen;
  for (const std::string& n : names) {
    if (auto e = Text(field, n, kMaxNameBytes, true); !e.empty()) return e;
    if (!seen.insert(n).second) return std::string(field) + ": \"" + n + "\" twice";
  }
  return "";
}

std::string BmmModelFields(std::string_view field, const bas::v1::BmmModel& m) {
  if (auto e = Text(std::string(field) + ".version", m.version(), 64, true); !e.empty()) return e;
  if (auto e = NameList(std::string(field) + ".elements", m.elements()); !e.empty()) return e;
  return NameList(std::string(field) + ".levels", m.levels());
}

std::string RuleEntries(std::string_view field,
                        const google::protobuf::RepeatedPtrField<bas::v1::RuleEntry>& rules) {
  std::set<std::string_view> seen;
  for (int i = 0; i < rules.size(); ++i) {
    const std::string f = std::string(field) + "[" + std::to_string(i) + "]";
    if (!IsRuleKey(rules[i].action_type())) return f + ".action_type: unknown action type";
    if (!seen.insert(rules[i].action_type()).second) return f + ".action_type: twice";
    if (auto e = ValidateRule(rules[i].rule()); !e.empty()) return f + ".rule: " + e;
  }
  return "";
}

// Members of a coalition being created: valid, unique ids and keys.
std::string MemberList(std::string_view field,
                       const google::protobuf::RepeatedPtrField<bas::v1::MemberInfo>& members,
                       size_t max_members) {
  if (static_cast<size_t>(members.size()) > max_members) {
    return std::string(field) + ": too many members";
  }
  std::set<std::string_view> ids, keys;
  for (int i = 0; i < members.size(); ++i) {
    const std::string f = std::string(field) + "[" + std::to_string(i) + "]";
    if (auto e = ValidateMemberInfo(members[i]); !e.empty()) return f + "." + e;
    if (!ids.insert(members[i].id()).second) return f + ".id: twice";
    if (!keys.insert(members[i].key()).second) return f + ".key: twice";
  }
  return "";
}

std::string ValidatePropose(const bas::v1::Propose& p) {
  if (auto e = Slug("coalition", p.coalition()); !e.empty()) return e;
  if (auto e = Text("title", p.title(), kMaxTitleBytes, true); !e.empty()) return e;
  if (auto e = Text("summary", p.summary(), kMaxSummaryBytes, false); !e.empty()) return e;
  if (p.actions().empty()) return "actions: at least one";
  if (static_cast<size_t>(p.actions_size()) > kMaxActions) {
    return "actions: " + std::to_string(p.actions_size()) + ", at most " +
           std::to_string(kMaxActions);
  }
  // One id twice in a proposal: the same member, solution, coalition, model, rule key or
  // plan year named by two actions would make the outcome depend on their order.
  std::set<std::string> ids;
  for (int i = 0; i < p.actions_size(); ++i) {
    const Action& a = p.actions(i);
    const std::string f = "actions[" + std::to_string(i) + "]";
    if (auto e = ValidateAction(a); !e.empty()) return f + "." + e;
    std::string id;
    switch (a.kind_case()) {
      case Action::kAdmitMember:
        id = "member/" + a.admit_member().member().id();
        break;
      case Action::kRemoveMember:
        id = "member/" + a.remove_member().member_id();
        break;
      case Action::kSetRoles:
        id = "member/" + a.set_roles().member_id();
        break;
      case Action::kListSolution:
        id = "solution/" + a.list_solution().solution_id();
        break;
      case Action::kDelistSolution:
        id = "solution/" + a.delist_solution().solution_id();
        break;
      case Action::kCreateCoalition:
        id = "coalition/" + a.create_coalition().id();
        break;
      case Action::kSetBmmModel:
        id = "bmm/" + a.set_bmm_model().model().version();
        break;
      case Action::kChangeRules:
        id = "rule/" + a.change_rules().action_type();
        break;
      case Action::kApproveAnnualPlan:
        id = "plan/" + std::to_string(a.approve_annual_plan().year());
        break;
      default:
        break;
    }
    if (!id.empty() && !ids.insert(id).second) return f + ": " + id + " is named twice";
  }
  return "";
}

}  // namespace

bool IsSlug(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.'))) return false;
  }
  return true;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += len;
  }
  return true;
}

bool IsIsoDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  const int y = std::stoi(std::string(s.substr(0, 4)));
  const int m = std::stoi(std::string(s.substr(5, 2)));
  const int d = std::stoi(std::string(s.substr(8, 2)));
  if (m < 1 || m > 12 || d < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

std::string ValidateMemberInfo(const bas::v1::MemberInfo& m) {
  if (auto e = Slug("id", m.id()); !e.empty()) return e;
  if (auto e = Key32("key", m.key()); !e.empty()) return e;
  if (auto e = Text("name", m.name(), kMaxNameBytes, false); !e.empty()) return e;
  if (auto e = Text("organisation", m.organisation(), kMaxNameBytes, false); !e.empty()) return e;
  if (!IsGroup(m.group())) return "group: unknown stakeholder group";
  return Roles("roles", m.roles());
}

std::string ValidateAction(const Action& a) {
  switch (a.kind_case()) {
    case Action::kAdmitMember: {
      if (auto e = ValidateMemberInfo(a.admit_member().member()); !e.empty()) {
        return "admit_member.member." + e;
      }
      return "";
    }
    case Action::kRemoveMember:
      return Slug("remove_member.member_id", a.remove_member().member_id());
    case Action::kSetRoles: {
      if (auto e = Slug("set_roles.member_id", a.set_roles().member_id()); !e.empty()) return e;
      return Roles("set_roles.roles", a.set_roles().roles());
    }
    case Action::kApproveAnnualPlan: {
      const auto& p = a.approve_annual_plan();
      if (auto e = Year("approve_annual_plan.year", p.year()); !e.empty()) return e;
      return Doc("approve_annual_plan.document", p.document());
    }
    case Action::kListSolution: {
      const auto& l = a.list_solution();
      if (auto e = Slug("list_solution.solution_id", l.solution_id()); !e.empty()) return e;
      return Id32("list_solution.assessment_id", l.assessment_id());
    }
    case Action::kDelistSolution:
      return Slug("delist_solution.solution_id", a.delist_solution().solution_id());
    case Action::kScheduleIgfSession: {
      const auto& s = a.schedule_igf_session();
      if (auto e = Year("schedule_igf_session.igf_year", s.igf_year()); !e.empty()) return e;
      if (auto e = Text("schedule_igf_session.title", s.title(), kMaxTitleBytes, true);
          !e.empty()) {
        return e;
      }
      if (s.format() == bas::v1::FORMAT_UNSPECIFIED ||
          !bas::v1::SessionFormat_IsValid(s.format())) {
        return "schedule_igf_session.format: unknown format";
      }
      return "";
    }
    case Action::kSetBmmModel:
      return BmmModelFields("set_bmm_model.model", a.set_bmm_model().model());
    case Action::kChangeRules: {
      const auto& c = a.change_rules();
      if (!IsRuleKey(c.action_type())) return "change_rules.action_type: unknown action type";
      if (auto e = ValidateRule(c.rule()); !e.empty()) return "change_rules.rule: " + e;
      return "";
    }
    case Action::kUpdateValidators: {
      const auto& u = a.update_validators();
      if (u.updates().empty()) return "update_validators.updates: at least one";
      std::set<std::string_view> keys;
      for (int i = 0; i < u.updates_size(); ++i) {
        const std::string f = "update_validators.updates[" + std::to_string(i) + "]";
        if (auto e = Key32(f + ".key", u.updates(i).key()); !e.empty()) return e;
        if (!keys.insert(u.updates(i).key()).second) return f + ".key: twice";
        if (u.updates(i).power() > kMaxValidatorPower) return f + ".power: too large";
        if (auto e = Text(f + ".name", u.updates(i).name(), kMaxNameBytes, false); !e.empty()) {
          return e;
        }
      }
      return "";
    }
    case Action::kCreateCoalition: {
      const auto& c = a.create_coalition();
      if (auto e = Slug("create_coalition.id", c.id()); !e.empty()) return e;
      if (auto e = Text("create_coalition.name", c.name(), kMaxNameBytes, true); !e.empty())
        return e;
      if (auto e = MemberList("create_coalition.members", c.members(), kMaxMembersPerAction);
          !e.empty()) {
        return e;
      }
      // IGF rule: a Dynamic Coalition starts with members from at least 3 stakeholder groups.
      std::set<int> groups;
      for (const auto& m : c.members()) groups.insert(m.group());
      if (groups.size() < 3) {
        return "create_coalition.members: from at least 3 stakeholder groups, got " +
               std::to_string(groups.size());
      }
      return RuleEntries("create_coalition.rules", c.rules());
    }
    case Action::kResolution:
      return Text("resolution.text", a.resolution().text(), kMaxTextBytes, true);
    case Action::KIND_NOT_SET:
      break;
  }
  return "action: no type";
}

std::string ValidateTxBody(const TxBody& body) {
  switch (body.tx_case()) {
    case TxBody::kPropose:
      return ValidatePropose(body.propose());
    case TxBody::kVote: {
      const auto& v = body.vote();
      if (auto e = Id32("proposal_id", v.proposal_id()); !e.empty()) return e;
      if (v.choice() == bas::v1::CHOICE_UNSPECIFIED || !bas::v1::VoteChoice_IsValid(v.choice())) {
        return "choice: must be YES, NO or ABSTAIN";
      }
      return Text("reason", v.reason(), kMaxReasonBytes, false);
    }
    case TxBody::kWithdraw:
      return Id32("proposal_id", body.withdraw().proposal_id());
    case TxBody::kApply: {
      const auto& a = body.apply();
      if (auto e = Slug("coalition", a.coalition()); !e.empty()) return e;
      if (auto e = Slug("member_id", a.member_id()); !e.empty()) return e;
      if (!IsGroup(a.group())) return "group: unknown stakeholder group";
      if (auto e = Text("name", a.name(), kMaxNameBytes, false); !e.empty()) return e;
      if (auto e = Text("organisation", a.organisation(), kMaxNameBytes, false); !e.empty())
        return e;
      return Text("statement", a.statement(), kMaxStatementBytes, false);
    }
    case TxBody::kSubmitAssessment: {
      const auto& s = body.submit_assessment();
      if (auto e = Slug("solution_id", s.solution_id()); !e.empty()) return e;
      if (auto e = Text("solution_name", s.solution_name(), kMaxNameBytes, true); !e.empty())
        return e;
      if (auto e = Text("vendor", s.vendor(), kMaxNameBytes, false); !e.empty()) return e;
      if (auto e = Text("bmm_version", s.bmm_version(), 64, true); !e.empty()) return e;
      if (s.level() < 1) return "level: at least 1";
      std::set<std::string_view> seen;
      for (int i = 0; i < s.elements_size(); ++i) {
        const std::string f = "elements[" + std::to_string(i) + "]";
        if (auto e = Text(f + ".element", s.elements(i).element(), kMaxNameBytes, true);
            !e.empty()) {
          return e;
        }
        if (!seen.insert(s.elements(i).element()).second) return f + ".element: twice";
        if (s.elements(i).level() < 1) return f + ".level: at least 1";
      }
      if (s.has_report()) {
        if (auto e = Doc("report", s.report()); !e.empty()) return e;
      }
      if (s.assessed_at() < 0) return "assessed_at: negative";
      if (s.valid_until() <= 0) return "valid_until: required";
      return "";
    }
    case TxBody::kRecordMeeting: {
      const auto& m = body.record_meeting();
      if (auto e = Slug("coalition", m.coalition()); !e.empty()) return e;
      if (!IsIsoDate(m.date())) return "date: must be YYYY-MM-DD";
      return Doc("minutes", m.minutes());
    }
    case TxBody::kRotateKey: {
      const auto& r = body.rotate_key();
      if (auto e = Key32("new_key", r.new_key()); !e.empty()) return e;
      if (r.new_key_signature().size() != 64) return "new_key_signature: must be 64 bytes";
      return "";
    }
    case TxBody::TX_NOT_SET:
      break;
  }
  return "tx: no type";
}

std::string ValidateGenesis(const bas::v1::Genesis& g) {
  if (auto e = Text("chain_id", g.chain_id(), 64, true); !e.empty()) return e;
  if (!IsSlug(g.chain_id())) return "chain_id: not a valid id";
  if (g.genesis_time() <= 0) return "genesis_time: required";
  if (g.coalitions().empty()) return "coalitions: at least one";
  std::set<std::string_view> coalition_ids;
  for (int i = 0; i < g.coalitions_size(); ++i) {
    const auto& c = g.coalitions(i);
    const std::string f = "coalitions[" + std::to_string(i) + "]";
    if (auto e = Slug(f + ".id", c.id()); !e.empty()) return e;
    if (!coalition_ids.insert(c.id()).second) return f + ".id: twice";
    if (auto e = Text(f + ".name", c.name(), kMaxNameBytes, false); !e.empty()) return e;
    if (auto e = MemberList(f + ".members", c.members(), kMaxGenesisMembers); !e.empty()) {
      return e;
    }
    if (auto e = RuleEntries(f + ".rules", c.rules()); !e.empty()) return e;
  }
  std::set<std::string_view> versions;
  for (int i = 0; i < g.bmm_models_size(); ++i) {
    const std::string f = "bmm_models[" + std::to_string(i) + "]";
    if (auto e = BmmModelFields(f, g.bmm_models(i)); !e.empty()) return e;
    if (!versions.insert(g.bmm_models(i).version()).second) return f + ".version: twice";
  }
  std::set<std::string_view> keys;
  for (int i = 0; i < g.validators_size(); ++i) {
    const std::string f = "validators[" + std::to_string(i) + "]";
    if (auto e = Key32(f + ".key", g.validators(i).key()); !e.empty()) return e;
    if (!keys.insert(g.validators(i).key()).second) return f + ".key: twice";
    if (g.validators(i).power() == 0 || g.validators(i).power() > kMaxValidatorPower) {
      return f + ".power: must be in 1..2^50";
    }
  }
  return "";
}

}  // namespace bas::governance
