#include "node/chain/commit.h"

#include <set>

#include "node/chain/encoding.h"

namespace bas::node::chain {
namespace {

crypto::Signature ToSig(std::string_view s) {
  crypto::Signature sig{};
  std::copy(s.begin(), s.end(), sig.begin());
  return sig;
}

}  // namespace

bas::v1::ConsensusVote SignVote(const crypto::KeyPair& key, std::string_view chain_id,
                                bas::v1::VoteType type, uint64_t height, uint32_t round,
                                std::string_view block_hash) {
  bas::v1::ConsensusVote v;
  v.set_type(type);
  v.set_height(height);
  v.set_round(round);
  v.set_block_hash(std::string(block_hash));
  v.set_validator(std::string(reinterpret_cast<const char*>(key.public_key().data()), 32));
  const crypto::Hash32 msg = VoteSignHash(chain_id, type, height, round, block_hash);
  const crypto::Signature sig = key.Sign(msg);
  v.set_signature(std::string(reinterpret_cast<const char*>(sig.data()), sig.size()));
  return v;
}

bool VerifyVote(std::string_view chain_id, const bas::v1::ConsensusVote& v) {
  if (v.validator().size() != 32 || v.signature().size() != 64) return false;
  if (!v.block_hash().empty() && v.block_hash().size() != 32) return false;
  const crypto::Hash32 msg =
      VoteSignHash(chain_id, v.type(), v.height(), v.round(), v.block_hash());
  return crypto::Verify(crypto::ToHash(v.validator()), msg, ToSig(v.signature()));
}

Status VerifyCommit(std::string_view chain_id, uint64_t height, std::string_view block_hash,
                    const bas::v1::Commit& commit, const bas::v1::ValidatorSet& validators) {
  auto fail = [](std::string why) { return Status(Error{"INVALID_COMMIT", std::move(why)}); };
  if (commit.height() != height)
    return fail("commit is for height " + std::to_string(commit.height()));
  if (commit.block_hash() != block_hash) return fail("commit is for another block");
  unsigned __int128 total = 0, signed_power = 0;
  for (const auto& v : validators.validators()) total += v.power();
  std::set<std::string> seen;
  const crypto::Hash32 msg =
      VoteSignHash(chain_id, bas::v1::PRECOMMIT, height, commit.round(), block_hash);
  for (int i = 0; i < commit.signatures_size(); ++i) {
    const auto& s = commit.signatures(i);
    const std::string where = "signatures[" + std::to_string(i) + "]";
    const bas::v1::Validator* member = nullptr;
    for (const auto& v : validators.validators()) {
      if (v.key() == s.validator()) member = &v;
    }
    if (member == nullptr)
      return fail(where + ": not a validator of height " + std::to_string(height));
    if (!seen.insert(s.validator()).second) return fail(where + ": a validator twice");
    if (s.signature().size() != 64 ||
        !crypto::Verify(crypto::ToHash(s.validator()), msg, ToSig(s.signature()))) {
      return fail(where + ": signature does not verify");
    }
    signed_power += member->power();
  }
  if (signed_power * 3 <= total * 2) return fail("signers hold 2/3 of the power or less");
  return Status::Ok();
}

Status VerifyEvidence(std::string_view chain_id, const bas::v1::Evidence& evidence,
                      const bas::v1::ValidatorSet& validators) {
  auto fail = [](std::string why) { return Status(Error{"INVALID_EVIDENCE", std::move(why)}); };
  if (auto e = CheckEvidenceShape(evidence); !e.empty()) return fail(e);
  const auto& a = evidence.vote_a();
  const auto& b = evidence.vote_b();
  if (a.validator() != b.validator()) return fail("the votes are by different validators");
  if (a.type() != b.type() || a.height() != b.height() || a.round() != b.round()) {
    return fail("the votes are not for one height, round and type");
  }
  if (a.type() != bas::v1::PREVOTE && a.type() != bas::v1::PRECOMMIT) {
    return fail("not a prevote or precommit");
  }
  if (a.block_hash() == b.block_hash()) return fail("the votes do not conflict");
  bool member = false;
  for (const auto& v : validators.validators()) member |= v.key() == a.validator();
  if (!member) return fail("not a validator of height " + std::to_string(a.height()));
  if (!VerifyVote(chain_id, a)) return fail("vote_a: signature does not verify");
  if (!VerifyVote(chain_id, b)) return fail("vote_b: signature does not verify");
  return Status::Ok();
}

std::string OffenceKey(const bas::v1::Evidence& evidence) {
  const auto& a = evidence.vote_a();
  return a.validator() + "/" + std::to_string(a.height()) + "/" + std::to_string(a.round()) + "/" +
         std::to_string(a.type());
}

bas::v1::Commit MakeCommit(uint64_t height, uint32_t round, std::string_view block_hash,
                           const std::vector<bas::v1::ConsensusVote>& precommits) {
  bas::v1::Commit c;
  c.set_height(height);
  c.set_round(round);
  c.set_block_hash(std::string(block_hash));
  for (const auto& v : precommits) {
    auto* s = c.add_signatures();
    s->set_validator(v.validator());
    s->set_signature(v.signature());
  }
  return c;
}

}  // namespace bas::node::chain
