// The governance state machine after the stateless stage (tx_check.cpp): contextual checks,
// then apply. One handler per transaction type (Deliver*) and per action type (Execute*), each
// returning a stable code, dispatched by a switch over the proto oneof; every tx and every
// passed proposal's action list runs in a savepoint of the StateOverlay that is kept or
// dropped whole.
#include "governance/engine.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <set>
#include <unordered_map>

#include "crypto/encoding.h"
#include "governance/keys.h"
#include "governance/record.h"
#include "governance/rules.h"
#include "governance/state_overlay.h"
#include "governance/validate.h"

namespace bas::governance {
namespace {

using bas::v1::Action;
using bas::v1::Proposal;
using bas::v1::TxBody;

// A tx's or action's outcome inside the engine.
struct Outcome {
  Code code = Code::kOk;
  std::string message;
  bool ok() const { return code == Code::kOk; }
};
Outcome Fail(Code code, std::string message) { return {code, std::move(message)}; }

std::string Hex(std::string_view bytes) { return crypto::HexEncode(bytes); }

bas::v1::Event MakeEvent(
    std::string_view type,
    std::initializer_list<std::pair<std::string_view, std::string_view>> attrs) {
  bas::v1::Event e;
  e.set_type(std::string(type));
  e.mutable_attributes()->Reserve(static_cast<int>(attrs.size()));
  for (const auto& [k, v] : attrs) {
    auto* a = e.add_attributes();
    a->set_key(std::string(k));
    a->set_value(std::string(v));
  }
  return e;
}

bool HasRole(const bas::v1::MemberInfo& info, bas::v1::Role role) {
  return std::find(info.roles().begin(), info.roles().end(), role) != info.roles().end();
}

template <typename Msg>
std::string Serialize(const Msg& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

}  // namespace

struct Engine::Impl {
  explicit Impl(const KvReader& base) : state(base) {}

  StateOverlay state;
  BlockContext block;
  uint32_t accepted_in_block = 0;      // txs accepted so far in this block: orders vote history
  std::vector<bas::v1::Event> events;  // of the tx or end-block step under way
  std::vector<bas::v1::Validator> validator_updates;

  // Decoded proposals, by id: every vote reads its proposal's coalition, status and end.
  // Refreshed on every store; dropped whole when a savepoint is undone.
  struct CachedProposal {
    Proposal proposal;
    std::string id_hex;  // for events
  };
  std::unordered_map<std::string, std::shared_ptr<const CachedProposal>> proposal_cache;

  std::shared_ptr<const CachedProposal> LoadProposal(const std::string& id) {
    if (auto it = proposal_cache.find(id); it != proposal_cache.end()) return it->second;
    auto p = Load<Proposal>(keys::Proposal(id));
    if (!p) return nullptr;
    auto cached = std::make_shared<const CachedProposal>(CachedProposal{std::move(*p), Hex(id)});
    proposal_cache.emplace(id, cached);
    return cached;
  }
  void StoreProposal(const Proposal& p) {
    Store(keys::Proposal(p.id()), p);
    proposal_cache.insert_or_assign(
        p.id(), std::make_shared<const CachedProposal>(CachedProposal{p, Hex(p.id())}));
  }

  // Tallies, by proposal sequence: changed in memory as votes arrive and written to the state
  // once per block (FlushTallies), not once per vote. Safe across savepoints because a tally
  // changes only in the last step of a vote, which cannot fail: an undone savepoint never
  // changed one (tally_changes counts, and Rollback checks it).
  std::map<uint64_t, bas::v1::ProposalTally> tally_cache;
  std::set<uint64_t> dirty_tallies;
  uint64_t tally_changes = 0;
  std::vector<uint64_t> tally_changes_at_begin;

  bas::v1::ProposalTally& LoadTally(uint64_t seq) {
    auto it = tally_cache.find(seq);
    if (it == tally_cache.end()) {
      auto t = Load<bas::v1::ProposalTally>(keys::Tally(seq));
      if (!t) std::abort();  // every proposal has a tally from its first block
      it = tally_cache.emplace(seq, std::move(*t)).first;
    }
    return it->second;
  }
  void TallyChanged(uint64_t seq) {
    dirty_tallies.insert(seq);
    ++tally_changes;
  }
  void FlushTallies() {
    for (uint64_t seq : dirty_tallies) Store(keys::Tally(seq), tally_cache.at(seq));
    dirty_tallies.clear();
  }

  void Begin() {
    state.Begin();
    tally_changes_at_begin.push_back(tally_changes);
  }
  void Commit() {
    state.Commit();
    tally_changes_at_begin.pop_back();
  }
  void Rollback() {
    state.Rollback();
    assert(tally_changes == tally_changes_at_begin.back());
    tally_changes_at_begin.pop_back();
    proposal_cache.clear();
  }

  // ---- typed state access ----
  template <typename Msg>
  std::optional<Msg> Load(const std::string& key) const {
    auto raw = state.Get(key);
    if (!raw) return std::nullopt;
    return ParseRecord<Msg>(key, *raw);
  }
  template <typename Msg>
  void Store(std::string key, const Msg& m) {
    state.Put(std::move(key), Serialize(m));
  }
  uint64_t NextSeq(std::string_view counter) {
    const std::string key = keys::Counter(counter);
    auto raw = state.Get(key);
    const uint64_t value = raw ? keys::ReadBe(*raw) : 0;
    state.Put(key, keys::Be64(value + 1));
    return value;
  }

