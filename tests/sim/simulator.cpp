#include "tests/sim/simulator.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "bas/v1/chain.pb.h"
#include "crypto/hash.h"
#include "crypto/schnorr.h"
#include "node/chain/commit.h"
#include "node/chain/encoding.h"
#include "node/consensus/core.h"
#include "node/consensus/messages.h"
#include "node/consensus/safety_record.h"
#include "node/consensus/validator_set.h"

namespace bas::sim {
namespace {

namespace cons = node::consensus;
using bas::v1::Block;
using bas::v1::ConsensusProposal;
using bas::v1::ConsensusVote;

constexpr std::string_view kChainId = "bas-sim";
constexpr int64_t kGenesisTime = 1767225600;
// The chain's consensus parameters in the simulation (milliseconds).
constexpr cons::TimeoutParams kTimeouts{300, 150, 150, 100};
// How often a node re-sends its own messages of its height and its status (local time), and
// every how many of those intervals it re-sends everything it accepted at its height.
constexpr uint64_t kGossipIntervalMs = 200;
constexpr uint64_t kFullGossipEvery = 4;
// Network delays: always 1..kMaxDelayMs once the faults have healed (the paper's Delta).
constexpr uint64_t kMaxDelayMs = 30;
// Liveness: after the faults heal, every honest node decides every height up to H within
// kLivenessBaseMs + H * kLivenessPerHeightMs of simulated time.
constexpr uint64_t kLivenessBaseMs = 20000;
constexpr uint64_t kLivenessPerHeightMs = 4000;
// Messages for the height after a node's current one are kept (up to this many) and handed to
// the core when it gets there; messages further ahead are dropped (gossip re-sends them).
constexpr size_t kMaxBufferedMessages = 4000;

// splitmix64: small, fast, and the same sequence on every platform (unlike the distributions
// of <random>, whose algorithms the standard leaves to the library).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  uint64_t Range(uint64_t lo, uint64_t hi) { return lo + Below(hi - lo + 1); }
  bool Chance(uint64_t per_mille) { return Below(1000) < per_mille; }
  template <typename T>
  void Shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[Below(i)]);
  }

 private:
  uint64_t state_;
};

std::string Hex8(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < 4; ++i) {
    out += kDigits[static_cast<uint8_t>(bytes[i]) >> 4];
    out += kDigits[static_cast<uint8_t>(bytes[i]) & 15];
  }
  return bytes.empty() ? "nil" : out;
}

std::string HashOf(const Block& block) {
  return crypto::HashBytes(node::chain::BlockHash(block.header()));
}

// A SafetyStore that is durable at once: it survives the node's crash in the simulation.
class DurableStore : public cons::SafetyStore {
 public:
  Status Save(const cons::SafetyRecord& record) override {
    record_ = record;
    return Status::Ok();
  }
  const std::optional<cons::SafetyRecord>& record() const { return record_; }

 private:
  std::optional<cons::SafetyRecord> record_;
};

struct Decided {
  uint64_t height = 0;
  uint32_t round = 0;
  std::string block_hash;
  std::shared_ptr<const Block> block;
  bas::v1::Commit commit;
};

struct Envelope {
  enum class Kind { kProposal, kVote, kStatus, kDecision };
  Kind kind = Kind::kVote;
  int from = -1;
  std::shared_ptr<const ConsensusProposal> proposal;
  std::shared_ptr<const ConsensusVote> vote;
  uint64_t status_height = 0;               // kStatus: the sender's current height
  std::shared_ptr<const Decided> decision;  // kDecision: block sync for a node behind

  uint64_t height() const { return kind == Kind::kProposal ? proposal->height() : vote->height(); }
};

struct Event {
  enum class Type {
    kDeliver,
    kTimeout,
    kValidate,
    kBlockRequest,
    kGossip,
    kCrash,
    kRestart,
    kPartition,
    kHeal,
    kNextHeight
  };
  uint64_t time = 0;
  uint64_t seq = 0;
  Type type = Type::kDeliver;
  int node = -1;
  uint64_t incarnation = 0;  // timers, validations and gossip die with their process
  Envelope message;
  cons::Timeout timeout;
  std::string block_hash;
  std::shared_ptr<const Block> block;
  uint64_t height = 0;
  uint32_t round = 0;
  int partition = 0;
};

// (validator key, height, round, type): one vote slot.
using VoteKey = std::tuple<std::string, uint64_t, uint32_t, int>;

VoteKey KeyOf(const ConsensusVote& v) {
  return {v.validator(), v.height(), v.round(), static_cast<int>(v.type())};
}

struct SimNode {
  int id = 0;
  std::optional<crypto::KeyPair> key;
  std::string key_bytes;
  bool byzantine = false;
  int group = 0;  // honest nodes: 0 or 1, the two sides the equivocators play against
  uint64_t clock_per_mille = 1000;  // local time runs at this rate (clock skew)
  DurableStore store;
  std::map<uint64_t, std::shared_ptr<const Decided>> chain;  // durable, like the block store
  // The process; gone while crashed.
  bool up = true;
  uint64_t incarnation = 0;
  uint64_t down_until = 0;
  std::unique_ptr<cons::Core> core;
  std::vector<Envelope> future;  // messages for core->height() + 1
  // Per height and per process life:
  std::set<std::string> relayed;
  std::vector<Envelope> accepted;  // others' messages the core took at this height, in order
  uint64_t gossip_ticks = 0;
  bool certificate_given = false;
  std::map<VoteKey, std::set<std::string>> delivered;  // block hashes handed to the core
  std::set<VoteKey> reported;
  std::vector<std::pair<Envelope, Envelope>> byzantine_sent;  // (to side 0, to side 1)

