// The chain's tip, the block a proposer makes on it, and the tip once a block is committed:
// the one place that says what a header holds and which validator set decides which height
// (the set a block leaves takes over two heights later, DESIGN.md section 5). Used by the
// node, the auditor and the tools and tests that build chains. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bas/v1/chain.pb.h"
#include "bas/v1/genesis.pb.h"
#include "crypto/hash.h"
#include "node/chain/executor.h"

namespace bas::node::chain {

// What a block at `height` must agree with: the tip it extends and the validator sets.
struct ChainTip {
  std::string chain_id;
  uint64_t height = 0;          // the tip's height; the block must be height + 1
  crypto::Hash32 block_hash{};  // zero at genesis
  int64_t time = 0;             // genesis time at height 0
  crypto::Hash32 app_hash{};
  bas::v1::ValidatorSet tip_validators;   // decided the tip (checks the block's last commit)
  bas::v1::ValidatorSet validators;       // decide the new block
  bas::v1::ValidatorSet next_validators;  // decide the block after it
};

// The tip before height 1: the genesis chain id and time, app_hash (ExecuteGenesis's), and the
// genesis validators deciding heights 1 and 2.
ChainTip GenesisTip(const bas::v1::Genesis& genesis, const crypto::Hash32& app_hash);

// The tip once the block of `header` is committed on `tip`: its height, hash, time and app
// hash; each set moves down a height, and set_after (ValidatorsAfter the block) decides
// height + 2. Precondition: the block extends tip and its execution agrees with header
// (ValidateHeader and CheckExecution pass, or the block was made by AssembleBlock).
ChainTip NextTip(const ChainTip& tip, const bas::v1::BlockHeader& header,
                 bas::v1::ValidatorSet set_after);

// The block a proposer makes on tip: at height tip.height + 1 and `time` (not before
// tip.time), with exec's txs and roots (BuildBlock at that height, time and tip.app_hash), the
// hashes of tip's validators and next_validators, proposer (a 32-byte key of tip.validators),
// last_commit (the commit that certifies the tip; left out at height 1, which has none) and
// evidence (each of a valid shape, of this height or the last, one per offence).
bas::v1::Block AssembleBlock(const ChainTip& tip, int64_t time, const ExecutedBlock& exec,
                             std::string_view proposer, const bas::v1::Commit& last_commit,
                             const std::vector<bas::v1::Evidence>& evidence);

}  // namespace bas::node::chain