  // The id of the active member whose key this is in the coalition, or "".
  std::string ActiveMemberId(std::string_view coalition, std::string_view key) const {
    auto id = state.Get(keys::MemberByKey(coalition, key));
    return id ? *id : "";
  }
  std::optional<bas::v1::Member> ActiveMember(std::string_view coalition,
                                              std::string_view member_id) const {
    auto m = Load<bas::v1::Member>(keys::Member(coalition, member_id));
    if (!m || !m->active()) return std::nullopt;
    return m;
  }
  std::optional<bas::v1::VotingRule> StoredRule(std::string_view coalition,
                                                std::string_view key) const {
    return Load<bas::v1::VotingRule>(keys::Rule(coalition, key));
  }
  bas::v1::EffectiveRule RuleOf(std::string_view coalition, std::string_view action_type) const {
    return ResolveRule(action_type, StoredRule(coalition, action_type),
                       StoredRule(coalition, kDefaultRuleKey));
  }

  void RecordMembershipEvent(std::string_view coalition, bas::v1::MembershipEvent::Kind kind,
                             const bas::v1::MemberInfo& info, std::string_view proposal_id) {
    bas::v1::MembershipEvent ev;
    ev.set_kind(kind);
    ev.set_member_id(info.id());
    ev.set_height(block.height);
    ev.set_time(block.time);
    ev.set_proposal_id(std::string(proposal_id));
    *ev.mutable_info() = info;
    Store(keys::MembershipEvent(coalition, NextSeq("membership_event")), ev);
  }

  void AdmitMemberUnchecked(std::string_view coalition, const bas::v1::MemberInfo& info,
                            std::string_view proposal_id) {
    bas::v1::Member m;
    *m.mutable_info() = info;
    m.set_active(true);
    m.set_joined_height(block.height);
    m.set_joined_time(block.time);
    Store(keys::Member(coalition, info.id()), m);
    state.Put(keys::MemberByKey(coalition, info.key()), info.id());
    state.Put(keys::KeyMembership(info.key(), coalition), info.id());
    RecordMembershipEvent(coalition, bas::v1::MembershipEvent::ADMITTED, info, proposal_id);
  }

  void CreateCoalitionUnchecked(
      const std::string& id, const std::string& name, const std::string& parent,
      const google::protobuf::RepeatedPtrField<bas::v1::MemberInfo>& members,
      const google::protobuf::RepeatedPtrField<bas::v1::RuleEntry>& rules,
      std::string_view proposal_id) {
    bas::v1::Coalition c;
    c.set_id(id);
    c.set_name(name);
    c.set_parent(parent);
    c.set_created_height(block.height);
    c.set_created_time(block.time);
    c.set_next_decision_number(1);
    Store(keys::Coalition(id), c);
    for (const auto& m : members) AdmitMemberUnchecked(id, m, proposal_id);
    for (const auto& r : rules) Store(keys::Rule(id, r.action_type()), r.rule());
  }

  // ---- transactions ----

  Outcome DeliverPropose(const CheckedTx& tx) {
    const bas::v1::Propose& p = tx.body.propose();
    if (!Load<bas::v1::Coalition>(keys::Coalition(p.coalition()))) {
      return Fail(Code::kNotFound, "no coalition " + p.coalition());
    }
    const std::string member_id = ActiveMemberId(p.coalition(), tx.signed_tx.signer());
    if (member_id.empty())
      return Fail(Code::kNotMember, "signer is not a member of " + p.coalition());
    const auto member = ActiveMember(p.coalition(), member_id);
    if (!member || !HasRole(member->info(), bas::v1::MEMBER)) {
      return Fail(Code::kNotAuthorized, member_id + " lacks the MEMBER role");
    }
    for (int i = 0; i < p.actions_size(); ++i) {
      const Action& a = p.actions(i);
      const std::string f = "actions[" + std::to_string(i) + "]: ";
      if (a.has_admit_member() && ActiveMember(p.coalition(), a.admit_member().member().id())) {
        return Fail(Code::kDuplicate, f + a.admit_member().member().id() + " is already a member");
      }
      if (a.has_remove_member() && !ActiveMember(p.coalition(), a.remove_member().member_id())) {
        return Fail(Code::kNotFound, f + "no active member " + a.remove_member().member_id());
      }
      if (a.has_set_roles() && !ActiveMember(p.coalition(), a.set_roles().member_id())) {
        return Fail(Code::kNotFound, f + "no active member " + a.set_roles().member_id());
      }
    }
    std::vector<bas::v1::EffectiveRule> rules;
    for (const Action& a : p.actions())
      rules.push_back(RuleOf(p.coalition(), ActionTypeName(a.kind_case())));
    OpenProposal(tx, p.coalition(), member_id, p.title(), p.summary(), p.actions(),
                 Strictest(rules),
                 /*is_application=*/false, "");
    return {};
  }

