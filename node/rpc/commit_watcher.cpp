#include "node/rpc/commit_watcher.h"

#include <spdlog/spdlog.h>

namespace bas::node::rpc {
namespace {

// How often the thread looks at the chain head. It bounds the latency a wait adds to a commit.
constexpr auto kTick = std::chrono::milliseconds(20);
// The node records the builder's refusals just after the block commits (node.cpp), so after a
// height change pending txs are looked at for a while, not once.
constexpr auto kRecheckAfterCommit = std::chrono::milliseconds(500);

void Report(const CommitWatcher::Done& done, const daemon::TxWait& wait) {
  try {
    done(wait);
  } catch (const std::exception& e) {
    spdlog::error("commit wait callback threw: {}", e.what());
  } catch (...) {
    spdlog::error("commit wait callback threw");
  }
}

}  // namespace

CommitWatcher::CommitWatcher(daemon::Node& node) : node_(node) {
  thread_ = std::thread([this] { Run(); });
}

CommitWatcher::~CommitWatcher() { Stop(); }

void CommitWatcher::Watch(const crypto::Hash32& tx_id, std::chrono::milliseconds timeout,
                          Done done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    incoming_.push_back(Pending{tx_id, SteadyClock::now() + timeout, std::move(done)});
  }
  wake_.notify_one();
}

void CommitWatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  incoming_.clear();
}

void CommitWatcher::Run() {
  std::vector<Pending> waits;
  uint64_t last_height = node_.store().head().height;
  SteadyClock::time_point recheck_until{};
  while (true) {
    std::vector<Pending> fresh;
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, kTick, [&] { return stopping_ || !incoming_.empty(); });
      if (stopping_) return;  // pending callbacks are destroyed with `waits`
      fresh.swap(incoming_);
    }
    // A new wait is looked at at once: its tx may have committed before it was registered.
    Sweep(fresh, true);
    for (auto& p : fresh) waits.push_back(std::move(p));

    const auto now = SteadyClock::now();
    const uint64_t height = node_.store().head().height;
    if (height != last_height) {
      last_height = height;
      recheck_until = now + kRecheckAfterCommit;
    }
    Sweep(waits, now < recheck_until);
  }
}

void CommitWatcher::Sweep(std::vector<Pending>& waits, bool check_chain) {
  const auto now = SteadyClock::now();
  std::erase_if(waits, [&](const Pending& p) {
    const bool expired = now >= p.deadline;
    if (!check_chain && !expired) return false;
    // A zero timeout makes WaitForTx a lookup: committed, refused, or neither (kTimeout).
    const daemon::TxWait w = node_.WaitForTx(p.tx_id, std::chrono::milliseconds(0));
    if (w.status == daemon::TxWait::Status::kTimeout && !expired) return false;
    Report(p.done, w);
    return true;
  });
}

}  // namespace bas::node::rpc
