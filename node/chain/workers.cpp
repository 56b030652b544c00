#include "node/chain/workers.h"

namespace bas::node::chain {

Workers::Workers(unsigned threads) {
  for (unsigned t = 1; t < threads; ++t) helpers_.emplace_back([this] { Loop(); });
}

Workers::~Workers() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  start_.notify_all();
  for (std::thread& t : helpers_) t.join();
}

void Workers::Run(const std::function<void()>& fn) {
  std::lock_guard run(run_mu_);
  {
    std::lock_guard lock(mu_);
    job_ = &fn;
    running_ = static_cast<unsigned>(helpers_.size());
    ++generation_;
  }
  start_.notify_all();
  fn();
  std::unique_lock lock(mu_);
  done_.wait(lock, [&] { return running_ == 0; });
  job_ = nullptr;
}

void Workers::Loop() {
  uint64_t seen = 0;
  std::unique_lock lock(mu_);
  while (true) {
    start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    const std::function<void()>* job = job_;
    lock.unlock();
    (*job)();
    lock.lock();
    if (--running_ == 0) done_.notify_one();
  }
}

}  // namespace bas::node::chain