  // Accepts a proposal: freezes its electorate, starts its tally, schedules its close.
  void OpenProposal(const CheckedTx& tx, const std::string& coalition, const std::string& member_id,
                    const std::string& title, const std::string& summary,
                    const google::protobuf::RepeatedPtrField<Action>& actions,
                    const bas::v1::EffectiveRule& rule, bool is_application,
                    const std::string& statement) {
    const std::string id = crypto::HashBytes(tx.tx_id);
    Proposal prop;
    prop.set_id(id);
    prop.set_coalition(coalition);
    prop.set_proposer_key(tx.signed_tx.signer());
    prop.set_proposer_member_id(member_id);
    prop.set_title(title);
    prop.set_summary(summary);
    *prop.mutable_actions() = actions;
    *prop.mutable_rule() = rule;
    prop.set_status(Proposal::ACTIVE);
    prop.set_created_height(block.height);
    prop.set_created_time(block.time);
    prop.set_end_time(block.time + static_cast<int64_t>(rule.voting_period_s()));
    prop.set_sequence(NextSeq("proposal"));
    prop.set_is_application(is_application);
    prop.set_statement(statement);

    // The electorate: active members with role MEMBER now, with their groups.
    std::map<int, uint64_t> eligible_by_group;
    std::vector<std::pair<std::string, int>> electors;
    state.Scan(keys::MemberPrefix(coalition), [&](std::string_view key, std::string_view raw) {
      const auto m = ParseRecord<bas::v1::Member>(key, raw);
      if (m.active() && HasRole(m.info(), bas::v1::MEMBER)) {
        electors.emplace_back(m.info().id(), m.info().group());
        ++eligible_by_group[m.info().group()];
      }
      return true;
    });
    for (const auto& [elector, group] : electors) {
      state.Put(keys::Elector(prop.sequence(), elector), std::string(1, static_cast<char>(group)));
    }
    bas::v1::ProposalTally tally;
    tally.set_eligible(electors.size());
    for (const auto& [group, n] : eligible_by_group) {  // std::map: enum order
      auto* g = tally.add_groups();
      g->set_group(static_cast<bas::v1::StakeholderGroup>(group));
      g->set_eligible(n);
    }
    tally_cache.insert_or_assign(prop.sequence(), tally);
    TallyChanged(prop.sequence());
    StoreProposal(prop);
    state.Put(keys::PendingClose(prop.end_time(), prop.sequence()), id);
    state.Put(keys::ProposalBySeq(prop.sequence()), id);
    events.push_back(MakeEvent("proposal_opened", {{"proposal_id", Hex(id)},
                                                   {"coalition", coalition},
                                                   {"end_time", std::to_string(prop.end_time())}}));
  }

  // UNKNOWN_PROPOSAL, NOT_MEMBER, VOTING_CLOSED: the first checks of vote and withdraw.
  Outcome CheckProposalOpen(const std::string& proposal_id, std::string_view signer,
                            std::shared_ptr<const CachedProposal>* cached, std::string* member_id) {
    *cached = LoadProposal(proposal_id);
    if (!*cached) return Fail(Code::kUnknownProposal, "no proposal " + Hex(proposal_id));
    const Proposal& prop = (*cached)->proposal;
    *member_id = ActiveMemberId(prop.coalition(), signer);
    if (member_id->empty()) {
      return Fail(Code::kNotMember, "signer is not a member of " + prop.coalition());
    }
    if (prop.status() != Proposal::ACTIVE || block.time >= prop.end_time()) {
      return Fail(Code::kVotingClosed, "voting on " + Hex(proposal_id) + " has ended");
    }
    return {};
  }

  Outcome DeliverVote(const CheckedTx& tx) {
    const bas::v1::Vote& v = tx.body.vote();
    std::shared_ptr<const CachedProposal> cached;
    std::string member_id;
    if (auto o = CheckProposalOpen(v.proposal_id(), tx.signed_tx.signer(), &cached, &member_id);
        !o.ok()) {
      return o;
    }
    const Proposal* prop = &cached->proposal;
    const auto elector = state.Get(keys::Elector(prop->sequence(), member_id));
    if (!elector)
      return Fail(Code::kNotEligible, member_id + " is not in the proposal's electorate");
    const auto group = static_cast<bas::v1::StakeholderGroup>(static_cast<uint8_t>((*elector)[0]));

    bas::v1::ProposalTally* tally = &LoadTally(prop->sequence());
    bas::v1::GroupTally* group_tally = nullptr;
    for (auto& g : *tally->mutable_groups()) {
      if (g.group() == group) group_tally = &g;
    }
    if (group_tally == nullptr) std::abort();  // every elector's group has a tally entry

    auto count = [&](bas::v1::VoteChoice choice, int64_t delta) {
      auto bump = [&](auto* t) {
        switch (choice) {
          case bas::v1::YES:
            t->set_yes(t->yes() + delta);
            break;
          case bas::v1::NO:
            t->set_no(t->no() + delta);
            break;
          case bas::v1::ABSTAIN:
            t->set_abstain(t->abstain() + delta);
            break;
          default:
            std::abort();
        }
      };
      bump(tally);
      bump(group_tally);
    };
    const std::string vote_key = keys::LatestVote(prop->sequence(), member_id);
    if (auto previous = Load<bas::v1::VoteRecord>(vote_key)) count(previous->choice(), -1);
    count(v.choice(), +1);

    bas::v1::VoteRecord record;
    record.set_proposal_id(v.proposal_id());
    record.set_member_id(member_id);
    record.set_choice(v.choice());
    record.set_reason(v.reason());
    record.set_height(block.height);
    record.set_time(block.time);
    record.set_tx_id(crypto::HashBytes(tx.tx_id));
    record.set_group(group);
    const std::string raw = Serialize(record);
    state.Put(vote_key, raw);
    state.Put(keys::VoteHistory(prop->sequence(), block.height, accepted_in_block), raw);
    TallyChanged(prop->sequence());
    events.push_back(MakeEvent("vote_cast", {{"proposal_id", cached->id_hex},
                                             {"member_id", member_id},
                                             {"choice", bas::v1::VoteChoice_Name(v.choice())}}));
    return {};
  }

