// A running BAS Ledger node: storage, mempool, block production and the consensus driver
// wired together (DESIGN.md sections 4-6). The HTTP API (node/rpc) talks to it through the
// public methods below.
//
// Block apply order (as CometBFT): build or receive, validate, execute, commit atomically
// (ChainStore::CommitBlock), update the mempool, then wake waiters and metrics.
//
// This is the single-validator driver: the node's key must be the only validator; it decides
// each block alone with its own precommit. The multi-validator Tendermint driver replaces
// ProduceBlock's decision step (issue 6).
//
// Thread-safety: SubmitTx, LookupTx and the accessors may be called from any thread while the
// production thread runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "bas/v1/genesis.pb.h"
#include "crypto/schnorr.h"
#include "node/chain/executor.h"
#include "node/daemon/config.h"
#include "node/mempool/mempool.h"
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
  // file. The node key decides blocks. Errors: "INVALID_GENESIS", "STORAGE_ERROR",
  // "GENESIS_MISMATCH" (the store holds another chain).
  static Result<std::unique_ptr<Node>> Open(const NodeConfig& config,
                                            const bas::v1::Genesis& genesis,
                                            const crypto::KeyPair& node_key,
                                            std::shared_ptr<const Clock> clock);

  // Starts and stops the block production thread. Stop waits for a block under way.
  void Start();
  void Stop();

  // Admits a tx to the mempool and wakes the producer.
  mempool::AddResult SubmitTx(std::string_view bytes);
  // Where the tx stands now: committed, refused by the block builder lately, or neither
  // (kTimeout: not committed yet). Waiting is the commit listeners' business.
  TxWait LookupTx(const crypto::Hash32& tx_id);

  // Calls listener on the production thread after every commit (it must be quick and must not
  // call back into the node's production). Returns a handle for RemoveCommitListener, which
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

 private:
  Node(const NodeConfig& config, const bas::v1::Genesis& genesis, const crypto::KeyPair& key,
       std::shared_ptr<const Clock> clock, std::unique_ptr<storage::ChainStore> store);
  void Run();
  // Builds, decides and commits one block if one is due; returns whether it did.
  bool ProduceBlock();
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

  std::mutex mu_;
  std::condition_variable wake_;  // the producer: txs arrived or stopping
  bool stopping_ = false;
  // Txs the builder refused lately: id -> outcome (bounded, oldest first out).
  std::unordered_map<std::string, governance::TxOutcome> refused_;
  std::deque<std::string> refused_order_;
  std::thread thread_;

  std::mutex listeners_mu_;  // held while listeners run
  std::map<int, CommitListener> listeners_;
  int next_listener_ = 0;

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* height_gauge_ = nullptr;
  prometheus::Gauge* mempool_gauge_ = nullptr;
  prometheus::Counter* txs_counter_ = nullptr;
  prometheus::Counter* blocks_counter_ = nullptr;
  prometheus::Histogram* block_seconds_ = nullptr;
};

}  // namespace bas::node::daemon
