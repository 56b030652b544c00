#include "tests/unit/node/test_chain.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include "governance/engine.h"
#include "governance/query.h"
#include "node/chain/block.h"
#include "node/chain/commit.h"
#include "node/chain/encoding.h"

namespace bas::node::testing {
namespace {

using chain::HashBytes;

const crypto::KeyPair* ValidatorKeyFor(std::string_view key) {
  static const std::vector<crypto::KeyPair> keys = [] {
    std::vector<crypto::KeyPair> out;
    for (int i = 0; i < kMaxValidators; ++i) out.push_back(DeterministicKey("validator", i));
    return out;
  }();
  for (const auto& k : keys) {
    if (KeyBytes(k) == key) return &k;
  }
  return nullptr;
}

bas::v1::TxBody Body(std::string_view chain_id, uint64_t nonce) {
  bas::v1::TxBody body;
  body.set_chain_id(std::string(chain_id));
  body.set_nonce(nonce);
  return body;
}

}  // namespace

crypto::KeyPair DeterministicKey(std::string_view family, int index) {
  const crypto::Hash32 secret =
      crypto::Sha256Of("bas-test/" + std::string(family) + "/" + std::to_string(index));
  auto key = crypto::KeyPair::FromSecret(secret);
  if (!key.ok()) std::abort();  // a SHA-256 output out of range: not in this lifetime
  return *key;
}

std::string KeyBytes(const crypto::KeyPair& key) {
  return std::string(reinterpret_cast<const char*>(key.public_key().data()), 32);
}

bas::v1::Genesis MakeGenesis(const GenesisSpec& spec, const std::vector<crypto::KeyPair>& members) {
  static constexpr bas::v1::StakeholderGroup kGroups[] = {
      bas::v1::GOVERNMENT, bas::v1::CIVIL_SOCIETY, bas::v1::TECHNICAL_COMMUNITY};
  bas::v1::Genesis g;
  g.set_chain_id(spec.chain_id);
  g.set_genesis_time(kGenesisTime);
  for (int i = 0; i < spec.validators; ++i) {
    auto* v = g.add_validators();
    v->set_key(KeyBytes(DeterministicKey("validator", i)));
    v->set_power(spec.validator_power);
    v->set_name("validator-" + std::to_string(i));
  }
  auto* c = g.add_coalitions();
  c->set_id(std::string(kCoalition));
  c->set_name("Test coalition");
  for (size_t i = 0; i < members.size(); ++i) {
    auto* m = c->add_members();
    m->set_id("member-" + std::to_string(i));
    m->set_key(KeyBytes(members[i]));
    m->set_name("Member " + std::to_string(i));
    m->set_group(kGroups[i % 3]);
    m->add_roles(bas::v1::MEMBER);
  }
  auto* rule = c->add_rules();
  rule->set_action_type("default");
  rule->mutable_rule()->set_voting_period_s(spec.voting_period_s);
  return g;
}

std::string ProposeTx(std::string_view chain_id, const crypto::KeyPair& signer, uint64_t nonce,
                      std::string_view title) {
  bas::v1::TxBody body = Body(chain_id, nonce);
  auto* p = body.mutable_propose();
  p->set_coalition(std::string(kCoalition));
  p->set_title(std::string(title));
  p->add_actions()->mutable_resolution()->set_text("The coalition resolves: " + std::string(title));
  return governance::SignTx(signer, body).bytes;
}

std::string ValidatorUpdateTx(std::string_view chain_id, const crypto::KeyPair& signer,
                              uint64_t nonce, const crypto::KeyPair& validator, uint64_t power) {
  bas::v1::TxBody body = Body(chain_id, nonce);
  auto* p = body.mutable_propose();
  p->set_coalition(std::string(kCoalition));
  p->set_title("Change a validator");
  auto* u = p->add_actions()->mutable_update_validators()->add_updates();
  u->set_key(KeyBytes(validator));
  u->set_power(power);
  u->set_name("updated");
  return governance::SignTx(signer, body).bytes;
}

std::string VoteTx(std::string_view chain_id, const crypto::KeyPair& signer, uint64_t nonce,
                   const crypto::Hash32& proposal_id, bas::v1::VoteChoice choice) {
  bas::v1::TxBody body = Body(chain_id, nonce);
  auto* v = body.mutable_vote();
  v->set_proposal_id(HashBytes(proposal_id));
  v->set_choice(choice);
  v->set_reason("test vote");
  return governance::SignTx(signer, body).bytes;
}

crypto::Hash32 TxIdOf(std::string_view signed_tx) {
  bas::v1::SignedTx tx;
  if (!tx.ParseFromArray(signed_tx.data(), static_cast<int>(signed_tx.size())) ||
      tx.signer().size() != 32) {
    return crypto::Hash32{};
  }
  crypto::PublicKey signer;
  std::copy(tx.signer().begin(), tx.signer().end(), signer.begin());
  return governance::TxId(signer, tx.body());
}

crypto::Hash32 SetHash(const bas::v1::ValidatorSet& set) {
  return chain::ValidatorSetHash({set.validators().begin(), set.validators().end()});
}

ProducedBlock ProduceOn(const governance::KvReader& state, const TipInfo& tip,
                        const std::vector<std::string>& txs, int64_t time) {
  const uint64_t height = tip.height + 1;
  std::vector<governance::CheckedTx> checked;
  checked.reserve(txs.size());
  for (const std::string& raw : txs) {
    governance::CheckTxResult r = governance::CheckTx(raw, tip.chain_id);
    if (!r.outcome.ok()) {
      ADD_FAILURE() << "test tx fails CheckTx: " << r.outcome.message;
      continue;
    }
    checked.push_back(std::move(r.tx));
  }
  std::vector<const governance::CheckedTx*> candidates;
  for (const auto& tx : checked) candidates.push_back(&tx);

  ProducedBlock out;
  out.exec = chain::BuildBlock(state, chain::BlockInput{tip.chain_id, height, time, tip.app_hash},
                               candidates, &out.dropped);
  const int set_size = tip.validators.validators_size();
  if (set_size == 0) {
    ADD_FAILURE() << "no validators for height " << height;
    return out;
  }
  out.block = chain::AssembleBlock(
      tip, time, out.exec, tip.validators.validators(static_cast<int>(height % set_size)).key(),
      tip.last_commit, {});
  out.block_hash = chain::BlockHash(out.block.header());

  std::vector<bas::v1::ConsensusVote> precommits;
  for (const auto& v : tip.validators.validators()) {
    const crypto::KeyPair* key = ValidatorKeyFor(v.key());
    if (key == nullptr) {
      ADD_FAILURE() << "a validator without a test key";
      continue;
    }
    precommits.push_back(chain::SignVote(*key, tip.chain_id, bas::v1::PRECOMMIT, height, 0,
                                         HashBytes(out.block_hash)));
  }
  out.commit = chain::MakeCommit(height, 0, HashBytes(out.block_hash), precommits);
  out.tip_after =
      chain::NextTip(tip, out.block.header(), chain::ValidatorsAfter(state, out.exec.writes));
  return out;
}

TestChain::TestChain(GenesisSpec spec) : spec_(std::move(spec)) {
  for (int i = 0; i < spec_.members; ++i) members_.push_back(DeterministicKey("member", i));
  genesis_ = MakeGenesis(spec_, members_);
  auto g = chain::ExecuteGenesis(genesis_);
  if (!g.ok()) {
    ADD_FAILURE() << "test genesis: " << g.error().code << " " << g.error().message;
    return;
  }
  genesis_state_ = *g;
  state_.Apply(g->writes);
  tip_ = chain::GenesisTip(genesis_, g->app_hash);
  sets_[1] = tip_.validators;
  sets_[2] = tip_.next_validators;
}

uint64_t TestChain::NextNonce(size_t member) const {
  return governance::GetAccount(state_, members_.at(member).public_key()).next_nonce();
}

std::string TestChain::Propose(size_t member, std::optional<uint64_t> nonce,
                               std::string_view title) const {
  return ProposeTx(chain_id(), members_.at(member), nonce.value_or(NextNonce(member)), title);
}

std::string TestChain::Vote(size_t member, const crypto::Hash32& proposal,
                            std::optional<uint64_t> nonce, bas::v1::VoteChoice choice) const {
  return VoteTx(chain_id(), members_.at(member), nonce.value_or(NextNonce(member)), proposal,
                choice);
}

TipInfo TestChain::Info() const {
  return TipInfo{tip_, tip_.height > 0 ? blocks_.back().commit : bas::v1::Commit()};
}

ProducedBlock TestChain::Build(const std::vector<std::string>& txs,
                               std::optional<int64_t> time) const {
  return ProduceOn(state_, Info(), txs, time.value_or(tip_.time + 60));
}

void TestChain::Append(const ProducedBlock& block) {
  const bas::v1::BlockHeader& h = block.block.header();
  if (h.height() != tip_.height + 1) {
    ADD_FAILURE() << "appending height " << h.height() << " on " << tip_.height;
    return;
  }
  state_.Apply(block.exec.writes);
  if (h.prev_block_hash() != HashBytes(tip_.block_hash)) {
    ADD_FAILURE() << "appending a block built on another tip";
    return;
  }
  // From the header as it is now: a test may have edited the block after ProduceOn.
  tip_ = chain::NextTip(tip_, h, block.tip_after.next_validators);
  sets_[tip_.height + 2] = tip_.next_validators;
  blocks_.push_back(block);
}

ProducedBlock TestChain::Produce(const std::vector<std::string>& txs, std::optional<int64_t> time) {
  ProducedBlock b = Build(txs, time);
  Append(b);
  return b;
}

}  // namespace bas::node::testing
