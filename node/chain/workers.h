// Threads kept for the parallel part of checking blocks (CheckBlockTxs), so that a block does
// not start new ones: a thread's libsecp256k1 context and its lifted keys
// (crypto::VerifyWithKeyCache) last as long as the thread. The auditor started its helper
// thread anew for each block, which then made a context and lifted the 1,000 members' keys
// again.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bas::node::chain {

class Workers {
 public:
  // `threads` threads in all: threads - 1 kept here, and the caller of Run.
  explicit Workers(unsigned threads);
  ~Workers();
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  unsigned size() const { return static_cast<unsigned>(helpers_.size()) + 1; }

  // Runs fn on every kept thread and on the calling thread at once; returns when every call
  // has returned. fn must not throw. One Run at a time (calls from several threads wait).
  void Run(const std::function<void()>& fn);

  // Calls fn(i) for every i in [0, n) on all the threads, each taking the next index as it
  // becomes free (items of uneven cost stay balanced); returns when all calls have returned.
  template <typename Fn>
  void ForEach(size_t n, Fn&& fn) {
    std::atomic<size_t> next{0};
    Run([&] {
      for (size_t i = next++; i < n; i = next++) fn(i);
    });
  }

 private:
  void Loop();

  std::mutex run_mu_;  // one Run at a time
  std::mutex mu_;
  std::condition_variable start_, done_;
  const std::function<void()>* job_ = nullptr;
  uint64_t generation_ = 0;
  unsigned running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> helpers_;
};

}  // namespace bas::node::chain
