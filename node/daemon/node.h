// A running BAS Ledger node: storage, mempool, the Tendermint consensus core, the p2p transport
// and the API's entry points wired together (DESIGN.md sections 4-6). The HTTP API (node/rpc)
// talks to it through the public methods below.
//
// The validator driver: one consensus thread owns the consensus core (node/consensus) and
// carries out its effects: signed proposals and votes go to the peers (after the core has
// made its SafetyRecord durable), timeouts go to a timer queue on the same thread, a
// RequestBlock builds a block from the mempool, a ValidateBlock re-executes a proposed block
// (reusing the mempool's signature checks), and a Decide commits the block with its
// certificate. Messages from peers arrive on the transport's io thread and are queued for the
// consensus thread; txs from peers are admitted to the mempool on the io thread.
//
// Block apply order (as CometBFT): build or receive, validate, execute, commit atomically
// (ChainStore::CommitBlock), update the mempool, then wake waiters and metrics.
//
// Heights start only when a block is due (DESIGN.md section 5): txs are waiting, a voting end or
// listing expiry has passed, the idle interval has passed, or another validator has started
// the height (its proposal or votes arrived). A node that falls behind (restart, partition, a
// late start) fetches blocks and commits from its peers (block sync), checks each commit
// against the validator set of its height and re-executes each block, then takes part again.
// A node whose key is not a validator of a height follows it as an observer.
//
// Thread-safety: SubmitTx, LookupTx and the accessors may be called from any thread while the
// node runs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <variant>

#include "bas/v1/genesis.pb.h"
#include "crypto/schnorr.h"
#include "node/chain/executor.h"
#include "node/chain/validation.h"
#include "node/consensus/core.h"
#include "node/daemon/config.h"
#include "node/mempool/mempool.h"
#include "node/p2p/transport.h"
#include "node/storage/chain_store.h"
#include "node/storage/state_cache.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace bas::node::daemon {

// Wall-clock time, injected so tests can drive block times.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMillis() const = 0;
};
class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override;
};

struct TxWait {
  enum class Status { kCommitted, kRefused, kTimeout };
  Status status = Status::kTimeout;
  bas::v1::TxLocation location;   // kCommitted
  governance::TxOutcome outcome;  // kRefused: why the block builder left it out
};

// What a committed block did to the txs that were waiting: those it includes (in block order)
// and those the block builder refused.
struct CommittedTxs {
  uint64_t height = 0;
  std::vector<crypto::Hash32> included;  // index i is the tx's index in the block
  std::vector<std::pair<crypto::Hash32, governance::TxOutcome>> refused;
};

class Node {
 public:
  using CommitListener = std::function<void(const CommittedTxs&)>;

  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Opens the store under config.data_dir; on a new store, executes and commits the genesis
  // file. Errors: "INVALID_GENESIS", "STORAGE_ERROR", "GENESIS_MISMATCH" (the store holds
  // another chain), "CORRUPT_SAFETY_RECORD", "INVALID_CONSENSUS_PARAMS".
  static Result<std::unique_ptr<Node>> Open(const NodeConfig& config,
                                            const bas::v1::Genesis& genesis,
                                            const crypto::KeyPair& node_key,
                                            std::shared_ptr<const Clock> clock);

  // Starts the p2p transport (unless config.p2p.listen is empty) and the consensus thread.
  // Errors: the transport's ("P2P_BIND_FAILED", ...). Stop stops both; it waits for a block
  // under way.
  Status Start();
  void Stop();

  // Admits a tx to the mempool, gossips it to the peers and wakes the consensus thread.
  mempool::AddResult SubmitTx(std::string_view bytes);
  // Where the tx stands now: committed, refused by this node's block builder lately, or
  // neither (kTimeout: not committed yet). Waiting is the commit listeners' business.
  TxWait LookupTx(const crypto::Hash32& tx_id);

  // Calls listener on the consensus thread after every commit (it must be quick and must not
  // call back into the node's consensus). Returns a handle for RemoveCommitListener, which
  // waits for a call under way to finish.
  int AddCommitListener(CommitListener listener);
  void RemoveCommitListener(int handle);

  const std::string& chain_id() const { return chain_id_; }
  const crypto::PublicKey& node_key() const { return key_.public_key(); }
  const bas::v1::Genesis& genesis() const { return genesis_; }
  const storage::ChainStore& store() const { return *store_; }
  const mempool::Mempool& mempool() const { return mempool_; }
  const NodeConfig& config() const { return config_; }
  prometheus::Registry& metrics() { return *registry_; }
  // The bound p2p port (0 without p2p).
  uint16_t p2p_port() const;

 private:
  // What the io thread hands to the consensus thread.
  struct PeerProposal {
    bas::v1::ConsensusProposal proposal;
    crypto::PublicKey from{};
  };
  struct PeerVote {
    bas::v1::ConsensusVote vote;
    crypto::PublicKey from{};
  };
  struct PeerHeight {  // a peer's status answer
    crypto::PublicKey peer{};
    uint64_t height = 0;
  };
  struct SyncedBlocks {
    crypto::PublicKey peer{};
    std::vector<bas::v1::BlockWithCommit> blocks;
  };
  using Event = std::variant<PeerProposal, PeerVote, PeerHeight, SyncedBlocks>;

