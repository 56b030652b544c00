#include "node/chain/block.h"

#include "node/chain/encoding.h"

namespace bas::node::chain {
namespace {

std::string SetHashBytes(const bas::v1::ValidatorSet& set) {
  return HashBytes(ValidatorSetHash({set.validators().begin(), set.validators().end()}));
}

}  // namespace

ChainTip GenesisTip(const bas::v1::Genesis& genesis, const crypto::Hash32& app_hash) {
  ChainTip tip;
  tip.chain_id = genesis.chain_id();
  tip.time = genesis.genesis_time();
  tip.app_hash = app_hash;
  *tip.validators.mutable_validators() = genesis.validators();
  tip.next_validators = tip.validators;
  return tip;
}

ChainTip NextTip(const ChainTip& tip, const bas::v1::BlockHeader& header,
                 bas::v1::ValidatorSet set_after) {
  ChainTip next;
  next.chain_id = tip.chain_id;
  next.height = header.height();
  next.block_hash = BlockHash(header);
  next.time = header.time();
  next.app_hash = ToHash(header.app_hash());
  next.tip_validators = tip.validators;
  next.validators = tip.next_validators;
  next.next_validators = std::move(set_after);
  return next;
}

bas::v1::Block AssembleBlock(const ChainTip& tip, int64_t time, const ExecutedBlock& exec,
                             std::string_view proposer, const bas::v1::Commit& last_commit,
                             const std::vector<bas::v1::Evidence>& evidence) {
  const uint64_t height = tip.height + 1;
  bas::v1::Block block;
  bas::v1::BlockHeader& h = *block.mutable_header();
  h.set_chain_id(tip.chain_id);
  h.set_height(height);
  h.set_time(time);
  h.set_prev_block_hash(HashBytes(tip.block_hash));
  h.set_tx_root(HashBytes(exec.tx_root));
  h.set_results_root(HashBytes(exec.results_root));
  h.set_app_hash(HashBytes(exec.app_hash));
  h.set_validators_hash(SetHashBytes(tip.validators));
  h.set_next_validators_hash(SetHashBytes(tip.next_validators));
  h.set_proposer(std::string(proposer));
  // Setting an empty commit would still encode the field: height 1's block leaves it unset.
  if (height > 1) *block.mutable_last_commit() = last_commit;
  h.set_last_commit_hash(HashBytes(CommitHash(block.last_commit())));
  for (const auto& e : evidence) *block.add_evidence() = e;
  h.set_evidence_hash(HashBytes(EvidenceRoot(block.evidence())));
  *block.mutable_txs() = exec.txs;
  return block;
}

}  // namespace bas::node::chain