  uint64_t next_height() const { return chain.size() + 1; }
  // Done: decided every height the run asks for. Its core (if any) stays at the last height.
  bool finished = false;
  void ResetHeightState() {
    relayed.clear();
    accepted.clear();
    certificate_given = false;
    delivered.clear();
    reported.clear();
    byzantine_sent.clear();
  }
};

class Simulation {
 public:
  Simulation(const SimOptions& options, std::ostream* trace)
      : options_(options),
        byzantine_(ByzantineCount(options)),
        trace_(trace),
        schedule_rng_(options.seed * 0x100000001b3ULL + 1),
        net_rng_(options.seed * 0x100000001b3ULL + 2) {}

  SimResult Run();

 private:
  // Setup
  void MakeNodes();
  void ScheduleFaults();
  const cons::ValidatorSet& SetFor(uint64_t height);
  Block MakeBlock(uint64_t height, uint32_t round, std::string_view tag, bool valid) const;
  Block ForgedBlock(uint64_t height, uint32_t round) const;
  static bool SimValid(const Block& block, uint64_t height);

  // The event loop
  void Push(Event event);
  void Handle(Event& event);
  uint64_t LocalDelay(const SimNode& n, uint64_t ms) const {
    return std::max<uint64_t>(1, ms * n.clock_per_mille / 1000);
  }
  bool Faulty() const { return options_.faults != FaultKind::kNone && now_ < faults_end_; }
  bool AllDone() const;

  // Nodes
  void Start(SimNode& n);
  void Crash(SimNode& n);
  void Deliver(SimNode& n, const Envelope& e);
  void HandToCore(SimNode& n, const Envelope& e);
  void Apply(SimNode& n, Result<cons::Effects> result, const char* what);
  void StartNextHeight(SimNode& n);
  void Gossip(SimNode& n);
  void Broadcast(SimNode& n, const Envelope& e, int except = -1);
  void ByzantineBroadcast(SimNode& n, const Envelope& honest_version);
  void Send(int from, int to, const Envelope& e);
  bool Connected(int a, int b) const;

  // The checker
  void CheckSigned(const SimNode& n, const Envelope& e);
  void CheckDecision(const SimNode& n, const cons::Decide& d);
  void CheckEvidence(SimNode& n, const bas::v1::Evidence& ev);
  void Violation(std::string what, bool fork = false);
  void Trace(const SimNode& n, const std::string& line) {
    if (trace_) *trace_ << "t=" << now_ << " n" << n.id << " " << line << "\n";
  }

  SimOptions options_;
  int byzantine_;
  std::ostream* trace_;
  Rng schedule_rng_;
  Rng net_rng_;
  std::vector<SimNode> nodes_;
  std::map<std::string, int> node_of_key_;
  std::map<uint64_t, cons::ValidatorSet> sets_;
  std::vector<std::unique_ptr<Event>> queue_;  // a heap on (time, seq)
  uint64_t seq_ = 0;
  uint64_t now_ = 0;
  uint64_t faults_end_ = 0;
  uint32_t drop_per_mille_ = 0;
  uint32_t duplicate_per_mille_ = 0;
  uint32_t slow_per_mille_ = 0;
  uint32_t slow_decisive_per_mille_ = 0;
  // The pause between a decision and the next height (the node's block interval), so that
  // the heights spread over the time the faults last.
  uint64_t block_interval_ms_ = 0;
  // Partition: side per node (-1: a bridge, connected to both sides); empty when healed.
  std::vector<int> side_;

  // Checker state
  std::map<uint64_t, std::pair<std::string, int>> decided_;  // height -> (block hash, node)
  std::map<std::tuple<std::string, uint64_t, uint32_t, int>, std::string> honest_signed_;
  std::set<VoteKey> equivocations_;
  std::set<VoteKey> evidence_;
  SimResult result_;
};

// ---------------------------------------------------------------------------------------------
// Setup

void Simulation::MakeNodes() {
  const int n = options_.nodes;
  nodes_.resize(n);
  for (int i = 0; i < n; ++i) {
    SimNode& node = nodes_[i];
    node.id = i;
    const crypto::Hash32 secret = crypto::Sha256Of("bas-sim/" + std::to_string(options_.seed) +
                                                   "/validator/" + std::to_string(i));
    auto key = crypto::KeyPair::FromSecret(secret);
    if (!key.ok()) std::abort();  // a SHA-256 output at or above the curve order
    node.key = *key;
    node.key_bytes = crypto::HashBytes(node.key->public_key());
    node_of_key_[node.key_bytes] = i;
  }
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  schedule_rng_.Shuffle(order);
  for (int i = 0; i < byzantine_; ++i) nodes_[order[i]].byzantine = true;
  // The honest nodes in two sides, which the equivocators tell different things.
  int honest_seen = 0;
  const int honest = n - byzantine_;
  for (int i = byzantine_; i < n; ++i) nodes_[order[i]].group = honest_seen++ < honest / 2 ? 0 : 1;
  if (options_.faults != FaultKind::kNone) {
    for (SimNode& node : nodes_) node.clock_per_mille = schedule_rng_.Range(700, 1500);
  }
}

