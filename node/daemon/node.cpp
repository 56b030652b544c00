#include "node/daemon/node.h"

#include <map>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "crypto/encoding.h"
#include "governance/query.h"
#include "node/chain/block.h"
#include "node/chain/commit.h"
#include "node/chain/encoding.h"
#include "node/chain/validation.h"
#include "node/p2p/transport.h"

namespace bas::node::daemon {
namespace {

constexpr size_t kMaxRefusedRemembered = 10000;
constexpr uint32_t kDefaultTimeoutProposeMs = 3000;
constexpr uint32_t kDefaultTimeoutVoteMs = 1000;
constexpr uint32_t kDefaultTimeoutDeltaMs = 500;
constexpr int64_t kTickMs = 100;
constexpr int64_t kRegossipMs = 1000;
constexpr int64_t kStatusMs = 2000;
constexpr uint64_t kSyncBatch = 64;
constexpr size_t kMaxQueuedEvents = 100000;
constexpr size_t kMaxFutureMessages = 10000;
constexpr size_t kMaxPendingEvidence = 1000;
constexpr size_t kMaxBlockEvidence = 64;
constexpr size_t kMaxResentMessages = 4096;
constexpr unsigned kValidateThreads = 2;
constexpr int64_t kDefaultIdleIntervalS = 60;
constexpr size_t kDefaultMaxBlockTxs = 5000;
constexpr size_t kDefaultMaxBlockBytes = 16 * 1024 * 1024;

}  // namespace

int64_t SystemClock::NowMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Persists the core's SafetyRecord in the store's consensus column family: the record and the
// blocks it refers to, each block once, one synced WriteBatch per save.
class Node::SafetyStoreOnChainStore final : public consensus::KeyValueSafetyStore {
 public:
  explicit SafetyStoreOnChainStore(storage::ChainStore& store)
      : KeyValueSafetyStore(
            store.ConsensusKeys(consensus::kSafetyBlockKeyPrefix),
            [&store](const KeyValues& puts, const std::vector<std::string>& deletes) {
              return store.WriteConsensus(puts, deletes);
            }) {}
};

// Serves block sync from the store (ChainStore reads are safe against the committing thread).
class Node::BlockSourceOnChainStore final : public p2p::BlockSource {
 public:
  explicit BlockSourceOnChainStore(const storage::ChainStore& store) : store_(store) {}
  uint64_t Height() override { return store_.head().height; }
  std::optional<bas::v1::BlockWithCommit> BlockAt(uint64_t height) override {
    auto block = store_.GetBlock(height);
    auto commit = store_.GetCommit(height);
    if (!block || !commit) return std::nullopt;
    bas::v1::BlockWithCommit out;
    *out.mutable_block() = std::move(*block);
    *out.mutable_commit() = std::move(*commit);
    return out;
  }

 private:
  const storage::ChainStore& store_;
};

Node::Node(const NodeConfig& config, const bas::v1::Genesis& genesis, const crypto::KeyPair& key,
           std::shared_ptr<const Clock> clock, std::unique_ptr<storage::ChainStore> store,
           consensus::TimeoutParams timeouts, std::optional<consensus::SafetyRecord> persisted)
    : config_(config),
      genesis_(genesis),
      chain_id_(genesis.chain_id()),
      key_(key),
      clock_(std::move(clock)),
      store_(std::move(store)),
      state_(*store_),
      mempool_(genesis.chain_id(), mempool::Limits{config.mempool.max_txs, config.mempool.max_bytes,
                                                   config.mempool.max_per_signer, 64}),
      safety_store_(std::make_unique<SafetyStoreOnChainStore>(*store_)),
      block_source_(std::make_unique<BlockSourceOnChainStore>(*store_)),
      core_(genesis.chain_id(), timeouts, key, safety_store_.get(), std::move(persisted)),
      registry_(std::make_shared<prometheus::Registry>()) {
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_).Add({});
  };
  auto counter = [&](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(*registry_).Add({});
  };
  height_gauge_ = gauge("bas_height", "Committed height");
  round_gauge_ = gauge("bas_consensus_round", "Consensus round of the height under way");
  peers_gauge_ = gauge("bas_p2p_peers", "Authenticated p2p peers");
  mempool_gauge_ = gauge("bas_mempool_txs", "Txs in the mempool");
  txs_counter_ = counter("bas_committed_txs_total", "Txs committed");
  blocks_counter_ = counter("bas_blocks_total", "Blocks committed");
  block_seconds_ = &prometheus::BuildHistogram()
                        .Name("bas_block_seconds")
                        .Help("Time from the start of a height to its commit")
                        .Register(*registry_)
                        .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.05,
                                                                         0.1, 0.5, 1, 5});
  height_gauge_->Set(static_cast<double>(store_->head().height));
  RefreshAllowedPeers();
}

