// Stateless field checks of transactions, actions and genesis (internal to governance/):
// everything that can be wrong with a tx on its own ("Precise rules" 1, INVALID_ARGUMENT).
// Each returns "" when valid, else a message naming the field at fault. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "bas/v1/genesis.pb.h"
#include "bas/v1/tx.pb.h"

namespace bas::governance {

// A slug: 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit.
bool IsSlug(std::string_view s);
bool IsValidUtf8(std::string_view s);
// YYYY-MM-DD, a real calendar date.
bool IsIsoDate(std::string_view s);

std::string ValidateTxBody(const bas::v1::TxBody& body);
std::string ValidateAction(const bas::v1::Action& action);
std::string ValidateMemberInfo(const bas::v1::MemberInfo& member);
// Genesis fields; the message starts with the field path ("coalitions[0].members[1].key").
std::string ValidateGenesis(const bas::v1::Genesis& genesis);

}  // namespace bas::governance
