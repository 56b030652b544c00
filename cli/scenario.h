// The governance scenario runner behind `bas scenario run` (../shared/scenarios/README.md,
// copied as docs/scenarios.md): a scenario file in, the decisions register out, no network.
// The public scenario format is mapped onto the proto types here, never the other way round.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "crypto/result.h"
#include "governance/kv.h"

namespace bas::cli {

// The chain id scenarios run under.
inline constexpr std::string_view kScenarioChainId = "bas-scenario";

struct ScenarioRun {
  nlohmann::json output;            // the JSON printed by `bas scenario run`
  governance::MemoryKv state;       // the state after the last step
  std::map<std::string, crypto::Hash32> refs;  // ref -> proposal or assessment id
};

// Runs a parsed scenario. A malformed scenario fails with code "MALFORMED_SCENARIO" and a
// message naming the field at fault ("steps[2].txs[0].choice: expected YES, NO or ABSTAIN").
// Refused transactions are not errors: they are listed in output["rejected"].
Result<ScenarioRun> RunScenario(const nlohmann::json& scenario);

// The secret key of a scenario id: tagged_hash("bas/scenario-key", id).
crypto::Hash32 ScenarioSecretKey(std::string_view id);

}  // namespace bas::cli
