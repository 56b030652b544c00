// The mempool: transactions waiting for a block (DESIGN.md section 2, issue 4).
//
// Admission runs CheckTx once (decoding, limits, signature); the checked tx is kept and reused
// when the block executes, so a signature is verified once per node. Then the nonce against
// the committed account: lower than the account's next nonce is BAD_NONCE, a gap of up to
// max_nonce_gap is held until the missing txs arrive. Limits per signer and on total bytes;
// past them MEMPOOL_FULL. Reap hands out txs in arrival order, each signer's in nonce order.
// Thread-safe (one mutex): the API adds while the block producer reaps and updates.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "governance/engine.h"
#include "governance/kv.h"

namespace bas::node::mempool {

struct Limits {
  size_t max_txs = 20000;
  size_t max_bytes = 64 * 1024 * 1024;
  size_t max_per_signer = 1000;
  uint64_t max_nonce_gap = 64;  // how far ahead of the account's next nonce a tx may be held
};

enum class AddCode {
  kAccepted,
  kRejected,      // by CheckTx or the nonce check: see governance_code
  kAlreadyKnown,  // the same tx is in the pool
  kFull,          // MEMPOOL_FULL
};

struct AddResult {
  AddCode code = AddCode::kAccepted;
  governance::Code governance_code = governance::Code::kOk;
  std::string message;
  crypto::Hash32 tx_id{};
};

using TxPtr = std::shared_ptr<const governance::CheckedTx>;

class Mempool {
 public:
  Mempool(std::string chain_id, Limits limits);

  // Checks and admits a SignedTx. state: the committed state (for the account nonce).
  AddResult Add(std::string_view bytes, const governance::KvReader& state);

  // Up to max_txs txs, max_bytes in all, ready to run on `state`: each signer's run of
  // consecutive nonces from its account's next nonce, signers in the arrival order of their
  // first ready tx. The txs stay in the pool until Update removes them.
  std::vector<TxPtr> Reap(size_t max_txs, size_t max_bytes,
                          const governance::KvReader& state) const;

  // After a block commits: drops the txs it included, every tx whose nonce the state has
  // passed, and the txs the proposer dropped (refused by the rules).
  void Update(const governance::KvReader& state, const std::vector<crypto::Hash32>& removed);

  // The checked tx whose bytes are exactly raw, if it is in the pool (block validation reuses
  // its signature check); nullptr otherwise.
  TxPtr FindExact(std::string_view raw) const;

  size_t size() const;
  size_t bytes() const;
  bool empty() const { return size() == 0; }

 private:
  struct Entry {
    TxPtr tx;
    uint64_t arrival = 0;
  };
  using SignerKey = std::string;  // the 32 raw key bytes
  void RemoveLocked(const SignerKey& signer, uint64_t nonce);

  const std::string chain_id_;
  const Limits limits_;
  mutable std::mutex mu_;
  // signer -> nonce -> entry
  std::map<SignerKey, std::map<uint64_t, Entry>> by_signer_;
  std::unordered_map<std::string, std::pair<SignerKey, uint64_t>> by_id_;
  size_t bytes_ = 0;
  uint64_t next_arrival_ = 0;
};

}  // namespace bas::node::mempool
