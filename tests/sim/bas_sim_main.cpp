// bas-sim: runs seeded simulations of the consensus core (tests/sim/simulator.h) and reports
// every seed that violated an invariant with the command that replays it. Exit status 0 when
// no seed violated anything; for a negative control (--byzantine above the fault limit), 0
// when the checker found a fork in at least one seed, as it must.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "tests/sim/simulator.h"

int main(int argc, char** argv) {
  CLI::App app{"Seeded simulations of BAS Ledger's Tendermint consensus core"};
  int nodes = 4;
  uint64_t seeds = 100;
  uint64_t first_seed = 1;
  std::optional<uint64_t> seed;
  std::string faults = "all";
  std::optional<int> byzantine;
  int heights = 5;
  bool trace = false;
  app.add_option("--nodes", nodes, "validators")->check(CLI::Range(1, 64));
  app.add_option("--seeds", seeds, "how many seeds to run");
  app.add_option("--first-seed", first_seed, "the first seed");
  app.add_option("--seed", seed, "run this one seed (same as --first-seed S --seeds 1)");
  app.add_option("--faults", faults, "none|crash|partition|byzantine|all");
  app.add_option("--byzantine", byzantine,
                 "equivocating validators (default: the most tolerated, with byzantine faults)")
      ->check(CLI::Range(0, 64));
  app.add_option("--heights", heights, "heights every honest node must decide")
      ->check(CLI::Range(1, 100000));
  app.add_flag("--trace", trace, "print every event of the run");
  CLI11_PARSE(app, argc, argv);

  const auto kind = bas::sim::ParseFaultKind(faults);
  if (!kind) {
    std::cerr << "bas-sim: --faults must be none, crash, partition, byzantine or all\n";
    return 2;
  }
  if (seed) {
    first_seed = *seed;
    seeds = 1;
  }
  bas::sim::SimOptions options;
  options.nodes = nodes;
  options.faults = *kind;
  options.byzantine = byzantine;
  options.heights = heights;
  const int byzantine_count = bas::sim::ByzantineCount(options);
  if (byzantine_count > nodes) {
    std::cerr << "bas-sim: --byzantine is larger than --nodes\n";
    return 2;
  }
  const bool negative_control = byzantine_count > bas::sim::ByzantineLimit(nodes);

  uint64_t violations = 0, forks = 0, worst_seed = first_seed;
  uint64_t worst_after_heal = 0, equivocations = 0, evidence = 0;
  uint32_t max_round = 0;
  const auto started = std::chrono::steady_clock::now();
  for (uint64_t s = first_seed; s < first_seed + seeds; ++s) {
    options.seed = s;
    const bas::sim::SimResult r = bas::sim::RunSimulation(options, trace ? &std::cout : nullptr);
    equivocations += r.equivocations;
    evidence += r.evidence;
    max_round = std::max(max_round, r.max_round);
    if (r.violation.empty()) {
      const uint64_t after =
          r.finished_ms > r.faults_healed_ms ? r.finished_ms - r.faults_healed_ms : 0;
      if (after >= worst_after_heal) {
        worst_after_heal = after;
        worst_seed = s;
      }
      continue;
    }
    ++violations;
    forks += r.fork ? 1 : 0;
    std::cout << "seed " << s << ": " << r.violation
              << "\n  replay: " << bas::sim::ReplayCommand(options) << "\n";
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "nodes " << nodes << ", faults " << faults << ", byzantine " << byzantine_count
            << ", heights " << heights << ": " << seconds << " s; highest deciding round "
            << max_round << "; slowest finish after the faults healed " << worst_after_heal
            << " ms (seed " << worst_seed << "); equivocations " << equivocations
            << ", of which reported as evidence " << evidence << "\n";
  if (negative_control) {
    std::cout << "negative control: " << byzantine_count << " of " << nodes
              << " validators equivocate; forks found in " << forks << " seeds\n";
  }
  std::cout << seeds << " seeds, " << violations << " violations\n";
  if (negative_control) return forks > 0 ? 0 : 1;
  return violations == 0 ? 0 : 1;
}