Node::~Node() { Stop(); }

Result<std::unique_ptr<Node>> Node::Open(const NodeConfig& config, const bas::v1::Genesis& genesis,
                                         const crypto::KeyPair& node_key,
                                         std::shared_ptr<const Clock> clock) {
  bas::v1::ConsensusParams params = genesis.params();
  // Unset timeouts take the defaults (docs/consensus.md).
  if (params.timeout_propose_ms() == 0) params.set_timeout_propose_ms(kDefaultTimeoutProposeMs);
  if (params.timeout_prevote_ms() == 0) params.set_timeout_prevote_ms(kDefaultTimeoutVoteMs);
  if (params.timeout_precommit_ms() == 0) params.set_timeout_precommit_ms(kDefaultTimeoutVoteMs);
  if (params.timeout_delta_ms() == 0) params.set_timeout_delta_ms(kDefaultTimeoutDeltaMs);
  auto timeouts = consensus::TimeoutParams::FromChainParams(params);
  if (!timeouts.ok()) return timeouts.error();

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
  auto persisted = consensus::LoadSafetyRecord(
      [&](std::string_view key) { return (*store)->GetConsensus(key); });
  if (!persisted.ok()) return persisted.error();
  return std::unique_ptr<Node>(new Node(config, genesis, node_key, std::move(clock),
                                        std::move(*store), *timeouts, std::move(*persisted)));
}

