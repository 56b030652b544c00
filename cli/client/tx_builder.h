// Transaction bodies from `bas` command-line flags (docs/cli.md): the parsers of each flag's
// text form and the builders of each tx's TxBody. Builders leave chain_id and nonce unset; the
// caller fills them in, serialises the body once and signs those bytes (governance::SignTx).
//
// Errors are kInvalidInput with a message naming the flag ("--admit-member gov-2:GOVERNMENT:...:
// expected ID:GROUP:ROLE[+ROLE]:KEYHEX[:NAME]"), or "IO_ERROR" for a file that cannot be read.
// The chain checks the rest (lengths, slugs, limits) and refuses with a stable code; these
// parsers check only what the flag syntax needs. Pure apart from reading the named files;
// thread-compatible.
//
// Unlike the auditor, whose errors name the ledger or the request, this library is the grammar
// of the command line's text forms (its inputs are the *Flags structs and ActionFlag{name,
// value}), so naming the flag is naming the input; a client that is not a command line builds
// TxBody messages directly (as the scenario runner does) and never sees these messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bas/v1/tx.pb.h"
#include "bas/v1/types.pb.h"
#include "crypto/result.h"

namespace bas::client {

// ---- values ----

// 64 hex digits (either case) as 32 raw bytes.
Result<std::string> ParseId32(std::string_view flag, std::string_view hex);
// YES, NO, ABSTAIN (any case).
Result<bas::v1::VoteChoice> ParseVoteChoice(std::string_view text);
// A StakeholderGroup name (any case), e.g. ACADEMIA.
Result<bas::v1::StakeholderGroup> ParseGroup(std::string_view flag, std::string_view text);
// ROLE[+ROLE...], e.g. MEMBER+SECRETARIAT.
Result<std::vector<bas::v1::Role>> ParseRoles(std::string_view flag, std::string_view text);
// Unix seconds, or YYYY-MM-DD meaning the end of that day in UTC (23:59:59).
Result<int64_t> ParseDateOrUnix(std::string_view flag, std::string_view text);
// NAME=LEVEL with LEVEL >= 1.
Result<bas::v1::ElementLevel> ParseElementLevel(std::string_view text);

// "file://" + the absolute path, percent-encoded where RFC 3986 requires.
std::string FileUri(const std::string& path);
// SHA-256 of the file's bytes and its file:// URI. Errors: "IO_ERROR".
Result<bas::v1::Document> DocumentFromFile(const std::string& path);
// A document from its parts: file (hash it; uri defaults to its file:// URI) or uri + sha256
// hex; `what` names the flags for messages ("--minutes FILE, or --uri and --sha256").
Result<bas::v1::Document> DocumentFromFlags(std::string_view what, const std::string& file,
                                            const std::string& uri, const std::string& sha256_hex);

// ---- proposal actions ----

// --admit-member ID:GROUP:ROLE[+ROLE]:KEYHEX[:NAME] (NAME may contain ':').
Result<bas::v1::Action> ParseAdmitMemberFlag(std::string_view value);
// --remove-member ID
Result<bas::v1::Action> ParseRemoveMemberFlag(std::string_view value);
// --set-roles ID:ROLE[+ROLE]
Result<bas::v1::Action> ParseSetRolesFlag(std::string_view value);
// --list-solution SOLUTION_ID:ASSESSMENT_ID_HEX
Result<bas::v1::Action> ParseListSolutionFlag(std::string_view value);
// --delist-solution ID
Result<bas::v1::Action> ParseDelistSolutionFlag(std::string_view value);
// --igf-session YEAR:FORMAT:TITLE (FORMAT: WORKSHOP, BOOTH, TALK; TITLE may contain ':').
Result<bas::v1::Action> ParseIgfSessionFlag(std::string_view value);
// --resolution TEXT
Result<bas::v1::Action> ParseResolutionFlag(std::string_view value);
// The actions of an --actions file: a JSON array in the scenario format with explicit keys
// and assessment ids (cli/scenario/format.h, ParseActionList). Errors: kInvalidInput with the JSON
// path.
Result<std::vector<bas::v1::Action>> ParseActionsFile(const std::string& path);

// One action flag of `bas propose` as given, without its dashes: "resolution", "annual-plan",
// "document", "uri", "sha256", "admit-member", "remove-member", "set-roles", "list-solution",
// "delist-solution", "igf-session", "actions".
struct ActionFlag {
  std::string name;
  std::string value;
};

// The actions, in the order of the flags. "document", "uri" and "sha256" complete an
// "annual-plan": the nearest one before them, or the only one when there is exactly one. Each
// annual plan needs a document: --document FILE (SHA-256 of the file; the uri is the file's
// file:// URI unless --uri is given) or --uri with --sha256.
Result<std::vector<bas::v1::Action>> BuildActions(const std::vector<ActionFlag>& flags);

// ---- transaction bodies ----

struct ProposeFlags {
  std::string coalition;
  std::string title;
  std::string summary;
  std::vector<ActionFlag> actions;
};
Result<bas::v1::TxBody> BuildPropose(const ProposeFlags& flags);

struct VoteFlags {
  std::string proposal_id;  // 64 hex digits
  std::string choice;       // YES, NO, ABSTAIN
  std::string reason;
};
Result<bas::v1::TxBody> BuildVote(const VoteFlags& flags);
// PROPOSAL_ID:CHOICE[:REASON], the one-flag form of `bas tx sign --vote`.
Result<VoteFlags> ParseVoteSpec(std::string_view spec);

Result<bas::v1::TxBody> BuildWithdraw(const std::string& proposal_id_hex);

struct ApplyFlags {
  std::string coalition;
  std::string member_id;
  std::string group;
  std::string name;
  std::string organisation;
  std::string statement;
};
Result<bas::v1::TxBody> BuildApply(const ApplyFlags& flags);

struct AssessFlags {
  std::string solution_id;
  std::string solution_name;
  std::string vendor;
  std::string bmm_version;
  uint32_t level = 0;
  std::vector<std::string> elements;  // NAME=LEVEL
  std::string valid_until;            // YYYY-MM-DD or Unix seconds
  std::string report_file;
  std::string report_uri;
  std::string report_sha256;
};
// The elements go in sorted by name; no report flags means no report document.
Result<bas::v1::TxBody> BuildAssess(const AssessFlags& flags);

struct MeetingFlags {
  std::string coalition;
  std::string date;  // YYYY-MM-DD
  std::string minutes_file;
  std::string uri;
  std::string sha256;
};
Result<bas::v1::TxBody> BuildMeeting(const MeetingFlags& flags);

// A one-line description of a body for people ("vote YES on 3f2a...: reason"), used by
// `tx sign` and `verify-vote`.
std::string DescribeTx(const bas::v1::TxBody& body);

}  // namespace bas::client