// Validator sets change every three heights: honest validators get power 1..3 (equal powers
// in a negative control, so the equivocators' share is what the options say), and with 7 or
// more validators one honest validator sits out now and then. The core only ever sees the
// set the driver hands it for a height.
const cons::ValidatorSet& Simulation::SetFor(uint64_t height) {
  auto it = sets_.find(height);
  if (it != sets_.end()) return it->second;
  const uint64_t epoch = (height - 1) / 3;
  Rng rng(options_.seed ^ (0x5e7 + epoch * 0x9e3779b97f4a7c15ULL));
  const bool negative_control = byzantine_ > ByzantineLimit(options_.nodes);
  bas::v1::ValidatorSet proto;
  std::optional<int> sitting_out;
  if (options_.nodes >= 7 && epoch > 0 && rng.Chance(500)) {
    std::vector<int> honest;
    for (const SimNode& n : nodes_) {
      if (!n.byzantine) honest.push_back(n.id);
    }
    sitting_out = honest[rng.Below(honest.size())];
  }
  for (const SimNode& n : nodes_) {
    if (sitting_out == n.id) continue;
    auto* v = proto.add_validators();
    v->set_key(n.key_bytes);
    v->set_power(n.byzantine || negative_control || epoch == 0 ? 1 : rng.Range(1, 3));
  }
  if (!negative_control) {
    // The equivocators must hold less than 1/3 of the power: honest > 2 x byzantine. (Only an
    // honest validator sitting out with every other honest one at power 1 can break it.)
    uint64_t honest = 0, byzantine = 0;
    bas::v1::Validator* first_honest = nullptr;
    for (auto& v : *proto.mutable_validators()) {
      const bool is_byzantine = nodes_[node_of_key_.at(v.key())].byzantine;
      (is_byzantine ? byzantine : honest) += v.power();
      if (!is_byzantine && first_honest == nullptr) first_honest = &v;
    }
    if (honest <= 2 * byzantine) {
      first_honest->set_power(first_honest->power() + 2 * byzantine + 1 - honest);
    }
  }
  auto set = cons::ValidatorSet::From(proto);
  if (!set.ok()) std::abort();
  return sets_.emplace(height, *set).first->second;
}

Block Simulation::MakeBlock(uint64_t height, uint32_t round, std::string_view tag,
                            bool valid) const {
  Block b;
  auto* h = b.mutable_header();
  h->set_chain_id(std::string(kChainId));
  h->set_height(height);
  h->set_time(kGenesisTime + static_cast<int64_t>(height));
  const std::string base = std::to_string(options_.seed) + "/" + std::to_string(height) + "/" +
                           std::to_string(round) + "/" + std::string(tag) + "/";
  auto field = [&](int i) { return crypto::HashBytes(crypto::Sha256Of(base + std::to_string(i))); };
  h->set_prev_block_hash(field(1));
  h->set_tx_root(field(2));
  h->set_results_root(field(3));
  std::string app_hash = field(4);
  // An invalid block is marked in its app hash, as a real one would fail re-execution.
  app_hash[0] = valid ? static_cast<char>(app_hash[0] & 0x7f) : '\xff';
  h->set_app_hash(app_hash);
  h->set_validators_hash(field(5));
  h->set_next_validators_hash(field(6));
  h->set_proposer(field(7));
  h->set_last_commit_hash(field(8));
  h->set_evidence_hash(field(9));
  return b;
}

// The equivocators' second block for (height, round), the same for all of them; one in four
// is invalid, so honest nodes must also refuse what they are offered.
Block Simulation::ForgedBlock(uint64_t height, uint32_t round) const {
  const crypto::Hash32 coin =
      crypto::Sha256Of("bas-sim/forged/" + std::to_string(options_.seed) + "/" +
                       std::to_string(height) + "/" + std::to_string(round));
  return MakeBlock(height, round, "forged", (coin[0] & 3) != 0);
}

bool Simulation::SimValid(const Block& block, uint64_t height) {
  return cons::CheckBlockShape(block, kChainId, height).empty() &&
         static_cast<uint8_t>(block.header().app_hash()[0]) != 0xff;
}

