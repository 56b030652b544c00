// Signing and checking consensus proposals (DESIGN.md section 5; docs/encoding.md, "Consensus
// proposals"). Votes are signed and checked by node/chain/commit.h (SignVote, VerifyVote); a
// proposal is signed here, over sign bytes that name the chain, the height, the round, the
// proposer's valid round and the block:
//
//   tagged_hash("bas/proposal", str(chain_id) || u64(height) || u32(round) ||
//               i64(valid_round) || h32(block_hash))
//
// where block_hash = node::chain::BlockHash(block.header) and valid_round is -1 for none. The
// block's transactions are bound through the header's tx_root, which the block's validity check
// (not this file) compares with the transactions. Pure functions; thread-safe.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "bas/v1/chain.pb.h"
#include "crypto/hash.h"
#include "crypto/schnorr.h"

namespace bas::node::consensus {

// A message this validator signs: the two kinds the algorithm broadcasts.
using SignedMessage = std::variant<bas::v1::ConsensusProposal, bas::v1::ConsensusVote>;

// The steps of a round, in the order a validator passes them (the paper's step_p).
enum class Step : uint8_t { kPropose = 0, kPrevote = 1, kPrecommit = 2 };

// Where a signed message sits in the order (height, round, step) a validator signs in: a
// proposal at its round's propose step, a prevote at prevote, a precommit at precommit.
struct Position {
  uint64_t height = 0;
  uint32_t round = 0;
  Step step = Step::kPropose;
  auto operator<=>(const Position&) const = default;
};
// Precondition: a vote's type is PREVOTE or PRECOMMIT.
Position PositionOf(const SignedMessage& message);

// The hash a proposal's signature covers (see the file comment). Precondition: block_hash is
// 32 bytes.
crypto::Hash32 ProposalSignHash(std::string_view chain_id, uint64_t height, uint32_t round,
                                int64_t valid_round, std::string_view block_hash);

// A proposal of block at height/round with valid_round (-1 for none), signed with key; the
// proposer field is key's public key. Precondition: CheckBlockShape(block, height) is "".
bas::v1::ConsensusProposal SignProposal(const crypto::KeyPair& key, std::string_view chain_id,
                                        uint64_t height, uint32_t round, int32_t valid_round,
                                        const bas::v1::Block& block);

// "" when the block can be hashed and belongs to chain_id at height (header fields of fixed
// width have it, header.chain_id and header.height match), else why. Says nothing about the
// block's validity (transactions, app hash): that is the caller's valid(v).
std::string CheckBlockShape(const bas::v1::Block& block, std::string_view chain_id,
                            uint64_t height);

// "" when the proposal is well formed for chain_id: the block passes CheckBlockShape at the
// proposal's height, -1 <= valid_round < round, the proposer is 32 bytes and the signature 64;
// else why. Does not check the signature.
std::string CheckProposalShape(const bas::v1::ConsensusProposal& proposal,
                               std::string_view chain_id);

// True iff the proposal is well formed (CheckProposalShape) and its signature is the
// proposer's over ProposalSignHash of its fields and BlockHash(block.header). Whether the
// proposer is the right one for the height and round is the caller's question.
bool VerifyProposal(std::string_view chain_id, const bas::v1::ConsensusProposal& proposal);

// The block hash a proposal proposes. Precondition: CheckProposalShape(proposal) is "".
std::string ProposalBlockHash(const bas::v1::ConsensusProposal& proposal);

}  // namespace bas::node::consensus
