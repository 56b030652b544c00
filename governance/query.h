// Read-only queries over a governance state: what the API, the scenario runner, the auditor
// and the reports show. Pure functions of the state; thread-safe when the reader is.
//
// A state is the Engine's output, so it is trusted: a record that is absent is reported as
// absent (nullopt, an empty list), but a record that is present and does not parse is a
// corrupt store, not a state to show. A query that meets one aborts the process, as the
// engine does on the same bytes (governance/record.h), rather than drop it and answer as if
// the chain's state were something it is not.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bas/v1/state.pb.h"
#include "crypto/schnorr.h"
#include "governance/kv.h"

namespace bas::governance {

std::vector<bas::v1::Coalition> ListCoalitions(const KvReader& kv);
std::optional<bas::v1::Coalition> GetCoalition(const KvReader& kv, std::string_view id);
// Members of a coalition, sorted by id; inactive ones too unless active_only.
std::vector<bas::v1::Member> ListMembers(const KvReader& kv, std::string_view coalition,
                                         bool active_only);
std::vector<bas::v1::MembershipEvent> MembershipHistory(const KvReader& kv,
                                                        std::string_view coalition);
std::optional<bas::v1::Proposal> GetProposal(const KvReader& kv, const crypto::Hash32& id);
std::optional<bas::v1::ProposalTally> GetTally(const KvReader& kv, const crypto::Hash32& id);
// Proposals in acceptance order; coalition empty = all.
std::vector<bas::v1::Proposal> ListProposals(const KvReader& kv, std::string_view coalition);
// The latest vote of each electorate member, sorted by member id.
std::vector<bas::v1::VoteRecord> ListVotes(const KvReader& kv, const crypto::Hash32& proposal);
// Every vote cast, changes included, in the order cast.
std::vector<bas::v1::VoteRecord> VoteHistory(const KvReader& kv, const crypto::Hash32& proposal);
// The proposal's frozen electorate: member id -> group, sorted by member id.
std::vector<std::pair<std::string, bas::v1::StakeholderGroup>> Electorate(
    const KvReader& kv, const crypto::Hash32& proposal);
// A coalition's register in number order; coalition empty = every coalition, by coalition id.
std::vector<bas::v1::Decision> ListDecisions(const KvReader& kv, std::string_view coalition);
// The directory, sorted by solution id.
std::vector<bas::v1::Listing> ListDirectory(const KvReader& kv);
std::vector<bas::v1::Assessment> ListAssessments(const KvReader& kv);
std::optional<bas::v1::Assessment> GetAssessment(const KvReader& kv, const crypto::Hash32& id);
// The per-coalition lists below cover every coalition (by coalition id) when coalition is
// empty. Current annual plan per year; history keeps replaced ones (AnnualPlanHistory).
std::vector<bas::v1::AnnualPlan> ListAnnualPlans(const KvReader& kv, std::string_view coalition);
std::vector<bas::v1::AnnualPlan> AnnualPlanHistory(const KvReader& kv, std::string_view coalition);
std::vector<bas::v1::IgfSession> ListIgfSessions(const KvReader& kv, std::string_view coalition);
std::vector<bas::v1::Meeting> ListMeetings(const KvReader& kv, std::string_view coalition);
std::vector<bas::v1::Resolved> ListResolutions(const KvReader& kv, std::string_view coalition);
std::vector<bas::v1::BmmModel> ListBmmModels(const KvReader& kv);
std::vector<bas::v1::Validator> ListValidators(const KvReader& kv);
// The key's account (next nonce), and the (coalition, member id) pairs where it is the key of
// an active member.
bas::v1::Account GetAccount(const KvReader& kv, const crypto::PublicKey& key);
std::vector<std::pair<std::string, std::string>> MembershipsOfKey(const KvReader& kv,
                                                                  const crypto::PublicKey& key);
// The earliest time at which a block has work without txs: the first voting end of an open
// proposal or expiry of an active listing; nullopt when there is none.
std::optional<int64_t> NextDeadline(const KvReader& kv);

// The effective rule of an action type in a coalition ("Precise rules" 3).
bas::v1::EffectiveRule RuleFor(const KvReader& kv, std::string_view coalition,
                               std::string_view action_type);

}  // namespace bas::governance
