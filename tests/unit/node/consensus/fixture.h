// A four-validator (or weighted) height for the consensus core's unit tests: deterministic keys
// sorted into the set's order, signed proposals and votes, a SafetyStore in memory, and helpers
// that pick effects of one kind out of a core's output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bas/v1/chain.pb.h"
#include "crypto/schnorr.h"
#include "node/consensus/core.h"
#include "node/consensus/safety_record.h"
#include "node/consensus/validator_set.h"

namespace bas::node::consensus::testing {

inline constexpr std::string_view kChain = "bas-consensus-test";

// Timeouts with distinct values, so a test can tell which one was scheduled.
TimeoutParams TestTimeouts();

// Keys DeterministicKey(i) for i < n, ordered as ValidatorSet orders them (bytewise by key),
// so keys()[i] is the member at index i.
std::vector<crypto::KeyPair> SortedKeys(size_t n);
std::string KeyBytes(const crypto::KeyPair& key);

// A SafetyStore in memory. fail_next makes the next Save fail (and leaves the record as it was).
class MemoryStore : public SafetyStore {
 public:
  Status Save(const SafetyRecord& record) override;
  std::optional<SafetyRecord> record;
  int saves = 0;
  bool fail_next = false;
};

// Effects of kind T in order.
template <typename T>
std::vector<T> Of(const Effects& effects) {
  std::vector<T> out;
  for (const Effect& e : effects) {
    if (const T* t = std::get_if<T>(&e)) out.push_back(*t);
  }
  return out;
}

// Unwraps a core result; a failure fails the test (and yields no effects).
Effects Ok(Result<Effects> result);

class Height {
 public:
  // n validators with the given powers (all 1 when empty) at height.
  explicit Height(size_t n, uint64_t height = 5, std::vector<uint64_t> powers = {});

  const ValidatorSet& set() const { return set_; }
  const crypto::KeyPair& key(size_t i) const { return keys_.at(i); }
  uint64_t height() const { return height_; }
  size_t Proposer(uint32_t round) const { return set_.Proposer(height_, round); }
  // A validator that is not the proposer of any round in rounds.
  size_t NonProposer(std::vector<uint32_t> rounds) const;

  // A well-formed block of this height; tag makes different blocks.
  bas::v1::Block Block(std::string_view tag) const;
  static std::string Hash(const bas::v1::Block& block);
  // A proposal signed by proposer(round).
  bas::v1::ConsensusProposal Proposal(uint32_t round, const bas::v1::Block& block,
                                      int32_t valid_round = -1) const;
  bas::v1::ConsensusVote Prevote(size_t i, uint32_t round, std::string_view hash) const;
  bas::v1::ConsensusVote Precommit(size_t i, uint32_t round, std::string_view hash) const;

  // A started core for validator self (persisted: what it resumes from).
  Core MakeCore(size_t self, MemoryStore& store,
                std::optional<SafetyRecord> persisted = std::nullopt) const;

 private:
  uint64_t height_;
  std::vector<crypto::KeyPair> keys_;
  ValidatorSet set_;
};

}  // namespace bas::node::consensus::testing
