#include "node/chain/validation.h"

#include <set>

#include "node/chain/commit.h"
#include "node/chain/encoding.h"

namespace bas::node::chain {
namespace {

Status Invalid(std::string why) { return Error{"INVALID_BLOCK", std::move(why)}; }

crypto::Hash32 SetHash(const bas::v1::ValidatorSet& set) {
  return ValidatorSetHash({set.validators().begin(), set.validators().end()});
}

}  // namespace

Status ValidateHeader(const bas::v1::Block& block, const ChainTip& tip) {
  const bas::v1::BlockHeader& h = block.header();
  if (auto e = CheckHeaderShape(h); !e.empty()) return Invalid(e);
  if (h.chain_id() != tip.chain_id) return Invalid("header.chain_id: not this chain");
  if (h.height() != tip.height + 1) {
    return Invalid("header.height: " + std::to_string(h.height()) + ", expected " +
                   std::to_string(tip.height + 1));
  }
  if (h.prev_block_hash() != HashBytes(tip.block_hash)) {
    return Invalid("header.prev_block_hash: not the tip's hash");
  }
  if (h.time() < tip.time) return Invalid("header.time: before the previous block's");
  if (h.validators_hash() != HashBytes(SetHash(tip.validators))) {
    return Invalid("header.validators_hash: not this height's validator set");
  }
  if (h.next_validators_hash() != HashBytes(SetHash(tip.next_validators))) {
    return Invalid("header.next_validators_hash: not the next height's validator set");
  }
  bool proposer_in_set = false;
  for (const auto& v : tip.validators.validators()) proposer_in_set |= v.key() == h.proposer();
  if (!proposer_in_set) return Invalid("header.proposer: not a validator");
  if (auto e = CheckCommitShape(block.last_commit()); !e.empty()) return Invalid("last_" + e);
  if (h.last_commit_hash() != HashBytes(CommitHash(block.last_commit()))) {
    return Invalid("header.last_commit_hash: does not match last_commit");
  }
  if (auto e = [&]() -> std::string {
        for (const auto& ev : block.evidence()) {
          if (auto shape = CheckEvidenceShape(ev); !shape.empty()) return shape;
        }
        return "";
      }();
      !e.empty()) {
    return Invalid(e);
  }
  if (h.evidence_hash() != HashBytes(EvidenceRoot(block.evidence()))) {
    return Invalid("header.evidence_hash: does not match evidence");
  }
  std::set<std::string> evidence_seen;
  for (int i = 0; i < block.evidence_size(); ++i) {
    const bas::v1::Evidence& ev = block.evidence(i);
    const std::string where = "evidence[" + std::to_string(i) + "]";
    // A validator holds the sets of the height it decides and the one before: evidence from
    // older heights cannot be checked here and is refused.
    const uint64_t at = ev.vote_a().height();
    const bas::v1::ValidatorSet* set = at == h.height()   ? &tip.validators
                                       : at == tip.height ? &tip.tip_validators
                                                          : nullptr;
    if (set == nullptr || at == 0) return Invalid(where + ": not for this height or the last");
    if (Status s = VerifyEvidence(tip.chain_id, ev, *set); !s.ok()) {
      return Invalid(where + ": " + s.message());
    }
    if (!evidence_seen.insert(OffenceKey(ev)).second) return Invalid(where + ": twice");
  }
  if (h.height() == 1) {
    if (block.last_commit().ByteSizeLong() != 0)
      return Invalid("last_commit: must be empty at height 1");
  } else if (Status s = VerifyCommit(tip.chain_id, tip.height, HashBytes(tip.block_hash),
                                     block.last_commit(), tip.tip_validators);
             !s.ok()) {
    return Invalid("last_commit: " + s.message());
  }
  return Status::Ok();
}

Result<ExecutedBlock> ValidateBlock(const governance::KvReader& state, const bas::v1::Block& block,
                                    const ChainTip& tip, unsigned threads, const KnownTxs& known) {
  if (Status s = ValidateHeader(block, tip); !s.ok()) return s.error();
  auto txs = CheckBlockTxs(block.txs(), tip.chain_id, threads, known);
  if (!txs.ok()) return txs.error();
  const bas::v1::BlockHeader& h = block.header();
  auto exec =
      ExecuteBlock(state, BlockInput{tip.chain_id, h.height(), h.time(), tip.app_hash}, *txs);
  if (!exec.ok()) return exec.error();
  if (Status s = CheckExecution(h, *exec); !s.ok()) return s.error();
  return exec;
}

}  // namespace bas::node::chain
