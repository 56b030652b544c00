// Waits for txs to commit on behalf of `POST /v1/txs?wait=commit` without holding a thread
// per waiting request, and without polling the store: the node tells the watcher which txs
// each block included or refused (Node::AddCommitListener), and pending waits are found by id.
// A small thread only expires waits past their deadline. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "node/daemon/node.h"

namespace bas::node::rpc {

class CommitWatcher {
 public:
  using Done = std::function<void(const daemon::TxWait&)>;

  // node must outlive the watcher. Registers with the node and starts the expiry thread.
  explicit CommitWatcher(daemon::Node& node);
  ~CommitWatcher();  // Stop()
  CommitWatcher(const CommitWatcher&) = delete;
  CommitWatcher& operator=(const CommitWatcher&) = delete;

  // Calls done once with the tx's outcome: committed, refused by the block builder, or
  // kTimeout after timeout. done runs on the node's production thread, the expiry thread or
  // the caller's: it must not block (post the work elsewhere) and must not throw (exceptions
  // are swallowed). After Stop, and for waits pending at Stop, done is destroyed uncalled.
  void Watch(const crypto::Hash32& tx_id, std::chrono::milliseconds timeout, Done done);

  // Unregisters from the node and joins the expiry thread. Idempotent.
  void Stop();

 private:
  using SteadyClock = std::chrono::steady_clock;
  struct Pending {
    SteadyClock::time_point deadline;
    Done done;
  };
  // Takes the waits of tx_id (empty when there are none).
  std::vector<Pending> Take(const std::string& tx_id);
  void OnCommitted(const daemon::CommittedTxs& txs);
  void ExpireLoop();

  daemon::Node& node_;
  int listener_ = -1;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::unordered_map<std::string, std::vector<Pending>> pending_;  // by tx id bytes
  std::thread expiry_;
};

}  // namespace bas::node::rpc
