// The auditor behind `bas audit` and `bas report` (docs/audit.md): replays a ledger from its
// genesis and checks everything an operator could have forged, with the node's own validation
// and governance code (node/chain, governance/), never a second copy of the rules:
//
//   genesis    the ledger's genesis is the one the auditor trusts (--genesis), and executes
//   per height h, in order:
//     header       ValidateHeader against the chain so far: chain id, height, link, time,
//                  validator set hashes (following validator updates: a set takes over two
//                  heights after the block whose writes change it), proposer, last commit
//                  (>2/3 of the power of the set of h - 1), evidence
//     commit       the commit stored with the block certifies it (VerifyCommit, >2/3 of the
//                  power of the set of h): the only certificate of the last block
//     tx           CheckBlockTxs: decoding and every signature, on all cores
//     execution    ExecuteBlock over the replayed state: every tx must be accepted
//     roots        CheckExecution: tx root, results root, app hash
//     results      the results the ledger carries (when it does) equal the re-executed ones
//
// The first check that fails stops the audit and is reported as a Discrepancy naming the
// height, the structure and the reason. The signatures of the next blocks are checked on the
// other cores while a block executes; blocks are streamed, a few at a time, and the replayed
// state lives in ReplayState, so memory does not grow with the number of blocks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bas/v1/chain.pb.h"
#include "bas/v1/genesis.pb.h"
#include "cli/audit/ledger_source.h"
#include "crypto/hash.h"
#include "crypto/result.h"
#include "node/storage/replay_state.h"

namespace bas::audit {

// The first thing in a ledger that does not verify.
struct Discrepancy {
  uint64_t height = 0;  // 0: the genesis, or the ledger's framing before block 1
  // What failed: "genesis", "ledger" (the source's framing: checksum, a missing record),
  // "header", "last_commit", "evidence", "commit", "tx", "tx_root", "results_root",
  // "app_hash", "results".
  std::string structure;
  std::string reason;  // the check's own message
};
// "height 17: commit: INVALID_COMMIT: signatures[0]: signature does not verify"
std::string DescribeDiscrepancy(const Discrepancy& d);

struct AuditProgress {
  uint64_t height = 0;       // the last height verified
  uint64_t last_height = 0;  // the height the audit runs to
  uint64_t txs = 0;          // txs verified so far
  double seconds = 0;        // since the audit started
};

struct AuditOptions {
  unsigned threads = 0;               // signature-checking threads; 0: every core
  std::optional<uint64_t> to_height;  // stop after this height (default: the ledger's last)
  std::filesystem::path scratch_dir;  // where the replayed state may spill (ReplayState)
  // Called on the auditing thread after each height; must be quick.
  std::function<void(const AuditProgress&)> progress;
};

// A Block.evidence entry: two conflicting votes of one validator, and the block that carries it.
struct EquivocationEvidence {
  uint64_t included_at = 0;
  bas::v1::Evidence evidence;
};

struct AuditResult {
  std::optional<Discrepancy> discrepancy;  // nullopt: the ledger verified
  bool clean() const { return !discrepancy.has_value(); }

  std::string chain_id;
  std::string source;           // LedgerSource::Describe()
  uint64_t height = 0;          // the last height that verified (0: only the genesis)
  crypto::Hash32 block_hash{};  // of that height (zero at 0)
  crypto::Hash32 app_hash{};    // after that height
  int64_t time = 0;             // its block time (the genesis time at 0)
  uint64_t blocks = 0;
  uint64_t txs = 0;
  double seconds = 0;
  std::vector<EquivocationEvidence> evidence;
  bas::v1::ValidatorSet validators;                   // the set that decides height + 1
  std::unique_ptr<node::storage::ReplayState> state;  // the state after `height`, for the reports
};

// Audits source against the trusted genesis. A ledger that does not verify is a result with a
// discrepancy, not an error. Errors: failures to read (the source's codes),
// kHeightOutOfRange (to_height above the ledger's last height), "INTERNAL".
Result<AuditResult> AuditLedger(LedgerSource& source, const bas::v1::Genesis& trusted_genesis,
                                const AuditOptions& options);

}  // namespace bas::audit
