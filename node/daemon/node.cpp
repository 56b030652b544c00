#include "node/daemon/node.h"

#include <map>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "governance/query.h"
#include "node/chain/commit.h"
#include "node/chain/encoding.h"

namespace bas::node::daemon {
namespace {

constexpr size_t kMaxRefusedRemembered = 10000;
constexpr int64_t kDefaultIdleIntervalS = 60;
constexpr size_t kDefaultMaxBlockTxs = 5000;
constexpr size_t kDefaultMaxBlockBytes = 16 * 1024 * 1024;

}  // namespace

int64_t SystemClock::NowMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Node::Node(const NodeConfig& config, const bas::v1::Genesis& genesis, const crypto::KeyPair& key,
           std::shared_ptr<const Clock> clock, std::unique_ptr<storage::ChainStore> store)
    : config_(config),
      genesis_(genesis),
      chain_id_(genesis.chain_id()),
      key_(key),
      clock_(std::move(clock)),
      store_(std::move(store)),
      state_(*store_),
      mempool_(genesis.chain_id(), mempool::Limits{config.mempool.max_txs, config.mempool.max_bytes,
                                                   config.mempool.max_per_signer, 64}),
      registry_(std::make_shared<prometheus::Registry>()) {
  height_gauge_ = &prometheus::BuildGauge()
                       .Name("bas_height")
                       .Help("Committed height")
                       .Register(*registry_)
                       .Add({});
  mempool_gauge_ = &prometheus::BuildGauge()
                        .Name("bas_mempool_txs")
                        .Help("Txs in the mempool")
                        .Register(*registry_)
                        .Add({});
  txs_counter_ = &prometheus::BuildCounter()
                      .Name("bas_committed_txs_total")
                      .Help("Txs committed")
                      .Register(*registry_)
                      .Add({});
  blocks_counter_ = &prometheus::BuildCounter()
                         .Name("bas_blocks_total")
                         .Help("Blocks committed")
                         .Register(*registry_)
                         .Add({});
  block_seconds_ = &prometheus::BuildHistogram()
                        .Name("bas_block_seconds")
                        .Help("Time to build, decide and commit a block")
                        .Register(*registry_)
                        .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.05,
                                                                         0.1, 0.5, 1, 5});
  height_gauge_->Set(static_cast<double>(store_->head().height));
}

Node::~Node() { Stop(); }

Result<std::unique_ptr<Node>> Node::Open(const NodeConfig& config, const bas::v1::Genesis& genesis,
                                         const crypto::KeyPair& node_key,
                                         std::shared_ptr<const Clock> clock) {
  auto store = storage::ChainStore::Open(config.Resolve(config.data_dir));
  if (!store.ok()) return store.error();
  if (!(*store)->initialized()) {
    auto g = chain::ExecuteGenesis(genesis);
    if (!g.ok()) return g.error();
    if (Status s = (*store)->InitGenesis(genesis, g->writes, g->app_hash); !s.ok())
      return s.error();
  } else {
    auto stored = (*store)->LoadGenesis();
    if (!stored.ok()) return stored.error();
    if (stored->SerializeAsString() != genesis.SerializeAsString()) {
      return Error{"GENESIS_MISMATCH", "the data directory holds another chain's genesis"};
    }
  }
  return std::unique_ptr<Node>(
      new Node(config, genesis, node_key, std::move(clock), std::move(*store)));
}

void Node::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Node::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

mempool::AddResult Node::SubmitTx(std::string_view bytes) {
  mempool::AddResult r = mempool_.Add(bytes, state_);
  if (r.code == mempool::AddCode::kAccepted) {
    mempool_gauge_->Set(static_cast<double>(mempool_.size()));
    wake_.notify_one();
  }
  return r;
}

TxWait Node::LookupTx(const crypto::Hash32& tx_id) {
  TxWait w;
  if (auto loc = store_->FindTx(tx_id)) {
    w.status = TxWait::Status::kCommitted;
    w.location = *loc;
    return w;
  }
  std::lock_guard lock(mu_);
  if (auto it = refused_.find(crypto::HashBytes(tx_id)); it != refused_.end()) {
    w.status = TxWait::Status::kRefused;
    w.outcome = it->second;
  }
  return w;
}

int Node::AddCommitListener(CommitListener listener) {
  std::lock_guard lock(listeners_mu_);
  listeners_.emplace(next_listener_, std::move(listener));
  return next_listener_++;
}

void Node::RemoveCommitListener(int handle) {
  std::lock_guard lock(listeners_mu_);
  listeners_.erase(handle);
}

int64_t Node::NextDueMillis() const {
  const storage::ChainHead head = store_->head();
  const int64_t idle_s = genesis_.params().idle_block_interval_s() > 0
                             ? genesis_.params().idle_block_interval_s()
                             : kDefaultIdleIntervalS;
  int64_t due_s = head.time + idle_s;
  if (auto deadline = governance::NextDeadline(state_)) due_s = std::min(due_s, *deadline);
  return due_s * 1000;
}

void Node::Run() {
  spdlog::info("block production started at height {}", store_->head().height);
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) break;
      const int64_t now = clock_->NowMillis();
      const int64_t due = NextDueMillis();
      if (mempool_.empty() && now < due) {
        // Sleep until a tx arrives, the next deadline, or at most a second (the clock may be
        // adjusted under us).
        const int64_t wait_ms = std::min<int64_t>(due - now, 1000);
        wake_.wait_for(lock, std::chrono::milliseconds(wait_ms));
        continue;
      }
    }
    if (!ProduceBlock()) {
      // Nothing could go in (every waiting tx is held for a nonce gap): wait for more.
      std::unique_lock lock(mu_);
      if (stopping_) break;
      wake_.wait_for(lock, std::chrono::milliseconds(200));
    }
  }
  spdlog::info("block production stopped at height {}", store_->head().height);
}

