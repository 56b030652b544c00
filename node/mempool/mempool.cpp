#include "node/mempool/mempool.h"

#include <algorithm>
#include <queue>

#include "governance/query.h"

namespace bas::node::mempool {
namespace {

uint64_t AccountNonce(const governance::KvReader& state, const std::string& signer) {
  crypto::PublicKey key;
  std::copy(signer.begin(), signer.end(), key.begin());
  return governance::GetAccount(state, key).next_nonce();
}

}  // namespace

Mempool::Mempool(std::string chain_id, Limits limits)
    : chain_id_(std::move(chain_id)), limits_(limits) {}

AddResult Mempool::Add(std::string_view bytes, const governance::KvReader& state) {
  AddResult r;
  // The signature check is the expensive part: done before taking the lock.
  governance::CheckTxResult checked = governance::CheckTx(bytes, chain_id_);
  r.tx_id = checked.tx.tx_id;  // known once the tx decodes, even if it is then refused
  if (!checked.outcome.ok()) {
    r.code = AddCode::kRejected;
    r.governance_code = checked.outcome.code;
    r.message = checked.outcome.message;
    return r;
  }
  r.tx_id = checked.tx.tx_id;
  const std::string signer = checked.tx.signed_tx.signer();
  const uint64_t nonce = checked.tx.body.nonce();
  const uint64_t next = AccountNonce(state, signer);
  if (nonce < next || nonce - next > limits_.max_nonce_gap) {
    r.code = AddCode::kRejected;
    r.governance_code = governance::Code::kBadNonce;
    r.message = "nonce " + std::to_string(nonce) + ", account's next is " + std::to_string(next);
    return r;
  }

  std::lock_guard lock(mu_);
  if (by_id_.count(crypto::HashBytes(r.tx_id)) != 0) {
    r.code = AddCode::kAlreadyKnown;
    r.message = "already in the mempool";
    return r;
  }
  auto& mine = by_signer_[signer];
  if (mine.count(nonce) != 0) {
    r.code = AddCode::kRejected;
    r.governance_code = governance::Code::kBadNonce;
    r.message = "another tx with nonce " + std::to_string(nonce) + " is waiting";
    if (mine.empty()) by_signer_.erase(signer);
    return r;
  }
  if (by_id_.size() >= limits_.max_txs || bytes_ + bytes.size() > limits_.max_bytes ||
      mine.size() >= limits_.max_per_signer) {
    if (mine.empty()) by_signer_.erase(signer);
    r.code = AddCode::kFull;
    r.message = "the mempool is full";
    return r;
  }
  bytes_ += bytes.size();
  by_id_.emplace(crypto::HashBytes(r.tx_id), std::make_pair(signer, nonce));
  mine.emplace(nonce, Entry{std::make_shared<const governance::CheckedTx>(std::move(checked.tx)),
                            next_arrival_++});
  return r;
}

std::vector<TxPtr> Mempool::Reap(size_t max_txs, size_t max_bytes,
                                 const governance::KvReader& state) const {
  std::lock_guard lock(mu_);
  // Each signer's ready run: consecutive nonces from its account's next nonce.
  std::vector<std::vector<const Entry*>> runs;
  for (const auto& [signer, txs] : by_signer_) {
    uint64_t expected = AccountNonce(state, signer);
    std::vector<const Entry*> run;
    for (auto it = txs.find(expected); it != txs.end() && it->first == expected; ++it, ++expected) {
      run.push_back(&it->second);
    }
    if (!run.empty()) runs.push_back(std::move(run));
  }
  // Merge the runs by arrival: always the earliest-arrived tx among the runs' heads.
  using Head = std::pair<uint64_t, size_t>;  // arrival, run index
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  for (size_t i = 0; i < runs.size(); ++i) heads.emplace(runs[i][0]->arrival, i);
  std::vector<size_t> pos(runs.size(), 0);
  std::vector<TxPtr> out;
  size_t total = 0;
  while (!heads.empty() && out.size() < max_txs) {
    const size_t i = heads.top().second;
    heads.pop();
    const Entry* e = runs[i][pos[i]];
    if (total + e->tx->raw.size() > max_bytes) break;
    total += e->tx->raw.size();
    out.push_back(e->tx);
    if (++pos[i] < runs[i].size()) heads.emplace(runs[i][pos[i]]->arrival, i);
  }
  return out;
}

void Mempool::RemoveLocked(const SignerKey& signer, uint64_t nonce) {
  auto s = by_signer_.find(signer);
  if (s == by_signer_.end()) return;
  auto e = s->second.find(nonce);
  if (e == s->second.end()) return;
  bytes_ -= e->second.tx->raw.size();
  by_id_.erase(crypto::HashBytes(e->second.tx->tx_id));
  s->second.erase(e);
  if (s->second.empty()) by_signer_.erase(s);
}

void Mempool::Update(const governance::KvReader& state,
                     const std::vector<crypto::Hash32>& removed) {
  std::lock_guard lock(mu_);
  for (const auto& id : removed) {
    auto it = by_id_.find(crypto::HashBytes(id));
    if (it == by_id_.end()) continue;
    const auto [signer, nonce] = it->second;
    RemoveLocked(signer, nonce);
  }
  // Txs whose nonce the chain has passed can never run.
  std::vector<std::pair<SignerKey, uint64_t>> stale;
  for (const auto& [signer, txs] : by_signer_) {
    const uint64_t next = AccountNonce(state, signer);
    for (const auto& [nonce, entry] : txs) {
      if (nonce >= next) break;
      stale.emplace_back(signer, nonce);
    }
  }
  for (const auto& [signer, nonce] : stale) RemoveLocked(signer, nonce);
}

TxPtr Mempool::FindExact(std::string_view raw) const {
  bas::v1::SignedTx tx;
  if (!tx.ParseFromArray(raw.data(), static_cast<int>(raw.size())) || tx.signer().size() != 32) {
    return nullptr;
  }
  const crypto::Hash32 id = governance::TxId(crypto::ToHash(tx.signer()), tx.body());
  std::lock_guard lock(mu_);
  auto it = by_id_.find(crypto::HashBytes(id));
  if (it == by_id_.end()) return nullptr;
  const auto& entry = by_signer_.at(it->second.first).at(it->second.second);
  // Same id, other bytes (another signature): not the tx that was checked.
  return entry.tx->raw == raw ? entry.tx : nullptr;
}

size_t Mempool::size() const {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

size_t Mempool::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace bas::node::mempool
