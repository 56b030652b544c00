#include "node/chain/validation.h"

#include <set>

#include "node/chain/commit.h"
#include "node/chain/encoding.h"

namespace bas::node::chain {
namespace {

BlockStatus Invalid(BlockFault fault, std::string why) { return BlockError{fault, std::move(why)}; }

crypto::Hash32 SetHash(const bas::v1::ValidatorSet& set) {
  return ValidatorSetHash({set.validators().begin(), set.validators().end()});
}

}  // namespace

BlockStatus ValidateHeader(const bas::v1::Block& block, const ChainTip& tip) {
  const bas::v1::BlockHeader& h = block.header();
  if (auto e = CheckHeaderShape(h); !e.empty()) return Invalid(BlockFault::kHeader, e);
  if (h.chain_id() != tip.chain_id)
    return Invalid(BlockFault::kHeader, "header.chain_id: not this chain");
  if (h.height() != tip.height + 1) {
    return Invalid(BlockFault::kHeader, "header.height: " + std::to_string(h.height()) +
                                            ", expected " + std::to_string(tip.height + 1));
  }
  if (h.prev_block_hash() != HashBytes(tip.block_hash)) {
    return Invalid(BlockFault::kHeader, "header.prev_block_hash: not the tip's hash");
  }
  if (h.time() < tip.time)
    return Invalid(BlockFault::kHeader, "header.time: before the previous block's");
  if (h.validators_hash() != HashBytes(SetHash(tip.validators))) {
    return Invalid(BlockFault::kHeader, "header.validators_hash: not this height's validator set");
  }
  if (h.next_validators_hash() != HashBytes(SetHash(tip.next_validators))) {
    return Invalid(BlockFault::kHeader,
                   "header.next_validators_hash: not the next height's validator set");
  }
  bool proposer_in_set = false;
  for (const auto& v : tip.validators.validators()) proposer_in_set |= v.key() == h.proposer();
  if (!proposer_in_set) return Invalid(BlockFault::kHeader, "header.proposer: not a validator");
  if (auto e = CheckCommitShape(block.last_commit()); !e.empty())
    return Invalid(BlockFault::kLastCommit, "last_" + e);
  if (h.last_commit_hash() != HashBytes(CommitHash(block.last_commit()))) {
    return Invalid(BlockFault::kHeader, "header.last_commit_hash: does not match last_commit");
  }
  if (auto e = [&]() -> std::string {
        for (const auto& ev : block.evidence()) {
          if (auto shape = CheckEvidenceShape(ev); !shape.empty()) return shape;
        }
        return "";
      }();
      !e.empty()) {
    return Invalid(BlockFault::kEvidence, e);
  }
  if (h.evidence_hash() != HashBytes(EvidenceRoot(block.evidence()))) {
    return Invalid(BlockFault::kHeader, "header.evidence_hash: does not match evidence");
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
    if (set == nullptr || at == 0)
      return Invalid(BlockFault::kEvidence, where + ": not for this height or the last");
    if (Status s = VerifyEvidence(tip.chain_id, ev, *set); !s.ok()) {
      return Invalid(BlockFault::kEvidence, where + ": " + s.message());
    }
    if (!evidence_seen.insert(OffenceKey(ev)).second)
      return Invalid(BlockFault::kEvidence, where + ": twice");
  }
  if (h.height() == 1) {
    if (block.last_commit().ByteSizeLong() != 0)
      return Invalid(BlockFault::kLastCommit, "last_commit: must be empty at height 1");
  } else if (Status s = VerifyCommit(tip.chain_id, tip.height, HashBytes(tip.block_hash),
                                     block.last_commit(), tip.tip_validators);
             !s.ok()) {
    return Invalid(BlockFault::kLastCommit, "last_commit: " + s.message());
  }
  return BlockStatus::Ok();
}

BlockResult<ExecutedBlock> ValidateBlock(const governance::KvReader& state,
                                         const bas::v1::Block& block, const ChainTip& tip,
                                         unsigned threads, const KnownTxs& known) {
  if (BlockStatus s = ValidateHeader(block, tip); !s.ok()) return s.error();
  auto txs = CheckBlockTxs(block.txs(), tip.chain_id, threads, known);
  if (!txs.ok()) return txs.error();
  const bas::v1::BlockHeader& h = block.header();
  auto exec =
      ExecuteBlock(state, BlockInput{tip.chain_id, h.height(), h.time(), tip.app_hash}, *txs);
  if (!exec.ok()) return exec.error();
  if (BlockStatus s = CheckExecution(h, *exec); !s.ok()) return s.error();
  return exec;
}

}  // namespace bas::node::chain