  Outcome DeliverWithdraw(const CheckedTx& tx) {
    const std::string& id = tx.body.withdraw().proposal_id();
    std::shared_ptr<const CachedProposal> open;
    std::string member_id;
    if (auto o = CheckProposalOpen(id, tx.signed_tx.signer(), &open, &member_id); !o.ok()) return o;
    if (open->proposal.proposer_member_id().empty() ||
        open->proposal.proposer_member_id() != member_id) {
      return Fail(Code::kNotAuthorized, "only the proposer may withdraw");
    }
    Proposal prop = open->proposal;
    state.Delete(keys::PendingClose(prop.end_time(), prop.sequence()));
    prop.set_status(Proposal::WITHDRAWN);
    RecordDecision(prop, "", {});
    return {};
  }

  Outcome DeliverApply(const CheckedTx& tx) {
    const bas::v1::ApplyForMembership& a = tx.body.apply();
    if (!Load<bas::v1::Coalition>(keys::Coalition(a.coalition()))) {
      return Fail(Code::kNotFound, "no coalition " + a.coalition());
    }
    const std::string& key = tx.signed_tx.signer();
    if (!ActiveMemberId(a.coalition(), key).empty()) {
      return Fail(Code::kDuplicate, "signer is already a member of " + a.coalition());
    }
    if (state.Get(keys::PendingApplication(a.coalition(), key))) {
      return Fail(Code::kDuplicate, "signer has a pending application to " + a.coalition());
    }
    if (ActiveMember(a.coalition(), a.member_id())) {
      return Fail(Code::kDuplicate, a.member_id() + " is already a member of " + a.coalition());
    }
    google::protobuf::RepeatedPtrField<Action> actions;
    bas::v1::MemberInfo* info = actions.Add()->mutable_admit_member()->mutable_member();
    info->set_id(a.member_id());
    info->set_key(key);
    info->set_name(a.name());
    info->set_organisation(a.organisation());
    info->set_group(a.group());
    info->add_roles(bas::v1::MEMBER);
    OpenProposal(tx, a.coalition(), /*member_id=*/"", "Admit " + a.member_id(), a.statement(),
                 actions, RuleOf(a.coalition(), "admit_member"), /*is_application=*/true,
                 a.statement());
    state.Put(keys::PendingApplication(a.coalition(), key), crypto::HashBytes(tx.tx_id));
    return {};
  }

  Outcome DeliverSubmitAssessment(const CheckedTx& tx) {
    const bas::v1::SubmitAssessment& s = tx.body.submit_assessment();
    // The directory is shared by every coalition: an ASSESSOR of any coalition may submit.
    std::string assessor_id;
    bool any_membership = false;
    state.Scan(keys::KeyMembershipPrefix(tx.signed_tx.signer()),
               [&](std::string_view key, std::string_view member_id) {
                 any_membership = true;
                 auto m = ActiveMember(keys::KeyMembershipCoalition(key), member_id);
                 if (m && HasRole(m->info(), bas::v1::ASSESSOR)) {
                   assessor_id = std::string(member_id);
                   return false;
                 }
                 return true;
               });
    if (!any_membership) return Fail(Code::kNotMember, "signer is not a member");
    if (assessor_id.empty()) return Fail(Code::kNotAuthorized, "signer lacks the ASSESSOR role");
    // Against a registered BMM model, elements and levels must exist in it. A version that no
    // model registers is accepted as given (chains without models, such as scenarios).
    if (auto model = Load<bas::v1::BmmModel>(keys::BmmModel(s.bmm_version()))) {
      const auto levels = static_cast<uint32_t>(model->levels_size());
      if (s.level() > levels)
        return Fail(Code::kInvalidArgument, "level: above the model's levels");
      for (const auto& e : s.elements()) {
        if (std::find(model->elements().begin(), model->elements().end(), e.element()) ==
            model->elements().end()) {
          return Fail(Code::kInvalidArgument,
                      "elements: " + e.element() + " is not in BMM " + s.bmm_version());
        }
        if (e.level() > levels) {
          return Fail(Code::kInvalidArgument, "elements: level of " + e.element() + " too high");
        }
      }
    }
    bas::v1::Assessment a;
    a.set_id(crypto::HashBytes(tx.tx_id));
    a.set_solution_id(s.solution_id());
    a.set_solution_name(s.solution_name());
    a.set_vendor(s.vendor());
    a.set_bmm_version(s.bmm_version());
    a.set_level(s.level());
    *a.mutable_elements() = s.elements();
    if (s.has_report()) *a.mutable_report() = s.report();
    a.set_assessed_at(s.assessed_at() != 0 ? s.assessed_at() : block.time);
    a.set_valid_until(s.valid_until());
    a.set_assessor_member_id(assessor_id);
    a.set_assessor_key(tx.signed_tx.signer());
    a.set_height(block.height);
    Store(keys::Assessment(a.id()), a);
    events.push_back(MakeEvent("assessment_submitted",
                               {{"assessment_id", Hex(a.id())}, {"solution_id", s.solution_id()}}));
    return {};
  }