void Simulation::ScheduleFaults() {
  const FaultKind f = options_.faults;
  Rng& rng = schedule_rng_;
  if (f == FaultKind::kNone) {
    block_interval_ms_ = rng.Range(0, 50);
    return;
  }
  faults_end_ = rng.Range(1000, 5000);
  block_interval_ms_ = rng.Range(0, faults_end_ / static_cast<uint64_t>(options_.heights));
  drop_per_mille_ = static_cast<uint32_t>(rng.Range(0, 150));
  duplicate_per_mille_ = static_cast<uint32_t>(rng.Range(0, 80));
  slow_per_mille_ = static_cast<uint32_t>(rng.Range(0, 150));
  slow_decisive_per_mille_ = static_cast<uint32_t>(rng.Range(0, 600));
  const bool crashes = f == FaultKind::kCrash || f == FaultKind::kAll;
  const bool partitions =
      f == FaultKind::kPartition || f == FaultKind::kAll || f == FaultKind::kByzantine;
  if (crashes) {
    const uint64_t episodes = rng.Range(1, 4);
    for (uint64_t i = 0; i < episodes; ++i) {
      const uint64_t at = rng.Range(0, faults_end_ - 100);
      const uint64_t restart = std::min(faults_end_, at + rng.Range(20, 1500));
      const bool everyone = rng.Chance(250);
      const int who = static_cast<int>(rng.Below(nodes_.size()));
      for (const SimNode& n : nodes_) {
        if (!everyone && n.id != who) continue;
        Event crash;
        crash.time = at;
        crash.type = Event::Type::kCrash;
        crash.node = n.id;
        crash.height = restart;  // when it comes back
        Push(std::move(crash));
      }
    }
  }
  if (partitions && nodes_.size() > 1) {
    uint64_t t = rng.Range(0, faults_end_ / 3);
    while (t + 50 < faults_end_) {
      const uint64_t heal = std::min(faults_end_, t + rng.Range(100, 2500));
      Event split;
      split.time = t;
      split.type = Event::Type::kPartition;
      // 0: two halves; 1: a quarter cut off (3|1); 2: two halves and a bridge node between
      // them; 3: the honest nodes in their two sides, the equivocators bridging (byzantine).
      const bool byzantine_split =
          byzantine_ > 0 && (f == FaultKind::kByzantine || f == FaultKind::kAll);
      split.partition = static_cast<int>(rng.Below(byzantine_split ? 4 : 3));
      Push(std::move(split));
      Event mend;
      mend.time = heal;
      mend.type = Event::Type::kHeal;
      Push(std::move(mend));
      t = heal + rng.Range(50, 1000);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The event loop

void Simulation::Push(Event event) {
  event.seq = seq_++;
  queue_.push_back(std::make_unique<Event>(std::move(event)));
  std::push_heap(queue_.begin(), queue_.end(), [](const auto& a, const auto& b) {
    return std::tie(a->time, a->seq) > std::tie(b->time, b->seq);
  });
}

SimResult Simulation::Run() {
  MakeNodes();
  ScheduleFaults();
  result_.faults_healed_ms = faults_end_;
  for (SimNode& n : nodes_) Start(n);
  // Clocks run at up to 1.5 times real time: a block interval can last 1.5 times as long.
  const uint64_t deadline =
      faults_end_ + kLivenessBaseMs +
      static_cast<uint64_t>(options_.heights) * (kLivenessPerHeightMs + block_interval_ms_ * 3 / 2);
  auto later = [](const auto& a, const auto& b) {
    return std::tie(a->time, a->seq) > std::tie(b->time, b->seq);
  };
  while (!queue_.empty() && result_.violation.empty()) {
    std::pop_heap(queue_.begin(), queue_.end(), later);
    std::unique_ptr<Event> event = std::move(queue_.back());
    queue_.pop_back();
    if (event->time > deadline) break;
    now_ = event->time;
    ++result_.events;
    Handle(*event);
    if (result_.violation.empty() && now_ >= faults_end_ && AllDone()) break;
  }
  result_.finished_ms = now_;
  if (result_.violation.empty() && !AllDone()) {
    std::ostringstream why;
    why << "liveness: faults healed at " << faults_end_ << " ms, yet by " << deadline
        << " ms not every honest node decided " << options_.heights << " heights (";
    for (const SimNode& n : nodes_) {
      if (!n.byzantine) {
        why << " n" << n.id << "@" << n.chain.size() << "/r" << (n.core ? n.core->round() : 0);
      }
    }
    why << " )";
    Violation(why.str());
  }
  result_.equivocations = equivocations_.size();
  for (const VoteKey& k : equivocations_) result_.evidence += evidence_.count(k);
  return result_;
}

bool Simulation::AllDone() const {
  for (const SimNode& n : nodes_) {
    if (n.byzantine) continue;
    if (!n.up || !n.finished) return false;
  }
  return true;
}

void Simulation::Handle(Event& e) {
  using T = Event::Type;
  if (e.type == T::kPartition) {
    std::vector<int> order(nodes_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    net_rng_.Shuffle(order);
    side_.assign(nodes_.size(), 0);
    const size_t n = nodes_.size();
    switch (e.partition) {
      case 0:  // halves
        for (size_t i = 0; i < n / 2; ++i) side_[order[i]] = 1;
        break;
      case 1:  // a quarter (at least one node) cut off
        for (size_t i = 0; i < std::max<size_t>(1, n / 4); ++i) side_[order[i]] = 1;
        break;
      case 2:  // halves with a bridge node in both
        side_[order[0]] = -1;
        for (size_t i = 1; i < 1 + (n - 1) / 2; ++i) side_[order[i]] = 1;
        break;
      default:  // the equivocators' two honest sides, the equivocators bridging
        for (const SimNode& node : nodes_) side_[node.id] = node.byzantine ? -1 : node.group;
        break;
    }
    if (trace_) {
      *trace_ << "t=" << now_ << " partition";
      for (size_t i = 0; i < n; ++i) *trace_ << " n" << i << ":" << side_[i];
      *trace_ << "\n";
    }
    return;
  }
  if (e.type == T::kHeal) {
    side_.clear();
    if (trace_) *trace_ << "t=" << now_ << " partition healed\n";
    return;
  }
  SimNode& n = nodes_.at(e.node);
  switch (e.type) {
    case T::kCrash:
      if (n.up) {
        n.down_until = e.height;
        Crash(n);
        Event back;
        back.time = e.height;
        back.type = T::kRestart;
        back.node = n.id;
        Push(std::move(back));
      }
      return;
    case T::kRestart:
      if (!n.up && now_ >= n.down_until) Start(n);
      return;
    default:
      break;
  }
  if (!n.up) return;  // lost with the process, or a message to a crashed node
  if (e.type != T::kDeliver && e.incarnation != n.incarnation) return;
  switch (e.type) {
    case T::kDeliver:
      Deliver(n, e.message);
      break;
    case T::kTimeout:
      Trace(n, "timeout h" + std::to_string(e.timeout.height) + " r" +
                   std::to_string(e.timeout.round) + " step " +
                   std::to_string(static_cast<int>(e.timeout.step)));
      Apply(n, n.core->OnTimeout(e.timeout), "timeout");
      break;
    case T::kValidate:
      Apply(n, n.core->OnBlockValid(e.block_hash, SimValid(*e.block, n.core->height())),
            "valid(v)");
      break;
    case T::kBlockRequest: {
      Block block = MakeBlock(e.height, e.round, "node" + std::to_string(n.id), true);
      block.mutable_header()->set_proposer(n.key_bytes);
      Apply(n, n.core->OnProposalBlock(e.height, e.round, std::move(block)), "getValue");
      break;
    }
    case T::kGossip:
      Gossip(n);
      break;
    case T::kNextHeight:
      StartNextHeight(n);
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Nodes

void Simulation::Start(SimNode& n) {
  n.up = true;
  ++n.incarnation;
  n.future.clear();
  n.ResetHeightState();
  n.finished = n.chain.size() >= static_cast<size_t>(options_.heights);
  if (!n.finished) {
    n.core = std::make_unique<cons::Core>(std::string(kChainId), kTimeouts, *n.key, &n.store,
                                          n.store.record());
    Trace(n, "start at height " + std::to_string(n.next_height()) +
                 (n.store.record() ? " from its safety record" : ""));
    Apply(n, n.core->StartHeight(n.next_height(), SetFor(n.next_height())), "start");
  }
  Event gossip;
  gossip.time = now_ + LocalDelay(n, net_rng_.Range(1, kGossipIntervalMs));
  gossip.type = Event::Type::kGossip;
  gossip.node = n.id;
  gossip.incarnation = n.incarnation;
  Push(std::move(gossip));
}

void Simulation::Crash(SimNode& n) {
  Trace(n, "crash");
  n.up = false;
  ++n.incarnation;
  n.core.reset();
  n.future.clear();
  n.ResetHeightState();
}

void Simulation::Deliver(SimNode& n, const Envelope& e) {
  using K = Envelope::Kind;
  if (e.kind == K::kStatus) {
    // Block sync: a node behind asks by telling its height; whoever has the block answers.
    auto it = n.chain.find(e.status_height);
    if (it != n.chain.end()) {
      Envelope reply;
      reply.kind = K::kDecision;
      reply.from = n.id;
      reply.decision = it->second;
      Send(n.id, e.from, reply);
    }
    return;
  }
  if (n.core == nullptr) return;  // finished before a restart: it only answers block sync
  const uint64_t height = n.core->height();
  if (e.kind == K::kDecision) {
    if (e.decision->height != height || n.certificate_given || n.core->decided()) return;
    n.certificate_given = true;
    Trace(n,
          "block sync: commit for h" + std::to_string(height) + " from n" + std::to_string(e.from));
    Apply(n, n.core->OnCommit(*e.decision->block, e.decision->commit), "commit");
    return;
  }
  if (e.height() == height + 1) {
    if (n.future.size() < kMaxBufferedMessages) n.future.push_back(e);
    return;
  }
  if (e.height() > height + 1) return;
  HandToCore(n, e);
}

void Simulation::HandToCore(SimNode& n, const Envelope& e) {
  using K = Envelope::Kind;
  const uint64_t height = n.core->height();
  Result<cons::Effects> result =
      e.kind == K::kProposal ? n.core->OnProposal(*e.proposal) : n.core->OnVote(*e.vote);
  if (trace_) {
    std::ostringstream line;
    if (e.kind == K::kProposal) {
      line << "got proposal h" << e.proposal->height() << " r" << e.proposal->round() << " vr"
           << e.proposal->valid_round() << " " << Hex8(cons::ProposalBlockHash(*e.proposal));
    } else {
      line << "got " << bas::v1::VoteType_Name(e.vote->type()) << " h" << e.vote->height() << " r"
           << e.vote->round() << " " << Hex8(e.vote->block_hash()) << " by n"
           << node_of_key_.at(e.vote->validator());
    }
    line << " from n" << e.from << (result.ok() ? "" : " refused: " + result.error().code);
    Trace(n, line.str());
  }
  if (!result.ok()) {
    const std::string& code = result.error().code;
    if (code == "HALTED" || code == "PERSIST_FAILED" || code == "BAD_SIGNATURE" ||
        code == "INVALID_MESSAGE" || code == "NOT_STARTED") {
      // Every message on this network is well formed and signed by its author.
      Violation("n" + std::to_string(n.id) + " refused a message: " + code + ": " +
                result.error().message);
    }
    return;
  }
  if (!n.byzantine && e.kind == K::kVote && e.vote->height() == height) {
    // An honest node handed two conflicting votes at its height must report them.
    auto& hashes = n.delivered[KeyOf(*e.vote)];
    if (!hashes.empty() && !hashes.count(e.vote->block_hash())) {
      bool reported = n.reported.count(KeyOf(*e.vote)) > 0;
      for (const cons::Effect& effect : result.value()) {
        if (const auto* ev = std::get_if<cons::ReportEvidence>(&effect)) {
          reported |= KeyOf(ev->evidence.vote_a()) == KeyOf(*e.vote);
        }
      }
      if (!reported) {
        Violation("n" + std::to_string(n.id) + " was handed conflicting votes by n" +
                  std::to_string(node_of_key_.at(e.vote->validator())) +
                  " and reported no evidence");
        return;
      }
    }
    hashes.insert(e.vote->block_hash());
  }
  // Honest nodes relay what they accept at their height once: gossip, which makes the paper's
  // "every message a correct process receives reaches every correct process" hold here.
  if (!n.byzantine && e.height() == height) {
    std::string id = e.kind == K::kProposal ? "p" + e.proposal->SerializeAsString()
                                            : "v" + e.vote->validator() + e.vote->block_hash() +
                                                  std::to_string(e.vote->round()) + "/" +
                                                  std::to_string(e.vote->type());
    if (n.relayed.insert(std::move(id)).second) {
      Envelope copy = e;
      const int original_sender = copy.from;
      copy.from = n.id;
      Broadcast(n, copy, original_sender);
      n.accepted.push_back(std::move(copy));
    }
  }
  Apply(n, std::move(result), nullptr);
}

void Simulation::Apply(SimNode& n, Result<cons::Effects> result, const char* what) {
  if (!result.ok()) {
    const std::string& code = result.error().code;
    if (code != "STALE_HEIGHT" && code != "FUTURE_HEIGHT") {
      Violation("n" + std::to_string(n.id) + ": " + (what ? what : "input") + " failed: " + code +
                ": " + result.error().message);
    }
    return;
  }
  bool decided = false;
  for (cons::Effect& effect : result.value()) {
    if (!result_.violation.empty()) return;
    if (auto* p = std::get_if<cons::BroadcastProposal>(&effect)) {
      Envelope e;
      e.kind = Envelope::Kind::kProposal;
      e.from = n.id;
      e.proposal = std::make_shared<const ConsensusProposal>(std::move(p->proposal));
      Trace(n, "proposes h" + std::to_string(e.proposal->height()) + " r" +
                   std::to_string(e.proposal->round()) + " vr" +
                   std::to_string(e.proposal->valid_round()) + " " +
                   Hex8(cons::ProposalBlockHash(*e.proposal)));
      CheckSigned(n, e);
      if (n.byzantine) {
        ByzantineBroadcast(n, e);
      } else {
        Broadcast(n, e);
      }
    } else if (auto* v = std::get_if<cons::BroadcastVote>(&effect)) {
      Envelope e;
      e.kind = Envelope::Kind::kVote;
      e.from = n.id;
      e.vote = std::make_shared<const ConsensusVote>(std::move(v->vote));
      Trace(n, "votes " + bas::v1::VoteType_Name(e.vote->type()) + " h" +
                   std::to_string(e.vote->height()) + " r" + std::to_string(e.vote->round()) + " " +
                   Hex8(e.vote->block_hash()));
      CheckSigned(n, e);
      if (n.byzantine) {
        ByzantineBroadcast(n, e);
      } else {
        Broadcast(n, e);
      }
    } else if (auto* t = std::get_if<cons::ScheduleTimeout>(&effect)) {
      Event timer;
      timer.time = now_ + LocalDelay(n, t->delay_ms);
      timer.type = Event::Type::kTimeout;
      timer.node = n.id;
      timer.incarnation = n.incarnation;
      timer.timeout = t->timeout;
      Push(std::move(timer));
    } else if (auto* r = std::get_if<cons::RequestBlock>(&effect)) {
      Event ask;
      ask.time = now_ + net_rng_.Range(0, 3);
      ask.type = Event::Type::kBlockRequest;
      ask.node = n.id;
      ask.incarnation = n.incarnation;
      ask.height = r->height;
      ask.round = r->round;
      Push(std::move(ask));
    } else if (auto* check = std::get_if<cons::ValidateBlock>(&effect)) {
      Event ask;
      ask.time = now_ + net_rng_.Range(0, 5);
      ask.type = Event::Type::kValidate;
      ask.node = n.id;
      ask.incarnation = n.incarnation;
      ask.block_hash = check->block_hash;
      ask.block = check->block;
      Push(std::move(ask));
    } else if (auto* d = std::get_if<cons::Decide>(&effect)) {
      Trace(n, "decides h" + std::to_string(d->height) + " r" + std::to_string(d->round) + " " +
                   Hex8(d->block_hash));
      CheckDecision(n, *d);
      auto decided_block = std::make_shared<Decided>();
      decided_block->height = d->height;
      decided_block->round = d->round;
      decided_block->block_hash = d->block_hash;
      decided_block->block = d->block;
      decided_block->commit = d->commit;
      n.chain[d->height] = std::move(decided_block);
      decided = true;
    } else if (auto* ev = std::get_if<cons::ReportEvidence>(&effect)) {
      CheckEvidence(n, ev->evidence);
    }
  }
  if (decided && result_.violation.empty()) {
    if (n.chain.size() >= static_cast<size_t>(options_.heights)) {
      n.finished = true;
      return;
    }
    Event next;
    next.time = now_ + LocalDelay(n, block_interval_ms_);
    next.type = Event::Type::kNextHeight;
    next.node = n.id;
    next.incarnation = n.incarnation;
    Push(std::move(next));
  }
}

// What the driver does after a decision: execute and store the block (here: nothing to
// execute; the chain entry is already durable), then start the next height with its set and
// hand the core what arrived early for it.
void Simulation::StartNextHeight(SimNode& n) {
  n.ResetHeightState();
  const uint64_t height = n.next_height();
  Apply(n, n.core->StartHeight(height, SetFor(height)), "start height");
  std::vector<Envelope> early;
  early.swap(n.future);
  for (const Envelope& e : early) {
    if (!n.up || !result_.violation.empty()) return;
    Deliver(n, e);
  }
}

void Simulation::Gossip(SimNode& n) {
  if (n.byzantine) {
    for (const auto& [to_side0, to_side1] : n.byzantine_sent) {
      for (const SimNode& peer : nodes_) {
        if (peer.id == n.id) continue;
        Send(n.id, peer.id, peer.byzantine || peer.group == 0 ? to_side0 : to_side1);
      }
    }
  } else if (n.core != nullptr) {
    // Gossip: what it signed at its height every time, and every few times all it accepted
    // there, so a message one honest node has reaches all of them even if the sender (an
    // equivocator, or a crashed node) never sends it again.
    if (++n.gossip_ticks % kFullGossipEvery == 0) {
      for (const Envelope& e : n.accepted) Broadcast(n, e);
    }
    for (const cons::SignedMessage& m : n.core->OwnMessages()) {
      Envelope e;
      e.from = n.id;
      if (const auto* p = std::get_if<ConsensusProposal>(&m)) {
        e.kind = Envelope::Kind::kProposal;
        e.proposal = std::make_shared<const ConsensusProposal>(*p);
      } else {
        e.kind = Envelope::Kind::kVote;
        e.vote = std::make_shared<const ConsensusVote>(std::get<ConsensusVote>(m));
      }
      Broadcast(n, e);
    }
  }
  Envelope status;
  status.kind = Envelope::Kind::kStatus;
  status.from = n.id;
  status.status_height = n.next_height();
  Broadcast(n, status);
  Event next;
  next.time = now_ + LocalDelay(n, kGossipIntervalMs);
  next.type = Event::Type::kGossip;
  next.node = n.id;
  next.incarnation = n.incarnation;
  Push(std::move(next));
}

void Simulation::Broadcast(SimNode& n, const Envelope& e, int except) {
  for (const SimNode& peer : nodes_) {
    if (peer.id != n.id && peer.id != except) Send(n.id, peer.id, e);
  }
}

// An equivocator sends what its (honest) core signed to the other equivocators and to side 0
// of the honest nodes, and a conflicting message for the same height, round and step to
// side 1: a vote for the forged block of the round (nil if it already voted for it), or, as
// the proposer, a proposal of the forged block.
void Simulation::ByzantineBroadcast(SimNode& n, const Envelope& honest_version) {
  Envelope other;
  other.from = n.id;
  other.kind = honest_version.kind;
  if (honest_version.kind == Envelope::Kind::kProposal) {
    const ConsensusProposal& p = *honest_version.proposal;
    other.proposal = std::make_shared<const ConsensusProposal>(cons::SignProposal(
        *n.key, kChainId, p.height(), p.round(), -1, ForgedBlock(p.height(), p.round())));
  } else {
    const ConsensusVote& v = *honest_version.vote;
    const std::string forged = HashOf(ForgedBlock(v.height(), v.round()));
    other.vote = std::make_shared<const ConsensusVote>(
        node::chain::SignVote(*n.key, kChainId, v.type(), v.height(), v.round(),
                              v.block_hash() == forged ? std::string() : forged));
    equivocations_.insert(KeyOf(v));
  }
  n.byzantine_sent.emplace_back(honest_version, other);
  for (const SimNode& peer : nodes_) {
    if (peer.id == n.id) continue;
    Send(n.id, peer.id, peer.byzantine || peer.group == 0 ? honest_version : other);
  }
}

bool Simulation::Connected(int a, int b) const {
  if (side_.empty()) return true;
  return side_[a] == side_[b] || side_[a] == -1 || side_[b] == -1;
}

void Simulation::Send(int from, int to, const Envelope& e) {
  ++result_.messages;
  if (!Connected(from, to)) return;
  const bool faulty = Faulty();
  if (faulty && net_rng_.Chance(drop_per_mille_)) return;
  Event deliver;
  deliver.type = Event::Type::kDeliver;
  deliver.node = to;
  deliver.message = e;
  uint64_t delay = net_rng_.Range(1, kMaxDelayMs);
  if (faulty && net_rng_.Chance(slow_per_mille_)) delay += net_rng_.Range(50, 1000);
  // Precommits and block sync are what tells a node that a height is decided: slowing them
  // more than the rest lets rounds go on after some node has decided (where lock bugs bite).
  const bool decisive = e.kind == Envelope::Kind::kDecision ||
                        (e.kind == Envelope::Kind::kVote && e.vote->type() == bas::v1::PRECOMMIT);
  if (faulty && decisive && net_rng_.Chance(slow_decisive_per_mille_)) {
    delay += net_rng_.Range(200, 3000);
  }
  deliver.time = now_ + delay;
  if (faulty && net_rng_.Chance(duplicate_per_mille_)) {
    Event again = deliver;
    again.time = now_ + net_rng_.Range(1, 300);
    Push(std::move(again));
  }
  Push(std::move(deliver));
}

// ---------------------------------------------------------------------------------------------
// The checker

void Simulation::Violation(std::string what, bool fork) {
  if (!result_.violation.empty()) return;
  result_.violation = "t=" + std::to_string(now_) + " ms: " + std::move(what);
  result_.fork = fork;
  if (trace_) *trace_ << "VIOLATION " << result_.violation << "\n";
}

// No honest validator signs two different messages for one height, round and step.
void Simulation::CheckSigned(const SimNode& n, const Envelope& e) {
  if (n.byzantine) return;
  std::tuple<std::string, uint64_t, uint32_t, int> slot;
  std::string content;
  if (e.kind == Envelope::Kind::kProposal) {
    slot = {n.key_bytes, e.proposal->height(), e.proposal->round(), 0};
    content = cons::ProposalBlockHash(*e.proposal) + std::to_string(e.proposal->valid_round());
  } else {
    slot = {n.key_bytes, e.vote->height(), e.vote->round(), static_cast<int>(e.vote->type())};
    content = e.vote->block_hash();
  }
  auto [it, inserted] = honest_signed_.emplace(slot, content);
  if (!inserted && it->second != content) {
    Violation("honest n" + std::to_string(n.id) + " signed two different messages for h" +
              std::to_string(std::get<1>(slot)) + " r" + std::to_string(std::get<2>(slot)) +
              " step " + std::to_string(std::get<3>(slot)));
  }
}

void Simulation::CheckDecision(const SimNode& n, const cons::Decide& d) {
  if (n.byzantine) return;  // an equivocator's own core is fed by everyone; not judged
  if (d.height != n.next_height()) {
    Violation("n" + std::to_string(n.id) + " decided height " + std::to_string(d.height) +
              " out of order");
    return;
  }
  if (d.block == nullptr || HashOf(*d.block) != d.block_hash) {
    Violation("n" + std::to_string(n.id) + " decided a block that does not match its hash");
    return;
  }
  if (!SimValid(*d.block, d.height)) {
    Violation("n" + std::to_string(n.id) + " decided an invalid block at h" +
              std::to_string(d.height));
    return;
  }
  if (Status s = node::chain::VerifyCommit(kChainId, d.height, d.block_hash, d.commit,
                                           SetFor(d.height).proto());
      !s.ok()) {
    Violation("n" + std::to_string(n.id) + " decided h" + std::to_string(d.height) +
              " with a commit that does not verify: " + s.message());
    return;
  }
  auto [it, first] = decided_.emplace(d.height, std::make_pair(d.block_hash, n.id));
  if (!first && it->second.first != d.block_hash) {
    Violation("fork at height " + std::to_string(d.height) + ": n" +
                  std::to_string(it->second.second) + " decided " + Hex8(it->second.first) + ", n" +
                  std::to_string(n.id) + " decided " + Hex8(d.block_hash),
              /*fork=*/true);
    return;
  }
  result_.max_round = std::max(result_.max_round, d.round);
}

void Simulation::CheckEvidence(SimNode& n, const bas::v1::Evidence& ev) {
  const ConsensusVote& a = ev.vote_a();
  const ConsensusVote& b = ev.vote_b();
  if (KeyOf(a) != KeyOf(b) || a.block_hash() == b.block_hash() ||
      !node::chain::VerifyVote(kChainId, a) || !node::chain::VerifyVote(kChainId, b)) {
    Violation("n" + std::to_string(n.id) + " reported evidence that proves nothing");
    return;
  }
  auto who = node_of_key_.find(a.validator());
  if (who == node_of_key_.end() || !nodes_[who->second].byzantine) {
    Violation("n" + std::to_string(n.id) + " reported evidence against an honest validator");
    return;
  }
  Trace(n, "evidence against n" + std::to_string(who->second) + " h" + std::to_string(a.height()) +
               " r" + std::to_string(a.round()));
  n.reported.insert(KeyOf(a));
  if (!n.byzantine) evidence_.insert(KeyOf(a));
}

}  // namespace

std::optional<FaultKind> ParseFaultKind(std::string_view name) {
  for (FaultKind k : {FaultKind::kNone, FaultKind::kCrash, FaultKind::kPartition,
                      FaultKind::kByzantine, FaultKind::kAll}) {
    if (FaultKindName(k) == name) return k;
  }
  return std::nullopt;
}

std::string_view FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kNone:
      return "none";
    case FaultKind::kCrash:
      return "crash";
    case FaultKind::kPartition:
      return "partition";
    case FaultKind::kByzantine:
      return "byzantine";
    case FaultKind::kAll:
      return "all";
  }
  return "?";
}

int ByzantineLimit(int nodes) { return nodes >= 1 ? (nodes - 1) / 3 : 0; }

int ByzantineCount(const SimOptions& options) {
  if (options.byzantine) return *options.byzantine;
  const bool byzantine_faults =
      options.faults == FaultKind::kByzantine || options.faults == FaultKind::kAll;
  return byzantine_faults ? ByzantineLimit(options.nodes) : 0;
}

SimResult RunSimulation(const SimOptions& options, std::ostream* trace) {
  return Simulation(options, trace).Run();
}

std::string ReplayCommand(const SimOptions& options) {
  std::ostringstream cmd;
  cmd << "bas-sim --nodes " << options.nodes << " --faults " << FaultKindName(options.faults)
      << " --byzantine " << ByzantineCount(options) << " --heights " << options.heights
      << " --seed " << options.seed << " --trace";
  return cmd.str();
}

}  // namespace bas::sim