  // A block this node built or validated, kept until its height is decided.
  struct Prepared {
    chain::ExecutedBlock exec;
    // The proposer's build: the txs it refused, for the waiters (empty when validated).
    std::vector<std::pair<crypto::Hash32, governance::TxOutcome>> refused;
  };

  class SafetyStoreOnChainStore;
  class BlockSourceOnChainStore;

  Node(const NodeConfig& config, const bas::v1::Genesis& genesis, const crypto::KeyPair& key,
       std::shared_ptr<const Clock> clock, std::unique_ptr<storage::ChainStore> store,
       consensus::TimeoutParams timeouts, std::optional<consensus::SafetyRecord> persisted);
  void Run();
  void Post(Event event);
  // A tx entered the mempool: starts a height if the consensus thread waits for one.
  void TxAdmitted();
  void Handle(Event& event);
  // Carries out the core's effects (and the effects of the answers they need) in order.
  void Apply(Result<consensus::Effects> effects);
  // Starts the next height when a block is due or the network is on it.
  void MaybeStartHeight(bool network_started);
  void OnRequestBlock(const consensus::RequestBlock& request, consensus::Effects& next);
  void OnValidateBlock(const consensus::ValidateBlock& request, consensus::Effects& next);
  // Commits a decided block with its certificate; false when it cannot (then the node syncs).
  bool CommitDecided(const bas::v1::Block& block, const bas::v1::Commit& commit,
                     const std::string& block_hash);
  void ApplySynced(SyncedBlocks& synced);
  void Relay(const bas::v1::P2pMessage& msg, const crypto::PublicKey& from);
  void Tick();
  chain::ChainTip TipFor(uint64_t height) const;
  bool IsAllowedPeer(const crypto::PublicKey& key);
  void RefreshAllowedPeers();
  // When a block is due without txs: the next voting end or listing expiry, or the idle
  // interval after the last block (ms since the epoch).
  int64_t NextDueMillis() const;

  const NodeConfig config_;
  const bas::v1::Genesis genesis_;
  const std::string chain_id_;
  const crypto::KeyPair key_;
  const std::shared_ptr<const Clock> clock_;
  std::unique_ptr<storage::ChainStore> store_;
  storage::StateCache state_;  // the latest committed state, cached; after store_
  mempool::Mempool mempool_;
  std::unique_ptr<SafetyStoreOnChainStore> safety_store_;
  std::unique_ptr<BlockSourceOnChainStore> block_source_;
  consensus::Core core_;  // consensus thread only
  std::unique_ptr<p2p::Transport> transport_;
  // Block validation takes the mempool's checked txs as verified (one check per signature).
  const chain::KnownTxs checked_in_mempool_ = [this](std::string_view raw) {
    return mempool_.FindExact(raw);
  };
  std::atomic<p2p::Transport*> transport_ready_{nullptr};  // transport_ once Start returned

  // Consensus thread state.
  uint64_t core_height_ = 0;  // the height the core works on (0: none yet)
  std::multimap<std::chrono::steady_clock::time_point, consensus::Timeout> timers_;
  std::map<std::string, Prepared> prepared_;  // by block hash, this height's
  std::deque<bas::v1::Evidence> pending_evidence_;
  std::vector<bas::v1::P2pMessage> accepted_;  // others' messages of this height, re-sent
  std::multimap<uint64_t, Event> future_;      // consensus messages for later heights
  std::chrono::steady_clock::time_point next_gossip_{};
  std::chrono::steady_clock::time_point next_status_{};
  bool sync_in_flight_ = false;
  std::chrono::steady_clock::time_point height_started_{};
  std::chrono::steady_clock::time_point sync_started_{};

  std::mutex mu_;
  std::condition_variable wake_;  // the consensus thread: events, txs or stopping
  // Set (under mu_) while the consensus thread waits with no height running: only then does
  // an admitted tx wake it (TxAdmitted). During a height a tx changes nothing for consensus,
  // and a wake-up per tx cost a context switch per tx on every validator.
  std::atomic<bool> waiting_for_txs_{false};
  std::deque<Event> events_;
  bool stopping_ = false;
  bool network_ahead_ = false;  // a peer is past our height: ask for blocks
  // Txs the builder refused lately: id -> outcome (bounded, oldest first out).
  std::unordered_map<std::string, governance::TxOutcome> refused_;
  std::deque<std::string> refused_order_;
  std::thread thread_;

  std::mutex allowed_mu_;
  std::set<crypto::PublicKey> allowed_;  // validators of the coming heights and observers

  std::mutex listeners_mu_;  // held while listeners run
  std::map<int, CommitListener> listeners_;
  int next_listener_ = 0;

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* height_gauge_ = nullptr;
  prometheus::Gauge* round_gauge_ = nullptr;
  prometheus::Gauge* peers_gauge_ = nullptr;
  prometheus::Gauge* mempool_gauge_ = nullptr;
  prometheus::Counter* txs_counter_ = nullptr;
  prometheus::Counter* blocks_counter_ = nullptr;
  prometheus::Histogram* block_seconds_ = nullptr;
};

}  // namespace bas::node::daemon