Status Node::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return Status::Ok();
  if (!config_.p2p.listen.empty() && !transport_) {
    auto listen = SplitHostPort(config_.p2p.listen);
    if (!listen.ok()) return listen.error();
    p2p::TransportConfig tc;
    tc.chain_id = chain_id_;
    tc.listen_host = listen->first;
    tc.listen_port = listen->second;
    tc.max_frame_bytes = config_.p2p.max_frame_bytes;
    tc.handshake_timeout = std::chrono::milliseconds(config_.p2p.handshake_timeout_ms);
    for (const auto& text : config_.p2p.persistent_peers) {
      auto peer = ParsePeer(text);
      if (!peer.ok()) return peer.error();
      tc.persistent_peers.push_back({peer->host, peer->port, peer->key});
    }
    p2p::TransportCallbacks callbacks;
    callbacks.on_message = [this](const p2p::PeerKey& from, const bas::v1::P2pMessage& msg) {
      switch (msg.kind_case()) {
        case bas::v1::P2pMessage::kTx:
          // Admission verifies the signature here, on the io thread; the peer sent it to every
          // validator, so it is not relayed.
          if (mempool_.Add(msg.tx(), state_).code == mempool::AddCode::kAccepted) TxAdmitted();
          break;
        case bas::v1::P2pMessage::kProposal:
          Post(PeerProposal{msg.proposal(), from});
          break;
        case bas::v1::P2pMessage::kVote:
          Post(PeerVote{msg.vote(), from});
          break;
        default:
          break;
      }
    };
    callbacks.on_peer_connected = [this](const p2p::PeerKey& peer) {
      // Learn where the new peer stands: it may be ahead of us.
      // The transport may call this before Start has returned (and transport_ is set): then
      // the periodic status poll asks instead.
      if (p2p::Transport* t = transport_ready_.load()) {
        t->RequestStatus(peer, [this, peer](Result<bas::v1::StatusResponse> r) {
          if (r.ok()) Post(PeerHeight{peer, r->height()});
        });
      }
    };
    auto transport = p2p::Transport::Start(
        tc, key_, [this](const p2p::PeerKey& key) { return IsAllowedPeer(key); }, callbacks,
        block_source_.get());
    if (!transport.ok()) return transport.error();
    transport_ = std::move(*transport);
    transport_ready_.store(transport_.get());
  }
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void Node::Stop() {
  // The transport first: its callbacks post to the consensus thread.
  if (transport_) transport_->Stop();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint16_t Node::p2p_port() const { return transport_ ? transport_->port() : 0; }

mempool::AddResult Node::SubmitTx(std::string_view bytes) {
  mempool::AddResult r = mempool_.Add(bytes, state_);
  if (r.code == mempool::AddCode::kAccepted) {
    mempool_gauge_->Set(static_cast<double>(mempool_.size()));
    if (transport_) {
      bas::v1::P2pMessage msg;
      msg.set_tx(std::string(bytes));
      (void)transport_->Broadcast(msg);  // a full peer queue drops it: the peer's loss only
    }
    TxAdmitted();
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

bool Node::IsAllowedPeer(const crypto::PublicKey& key) {
  std::lock_guard lock(allowed_mu_);
  return allowed_.count(key) != 0;
}

void Node::RefreshAllowedPeers() {
  // The validators of the heights this node may still take part in, and the observers.
  std::set<crypto::PublicKey> allowed;
  const uint64_t head = store_->head().height;
  for (uint64_t h = head == 0 ? 1 : head; h <= head + 2; ++h) {
    if (auto set = store_->ValidatorsAt(h)) {
      for (const auto& v : set->validators()) {
        if (v.key().size() == 32) allowed.insert(crypto::ToHash(v.key()));
      }
    }
  }
  for (const auto& hex : config_.p2p.observers) {
    if (auto key = crypto::HexDecodeFixed<32>(hex); key.ok()) allowed.insert(*key);
  }
  bool changed = false;
  {
    std::lock_guard lock(allowed_mu_);
    changed = allowed != allowed_;
    allowed_ = std::move(allowed);
  }
  if (changed && transport_) transport_->RecheckPeers();
}

void Node::TxAdmitted() {
  if (!waiting_for_txs_.load()) return;
  std::lock_guard lock(mu_);  // the consensus thread is waiting (or has just woken)
  wake_.notify_one();
}

void Node::Post(Event event) {
  {
    std::lock_guard lock(mu_);
    if (events_.size() >= kMaxQueuedEvents) return;  // a flood: peers re-send what matters
    events_.push_back(std::move(event));
  }
  wake_.notify_one();
}

chain::ChainTip Node::TipFor(uint64_t height) const {
  const storage::ChainHead head = store_->head();
  chain::ChainTip tip;
  tip.chain_id = chain_id_;
  tip.height = head.height;
  tip.block_hash = head.block_hash;
  tip.time = head.time;
  tip.app_hash = head.app_hash;
  if (head.height > 0)
    tip.tip_validators = store_->ValidatorsAt(head.height).value_or(bas::v1::ValidatorSet());
  tip.validators = store_->ValidatorsAt(height).value_or(bas::v1::ValidatorSet());
  tip.next_validators = store_->ValidatorsAt(height + 1).value_or(bas::v1::ValidatorSet());
  return tip;
}

void Node::Run() {
  spdlog::info("consensus started at height {}", store_->head().height);
  while (true) {
    std::deque<Event> events;
    {
      std::unique_lock lock(mu_);
      if (stopping_) break;
      if (events_.empty()) {
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTickMs);
        if (!timers_.empty()) until = std::min(until, timers_.begin()->first);
        // Txs wake the thread too (TxAdmitted) when no height runs, so one can start at once.
        // (A tx admitted just before the flag is set waits for the next tick at most.)
        waiting_for_txs_.store(core_height_ != store_->head().height + 1);
        wake_.wait_until(lock, until);
        waiting_for_txs_.store(false);
        if (stopping_) break;
      }
      events.swap(events_);
    }
    for (auto& e : events) Handle(e);
    // Timeouts that expired, in deadline order.
    const auto now = std::chrono::steady_clock::now();
    while (!timers_.empty() && timers_.begin()->first <= now) {
      const consensus::Timeout t = timers_.begin()->second;
      timers_.erase(timers_.begin());
      if (t.height == core_height_) Apply(core_.OnTimeout(t));
    }
    MaybeStartHeight(false);
    Tick();
    if (core_.halted()) {
      spdlog::critical("consensus halted: the safety record could not be saved; stopping");
      std::abort();  // restart from the store: nothing unsaved was sent
    }
  }
  spdlog::info("consensus stopped at height {}", store_->head().height);
}

void Node::Handle(Event& event) {
  const uint64_t next = store_->head().height + 1;
  auto height_of = [](const Event& e) -> uint64_t {
    if (auto* p = std::get_if<PeerProposal>(&e)) return p->proposal.height();
    if (auto* v = std::get_if<PeerVote>(&e)) return v->vote.height();
    return 0;
  };
  if (auto* ph = std::get_if<PeerHeight>(&event)) {
    if (ph->height >= next) network_ahead_ = true;
    return;
  }
  if (auto* synced = std::get_if<SyncedBlocks>(&event)) {
    ApplySynced(*synced);
    return;
  }
  const uint64_t h = height_of(event);
  if (h > next) {
    // The network is past our head: keep the message for later and fetch blocks.
    network_ahead_ = true;
    if (future_.size() < kMaxFutureMessages && h <= next + 2) future_.emplace(h, std::move(event));
    return;
  }
  if (h == next && core_height_ != next) {
    // Another validator started the height: take part.
    future_.emplace(h, std::move(event));
    MaybeStartHeight(true);
    return;
  }
  if (auto* p = std::get_if<PeerProposal>(&event)) {
    auto r = core_.OnProposal(p->proposal);
    const bool accepted = r.ok();
    Apply(std::move(r));
    if (accepted) {
      bas::v1::P2pMessage msg;
      *msg.mutable_proposal() = p->proposal;
      Relay(msg, p->from);
    }
  } else if (auto* v = std::get_if<PeerVote>(&event)) {
    auto r = core_.OnVote(v->vote);
    const bool accepted = r.ok();
    Apply(std::move(r));
    if (accepted) {
      bas::v1::P2pMessage msg;
      *msg.mutable_vote() = v->vote;
      Relay(msg, v->from);
    }
  }
}

void Node::Relay(const bas::v1::P2pMessage& msg, const crypto::PublicKey& from) {
  // The transport delivers each payload once (its seen-cache), so a message is relayed once;
  // links may be partial (a partition that heals, a bridge node), so relaying matters. Kept
  // for the periodic re-send too: an equivocator may show a message to one side only, and a
  // dropped relay must not lose it for good.
  if (!transport_) return;
  (void)transport_->Broadcast(msg, from);
  if (accepted_.size() < kMaxResentMessages) accepted_.push_back(msg);
}

void Node::MaybeStartHeight(bool network_started) {
  const uint64_t next = store_->head().height + 1;
  if (core_height_ == next) return;
  bool due = network_started || !mempool_.empty() || future_.count(next) != 0;
  // (A height this validator had signed in before a restart resumes when the others' re-sent
  // messages arrive, or when it is due here.)
  if (!due) due = clock_->NowMillis() >= NextDueMillis();
  if (!due) return;
  auto set = store_->ValidatorsAt(next);
  if (!set) {
    spdlog::critical("no validator set stored for height {}", next);
    std::abort();
  }
  auto validators = consensus::ValidatorSet::From(*set);
  if (!validators.ok()) {
    spdlog::critical("validator set of height {}: {}", next, validators.error().message);
    std::abort();
  }
  prepared_.clear();
  accepted_.clear();
  core_height_ = next;
  height_started_ = std::chrono::steady_clock::now();
  Apply(core_.StartHeight(next, *validators));
  // Messages that arrived before the height started.
  auto [first, last] = future_.equal_range(next);
  std::vector<Event> waiting;
  for (auto it = first; it != last; ++it) waiting.push_back(std::move(it->second));
  future_.erase(future_.begin(), last);
  for (auto& e : waiting) Handle(e);
}

void Node::Apply(Result<consensus::Effects> result) {
  if (!result.ok()) {
    // Refused input (stale, duplicate of a conflicting kind, bad signature, ...): nothing
    // changed. Logged at debug: peers' old messages are routine.
    spdlog::debug("consensus: {}: {}", result.error().code, result.error().message);
    return;
  }
  std::deque<consensus::Effect> queue(result->begin(), result->end());
  while (!queue.empty()) {
    consensus::Effect effect = std::move(queue.front());
    queue.pop_front();
    consensus::Effects next;
    if (auto* p = std::get_if<consensus::BroadcastProposal>(&effect)) {
      if (transport_) {
        bas::v1::P2pMessage msg;
        *msg.mutable_proposal() = p->proposal;
        (void)transport_->Broadcast(msg);
      }
    } else if (auto* v = std::get_if<consensus::BroadcastVote>(&effect)) {
      if (transport_) {
        bas::v1::P2pMessage msg;
        *msg.mutable_vote() = v->vote;
        (void)transport_->Broadcast(msg);
      }
    } else if (auto* t = std::get_if<consensus::ScheduleTimeout>(&effect)) {
      timers_.emplace(std::chrono::steady_clock::now() + std::chrono::milliseconds(t->delay_ms),
                      t->timeout);
      round_gauge_->Set(static_cast<double>(t->timeout.round));
    } else if (auto* rb = std::get_if<consensus::RequestBlock>(&effect)) {
      OnRequestBlock(*rb, next);
    } else if (auto* vb = std::get_if<consensus::ValidateBlock>(&effect)) {
      OnValidateBlock(*vb, next);
    } else if (auto* d = std::get_if<consensus::Decide>(&effect)) {
      if (!CommitDecided(*d->block, d->commit, d->block_hash)) network_ahead_ = true;
    } else if (auto* e = std::get_if<consensus::ReportEvidence>(&effect)) {
      spdlog::warn("equivocation by validator {} at height {} round {}",
                   crypto::HexEncode(e->evidence.vote_a().validator()),
                   e->evidence.vote_a().height(), e->evidence.vote_a().round());
      if (pending_evidence_.size() < kMaxPendingEvidence) {
        pending_evidence_.push_back(e->evidence);
      }
    }
    for (auto& n : next) queue.push_back(std::move(n));
  }
}

void Node::OnRequestBlock(const consensus::RequestBlock& request, consensus::Effects& next) {
  const storage::ChainHead head = store_->head();
  if (request.height != head.height + 1) return;
  const int64_t now_s = clock_->NowMillis() / 1000;
  // Block times never go backwards; several blocks may share a second.
  const int64_t time = std::max(now_s, head.time);
  const size_t max_txs = genesis_.params().max_block_txs() > 0 ? genesis_.params().max_block_txs()
                                                               : kDefaultMaxBlockTxs;
  const size_t max_bytes = genesis_.params().max_block_bytes() > 0
                               ? genesis_.params().max_block_bytes()
                               : kDefaultMaxBlockBytes;
  // Only this thread commits, so the cached latest state is the block's parent throughout.
  std::vector<mempool::TxPtr> reaped = mempool_.Reap(max_txs, max_bytes, state_);
  std::vector<const governance::CheckedTx*> candidates;
  candidates.reserve(reaped.size());
  for (const auto& tx : reaped) candidates.push_back(tx.get());
  std::vector<chain::DroppedTx> dropped;
  Prepared prepared;
  prepared.exec =
      chain::BuildBlock(state_, chain::BlockInput{chain_id_, request.height, time, head.app_hash},
                        candidates, &dropped);
  for (const auto& d : dropped)
    prepared.refused.emplace_back(candidates[d.index]->tx_id, d.outcome);

  bas::v1::Commit last_commit;
  if (request.height > 1) {
    auto last = store_->GetCommit(request.height - 1);
    if (!last) std::abort();
    last_commit = std::move(*last);
  }
  // Evidence the block may carry: of this height or the last (chain/validation.h).
  std::vector<bas::v1::Evidence> evidence;
  std::set<std::string> offences;
  for (const auto& e : pending_evidence_) {
    if (e.vote_a().height() + 1 >= request.height && evidence.size() < kMaxBlockEvidence &&
        offences.insert(chain::OffenceKey(e)).second) {
      evidence.push_back(e);
    }
  }
  bas::v1::Block block =
      chain::AssembleBlock(TipFor(request.height), time, prepared.exec,
                           crypto::HashBytes(key_.public_key()), last_commit, evidence);
  const std::string hash = crypto::HashBytes(chain::BlockHash(block.header()));
  prepared_[hash] = std::move(prepared);
  auto r = core_.OnProposalBlock(request.height, request.round, std::move(block));
  if (r.ok()) {
    for (auto& e : *r) next.push_back(std::move(e));
  } else {
    spdlog::warn("own proposal refused: {}: {}", r.error().code, r.error().message);
  }
}

void Node::OnValidateBlock(const consensus::ValidateBlock& request, consensus::Effects& next) {
  bool ok = prepared_.count(request.block_hash) != 0;  // built here: valid by construction
  if (!ok && request.block->header().height() == store_->head().height + 1) {
    auto exec =
        chain::ValidateBlock(state_, *request.block, TipFor(request.block->header().height()),
                             kValidateThreads, checked_in_mempool_);
    if (exec.ok()) {
      prepared_[request.block_hash] = Prepared{std::move(*exec), {}};
      ok = true;
    } else {
      spdlog::warn("proposed block {} at height {} is invalid: {}",
                   crypto::HexEncode(request.block_hash), request.block->header().height(),
                   exec.error().message);
    }
  }
  auto r = core_.OnBlockValid(request.block_hash, ok);
  if (r.ok()) {
    for (auto& e : *r) next.push_back(std::move(e));
  }
}

bool Node::CommitDecided(const bas::v1::Block& block, const bas::v1::Commit& commit,
                         const std::string& block_hash) {
  const uint64_t height = block.header().height();
  if (height != store_->head().height + 1) return false;
  const chain::ChainTip tip = TipFor(height);  // read once: for validation and for the commit
  auto it = prepared_.find(block_hash);
  if (it == prepared_.end()) {
    auto exec = chain::ValidateBlock(state_, block, tip, kValidateThreads, checked_in_mempool_);
    if (!exec.ok()) {
      // More than 2/3 of the power committed a block this node cannot execute: its state or
      // code differs from the network's. Stop rather than diverge.
      spdlog::critical("decided block {} at height {} does not execute here: {}",
                       crypto::HexEncode(block_hash), height, exec.error().message);
      std::abort();
    }
    it = prepared_.emplace(block_hash, Prepared{std::move(*exec), {}}).first;
  }
  Prepared& p = it->second;
  const chain::ChainTip after =
      chain::NextTip(tip, block.header(), chain::ValidatorsAfter(state_, p.exec.writes));
  if (Status s =
          store_->CommitBlock(block, commit, p.exec.results, p.exec.tx_ids, p.exec.writes, after);
      !s.ok()) {
    spdlog::critical("commit of height {} failed: {}", height, s.message());
    std::abort();
  }
  // After the commit: the mempool, then the waiters and metrics.
  CommittedTxs notice;
  notice.height = height;
  notice.included = p.exec.tx_ids;
  notice.refused = p.refused;
  std::vector<crypto::Hash32> removed = p.exec.tx_ids;
  for (const auto& [id, outcome] : p.refused) removed.push_back(id);
  state_.Apply(p.exec.writes);
  mempool_.Update(state_, removed);
  {
    std::lock_guard lock(mu_);
    for (const auto& [id_hash, outcome] : p.refused) {
      const std::string id = crypto::HashBytes(id_hash);
      if (refused_.emplace(id, outcome).second) refused_order_.push_back(id);
      while (refused_order_.size() > kMaxRefusedRemembered) {
        refused_.erase(refused_order_.front());
        refused_order_.pop_front();
      }
    }
  }
  // Evidence now in the ledger, or too old to go in, is dropped.
  std::set<std::string> recorded;
  for (const auto& in : block.evidence()) recorded.insert(chain::OffenceKey(in));
  std::erase_if(pending_evidence_, [&](const bas::v1::Evidence& e) {
    return e.vote_a().height() < height || recorded.count(chain::OffenceKey(e)) != 0;
  });
  const size_t tx_count = p.exec.txs.size();
  prepared_.clear();
  {
    std::lock_guard lock(listeners_mu_);
    for (const auto& [handle, listener] : listeners_) listener(notice);
  }
  RefreshAllowedPeers();
  height_gauge_->Set(static_cast<double>(height));
  mempool_gauge_->Set(static_cast<double>(mempool_.size()));
  txs_counter_->Increment(static_cast<double>(tx_count));
  blocks_counter_->Increment();
  block_seconds_->Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - height_started_).count());
  spdlog::debug("committed height {} with {} txs ({} refused)", height, tx_count,
                notice.refused.size());
  return true;
}

