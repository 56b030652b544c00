// A small, deterministic chain for the node unit tests: a genesis with generated member and
// validator keys, signed governance txs, and blocks built, certified and applied through
// node/chain as node/daemon/node.cpp (Node::OnRequestBlock) does. Keys come from fixed
// seeds, so a second process (the storage crash test's child) rebuilds the same genesis.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bas/v1/chain.pb.h"
#include "bas/v1/genesis.pb.h"
#include "crypto/hash.h"
#include "crypto/schnorr.h"
#include "governance/kv.h"
#include "node/chain/executor.h"
#include "node/chain/validation.h"

namespace bas::node::testing {

inline constexpr int64_t kGenesisTime = 1767225600;  // 2026-01-01T00:00:00Z
inline constexpr std::string_view kCoalition = "bas-dc";
// Validator keys DeterministicKey("validator", i) for i below this can sign commits.
inline constexpr int kMaxValidators = 8;

// The key pair of secret SHA256("bas-test/<family>/<index>").
crypto::KeyPair DeterministicKey(std::string_view family, int index);
std::string KeyBytes(const crypto::KeyPair& key);

struct GenesisSpec {
  std::string chain_id = "bas-test";
  int members = 6;     // spread over GOVERNMENT, CIVIL_SOCIETY, TECHNICAL_COMMUNITY
  int validators = 1;  // DeterministicKey("validator", 0..validators-1)
  uint64_t validator_power = 10;
  uint64_t voting_period_s = 3600;  // the coalition's default rule
};

// The genesis of spec with the given member keys; validators from DeterministicKey.
bas::v1::Genesis MakeGenesis(const GenesisSpec& spec, const std::vector<crypto::KeyPair>& members);

// Signed txs (the exact bytes a client submits).
std::string ProposeTx(std::string_view chain_id, const crypto::KeyPair& signer, uint64_t nonce,
                      std::string_view title = "A resolution");
// A proposal that sets a validator's power (0 removes it).
std::string ValidatorUpdateTx(std::string_view chain_id, const crypto::KeyPair& signer,
                              uint64_t nonce, const crypto::KeyPair& validator, uint64_t power);
std::string VoteTx(std::string_view chain_id, const crypto::KeyPair& signer, uint64_t nonce,
                   const crypto::Hash32& proposal_id, bas::v1::VoteChoice choice = bas::v1::YES);
// The tx id (= proposal id for a Propose) of signed tx bytes; zero if they do not decode.
crypto::Hash32 TxIdOf(std::string_view signed_tx);

crypto::Hash32 SetHash(const bas::v1::ValidatorSet& set);
// What a block producer reads about the tip of its chain: the tip and its certificate.
struct TipInfo : chain::ChainTip {
  bas::v1::Commit last_commit;  // certifies the tip; empty at genesis
};

struct ProducedBlock {
  bas::v1::Block block;
  crypto::Hash32 block_hash{};
  bas::v1::Commit commit;  // signed by every validator of the block's set
  chain::ExecutedBlock exec;
  std::vector<chain::DroppedTx> dropped;
  // NextTip of the tip it was built on (stale if a test then edits the header; Append is not).
  chain::ChainTip tip_after;
};

// Builds the block after tip as Node::OnRequestBlock does: CheckTx, BuildBlock, AssembleBlock
// (no evidence), and a commit at round 0 signed by each validator of tip.validators (their keys
// must be DeterministicKey("validator", i < kMaxValidators)). The proposer is the set's member
// at height % size. A tx that fails CheckTx is a test failure and is left out.
ProducedBlock ProduceOn(const governance::KvReader& state, const TipInfo& tip,
                        const std::vector<std::string>& txs, int64_t time);

// A chain held in memory: genesis state, blocks, commits and validator sets per height.
class TestChain {
 public:
  explicit TestChain(GenesisSpec spec = {});

  const GenesisSpec& spec() const { return spec_; }
  const std::string& chain_id() const { return spec_.chain_id; }
  const bas::v1::Genesis& genesis() const { return genesis_; }
  const crypto::KeyPair& member(size_t i) const { return members_.at(i); }
  size_t member_count() const { return members_.size(); }
  const governance::MemoryKv& state() const { return state_; }
  uint64_t height() const { return tip_.height; }
  crypto::Hash32 app_hash() const { return tip_.app_hash; }
  // The genesis app hash and writes.
  const chain::GenesisState& genesis_state() const { return genesis_state_; }

  // The member's account nonce in the current state.
  uint64_t NextNonce(size_t member) const;
  // Signed txs by member i (nonce: the account's next unless given).
  std::string Propose(size_t member, std::optional<uint64_t> nonce = std::nullopt,
                      std::string_view title = "A resolution") const;
  std::string Vote(size_t member, const crypto::Hash32& proposal,
                   std::optional<uint64_t> nonce = std::nullopt,
                   bas::v1::VoteChoice choice = bas::v1::YES) const;

  TipInfo Info() const;
  // The tip for ValidateBlock of the next block.
  const chain::ChainTip& Tip() const { return tip_; }
  // The next block; time defaults to the tip's time + 60. The chain is unchanged.
  ProducedBlock Build(const std::vector<std::string>& txs,
                      std::optional<int64_t> time = std::nullopt) const;
  // Applies a block built by Build on this tip.
  void Append(const ProducedBlock& block);
  ProducedBlock Produce(const std::vector<std::string>& txs,
                        std::optional<int64_t> time = std::nullopt);

  // The block and commit at height (1..height()).
  const ProducedBlock& at(uint64_t height) const { return blocks_.at(height - 1); }
  // The set that decides height (>= 1; known up to height() + 2).
  const bas::v1::ValidatorSet& ValidatorsAt(uint64_t height) const { return sets_.at(height); }

 private:
  GenesisSpec spec_;
  std::vector<crypto::KeyPair> members_;
  bas::v1::Genesis genesis_;
  chain::GenesisState genesis_state_;
  governance::MemoryKv state_;
  chain::ChainTip tip_;
  std::vector<ProducedBlock> blocks_;
  std::map<uint64_t, bas::v1::ValidatorSet> sets_;  // what tip_ said of each height
};

}  // namespace bas::node::testing
