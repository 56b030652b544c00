#include "node/consensus/messages.h"

#include "node/chain/encoding.h"

namespace bas::node::consensus {

crypto::Hash32 ProposalSignHash(std::string_view chain_id, uint64_t height, uint32_t round,
                                int64_t valid_round, std::string_view block_hash) {
  chain::CanonicalWriter w;
  w.Str(chain_id).U64(height).U32(round).I64(valid_round).H32(block_hash);
  return crypto::TaggedHash("bas/proposal", w.bytes());
}

bas::v1::ConsensusProposal SignProposal(const crypto::KeyPair& key, std::string_view chain_id,
                                        uint64_t height, uint32_t round, int32_t valid_round,
                                        const bas::v1::Block& block) {
  bas::v1::ConsensusProposal p;
  p.set_height(height);
  p.set_round(round);
  p.set_valid_round(valid_round);
  *p.mutable_block() = block;
  p.set_proposer(crypto::HashBytes(key.public_key()));
  const std::string block_hash = crypto::HashBytes(chain::BlockHash(block.header()));
  const crypto::Signature sig =
      key.Sign(ProposalSignHash(chain_id, height, round, valid_round, block_hash));
  p.set_signature(std::string(reinterpret_cast<const char*>(sig.data()), sig.size()));
  return p;
}

std::string CheckBlockShape(const bas::v1::Block& block, std::string_view chain_id,
                            uint64_t height) {
  if (!block.has_header()) return "block: no header";
  std::string why = chain::CheckHeaderShape(block.header());
  if (!why.empty()) return why;
  if (block.header().chain_id() != chain_id) return "block.header.chain_id: another chain";
  if (block.header().height() != height) {
    return "block.header.height: " + std::to_string(block.header().height()) + ", expected " +
           std::to_string(height);
  }
  return "";
}

std::string CheckProposalShape(const bas::v1::ConsensusProposal& p, std::string_view chain_id) {
  if (p.proposer().size() != 32) return "proposal.proposer: must be 32 bytes";
  if (p.signature().size() != 64) return "proposal.signature: must be 64 bytes";
  if (p.valid_round() < -1 || static_cast<int64_t>(p.valid_round()) >= int64_t{p.round()}) {
    return "proposal.valid_round: must be -1 or below the round";
  }
  return CheckBlockShape(p.block(), chain_id, p.height());
}

bool VerifyProposal(std::string_view chain_id, const bas::v1::ConsensusProposal& p) {
  if (!CheckProposalShape(p, chain_id).empty()) return false;
  crypto::Signature sig{};
  std::copy(p.signature().begin(), p.signature().end(), sig.begin());
  return crypto::Verify(
      crypto::ToHash(p.proposer()),
      ProposalSignHash(chain_id, p.height(), p.round(), p.valid_round(), ProposalBlockHash(p)),
      sig);
}

Position PositionOf(const SignedMessage& message) {
  if (const auto* p = std::get_if<bas::v1::ConsensusProposal>(&message)) {
    return {p->height(), p->round(), Step::kPropose};
  }
  const auto& v = std::get<bas::v1::ConsensusVote>(message);
  return {v.height(), v.round(), v.type() == bas::v1::PREVOTE ? Step::kPrevote : Step::kPrecommit};
}

std::string ProposalBlockHash(const bas::v1::ConsensusProposal& proposal) {
  return crypto::HashBytes(chain::BlockHash(proposal.block().header()));
}

}  // namespace bas::node::consensus
