// The validators of one height as the consensus core counts them: members ordered by key,
// voting-power thresholds, and the proposer of each round.
//
// Thresholds (the paper's "2f + 1" and "f + 1" for n = 3f + 1, stated for any total power n):
// a quorum is more than 2/3 of the total power, a blocking set more than 1/3. Both are
// computed in 128-bit integers, so no power overflows.
//
// Proposer selection: a deterministic weighted round robin over the slot (height + round).
// Powers are divided by their greatest common divisor; if their sum is still above
// kMaxProposerCycle they are scaled down to fit (each keeps at least 1). One cycle of the
// smooth weighted round robin (as in nginx: each step every member gains its power, the
// member with the most credit, lowest key first on ties, is chosen and pays back the total)
// lists each member as often as its (reduced) power, spread out; proposer(height, round) is
// entry (height + round) mod cycle length. With equal powers this is plain round robin in key
// order. Round r + 1 of a height has the proposer of round r of the next height, so a
// proposer that is down costs each height at most one round. The choice needs no state
// carried between heights (unlike CometBFT's proposer priorities), so a validator that
// restarts or syncs computes it from the set alone. Immutable after construction; copies
// share the cycle; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bas/v1/chain.pb.h"
#include "crypto/result.h"

namespace bas::node::consensus {

inline constexpr uint64_t kMaxProposerCycle = 1 << 14;

class ValidatorSet {
 public:
  // The set of a height. Fails with "INVALID_VALIDATOR_SET" when it is empty, a key is not 32
  // bytes or appears twice, a power is zero, the total power does not fit in 63 bits, or there
  // are more than kMaxProposerCycle / 2 members.
  static Result<ValidatorSet> From(const bas::v1::ValidatorSet& set);

  size_t size() const { return members_->keys.size(); }
  // The member at index i (0 <= i < size()), in bytewise key order.
  const std::string& key(size_t i) const { return members_->keys[i]; }
  uint64_t power(size_t i) const { return members_->powers[i]; }
  uint64_t total_power() const { return members_->total; }
  // The index of key, or nullopt when key is not a member.
  std::optional<size_t> IndexOf(std::string_view key) const;

  // power > 2/3 of the total (the paper's 2f + 1).
  bool IsQuorum(uint64_t power) const;
  // power > 1/3 of the total (the paper's f + 1).
  bool IsBlocking(uint64_t power) const;

  // The index of proposer(height, round) (see the file comment).
  size_t Proposer(uint64_t height, uint32_t round) const;

  // The set as given (for node::chain::VerifyCommit).
  const bas::v1::ValidatorSet& proto() const { return members_->proto; }

 private:
  struct Members {
    bas::v1::ValidatorSet proto;
    std::vector<std::string> keys;
    std::vector<uint64_t> powers;
    uint64_t total = 0;
    std::vector<uint32_t> proposer_cycle;
  };
  explicit ValidatorSet(std::shared_ptr<const Members> m) : members_(std::move(m)) {}
  std::shared_ptr<const Members> members_;
};

}  // namespace bas::node::consensus