  Outcome DeliverRecordMeeting(const CheckedTx& tx) {
    const bas::v1::RecordMeeting& r = tx.body.record_meeting();
    if (!Load<bas::v1::Coalition>(keys::Coalition(r.coalition()))) {
      return Fail(Code::kNotFound, "no coalition " + r.coalition());
    }
    const std::string member_id = ActiveMemberId(r.coalition(), tx.signed_tx.signer());
    if (member_id.empty())
      return Fail(Code::kNotMember, "signer is not a member of " + r.coalition());
    const auto member = ActiveMember(r.coalition(), member_id);
    if (!member || !HasRole(member->info(), bas::v1::SECRETARIAT)) {
      return Fail(Code::kNotAuthorized, member_id + " lacks the SECRETARIAT role");
    }
    bool duplicate = false;
    state.Scan(keys::MeetingPrefix(r.coalition(), r.date()),
               [&](std::string_view key, std::string_view raw) {
                 const auto m = ParseRecord<bas::v1::Meeting>(key, raw);
                 duplicate = m.minutes().sha256() == r.minutes().sha256();
                 return !duplicate;
               });
    if (duplicate) return Fail(Code::kDuplicate, "these minutes are recorded already");
    bas::v1::Meeting m;
    m.set_coalition(r.coalition());
    m.set_date(r.date());
    *m.mutable_minutes() = r.minutes();
    m.set_recorded_by(member_id);
    m.set_height(block.height);
    m.set_time(block.time);
    m.set_tx_id(crypto::HashBytes(tx.tx_id));
    Store(keys::Meeting(r.coalition(), r.date(), NextSeq("meeting")), m);
    events.push_back(
        MakeEvent("meeting_recorded", {{"coalition", r.coalition()}, {"date", r.date()}}));
    return {};
  }

  Outcome DeliverRotateKey(const CheckedTx& tx) {
    const std::string& old_key = tx.signed_tx.signer();
    const std::string& new_key = tx.body.rotate_key().new_key();
    std::vector<std::pair<std::string, std::string>> memberships;  // coalition, member id
    state.Scan(keys::KeyMembershipPrefix(old_key), [&](std::string_view key, std::string_view id) {
      memberships.emplace_back(keys::KeyMembershipCoalition(key), id);
      return true;
    });
    if (memberships.empty()) return Fail(Code::kNotMember, "signer is not a member");
    bool in_use = false;
    state.Scan(keys::KeyMembershipPrefix(new_key), [&](std::string_view, std::string_view) {
      in_use = true;
      return false;
    });
    if (in_use) return Fail(Code::kDuplicate, "new_key is already a member's key");
    for (const auto& [coalition, member_id] : memberships) {
      auto m = Load<bas::v1::Member>(keys::Member(coalition, member_id));
      if (!m) std::abort();
      m->mutable_info()->set_key(new_key);
      Store(keys::Member(coalition, member_id), *m);
      state.Delete(keys::MemberByKey(coalition, old_key));
      state.Delete(keys::KeyMembership(old_key, coalition));
      state.Put(keys::MemberByKey(coalition, new_key), member_id);
      state.Put(keys::KeyMembership(new_key, coalition), member_id);
      RecordMembershipEvent(coalition, bas::v1::MembershipEvent::KEY_ROTATED, m->info(), "");
      events.push_back(
          MakeEvent("key_rotated", {{"coalition", coalition}, {"member_id", member_id}}));
    }
    return {};
  }

  // ---- closing and actions ----

  // The events a passed proposal's actions cause, recorded in its decision.
  using Effects = std::vector<bas::v1::Event>;

  void RecordDecision(const Proposal& prop, const std::string& failed_test,
                      const Effects& effects) {
    auto coalition = Load<bas::v1::Coalition>(keys::Coalition(prop.coalition()));
    if (!coalition) std::abort();
    bas::v1::Decision d;
    d.set_coalition(prop.coalition());
    d.set_number(coalition->next_decision_number());
    d.set_proposal_id(prop.id());
    d.set_title(prop.title());
    d.set_status(prop.status());
    d.set_failed_test(failed_test);
    *d.mutable_tally() = LoadTally(prop.sequence());
    d.set_close_height(block.height);
    d.set_close_time(block.time);
    for (const auto& e : effects) *d.add_effects() = e;
    // Dissent: every elector whose last vote is NO, by member id (the key order).
    state.Scan(keys::LatestVotePrefix(prop.sequence()),
               [&](std::string_view key, std::string_view raw) {
                 const auto v = ParseRecord<bas::v1::VoteRecord>(key, raw);
                 if (v.choice() == bas::v1::NO) {
                   auto* dissent = d.add_dissent();
                   dissent->set_member_id(v.member_id());
                   dissent->set_reason(v.reason());
                 }
                 return true;
               });
    coalition->set_next_decision_number(coalition->next_decision_number() + 1);
    Store(keys::Coalition(prop.coalition()), *coalition);
    Store(keys::Decision(prop.coalition(), d.number()), d);
    StoreProposal(prop);
    if (prop.is_application()) {
      state.Delete(keys::PendingApplication(prop.coalition(), prop.proposer_key()));
    }
    events.push_back(MakeEvent("proposal_closed", {{"proposal_id", Hex(prop.id())},
                                                   {"coalition", prop.coalition()},
                                                   {"number", std::to_string(d.number())},
                                                   {"status", Proposal::Status_Name(prop.status())},
                                                   {"failed_test", failed_test}}));
  }

  void CloseProposal(Proposal prop) {
    std::string failed_test = FailedTest(prop.rule(), LoadTally(prop.sequence()));
    Effects effects;
    if (!failed_test.empty()) {
      prop.set_status(Proposal::REJECTED);
    } else {
      // All actions or none: a savepoint kept only if every action succeeds.
      Begin();
      Outcome outcome;
      for (const Action& a : prop.actions()) {
        outcome = ExecuteAction(prop, a, &effects);
        if (!outcome.ok()) break;
      }
      if (outcome.ok()) {
        Commit();
        prop.set_status(Proposal::PASSED);
      } else {
        Rollback();
        effects.clear();
        prop.set_status(Proposal::FAILED);
        failed_test = std::string(CodeName(outcome.code));
      }
    }
    RecordDecision(prop, failed_test, effects);
  }

