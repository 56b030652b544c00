// Signing and checking consensus votes and commit certificates (DESIGN.md section 5).
// A commit certifies a block when validators holding more than 2/3 of the voting power of the
// block's validator set signed a PRECOMMIT for its hash; anyone with the set can check it.
// Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "bas/v1/chain.pb.h"
#include "crypto/result.h"
#include "crypto/schnorr.h"

namespace bas::node::chain {

// A vote of type/height/round for block_hash ("" = nil) signed with key.
bas::v1::ConsensusVote SignVote(const crypto::KeyPair& key, std::string_view chain_id,
                                bas::v1::VoteType type, uint64_t height, uint32_t round,
                                std::string_view block_hash);
// True iff vote.signature is vote.validator's signature over the vote's sign bytes.
bool VerifyVote(std::string_view chain_id, const bas::v1::ConsensusVote& vote);

// Checks that commit certifies block_hash at height: each signature is by a distinct member of
// the set over PRECOMMIT(height, commit.round, block_hash), and the signers' power is more than
// 2/3 of the set's. Errors ("INVALID_COMMIT") name what is wrong.
Status VerifyCommit(std::string_view chain_id, uint64_t height, std::string_view block_hash,
                    const bas::v1::Commit& commit, const bas::v1::ValidatorSet& validators);

// Checks that evidence proves an equivocation: two votes of one validator of `validators` for
// the same height, round and type, for different blocks (nil counts as a value), both signed.
// Errors ("INVALID_EVIDENCE") name what is wrong.
Status VerifyEvidence(std::string_view chain_id, const bas::v1::Evidence& evidence,
                      const bas::v1::ValidatorSet& validators);

// The offence evidence proves: (validator, height, round, type). A block records each offence
// once, however the two votes were signed.
std::string OffenceKey(const bas::v1::Evidence& evidence);

// The commit of one validator's precommit (a single-validator chain's certificate).
bas::v1::Commit MakeCommit(uint64_t height, uint32_t round, std::string_view block_hash,
                           const std::vector<bas::v1::ConsensusVote>& precommits);

}  // namespace bas::node::chain
