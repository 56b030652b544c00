// The layout of the governance state in the key-value space (internal to governance/).
//
// Every key starts with a short table prefix and a '/'. Identifiers (coalition, member,
// solution ids) are slugs that cannot contain '/', keys and ids of 32 bytes are raw, and
// numbers are 8-byte (or 4-byte) big-endian so that bytewise order is numeric order. The
// layout is part of the app hash: changing it is a chain upgrade.
//
// Next to a builder whose keys a scan takes apart, its inverse (Parse*, *Of): the only code
// that knows where a key's parts sit. Precondition of each inverse: the key was made by its
// builder, which a scan under the builder's prefix ensures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/hash.h"

namespace bas::governance::keys {

inline void AppendBe(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline uint64_t ReadBe(std::string_view in) {
  uint64_t v = 0;
  for (char c : in) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

// Raw keys and ids (public keys, proposal and assessment ids) are this long in a key.
inline constexpr size_t kRawIdBytes = 32;
// Where a key's parts start: after the table's "name/", then each fixed-width part and its '/'.
inline constexpr size_t PartOffset(std::string_view table, size_t fixed_width_parts = 0) {
  return table.size() + 1 + fixed_width_parts;
}
// The 8-byte big-endian number at offset.
inline uint64_t Be64At(std::string_view key, size_t offset) {
  return ReadBe(key.substr(offset, 8));
}

template <typename... Parts>
std::string Key(std::string_view table, const Parts&... parts) {
  std::string out(table);
  ((out.push_back('/'), out.append(parts)), ...);
  return out;
}
inline std::string Be64(uint64_t v) {
  std::string s;
  AppendBe(s, v, 8);
  return s;
}
inline std::string Be32(uint32_t v) {
  std::string s;
  AppendBe(s, v, 4);
  return s;
}

// Singletons.
inline std::string ChainId() { return "g/chain_id"; }
inline std::string Counter(std::string_view name) { return Key("n", name); }

// Coalitions, members and keys.
inline std::string Coalition(std::string_view id) { return Key("c", id); }
inline std::string CoalitionPrefix() { return "c/"; }
inline std::string_view CoalitionIdOf(std::string_view coalition_key) {
  return coalition_key.substr(PartOffset("c"));
}
inline std::string Member(std::string_view coalition, std::string_view member_id) {
  return Key("m", coalition, member_id);
}
inline std::string MemberPrefix(std::string_view coalition) { return Key("m", coalition, ""); }
// Key of an active member -> its member id.
inline std::string MemberByKey(std::string_view coalition, std::string_view key) {
  return Key("mk", coalition, key);
}
inline std::string_view MemberByKeyPrefixAll() { return "mk/"; }
// The coalitions in which a key is an active member's key -> member id.
inline std::string KeyMembership(std::string_view key, std::string_view coalition) {
  return Key("km", key, coalition);
}
inline std::string KeyMembershipPrefix(std::string_view key) { return Key("km", key, ""); }
inline std::string_view KeyMembershipCoalition(std::string_view key_membership_key) {
  return key_membership_key.substr(PartOffset("km", kRawIdBytes + 1));
}
inline std::string MembershipEvent(std::string_view coalition, uint64_t seq) {
  return Key("mh", coalition, Be64(seq));
}
inline std::string MembershipEventPrefix(std::string_view coalition) {
  return Key("mh", coalition, "");
}
inline std::string Account(std::string_view key) { return Key("a", key); }
inline std::string_view AccountPrefix() { return "a/"; }
inline std::string Rule(std::string_view coalition, std::string_view action_type) {
  return Key("r", coalition, action_type);
}

// Proposals, electorates, votes. A proposal's record is keyed by its id; the tables written on
// every vote are keyed by its acceptance sequence (8 bytes instead of 32), which keeps the
// ordered maps' key comparisons short on the hottest path.
inline std::string Proposal(std::string_view id) { return Key("p", id); }
inline std::string Tally(uint64_t seq) { return Key("t", Be64(seq)); }
inline std::string Elector(uint64_t seq, std::string_view member_id) {
  return Key("e", Be64(seq), member_id);
}
inline std::string ElectorPrefix(uint64_t seq) { return Key("e", Be64(seq), ""); }
inline std::string_view ElectorMemberId(std::string_view elector_key) {
  return elector_key.substr(PartOffset("e", 8 + 1));
}
inline std::string LatestVote(uint64_t seq, std::string_view member_id) {
  return Key("v", Be64(seq), member_id);
}
inline std::string LatestVotePrefix(uint64_t seq) { return Key("v", Be64(seq), ""); }
// Every vote, in the order cast: by height, then the place among the block's accepted txs.
inline std::string VoteHistory(uint64_t seq, uint64_t height, uint32_t tx_in_block) {
  return Key("vh", Be64(seq), Be64(height) + Be32(tx_in_block));
}
inline std::string VoteHistoryPrefix(uint64_t seq) { return Key("vh", Be64(seq), ""); }
inline std::string_view VoteHistoryPrefixAll() { return "vh/"; }
// Open proposals by end time, then acceptance sequence -> proposal id.
inline std::string PendingClose(int64_t end, uint64_t seq) {
  return Key("pe", Be64(static_cast<uint64_t>(end)), Be64(seq));
}
inline std::string PendingClosePrefix() { return "pe/"; }
struct PendingCloseEntry {
  int64_t end = 0;
  uint64_t seq = 0;
};
inline PendingCloseEntry ParsePendingClose(std::string_view pending_close_key) {
  return {static_cast<int64_t>(Be64At(pending_close_key, PartOffset("pe"))),
          Be64At(pending_close_key, PartOffset("pe", 8 + 1))};
}
// Every proposal in acceptance order -> proposal id.
inline std::string ProposalBySeq(uint64_t seq) { return Key("ps", Be64(seq)); }
inline std::string ProposalBySeqPrefix() { return "ps/"; }
inline std::string PendingApplication(std::string_view coalition, std::string_view key) {
  return Key("ap", coalition, key);
}
inline std::string Decision(std::string_view coalition, uint64_t number) {
  return Key("d", coalition, Be64(number));
}
inline std::string DecisionPrefix(std::string_view coalition) { return Key("d", coalition, ""); }

// Directory and BMM.
inline std::string Assessment(std::string_view id) { return Key("as", id); }
inline std::string AssessmentPrefix() { return "as/"; }
inline std::string Listing(std::string_view solution_id) { return Key("l", solution_id); }
inline std::string ListingPrefix() { return "l/"; }
inline std::string ListingExpiry(int64_t valid_until, std::string_view solution_id) {
  return Key("lx", Be64(static_cast<uint64_t>(valid_until)), solution_id);
}
inline std::string ListingExpiryPrefix() { return "lx/"; }
struct ListingExpiryEntry {
  int64_t valid_until = 0;
  std::string_view solution_id;  // a view into the key
};
inline ListingExpiryEntry ParseListingExpiry(std::string_view listing_expiry_key) {
  return {static_cast<int64_t>(Be64At(listing_expiry_key, PartOffset("lx"))),
          listing_expiry_key.substr(PartOffset("lx", 8 + 1))};
}
inline std::string BmmModel(std::string_view version) { return Key("bmm", version); }
inline std::string BmmModelPrefix() { return "bmm/"; }

// Records.
inline std::string AnnualPlan(std::string_view coalition, uint32_t year) {
  return Key("pl", coalition, Be32(year));
}
inline std::string AnnualPlanPrefix(std::string_view coalition) { return Key("pl", coalition, ""); }
inline std::string AnnualPlanHistory(std::string_view coalition, uint32_t year, uint64_t seq) {
  return Key("plh", coalition, Be32(year), Be64(seq));
}
inline std::string AnnualPlanHistoryPrefix(std::string_view coalition) {
  return Key("plh", coalition, "");
}
inline std::string IgfSession(std::string_view coalition, uint32_t year, uint64_t seq) {
  return Key("ig", coalition, Be32(year), Be64(seq));
}
inline std::string IgfSessionPrefix(std::string_view coalition) { return Key("ig", coalition, ""); }
inline std::string Meeting(std::string_view coalition, std::string_view date, uint64_t seq) {
  return Key("mt", coalition, date, Be64(seq));
}
inline std::string MeetingPrefix(std::string_view coalition) { return Key("mt", coalition, ""); }
// A coalition's meetings on one date (YYYY-MM-DD, which has no '/').
inline std::string MeetingPrefix(std::string_view coalition, std::string_view date) {
  return Key("mt", coalition, date, "");
}
inline std::string Resolution(std::string_view coalition, uint64_t seq) {
  return Key("rs", coalition, Be64(seq));
}
inline std::string ResolutionPrefix(std::string_view coalition) { return Key("rs", coalition, ""); }
inline std::string Validator(std::string_view key) { return Key("val", key); }
inline std::string ValidatorPrefix() { return "val/"; }

}  // namespace bas::governance::keys
