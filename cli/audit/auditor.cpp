#include "cli/audit/auditor.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <google/protobuf/util/message_differencer.h>

#include "crypto/encoding.h"
#include "node/chain/block.h"
#include "node/chain/commit.h"
#include "node/chain/encoding.h"
#include "node/chain/executor.h"
#include "node/chain/validation.h"

namespace bas::audit {
namespace {

using Clock = std::chrono::steady_clock;
using node::chain::HashBytes;

// A bounded queue between two pipeline stages. Close wakes both sides: Push then fails and Pop
// returns what is left, then nullopt.
template <typename T>
class StageQueue {
 public:
  explicit StageQueue(size_t capacity) : capacity_(capacity) {}
  bool Push(T item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }
  std::optional<T> Pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<T> items_;
  bool closed_ = false;
};

// What the reader hands on: a height's records, the source's error, or the end (nullopt).
using Fetched = Result<std::optional<CertifiedBlock>>;

// A height with its txs through CheckTx (decoded, signatures verified).
struct Checked {
  Fetched fetched;
  std::optional<node::chain::BlockResult<std::vector<governance::CheckedTx>>>
      txs;  // when fetched holds a block
};

bool SameMessage(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// Where the ledger's results (a serialized BlockResults) differ from the re-executed ones; ""
// when they do not. Equal messages serialize to equal bytes, so only a difference (or another
// encoder's byte order) costs a decode.
std::string ResultsDifference(const std::string& ledger_bytes,
                              const bas::v1::BlockResults& replayed) {
  if (ledger_bytes == replayed.SerializeAsString()) return "";
  bas::v1::BlockResults ledger;
  if (!ledger.ParseFromString(ledger_bytes)) return "the ledger's results do not decode";
  if (ledger.tx_results_size() != replayed.tx_results_size()) {
    return std::to_string(ledger.tx_results_size()) + " tx results, the txs give " +
           std::to_string(replayed.tx_results_size());
  }
  for (int i = 0; i < ledger.tx_results_size(); ++i) {
    if (!SameMessage(ledger.tx_results(i), replayed.tx_results(i))) {
      return "tx_results[" + std::to_string(i) + "] differs from re-execution";
    }
  }
  if (!SameMessage(ledger, replayed)) {
    return "the end-of-block events or validator updates differ from re-execution";
  }
  return "";
}

// The audit proper: one instance per run, on the calling thread, fed by the two stages.
class Auditor {
 public:
  Auditor(const bas::v1::Genesis& genesis, AuditResult* out) : genesis_(genesis), out_(*out) {}

  // Executes the genesis; false (with the discrepancy set) when it does not.
  bool Start(const bas::v1::Genesis& ledger_genesis) {
    if (!SameMessage(ledger_genesis, genesis_)) {
      return Fail(0, "genesis",
                  "the ledger's genesis differs from the trusted genesis file (chain " +
                      ledger_genesis.chain_id() + ")");
    }
    Result<node::chain::GenesisState> g = node::chain::ExecuteGenesis(genesis_);
    if (!g.ok()) return Fail(0, "genesis", g.error().code + ": " + g.error().message);
    if (Status s = out_.state->Apply(g->writes); !s.ok()) return Fail(0, "genesis", s.message());
    tip_ = node::chain::GenesisTip(genesis_, g->app_hash);
    Publish();
    return true;
  }

  // Checks and applies one height; false (with the discrepancy set) when it does not verify.
  // These are ValidateBlock's stages (node/chain/validation.h: ValidateHeader, CheckBlockTxs,
  // ExecuteBlock, CheckExecution) with the stored commit checked after the header, called one
  // by one so that CheckBlockTxs of the next blocks runs on other threads (`checked` is its
  // result for this block) while this one executes. Errors: failures of the replayed state.
  Result<bool> Apply(const CertifiedBlock& entry,
                     const node::chain::BlockResult<std::vector<governance::CheckedTx>>& checked) {
    const uint64_t h = tip_.height + 1;
    const bas::v1::Block& block = entry.block;
    if (auto s = node::chain::ValidateHeader(block, tip_); !s.ok()) {
      return Fail(h, s.error());
    }
    const bas::v1::BlockHeader& header = block.header();
    const crypto::Hash32 block_hash = node::chain::BlockHash(header);
    const bas::v1::ValidatorSet& set = tip_.validators;
    // A commit that certifies another hash of this height: if the validators did sign that
    // hash, the header is what was changed after they signed.
    if (entry.commit.block_hash() != HashBytes(block_hash) &&
        entry.commit.block_hash().size() == block_hash.size() &&
        node::chain::VerifyCommit(tip_.chain_id, h, entry.commit.block_hash(), entry.commit, set)
            .ok()) {
      return Fail(h, "header",
                  "the header hashes to " + crypto::HexEncode(crypto::ByteSpan(block_hash)) +
                      " but the validators' commit certifies " +
                      crypto::HexEncode(entry.commit.block_hash()) +
                      ": a header field is not what they signed");
    }
    if (Status s =
            node::chain::VerifyCommit(tip_.chain_id, h, HashBytes(block_hash), entry.commit, set);
        !s.ok()) {
      return Fail(h, "commit", s.code() + ": " + s.message());
    }
    if (!checked.ok()) return Fail(h, checked.error());
    auto exec = node::chain::ExecuteBlock(
        *out_.state, node::chain::BlockInput{tip_.chain_id, h, header.time(), tip_.app_hash},
        *checked);
    if (!exec.ok()) return Fail(h, exec.error());
    if (auto s = node::chain::CheckExecution(header, *exec); !s.ok()) {
      return Fail(h, s.error());
    }
    if (entry.results) {
      if (std::string diff = ResultsDifference(*entry.results, exec->results); !diff.empty()) {
        return Fail(h, "results", diff);
      }
    }
    for (const bas::v1::Evidence& e : block.evidence()) out_.evidence.push_back({h, e});

    bas::v1::ValidatorSet after = node::chain::ValidatorsAfter(*out_.state, exec->writes);
    if (Status s = out_.state->Apply(exec->writes); !s.ok()) return s.error();
    tip_ = node::chain::NextTip(tip_, header, std::move(after));
    ++out_.blocks;
    out_.txs += static_cast<uint64_t>(block.txs_size());
    Publish();
    return true;
  }

  uint64_t height() const { return tip_.height; }

  bool Fail(uint64_t height, std::string structure, std::string reason) {
    out_.discrepancy = Discrepancy{height, std::move(structure), std::move(reason)};
    return false;
  }
  // A block check's failure: its fault names the structure.
  bool Fail(uint64_t height, const node::chain::BlockError& e) {
    return Fail(height, std::string(node::chain::BlockFaultName(e.fault)), e.message);
  }

 private:
  void Publish() {
    out_.height = tip_.height;
    out_.block_hash = tip_.block_hash;
    out_.app_hash = tip_.app_hash;
    out_.time = tip_.time;
    out_.validators = tip_.validators;
  }

  const bas::v1::Genesis& genesis_;
  AuditResult& out_;
  node::chain::ChainTip tip_;
};

}  // namespace

std::string DescribeDiscrepancy(const Discrepancy& d) {
  return "height " + std::to_string(d.height) + ": " + d.structure + ": " + d.reason;
}

Result<AuditResult> AuditLedger(LedgerSource& source, const bas::v1::Genesis& trusted_genesis,
                                const AuditOptions& options) {
  const auto started = Clock::now();
  Result<uint64_t> last_or = LastHeightToRead(source, options.to_height);
  if (!last_or.ok()) return last_or.error();
  const uint64_t last = *last_or;
  AuditResult out;
  out.chain_id = trusted_genesis.chain_id();
  out.source = source.Describe();
  Result<std::unique_ptr<node::storage::ReplayState>> state =
      node::storage::ReplayState::Create(options.scratch_dir);
  if (!state.ok()) return state.error();
  out.state = std::move(*state);

  Auditor auditor(trusted_genesis, &out);
  auto finish = [&]() -> Result<AuditResult> {
    out.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return std::move(out);
  };
  if (!auditor.Start(source.genesis())) return finish();

  const unsigned threads =
      options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  const std::string chain_id = trusted_genesis.chain_id();
  // Three stages: read, check txs (on `threads` threads), execute (here). The queues hold a
  // few blocks, which bounds memory and lets the signatures of the next blocks be verified
  // while this one executes. A block's remains are freed here too: verification is the stage
  // that limits (this thread is busy about 40% of the time), and a fourth thread that freed
  // them cost more CPU than this one does (alternating runs to height 120: 52.2 against 53.1
  // us of CPU per tx, medians of 10; jemalloc frees memory cheaper on the thread that used it).
  StageQueue<Fetched> fetched(3);
  StageQueue<Checked> checked(2);
  std::thread reader([&] {
    for (uint64_t h = 1; h <= last; ++h) {
      Fetched next = source.Next();
      const bool stop = !next.ok() || !next->has_value();
      if (!fetched.Push(std::move(next)) || stop) break;
    }
    fetched.Push(std::optional<CertifiedBlock>());  // the end (ignored once closed)
  });
  std::thread checker([&] {
    node::chain::Workers workers(threads);
    while (std::optional<Fetched> item = fetched.Pop()) {
      Checked c{std::move(*item), std::nullopt};
      const bool block = c.fetched.ok() && c.fetched->has_value();
      if (block) c.txs = node::chain::CheckBlockTxs((*c.fetched)->block.txs(), chain_id, workers);
      if (!checked.Push(std::move(c)) || !block) break;
    }
  });
  auto stop_stages = [&] {
    fetched.Close();
    checked.Close();
    checker.join();
    reader.join();
  };

  Status failure;
  while (true) {
    std::optional<Checked> item = checked.Pop();
    const uint64_t h = auditor.height() + 1;
    if (!item) {
      failure = Error{"INTERNAL", "the audit pipeline stopped early"};
      break;
    }
    if (!item->fetched.ok()) {
      const Error& e = item->fetched.error();
      if (e.code == kLedgerMalformed) {
        auditor.Fail(h, "ledger", e.message);
      } else {
        failure = e;
      }
      break;
    }
    if (!item->fetched->has_value()) {
      if (h <= last) {
        auditor.Fail(h, "ledger", source.Describe() + " ends at height " + std::to_string(h - 1));
      }
      break;
    }
    Result<bool> applied = auditor.Apply(**item->fetched, *item->txs);
    if (!applied.ok()) {
      failure = applied.error();
      break;
    }
    if (!*applied) break;
    if (options.progress) {
      options.progress(
          AuditProgress{out.height, last, out.txs,
                        std::chrono::duration<double>(Clock::now() - started).count()});
    }
    if (out.height == last) break;
  }
  stop_stages();
  if (!failure.ok()) return failure.error();
  if (Status s = out.state->ReleaseMemory(); !s.ok()) return s.error();
  return finish();
}

}  // namespace bas::audit
