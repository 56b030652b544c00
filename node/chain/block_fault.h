// Why a block is invalid, as a typed value (after Bitcoin Core's BlockValidationResult): the
// part of the block at fault and a message for people. Callers that act on the reason (the
// auditor's report) read the fault and never parse the message. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "crypto/result.h"

namespace bas::node::chain {

// The part of a block that a check found wrong. Stable: the auditor's report names them.
enum class BlockFault {
  kHeader,       // a header field: shape, chain, height, link, time, validator sets, proposer,
                 // or a hash in it that does not match the body (last commit, evidence)
  kLastCommit,   // the last commit's shape or signatures
  kEvidence,     // an evidence's shape, height, proof, or an offence recorded twice
  kTx,           // a tx fails CheckTx or the rules refuse it
  kTxRoot,       // the header's tx root is not the txs'
  kResultsRoot,  // the header's results root is not the execution's
  kAppHash,      // the header's app hash is not the execution's
};

// The fault's name, the field name its messages start with: "header", "last_commit",
// "evidence", "tx", "tx_root", "results_root", "app_hash".
constexpr std::string_view BlockFaultName(BlockFault fault) {
  switch (fault) {
    case BlockFault::kHeader:
      return "header";
    case BlockFault::kLastCommit:
      return "last_commit";
    case BlockFault::kEvidence:
      return "evidence";
    case BlockFault::kTx:
      return "tx";
    case BlockFault::kTxRoot:
      return "tx_root";
    case BlockFault::kResultsRoot:
      return "results_root";
    case BlockFault::kAppHash:
      return "app_hash";
  }
  return "block";
}

struct BlockError {
  BlockFault fault = BlockFault::kHeader;
  std::string message;  // names the field first ("header.time: ..."); for people

  // As the node and its API report a block they refuse: code "INVALID_BLOCK", the message.
  Error ToError() const { return Error{"INVALID_BLOCK", message}; }
};

// The outcome of a block check: success, or the BlockError of the first thing found wrong.
using BlockStatus = BasicStatus<BlockError>;
template <typename T>
using BlockResult = Result<T, BlockError>;

}  // namespace bas::node::chain
