// The governance scenario runner behind `bas scenario run`: a parsed scenario (format.h) in,
// the decisions register out, no network. Genesis, then one block per step through the
// governance engine exactly as a node runs it (CheckTx, DeliverTx, EndBlock), with keys
// derived from the scenario's ids. The decisions taken here are listed in docs/scenarios.md,
// "Choices of this implementation".
//
// Pure apart from its result (no I/O); thread-compatible.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/scenario/format.h"
#include "crypto/hash.h"
#include "crypto/result.h"
#include "governance/kv.h"

namespace bas::scenario {

struct ScenarioRun {
  nlohmann::ordered_json output;               // the JSON printed by `bas scenario run`
  governance::MemoryKv state;                  // the state after the last step
  std::map<std::string, crypto::Hash32> refs;  // ref -> proposal or assessment id
};

// Runs a parsed scenario: genesis, then one block per step. Refused transactions are not
// errors: they are listed in output["rejected"]. Fails with kInvalidGenesis when the engine
// refuses the genesis (the message is the engine's), "INTERNAL" when signing or serialising
// fails.
Result<ScenarioRun> RunScenario(const Scenario& scenario);

// ParseScenario, then RunScenario.
Result<ScenarioRun> RunScenario(const nlohmann::json& scenario);

}  // namespace bas::scenario
