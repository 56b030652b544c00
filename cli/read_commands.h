// The `bas` commands that read the chain through the node's API (docs/api.md): status,
// proposals, proposal, members, decisions, directory, assessments, meetings, and verify-vote.
// Human tables by default (tables.h); with --json the API's JSON as it came (pretty-printed).
//
// Each returns the exit status and prints its errors. Not thread-safe.
#pragma once

#include <string>

#include "cli/client_options.h"

namespace bas::cli {

int RunStatus(const ClientOptions& options);
// key: a public key in hex, or "" for the public key of options.key_name (read without the
// passphrase). Prints the next nonce (what `tx sign --offline --nonce` needs) and memberships.
int RunAccount(const ClientOptions& options, const std::string& key);
// status: "" or ACTIVE, PASSED, REJECTED, FAILED, WITHDRAWN (any case).
int RunProposals(const ClientOptions& options, const std::string& coalition,
                 const std::string& status);
// id: 64 hex digits or a unique prefix.
int RunProposal(const ClientOptions& options, const std::string& id);
// coalition "": every coalition. all: removed members too.
int RunMembers(const ClientOptions& options, const std::string& coalition, bool all);
// format: table, json, csv, md (--json means json).
int RunDecisions(const ClientOptions& options, const std::string& coalition,
                 const std::string& format);
int RunDirectory(const ClientOptions& options);
int RunAssessments(const ClientOptions& options);
int RunMeetings(const ClientOptions& options, const std::string& coalition);
// Exit 0 iff every check of verify.h holds, 5 if one fails, 4 for an unknown tx.
int RunVerifyVote(const ClientOptions& options, const std::string& tx_id);

}  // namespace bas::cli