bool Node::ProduceBlock() {
  const auto started = std::chrono::steady_clock::now();
  const storage::ChainHead head = store_->head();
  const uint64_t height = head.height + 1;
  const int64_t now_s = clock_->NowMillis() / 1000;
  // Block times never go backwards; several blocks may share a second.
  const int64_t time = std::max(now_s, head.time);
  // Only this thread commits, so the cached latest state is this block's parent throughout.
  const governance::KvReader& parent = state_;

  const size_t max_txs = genesis_.params().max_block_txs() > 0 ? genesis_.params().max_block_txs()
                                                               : kDefaultMaxBlockTxs;
  const size_t max_bytes = genesis_.params().max_block_bytes() > 0
                               ? genesis_.params().max_block_bytes()
                               : kDefaultMaxBlockBytes;
  std::vector<mempool::TxPtr> reaped = mempool_.Reap(max_txs, max_bytes, parent);
  const bool due = time * 1000 >= NextDueMillis();
  if (reaped.empty() && !due) return false;

  std::vector<const governance::CheckedTx*> candidates;
  candidates.reserve(reaped.size());
  for (const auto& tx : reaped) candidates.push_back(tx.get());
  std::vector<chain::DroppedTx> dropped;
  chain::ExecutedBlock exec = chain::BuildBlock(
      parent, chain::BlockInput{chain_id_, height, time, head.app_hash}, candidates, &dropped);

  const auto validators = store_->ValidatorsAt(height);
  const auto next_validators = store_->ValidatorsAt(height + 1);
  if (!validators || !next_validators) {
    spdlog::critical("no validator set stored for height {}", height);
    std::abort();
  }
  bas::v1::Block block;
  bas::v1::BlockHeader& h = *block.mutable_header();
  h.set_chain_id(chain_id_);
  h.set_height(height);
  h.set_time(time);
  h.set_prev_block_hash(crypto::HashBytes(head.block_hash));
  h.set_tx_root(crypto::HashBytes(exec.tx_root));
  h.set_results_root(crypto::HashBytes(exec.results_root));
  h.set_app_hash(crypto::HashBytes(exec.app_hash));
  h.set_validators_hash(crypto::HashBytes(
      chain::ValidatorSetHash({validators->validators().begin(), validators->validators().end()})));
  h.set_next_validators_hash(crypto::HashBytes(chain::ValidatorSetHash(
      {next_validators->validators().begin(), next_validators->validators().end()})));
  h.set_proposer(std::string(reinterpret_cast<const char*>(key_.public_key().data()), 32));
  if (height > 1) {
    auto last = store_->GetCommit(height - 1);
    if (!last) std::abort();
    *block.mutable_last_commit() = *last;
  }
  h.set_last_commit_hash(crypto::HashBytes(chain::CommitHash(block.last_commit())));
  h.set_evidence_hash(crypto::HashBytes(chain::EvidenceRoot(block.evidence())));
  *block.mutable_txs() = exec.txs;
  const std::string block_hash = crypto::HashBytes(chain::BlockHash(h));

  // The single validator decides alone: its precommit is the commit.
  const bas::v1::ConsensusVote precommit =
      chain::SignVote(key_, chain_id_, bas::v1::PRECOMMIT, height, 0, block_hash);
  const bas::v1::Commit commit = chain::MakeCommit(height, 0, block_hash, {precommit});
  if (Status s = chain::VerifyCommit(chain_id_, height, block_hash, commit, *validators); !s.ok()) {
    spdlog::critical("this node cannot decide height {}: {} (is its key the validator?)", height,
                     s.message());
    std::abort();
  }
  if (Status s = store_->CommitBlock(block, commit, exec.results, exec.writes, exec.app_hash,
                                     chain::ValidatorsAfter(parent, exec.writes));
      !s.ok()) {
    spdlog::critical("commit of height {} failed: {}", height, s.message());
    std::abort();
  }

  // After the commit: the mempool, then the waiters and metrics.
  std::vector<crypto::Hash32> removed;
  for (const auto* tx : candidates) removed.push_back(tx->tx_id);
  CommittedTxs notice;
  notice.height = height;
  {
    size_t next_dropped = 0;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (next_dropped < dropped.size() && dropped[next_dropped].index == i) {
        notice.refused.emplace_back(candidates[i]->tx_id, dropped[next_dropped].outcome);
        ++next_dropped;
      } else {
        notice.included.push_back(candidates[i]->tx_id);
      }
    }
  }
  state_.Apply(exec.writes);
  mempool_.Update(state_, removed);
  {
    std::lock_guard lock(mu_);
    for (const auto& d : dropped) {
      const std::string id = crypto::HashBytes(candidates[d.index]->tx_id);
      if (refused_.emplace(id, d.outcome).second) refused_order_.push_back(id);
      while (refused_order_.size() > kMaxRefusedRemembered) {
        refused_.erase(refused_order_.front());
        refused_order_.pop_front();
      }
    }
  }
  {
    std::lock_guard lock(listeners_mu_);
    for (const auto& [handle, listener] : listeners_) listener(notice);
  }
  height_gauge_->Set(static_cast<double>(height));
  mempool_gauge_->Set(static_cast<double>(mempool_.size()));
  txs_counter_->Increment(static_cast<double>(exec.txs.size()));
  blocks_counter_->Increment();
  block_seconds_->Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  spdlog::debug("committed height {} with {} txs ({} refused)", height, exec.txs.size(),
                dropped.size());
  return true;
}

}  // namespace bas::node::daemon
