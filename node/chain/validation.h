// Validation of a block received from elsewhere: by a validator (issue 6), by block sync, and
// by the auditor replaying the ledger (issue 7). Staged as Bitcoin Core does: header checks
// that need only the chain's tip, then the txs (CheckTx, in parallel), then re-execution
// through governance and comparison of every root. Pure: state in, verdict out.
#pragma once

#include <string>

#include "bas/v1/chain.pb.h"
#include "crypto/result.h"
#include "node/chain/block.h"
#include "node/chain/executor.h"

namespace bas::node::chain {

// Checks the header and last commit against the tip: shape, chain id, height, previous hash,
// time not before the tip's, validator set hashes, the proposer in the set, the last commit's
// hash and its signatures (>2/3 of tip_validators, for height > 1; empty at height 1), the
// evidence hash and each evidence (VerifyEvidence against the set of its height, which must be
// the block's or the tip's; no evidence twice).
// Errors: kHeader, kLastCommit or kEvidence, the message naming the field.
BlockStatus ValidateHeader(const bas::v1::Block& block, const ChainTip& tip);

// ValidateHeader, CheckTx of every tx on `threads` threads, execution on `state` (the state at
// the tip), and the comparison of tx root, results root and app hash. Returns the execution
// to commit. Errors: the BlockError of the first thing that differs (BlockError::ToError
// gives the node's "INVALID_BLOCK"). known: txs already checked by this node (see
// CheckBlockTxs).
BlockResult<ExecutedBlock> ValidateBlock(const governance::KvReader& state,
                                         const bas::v1::Block& block, const ChainTip& tip,
                                         unsigned threads, const KnownTxs& known = nullptr);

}  // namespace bas::node::chain
