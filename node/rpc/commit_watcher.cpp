#include "node/rpc/commit_watcher.h"

#include <spdlog/spdlog.h>

namespace bas::node::rpc {
namespace {

// How often expired waits are looked for: the precision of ?wait=commit's timeout.
constexpr auto kExpiryTick = std::chrono::milliseconds(100);

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
  listener_ =
      node_.AddCommitListener([this](const daemon::CommittedTxs& txs) { OnCommitted(txs); });
  expiry_ = std::thread([this] { ExpireLoop(); });
}

CommitWatcher::~CommitWatcher() { Stop(); }

void CommitWatcher::Watch(const crypto::Hash32& tx_id, std::chrono::milliseconds timeout,
                          Done done) {
  const std::string id = crypto::HashBytes(tx_id);
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    pending_[id].push_back(Pending{SteadyClock::now() + timeout, std::move(done)});
  }
  // Registered first, looked up second: a commit in between is seen by one or the other.
  const daemon::TxWait w = node_.LookupTx(tx_id);
  if (w.status == daemon::TxWait::Status::kTimeout) return;
  for (auto& p : Take(id)) Report(p.done, w);
}

std::vector<CommitWatcher::Pending> CommitWatcher::Take(const std::string& tx_id) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(tx_id);
  if (it == pending_.end()) return {};
  std::vector<Pending> out = std::move(it->second);
  pending_.erase(it);
  return out;
}

void CommitWatcher::OnCommitted(const daemon::CommittedTxs& txs) {
  for (size_t i = 0; i < txs.included.size(); ++i) {
    auto waits = Take(crypto::HashBytes(txs.included[i]));
    if (waits.empty()) continue;
    daemon::TxWait w;
    w.status = daemon::TxWait::Status::kCommitted;
    w.location.set_height(txs.height);
    w.location.set_index(static_cast<uint32_t>(i));
    for (auto& p : waits) Report(p.done, w);
  }
  for (const auto& [id, outcome] : txs.refused) {
    auto waits = Take(crypto::HashBytes(id));
    if (waits.empty()) continue;
    daemon::TxWait w;
    w.status = daemon::TxWait::Status::kRefused;
    w.outcome = outcome;
    for (auto& p : waits) Report(p.done, w);
  }
}

void CommitWatcher::ExpireLoop() {
  while (true) {
    std::vector<std::pair<std::string, Pending>> expired;
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, kExpiryTick, [&] { return stopping_; });
      if (stopping_) return;
      const auto now = SteadyClock::now();
      for (auto it = pending_.begin(); it != pending_.end();) {
        auto& waits = it->second;
        for (auto w = waits.begin(); w != waits.end();) {
          if (now >= w->deadline) {
            expired.emplace_back(it->first, std::move(*w));
            w = waits.erase(w);
          } else {
            ++w;
          }
        }
        it = waits.empty() ? pending_.erase(it) : std::next(it);
      }
    }
    for (auto& [id, p] : expired) {
      // One last look: the tx may have committed as its time ran out.
      crypto::Hash32 tx_id;
      std::copy(id.begin(), id.end(), tx_id.begin());
      Report(p.done, node_.LookupTx(tx_id));
    }
  }
}

void CommitWatcher::Stop() {
  if (listener_ >= 0) {
    node_.RemoveCommitListener(listener_);
    listener_ = -1;
  }
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    pending_.clear();
  }
  wake_.notify_one();
  if (expiry_.joinable()) expiry_.join();
}

}  // namespace bas::node::rpc