  // One handler per action type. Each runs inside the proposal's savepoint: a failure undoes
  // the actions before it too.
  Outcome ExecuteAction(const Proposal& prop, const Action& a, Effects* effects) {
    switch (a.kind_case()) {
      case Action::kAdmitMember:
        return ExecuteAdmitMember(prop, a.admit_member(), effects);
      case Action::kRemoveMember:
        return ExecuteRemoveMember(prop, a.remove_member(), effects);
      case Action::kSetRoles:
        return ExecuteSetRoles(prop, a.set_roles(), effects);
      case Action::kApproveAnnualPlan:
        return ExecuteApproveAnnualPlan(prop, a.approve_annual_plan(), effects);
      case Action::kListSolution:
        return ExecuteListSolution(prop, a.list_solution(), effects);
      case Action::kDelistSolution:
        return ExecuteDelistSolution(a.delist_solution(), effects);
      case Action::kScheduleIgfSession:
        return ExecuteScheduleIgfSession(prop, a.schedule_igf_session(), effects);
      case Action::kSetBmmModel:
        return ExecuteSetBmmModel(a.set_bmm_model(), effects);
      case Action::kChangeRules:
        return ExecuteChangeRules(prop, a.change_rules(), effects);
      case Action::kUpdateValidators:
        return ExecuteUpdateValidators(a.update_validators(), effects);
      case Action::kCreateCoalition:
        return ExecuteCreateCoalition(prop, a.create_coalition(), effects);
      case Action::kResolution:
        return ExecuteResolution(prop, a.resolution(), effects);
      case Action::KIND_NOT_SET:
        break;
    }
    return Fail(Code::kInvalidArgument, "action without a type");
  }

  Outcome ExecuteAdmitMember(const Proposal& prop, const bas::v1::AdmitMember& a,
                             Effects* effects) {
    const std::string& c = prop.coalition();
    const auto& info = a.member();
    if (ActiveMember(c, info.id()))
      return Fail(Code::kDuplicate, info.id() + " is already a member");
    if (!ActiveMemberId(c, info.key()).empty()) {
      return Fail(Code::kDuplicate, "the key of " + info.id() + " is another member's");
    }
    AdmitMemberUnchecked(c, info, prop.id());
    effects->push_back(MakeEvent("member_admitted", {{"coalition", c}, {"member_id", info.id()}}));
    return {};
  }

  Outcome ExecuteRemoveMember(const Proposal& prop, const bas::v1::RemoveMember& a,
                              Effects* effects) {
    const std::string& c = prop.coalition();
    const std::string& id = a.member_id();
    auto m = ActiveMember(c, id);
    if (!m) return Fail(Code::kNotFound, "no active member " + id);
    m->set_active(false);
    Store(keys::Member(c, id), *m);
    state.Delete(keys::MemberByKey(c, m->info().key()));
    state.Delete(keys::KeyMembership(m->info().key(), c));
    RecordMembershipEvent(c, bas::v1::MembershipEvent::REMOVED, m->info(), prop.id());
    effects->push_back(MakeEvent("member_removed", {{"coalition", c}, {"member_id", id}}));
    return {};
  }

  Outcome ExecuteSetRoles(const Proposal& prop, const bas::v1::SetRoles& a, Effects* effects) {
    const std::string& c = prop.coalition();
    const std::string& id = a.member_id();
    auto m = ActiveMember(c, id);
    if (!m) return Fail(Code::kNotFound, "no active member " + id);
    *m->mutable_info()->mutable_roles() = a.roles();
    Store(keys::Member(c, id), *m);
    RecordMembershipEvent(c, bas::v1::MembershipEvent::ROLES_SET, m->info(), prop.id());
    effects->push_back(MakeEvent("roles_set", {{"coalition", c}, {"member_id", id}}));
    return {};
  }

  Outcome ExecuteApproveAnnualPlan(const Proposal& prop, const bas::v1::ApproveAnnualPlan& a,
                                   Effects* effects) {
    const std::string& c = prop.coalition();
    bas::v1::AnnualPlan plan;
    plan.set_coalition(c);
    plan.set_year(a.year());
    *plan.mutable_document() = a.document();
    plan.set_proposal_id(prop.id());
    plan.set_height(block.height);
    plan.set_time(block.time);
    Store(keys::AnnualPlan(c, a.year()), plan);
    Store(keys::AnnualPlanHistory(c, a.year(), NextSeq("annual_plan")), plan);
    effects->push_back(
        MakeEvent("annual_plan_approved", {{"coalition", c}, {"year", std::to_string(a.year())}}));
    return {};
  }

