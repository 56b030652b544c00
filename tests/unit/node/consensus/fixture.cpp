#include "tests/unit/node/consensus/fixture.h"

#include <algorithm>
#include <cstdlib>

#include "node/chain/commit.h"
#include "node/chain/encoding.h"
#include "node/consensus/messages.h"

namespace bas::node::consensus::testing {
namespace {

crypto::KeyPair DeterministicKey(size_t i) {
  auto key = crypto::KeyPair::FromSecret(
      crypto::Sha256Of("bas-test/consensus-validator/" + std::to_string(i)));
  if (!key.ok()) std::abort();
  return *key;
}

ValidatorSet MakeSet(const std::vector<crypto::KeyPair>& keys,
                     const std::vector<uint64_t>& powers) {
  bas::v1::ValidatorSet proto;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto* v = proto.add_validators();
    v->set_key(KeyBytes(keys[i]));
    v->set_power(powers.empty() ? 1 : powers.at(i));
  }
  auto set = ValidatorSet::From(proto);
  if (!set.ok()) std::abort();
  return *set;
}

}  // namespace

TimeoutParams TestTimeouts() { return TimeoutParams{3000, 1000, 2000, 500}; }

std::vector<crypto::KeyPair> SortedKeys(size_t n) {
  std::vector<crypto::KeyPair> keys;
  for (size_t i = 0; i < n; ++i) keys.push_back(DeterministicKey(i));
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.public_key() < b.public_key(); });
  return keys;
}

std::string KeyBytes(const crypto::KeyPair& key) { return crypto::HashBytes(key.public_key()); }

Status MemoryStore::Save(const SafetyRecord& r) {
  if (fail_next) {
    fail_next = false;
    return Error{"IO_ERROR", "disk full (test)"};
  }
  record = r;
  ++saves;
  return Status::Ok();
}

Effects Ok(Result<Effects> result) {
  EXPECT_TRUE(result.ok()) << result.error().code << ": " << result.error().message;
  return result.ok() ? std::move(result).value() : Effects{};
}

Height::Height(size_t n, uint64_t height, std::vector<uint64_t> powers)
    : height_(height), keys_(SortedKeys(n)), set_(MakeSet(keys_, powers)) {}

size_t Height::NonProposer(std::vector<uint32_t> rounds) const {
  for (size_t i = 0; i < set_.size(); ++i) {
    if (std::none_of(rounds.begin(), rounds.end(), [&](uint32_t r) { return Proposer(r) == i; })) {
      return i;
    }
  }
  std::abort();
}

bas::v1::Block Height::Block(std::string_view tag) const {
  bas::v1::Block b;
  auto* h = b.mutable_header();
  h->set_chain_id(std::string(kChain));
  h->set_height(height_);
  h->set_time(1767225600 + static_cast<int64_t>(height_));
  auto field = [&](int n) {
    return crypto::HashBytes(crypto::Sha256Of(std::string(tag) + "/" + std::to_string(height_) +
                                              "/" + std::to_string(n)));
  };
  h->set_prev_block_hash(field(1));
  h->set_tx_root(field(2));
  h->set_results_root(field(3));
  h->set_app_hash(field(4));
  h->set_validators_hash(field(5));
  h->set_next_validators_hash(field(6));
  h->set_proposer(field(7));
  h->set_last_commit_hash(field(8));
  h->set_evidence_hash(field(9));
  return b;
}

std::string Height::Hash(const bas::v1::Block& block) {
  return crypto::HashBytes(chain::BlockHash(block.header()));
}

bas::v1::ConsensusProposal Height::Proposal(uint32_t round, const bas::v1::Block& block,
                                            int32_t valid_round) const {
  return SignProposal(key(Proposer(round)), kChain, height_, round, valid_round, block);
}

bas::v1::ConsensusVote Height::Prevote(size_t i, uint32_t round, std::string_view hash) const {
  return chain::SignVote(key(i), kChain, bas::v1::PREVOTE, height_, round, hash);
}

bas::v1::ConsensusVote Height::Precommit(size_t i, uint32_t round, std::string_view hash) const {
  return chain::SignVote(key(i), kChain, bas::v1::PRECOMMIT, height_, round, hash);
}

Core Height::MakeCore(size_t self, MemoryStore& store,
                      std::optional<SafetyRecord> persisted) const {
  return Core(std::string(kChain), TestTimeouts(), key(self), &store, std::move(persisted));
}

}  // namespace bas::node::consensus::testing
