// Waits for txs to commit on behalf of `POST /v1/txs?wait=commit` without holding a thread
// per waiting request: one watcher thread keeps every pending wait and reports each outcome
// (committed, refused by the block builder, or timed out) through a callback.
//
// It looks at a pending tx when it is registered and then whenever the chain height has
// changed lately (Node::WaitForTx with a zero timeout: the committed index, then the
// builder's refusals), so a quiet chain costs one head read per tick. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "node/daemon/node.h"

namespace bas::node::rpc {

class CommitWatcher {
 public:
  using Done = std::function<void(const daemon::TxWait&)>;

  // node must outlive the watcher. Starts the watcher thread.
  explicit CommitWatcher(daemon::Node& node);
  ~CommitWatcher();  // Stop()
  CommitWatcher(const CommitWatcher&) = delete;
  CommitWatcher& operator=(const CommitWatcher&) = delete;

  // Calls done once, on the watcher thread, with the tx's outcome; kTimeout after timeout.
  // done must not block (post the work elsewhere) and must not throw (exceptions are
  // swallowed). After Stop, and for waits pending at Stop, done is destroyed uncalled.
  void Watch(const crypto::Hash32& tx_id, std::chrono::milliseconds timeout, Done done);

  // Stops and joins the watcher thread. Idempotent.
  void Stop();

 private:
  using SteadyClock = std::chrono::steady_clock;
  struct Pending {
    crypto::Hash32 tx_id;
    SteadyClock::time_point deadline;
    Done done;
  };
  void Run();
  // Reports and removes the waits that have an outcome; with check_chain false only those
  // past their deadline.
  void Sweep(std::vector<Pending>& waits, bool check_chain);

  daemon::Node& node_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<Pending> incoming_;  // registered, not yet seen by the thread
  std::thread thread_;
};

}  // namespace bas::node::rpc
