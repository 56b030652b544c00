// Voting rules and the tally test (DESIGN.md section 3, "Voting rules";
// scenarios/README.md "Precise rules" 3 and 4). Integer arithmetic only, D = 1,000,000.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bas/v1/state.pb.h"
#include "bas/v1/tx.pb.h"

namespace bas::governance {

inline constexpr uint64_t kPpm = 1'000'000;  // D
inline constexpr std::string_view kDefaultRuleKey = "default";

// The snake_case name of an action's type ("admit_member", ...), the key of its rule.
std::string_view ActionTypeName(bas::v1::Action::KindCase kind);
// The names of every action type, in proto field order.
const std::vector<std::string_view>& ActionTypeNames();
bool IsRuleKey(std::string_view key);  // an action type name or "default"

// The built-in rule of an action type (the table in scenarios/README.md).
bas::v1::EffectiveRule BuiltinRule(std::string_view action_type);

// The effective rule of action type X given the stored rules[X] and rules["default"]
// (nullopt when not set): the first one set, each omitted field from X's built-in default.
bas::v1::EffectiveRule ResolveRule(std::string_view action_type,
                                   const std::optional<bas::v1::VotingRule>& specific,
                                   const std::optional<bas::v1::VotingRule>& fallback);

// Field by field the strictest of several rules. Precondition: rules is not empty.
bas::v1::EffectiveRule Strictest(const std::vector<bas::v1::EffectiveRule>& rules);

// "" when the proposal passes, else the first failed test: QUORUM, SUPPORT,
// GROUP_QUORUM:<G>, GROUP_SUPPORT:<G> (groups in enum order), or OBJECTED.
std::string FailedTest(const bas::v1::EffectiveRule& rule, const bas::v1::ProposalTally& tally);

// Checks a rule's fields (ppm <= D, period > 0, a known mode). Empty when valid, else why.
std::string ValidateRule(const bas::v1::VotingRule& rule);

}  // namespace bas::governance