void Node::ApplySynced(SyncedBlocks& synced) {
  sync_in_flight_ = false;
  bool progress = false;
  for (auto& bc : synced.blocks) {
    const uint64_t height = bc.block().header().height();
    if (height != store_->head().height + 1) continue;  // already have it (or a gap: ask again)
    auto set = store_->ValidatorsAt(height);
    if (!set) return;
    const std::string hash = chain::CheckHeaderShape(bc.block().header()).empty()
                                 ? crypto::HashBytes(chain::BlockHash(bc.block().header()))
                                 : std::string();
    if (hash.empty() || !chain::CheckCommitShape(bc.commit()).empty()) {
      spdlog::warn("block sync: malformed block {} from {}", height,
                   crypto::HexEncode(synced.peer));
      return;
    }
    if (Status s = chain::VerifyCommit(chain_id_, height, hash, bc.commit(), *set); !s.ok()) {
      spdlog::warn("block sync: block {} from {}: {}", height, crypto::HexEncode(synced.peer),
                   s.message());
      return;
    }
    prepared_.clear();
    auto exec = chain::ValidateBlock(state_, bc.block(), TipFor(height), kValidateThreads,
                                     checked_in_mempool_);
    if (!exec.ok()) {
      spdlog::warn("block sync: block {} from {} is invalid: {}", height,
                   crypto::HexEncode(synced.peer), exec.error().message);
      return;
    }
    prepared_[hash] = Prepared{std::move(*exec), {}};
    progress |= CommitDecided(bc.block(), bc.commit(), hash);
    spdlog::debug("block sync: committed height {}", height);
  }
  // Ask again at once only while blocks come: the peer may have more. Otherwise the status
  // poll says when a peer is ahead (asking in a loop would flood a peer that has nothing).
  if (progress) network_ahead_ = true;
}