  Outcome ExecuteListSolution(const Proposal& prop, const bas::v1::ListSolution& a,
                              Effects* effects) {
    auto assessment = Load<bas::v1::Assessment>(keys::Assessment(a.assessment_id()));
    if (!assessment) return Fail(Code::kNotFound, "no assessment " + Hex(a.assessment_id()));
    if (assessment->solution_id() != a.solution_id()) {
      return Fail(Code::kInvalidArgument, "the assessment is of " + assessment->solution_id());
    }
    if (auto old = Load<bas::v1::Listing>(keys::Listing(a.solution_id()));
        old && old->status() == bas::v1::Listing::ACTIVE) {
      state.Delete(keys::ListingExpiry(old->valid_until(), a.solution_id()));
    }
    bas::v1::Listing listing;
    listing.set_solution_id(a.solution_id());
    listing.set_solution_name(assessment->solution_name());
    listing.set_vendor(assessment->vendor());
    listing.set_assessment_id(a.assessment_id());
    listing.set_level(assessment->level());
    listing.set_bmm_version(assessment->bmm_version());
    listing.set_valid_until(assessment->valid_until());
    listing.set_coalition(prop.coalition());
    listing.set_listed_by_proposal(prop.id());
    listing.set_listed_height(block.height);
    listing.set_listed_time(block.time);
    listing.set_status_time(block.time);
    // Listed on an assessment that has already run out: recorded, but expired at once.
    if (block.time >= assessment->valid_until()) {
      listing.set_status(bas::v1::Listing::EXPIRED);
    } else {
      listing.set_status(bas::v1::Listing::ACTIVE);
      state.Put(keys::ListingExpiry(listing.valid_until(), a.solution_id()), "");
    }
    Store(keys::Listing(a.solution_id()), listing);
    effects->push_back(MakeEvent("solution_listed", {{"solution_id", a.solution_id()}}));
    return {};
  }

  Outcome ExecuteDelistSolution(const bas::v1::DelistSolution& a, Effects* effects) {
    const std::string& id = a.solution_id();
    auto listing = Load<bas::v1::Listing>(keys::Listing(id));
    if (!listing || listing->status() == bas::v1::Listing::WITHDRAWN) {
      return Fail(Code::kNotFound, "no listing of " + id);
    }
    if (listing->status() == bas::v1::Listing::ACTIVE) {
      state.Delete(keys::ListingExpiry(listing->valid_until(), id));
    }
    listing->set_status(bas::v1::Listing::WITHDRAWN);
    listing->set_status_time(block.time);
    Store(keys::Listing(id), *listing);
    effects->push_back(MakeEvent("solution_delisted", {{"solution_id", id}}));
    return {};
  }

  Outcome ExecuteScheduleIgfSession(const Proposal& prop, const bas::v1::ScheduleIgfSession& a,
                                    Effects* effects) {
    const std::string& c = prop.coalition();
    bas::v1::IgfSession session;
    session.set_coalition(c);
    session.set_igf_year(a.igf_year());
    session.set_title(a.title());
    session.set_format(a.format());
    session.set_proposal_id(prop.id());
    session.set_height(block.height);
    Store(keys::IgfSession(c, a.igf_year(), NextSeq("igf_session")), session);
    effects->push_back(MakeEvent("igf_session_scheduled",
                                 {{"coalition", c}, {"igf_year", std::to_string(a.igf_year())}}));
    return {};
  }

  Outcome ExecuteSetBmmModel(const bas::v1::SetBmmModel& a, Effects* effects) {
    const auto& model = a.model();
    if (state.Get(keys::BmmModel(model.version()))) {
      return Fail(Code::kDuplicate, "BMM " + model.version() + " exists; versions are immutable");
    }
    Store(keys::BmmModel(model.version()), model);
    effects->push_back(MakeEvent("bmm_model_set", {{"version", model.version()}}));
    return {};
  }

  Outcome ExecuteChangeRules(const Proposal& prop, const bas::v1::ChangeRules& a,
                             Effects* effects) {
    const std::string& c = prop.coalition();
    Store(keys::Rule(c, a.action_type()), a.rule());
    effects->push_back(
        MakeEvent("rules_changed", {{"coalition", c}, {"action_type", a.action_type()}}));
    return {};
  }

  Outcome ExecuteUpdateValidators(const bas::v1::UpdateValidators& a, Effects* effects) {
    auto validator = [](const auto& update) {
      bas::v1::Validator v;
      v.set_key(update.key());
      v.set_power(update.power());
      v.set_name(update.name());
      return v;
    };
    for (const auto& u : a.updates()) {
      const std::string key = keys::Validator(u.key());
      if (u.power() == 0) {
        if (!state.Get(key)) return Fail(Code::kNotFound, "no validator " + Hex(u.key()));
        state.Delete(key);
      } else {
        Store(key, validator(u));
      }
    }
    bool any = false;
    state.Scan(keys::ValidatorPrefix(), [&](std::string_view, std::string_view) {
      any = true;
      return false;
    });
    if (!any) return Fail(Code::kInvalidArgument, "the validator set would be empty");
    for (const auto& u : a.updates()) {
      pending_validator_updates.push_back(validator(u));
      effects->push_back(MakeEvent("validator_updated",
                                   {{"key", Hex(u.key())}, {"power", std::to_string(u.power())}}));
    }
    return {};
  }

  Outcome ExecuteCreateCoalition(const Proposal& prop, const bas::v1::CreateCoalition& a,
                                 Effects* effects) {
    if (state.Get(keys::Coalition(a.id())))
      return Fail(Code::kDuplicate, "coalition " + a.id() + " exists");
    CreateCoalitionUnchecked(a.id(), a.name(), prop.coalition(), a.members(), a.rules(), prop.id());
    effects->push_back(
        MakeEvent("coalition_created", {{"coalition", a.id()}, {"parent", prop.coalition()}}));
    return {};
  }

  Outcome ExecuteResolution(const Proposal& prop, const bas::v1::Resolution& a, Effects* effects) {
    const std::string& c = prop.coalition();
    bas::v1::Resolved r;
    r.set_coalition(c);
    r.set_text(a.text());
    r.set_proposal_id(prop.id());
    r.set_height(block.height);
    Store(keys::Resolution(c, NextSeq("resolution")), r);
    effects->push_back(MakeEvent("resolution_adopted", {{"coalition", c}}));
    return {};
  }

