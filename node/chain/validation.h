// Validation of a block received from elsewhere: by a validator (issue 6), by block sync, and
// by the auditor replaying the ledger (issue 7). Staged as Bitcoin Core does: header checks
// that need only the chain's tip, then the txs (CheckTx, in parallel), then re-execution
// through governance and comparison of every root. Pure: state in, verdict out.
#pragma once

#include <string>

#include "bas/v1/chain.pb.h"
#include "crypto/result.h"
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

// Checks the header and last commit against the tip: shape, chain id, height, previous hash,
// time not before the tip's, validator set hashes, the proposer in the set, the last commit's
// hash and its signatures (>2/3 of tip_validators, for height > 1; empty at height 1), the
// evidence hash and each evidence (VerifyEvidence against the set of its height, which must be
// the block's or the tip's; no evidence twice).
// Errors: "INVALID_BLOCK" naming the field.
Status ValidateHeader(const bas::v1::Block& block, const ChainTip& tip);

// ValidateHeader, CheckTx of every tx on `threads` threads, execution on `state` (the state at
// the tip), and the comparison of tx root, results root and app hash. Returns the execution
// to commit. Errors: "INVALID_BLOCK" naming the first thing that differs.
// known: txs already checked by this node (see CheckBlockTxs).
Result<ExecutedBlock> ValidateBlock(const governance::KvReader& state, const bas::v1::Block& block,
                                    const ChainTip& tip, unsigned threads,
                                    const KnownTxs& known = nullptr);

}  // namespace bas::node::chain
