// Stable result codes of the governance rules. The numbers are part of the ledger (they are
// stored in TxResult.code) and the names part of every interface (API, scenarios): never
// renumber or rename.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace bas::governance {

enum class Code : uint32_t {
  kOk = 0,
  kInvalidArgument = 1,  // the tx on its own is malformed or over a limit
  kBadSignature = 2,
  kBadNonce = 3,
  kNotMember = 4,      // the signer is not an active member
  kNotAuthorized = 5,  // a role is missing, or not the proposer
  kNotEligible = 6,    // not in the proposal's frozen electorate
  kUnknownProposal = 7,
  kVotingClosed = 8,
  kDuplicate = 9,
  kNotFound = 10,
};

// "OK", "INVALID_ARGUMENT", ...
std::string_view CodeName(Code code);
std::optional<Code> CodeFromName(std::string_view name);

}  // namespace bas::governance
