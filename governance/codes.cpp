#include "governance/codes.h"

#include <array>
#include <utility>

namespace bas::governance {
namespace {

constexpr std::array<std::pair<Code, std::string_view>, 11> kNames = {{
    {Code::kOk, "OK"},
    {Code::kInvalidArgument, "INVALID_ARGUMENT"},
    {Code::kBadSignature, "BAD_SIGNATURE"},
    {Code::kBadNonce, "BAD_NONCE"},
    {Code::kNotMember, "NOT_MEMBER"},
    {Code::kNotAuthorized, "NOT_AUTHORIZED"},
    {Code::kNotEligible, "NOT_ELIGIBLE"},
    {Code::kUnknownProposal, "UNKNOWN_PROPOSAL"},
    {Code::kVotingClosed, "VOTING_CLOSED"},
    {Code::kDuplicate, "DUPLICATE"},
    {Code::kNotFound, "NOT_FOUND"},
}};

}  // namespace

std::string_view CodeName(Code code) {
  for (const auto& [c, name] : kNames) {
    if (c == code) return name;
  }
  return "UNKNOWN";
}

std::optional<Code> CodeFromName(std::string_view name) {
  for (const auto& [c, n] : kNames) {
    if (n == name) return c;
  }
  return std::nullopt;
}

}  // namespace bas::governance
