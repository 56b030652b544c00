// The consensus simulator (DESIGN.md section 8, "Consensus simulation"; docs/consensus.md):
// N validators, each a real node::consensus::Core with real BIP340 keys, on a simulated clock
// and network, driven by one seed. Everything random (keys, delays, drops, duplicates,
// partitions, crashes, clock skew, the equivocators' choices) comes from the seed, so a seed
// replays exactly; signatures draw fresh randomness but no decision depends on their bytes.
//
// After every event the checker holds the invariants: no two honest nodes decide different
// blocks at one height; every decided block is valid and has a commit that
// node::chain::VerifyCommit accepts with the height's validator set; no honest validator signs
// two different messages for one height, round and step (across restarts too); an honest
// node that is handed two conflicting votes at its height reports the evidence, and evidence
// never names an honest validator. Once the faults have healed (all nodes up and connected),
// every honest node must have decided every height up to H within a bounded simulated time.
//
// Single-threaded; one Simulation per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace bas::sim {

enum class FaultKind { kNone, kCrash, kPartition, kByzantine, kAll };

// "none", "crash", "partition", "byzantine", "all"; nullopt for anything else.
std::optional<FaultKind> ParseFaultKind(std::string_view name);
std::string_view FaultKindName(FaultKind kind);

// The most equivocating validators (of power 1, next to honest validators of power >= 1) that
// keep their power below 1/3 of the total: (nodes - 1) / 3.
int ByzantineLimit(int nodes);

struct SimOptions {
  int nodes = 4;
  uint64_t seed = 1;
  FaultKind faults = FaultKind::kAll;
  // Equivocating validators; nullopt: ByzantineLimit(nodes) when the faults include byzantine
  // ones, else 0. Above the limit the run is a negative control: a fork is expected.
  std::optional<int> byzantine;
  int heights = 5;
};

// The number of byzantine validators options asks for (the default resolved).
int ByzantineCount(const SimOptions& options);

struct SimResult {
  // The first violated invariant (a run stops at it); empty when there was none.
  std::string violation;
  bool fork = false;  // the violation is two decisions for one height
  uint64_t faults_healed_ms = 0;
  uint64_t finished_ms = 0;  // when the last honest node decided height H (or the run stopped)
  uint64_t events = 0;
  uint64_t messages = 0;
  uint64_t equivocations = 0;  // (validator, height, round, type) the equivocators signed twice
  uint64_t evidence = 0;       // of those, reported by some honest node
  uint32_t max_round = 0;      // the highest round any honest node decided in
};

// Runs one seed. trace, when given, receives one line per event.
SimResult RunSimulation(const SimOptions& options, std::ostream* trace = nullptr);

// The bas-sim command line that replays options' seed with a trace.
std::string ReplayCommand(const SimOptions& options);

}  // namespace bas::sim