  // Validator updates of actions that may still be rolled back; kept when their proposal passes.
  std::vector<bas::v1::Validator> pending_validator_updates;
};

Engine::Engine(const KvReader& base) : impl_(std::make_unique<Impl>(base)) {}
Engine::~Engine() = default;

const KvReader& Engine::view() const {
  impl_->FlushTallies();  // so that readers between txs see every vote counted
  return impl_->state;
}

Status Engine::InitChain(const bas::v1::Genesis& genesis) {
  if (auto e = ValidateGenesis(genesis); !e.empty()) return Error{"INVALID_GENESIS", e};
  Impl& s = *impl_;
  if (s.state.Get(keys::ChainId())) return Error{"INVALID_GENESIS", "the state is not empty"};
  s.block = {genesis.chain_id(), 0, genesis.genesis_time()};
  s.state.Put(keys::ChainId(), genesis.chain_id());
  for (const auto& c : genesis.coalitions()) {
    s.CreateCoalitionUnchecked(c.id(), c.name(), "", c.members(), c.rules(), "");
  }
  for (const auto& m : genesis.bmm_models()) s.Store(keys::BmmModel(m.version()), m);
  for (const auto& v : genesis.validators()) s.Store(keys::Validator(v.key()), v);
  return Status::Ok();
}

void Engine::BeginBlock(const BlockContext& ctx) {
  impl_->block = ctx;
  impl_->accepted_in_block = 0;
  impl_->validator_updates.clear();
}

TxResult Engine::DeliverTx(const CheckedTx& tx) {
  Impl& s = *impl_;
  s.events.clear();
  s.Begin();
  Outcome outcome;
  auto account =
      s.Load<bas::v1::Account>(keys::Account(tx.signed_tx.signer())).value_or(bas::v1::Account());
  if (tx.body.nonce() != account.next_nonce()) {
    outcome = Fail(Code::kBadNonce, "nonce " + std::to_string(tx.body.nonce()) + ", expected " +
                                        std::to_string(account.next_nonce()));
  } else {
    switch (tx.body.tx_case()) {
      case TxBody::kPropose:
        outcome = s.DeliverPropose(tx);
        break;
      case TxBody::kVote:
        outcome = s.DeliverVote(tx);
        break;
      case TxBody::kWithdraw:
        outcome = s.DeliverWithdraw(tx);
        break;
      case TxBody::kApply:
        outcome = s.DeliverApply(tx);
        break;
      case TxBody::kSubmitAssessment:
        outcome = s.DeliverSubmitAssessment(tx);
        break;
      case TxBody::kRecordMeeting:
        outcome = s.DeliverRecordMeeting(tx);
        break;
      case TxBody::kRotateKey:
        outcome = s.DeliverRotateKey(tx);
        break;
      case TxBody::TX_NOT_SET:
        outcome = Fail(Code::kInvalidArgument, "tx: no type");
        break;
    }
  }
  TxResult result;
  if (outcome.ok()) {
    account.set_next_nonce(account.next_nonce() + 1);
    s.Store(keys::Account(tx.signed_tx.signer()), account);
    s.Commit();
    ++s.accepted_in_block;
    result.events = std::move(s.events);
  } else {
    s.Rollback();
  }
  s.events.clear();
  result.outcome = {outcome.code, std::move(outcome.message)};
  return result;
}

EndBlockResult Engine::EndBlock() {
  Impl& s = *impl_;
  s.events.clear();
  // Proposals whose end has come, in acceptance order.
  std::vector<std::pair<uint64_t, std::string>> due;  // sequence, key
  s.state.Scan(keys::PendingClosePrefix(), [&](std::string_view key, std::string_view id) {
    const keys::PendingCloseEntry entry = keys::ParsePendingClose(key);
    if (entry.end > s.block.time) return false;
    due.emplace_back(entry.seq, std::string(id));
    return true;
  });
  std::sort(due.begin(), due.end());
  for (const auto& [seq, id] : due) {
    auto cached = s.LoadProposal(id);
    if (!cached) std::abort();
    const Proposal& prop = cached->proposal;
    s.state.Delete(keys::PendingClose(prop.end_time(), prop.sequence()));
    s.pending_validator_updates.clear();
    s.CloseProposal(prop);
    for (auto& v : s.pending_validator_updates) s.validator_updates.push_back(std::move(v));
    s.pending_validator_updates.clear();
  }
  // Listings whose assessment's validity has run out by this block's time.
  std::vector<std::string> expired;
  s.state.Scan(keys::ListingExpiryPrefix(), [&](std::string_view key, std::string_view) {
    if (keys::ParseListingExpiry(key).valid_until > s.block.time) return false;
    expired.emplace_back(key);
    return true;
  });
  for (const std::string& key : expired) {
    const std::string solution_id(keys::ParseListingExpiry(key).solution_id);
    auto listing = s.Load<bas::v1::Listing>(keys::Listing(solution_id));
    if (!listing) std::abort();
    listing->set_status(bas::v1::Listing::EXPIRED);
    listing->set_status_time(s.block.time);
    s.Store(keys::Listing(solution_id), *listing);
    s.state.Delete(key);
    s.events.push_back(MakeEvent("listing_expired", {{"solution_id", solution_id}}));
  }
  EndBlockResult r;
  r.events = std::move(s.events);
  s.events.clear();
  r.validator_updates = std::move(s.validator_updates);
  s.validator_updates.clear();
  return r;
}

WriteSet Engine::TakeWrites() {
  impl_->FlushTallies();
  return impl_->state.TakeWrites();
}

}  // namespace bas::governance