void Node::Tick() {
  if (!transport_) return;
  const auto now = std::chrono::steady_clock::now();
  peers_gauge_->Set(static_cast<double>(transport_->Peers().size()));
  if (now >= next_gossip_) {
    // The paper assumes every message of a correct validator reaches every correct validator;
    // re-sending this height's own messages makes it so after drops, partitions and restarts.
    next_gossip_ = now + std::chrono::milliseconds(kRegossipMs);
    if (core_height_ == store_->head().height + 1) {
      for (const auto& m : core_.OwnMessages()) {
        bas::v1::P2pMessage msg;
        if (auto* p = std::get_if<bas::v1::ConsensusProposal>(&m)) {
          *msg.mutable_proposal() = *p;
        } else {
          *msg.mutable_vote() = std::get<bas::v1::ConsensusVote>(m);
        }
        // A peer that already has it drops it (its seen-cache); one that missed it gets it.
        (void)transport_->Broadcast(msg);
      }
      for (const auto& msg : accepted_) (void)transport_->Broadcast(msg);
    }
  }
  if (now >= next_status_) {
    next_status_ = now + std::chrono::milliseconds(kStatusMs);
    for (const auto& peer : transport_->Peers()) {
      const auto key = peer.key;
      transport_->RequestStatus(key, [this, key](Result<bas::v1::StatusResponse> r) {
        if (r.ok()) Post(PeerHeight{key, r->height()});
      });
    }
  }
  if (sync_in_flight_ && now - sync_started_ > std::chrono::seconds(15)) sync_in_flight_ = false;
  if (network_ahead_ && !sync_in_flight_) {
    network_ahead_ = false;
    const auto peers = transport_->Peers();
    if (peers.empty()) return;
    // A random peer each time, so one that serves nothing cannot stall the sync.
    const auto& peer = peers[static_cast<size_t>(now.time_since_epoch().count()) % peers.size()];
    const uint64_t from = store_->head().height + 1;
    sync_in_flight_ = true;
    sync_started_ = now;
    const auto key = peer.key;
    transport_->RequestBlocks(key, from, from + kSyncBatch - 1,
                              [this, key](Result<bas::v1::BlocksResponse> r) {
                                SyncedBlocks s;
                                s.peer = key;
                                if (r.ok()) {
                                  for (auto& b : *r->mutable_blocks())
                                    s.blocks.push_back(std::move(b));
                                }
                                Post(std::move(s));
                              });
  }
}

}  // namespace bas::node::daemon
