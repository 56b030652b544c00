#include "governance/query.h"

#include <algorithm>

#include "governance/keys.h"
#include "governance/record.h"
#include "governance/rules.h"

namespace bas::governance {
namespace {

// Records are decoded as the engine decodes them (record.h): one that does not parse aborts.
template <typename Msg>
std::optional<Msg> LoadRecord(const KvReader& kv, const std::string& key) {
  auto raw = kv.Get(key);
  if (!raw) return std::nullopt;
  return ParseRecord<Msg>(key, *raw);
}

// Every record under prefix, in key order.
template <typename Msg>
std::vector<Msg> ScanRecords(const KvReader& kv, const std::string& prefix) {
  std::vector<Msg> out;
  kv.Scan(prefix, [&](std::string_view key, std::string_view raw) {
    out.push_back(ParseRecord<Msg>(key, raw));
    return true;
  });
  return out;
}

// Records of one coalition's table, or of every coalition (by coalition id) when it is empty.
template <typename Msg>
std::vector<Msg> PerCoalition(const KvReader& kv, std::string_view coalition,
                              std::string (*prefix)(std::string_view)) {
  if (!coalition.empty()) return ScanRecords<Msg>(kv, prefix(coalition));
  std::vector<Msg> out;
  kv.Scan(keys::CoalitionPrefix(), [&](std::string_view key, std::string_view) {
    auto part = ScanRecords<Msg>(kv, prefix(keys::CoalitionIdOf(key)));
    std::move(part.begin(), part.end(), std::back_inserter(out));
    return true;
  });
  return out;
}

// The acceptance sequence that keys a proposal's tally, electorate and votes.
std::optional<uint64_t> ProposalSeq(const KvReader& kv, const crypto::Hash32& id) {
  auto p = LoadRecord<bas::v1::Proposal>(kv, keys::Proposal(crypto::HashBytes(id)));
  if (!p) return std::nullopt;
  return p->sequence();
}

}  // namespace

std::vector<bas::v1::Coalition> ListCoalitions(const KvReader& kv) {
  return ScanRecords<bas::v1::Coalition>(kv, keys::CoalitionPrefix());
}

std::optional<bas::v1::Coalition> GetCoalition(const KvReader& kv, std::string_view id) {
  return LoadRecord<bas::v1::Coalition>(kv, keys::Coalition(id));
}

std::vector<bas::v1::Member> ListMembers(const KvReader& kv, std::string_view coalition,
                                         bool active_only) {
  auto all = ScanRecords<bas::v1::Member>(kv, keys::MemberPrefix(coalition));
  if (active_only) {
    std::erase_if(all, [](const bas::v1::Member& m) { return !m.active(); });
  }
  return all;
}

std::vector<bas::v1::MembershipEvent> MembershipHistory(const KvReader& kv,
                                                        std::string_view coalition) {
  return ScanRecords<bas::v1::MembershipEvent>(kv, keys::MembershipEventPrefix(coalition));
}

std::optional<bas::v1::Proposal> GetProposal(const KvReader& kv, const crypto::Hash32& id) {
  return LoadRecord<bas::v1::Proposal>(kv, keys::Proposal(crypto::HashBytes(id)));
}

std::optional<bas::v1::ProposalTally> GetTally(const KvReader& kv, const crypto::Hash32& id) {
  auto seq = ProposalSeq(kv, id);
  if (!seq) return std::nullopt;
  return LoadRecord<bas::v1::ProposalTally>(kv, keys::Tally(*seq));
}

std::vector<bas::v1::Proposal> ListProposals(const KvReader& kv, std::string_view coalition) {
  std::vector<bas::v1::Proposal> out;
  kv.Scan(keys::ProposalBySeqPrefix(), [&](std::string_view, std::string_view id) {
    auto p = LoadRecord<bas::v1::Proposal>(kv, keys::Proposal(id));
    if (p && (coalition.empty() || p->coalition() == coalition)) out.push_back(std::move(*p));
    return true;
  });
  return out;
}

std::vector<bas::v1::VoteRecord> ListVotes(const KvReader& kv, const crypto::Hash32& proposal) {
  auto seq = ProposalSeq(kv, proposal);
  if (!seq) return {};
  return ScanRecords<bas::v1::VoteRecord>(kv, keys::LatestVotePrefix(*seq));
}

std::vector<bas::v1::VoteRecord> VoteHistory(const KvReader& kv, const crypto::Hash32& proposal) {
  auto seq = ProposalSeq(kv, proposal);
  if (!seq) return {};
  return ScanRecords<bas::v1::VoteRecord>(kv, keys::VoteHistoryPrefix(*seq));
}

std::vector<std::pair<std::string, bas::v1::StakeholderGroup>> Electorate(
    const KvReader& kv, const crypto::Hash32& proposal) {
  std::vector<std::pair<std::string, bas::v1::StakeholderGroup>> out;
  auto seq = ProposalSeq(kv, proposal);
  if (!seq) return out;
  kv.Scan(keys::ElectorPrefix(*seq), [&](std::string_view key, std::string_view group) {
    out.emplace_back(std::string(keys::ElectorMemberId(key)),
                     static_cast<bas::v1::StakeholderGroup>(static_cast<uint8_t>(group.at(0))));
    return true;
  });
  return out;
}

std::vector<bas::v1::Decision> ListDecisions(const KvReader& kv, std::string_view coalition) {
  return PerCoalition<bas::v1::Decision>(kv, coalition, &keys::DecisionPrefix);
}

std::vector<bas::v1::Listing> ListDirectory(const KvReader& kv) {
  return ScanRecords<bas::v1::Listing>(kv, keys::ListingPrefix());
}

std::vector<bas::v1::Assessment> ListAssessments(const KvReader& kv) {
  return ScanRecords<bas::v1::Assessment>(kv, keys::AssessmentPrefix());
}

std::optional<bas::v1::Assessment> GetAssessment(const KvReader& kv, const crypto::Hash32& id) {
  return LoadRecord<bas::v1::Assessment>(kv, keys::Assessment(crypto::HashBytes(id)));
}

std::vector<bas::v1::AnnualPlan> ListAnnualPlans(const KvReader& kv, std::string_view coalition) {
  return PerCoalition<bas::v1::AnnualPlan>(kv, coalition, &keys::AnnualPlanPrefix);
}

std::vector<bas::v1::AnnualPlan> AnnualPlanHistory(const KvReader& kv, std::string_view coalition) {
  return PerCoalition<bas::v1::AnnualPlan>(kv, coalition, &keys::AnnualPlanHistoryPrefix);
}

std::vector<bas::v1::IgfSession> ListIgfSessions(const KvReader& kv, std::string_view coalition) {
  return PerCoalition<bas::v1::IgfSession>(kv, coalition, &keys::IgfSessionPrefix);
}

std::vector<bas::v1::Meeting> ListMeetings(const KvReader& kv, std::string_view coalition) {
  return PerCoalition<bas::v1::Meeting>(kv, coalition, &keys::MeetingPrefix);
}

std::vector<bas::v1::Resolved> ListResolutions(const KvReader& kv, std::string_view coalition) {
  return PerCoalition<bas::v1::Resolved>(kv, coalition, &keys::ResolutionPrefix);
}

std::vector<bas::v1::BmmModel> ListBmmModels(const KvReader& kv) {
  return ScanRecords<bas::v1::BmmModel>(kv, keys::BmmModelPrefix());
}

std::vector<bas::v1::Validator> ListValidators(const KvReader& kv) {
  return ScanRecords<bas::v1::Validator>(kv, keys::ValidatorPrefix());
}

bas::v1::Account GetAccount(const KvReader& kv, const crypto::PublicKey& key) {
  return LoadRecord<bas::v1::Account>(kv, keys::Account(crypto::HashBytes(key)))
      .value_or(bas::v1::Account());
}

std::vector<std::pair<std::string, std::string>> MembershipsOfKey(const KvReader& kv,
                                                                  const crypto::PublicKey& key) {
  std::vector<std::pair<std::string, std::string>> out;
  kv.Scan(keys::KeyMembershipPrefix(crypto::HashBytes(key)),
          [&](std::string_view k, std::string_view member_id) {
            out.emplace_back(std::string(keys::KeyMembershipCoalition(k)), std::string(member_id));
            return true;
          });
  return out;
}

std::optional<int64_t> NextDeadline(const KvReader& kv) {
  std::optional<int64_t> earliest;
  // Each index is in time order: its first key is its earliest.
  auto first = [&](int64_t t) {
    earliest = earliest ? std::min(*earliest, t) : t;
    return false;
  };
  kv.Scan(keys::PendingClosePrefix(), [&](std::string_view key, std::string_view) {
    return first(keys::ParsePendingClose(key).end);
  });
  kv.Scan(keys::ListingExpiryPrefix(), [&](std::string_view key, std::string_view) {
    return first(keys::ParseListingExpiry(key).valid_until);
  });
  return earliest;
}

bas::v1::EffectiveRule RuleFor(const KvReader& kv, std::string_view coalition,
                               std::string_view action_type) {
  return ResolveRule(action_type,
                     LoadRecord<bas::v1::VotingRule>(kv, keys::Rule(coalition, action_type)),
                     LoadRecord<bas::v1::VotingRule>(kv, keys::Rule(coalition, kDefaultRuleKey)));
}

}  // namespace bas::governance
