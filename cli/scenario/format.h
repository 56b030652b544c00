// The public governance scenario format (../shared/scenarios/README.md, copied as
// docs/scenarios.md) mapped onto the proto types, never the other way round; runner.h runs
// what this parses. `bas propose --actions FILE` reads its action lists in this format too.
//
// Stages, so that a malformed file is refused before anything runs:
//
//   ParseScenarioJson(text)  text -> JSON                       (MALFORMED_SCENARIO)
//   ParseScenario(json)      JSON -> genesis + proto tx bodies  (MALFORMED_SCENARIO)
//   RunScenario(scenario)    runner.h: sign, CheckTx, execute block by block, report
//
// Malformed means "cannot be expressed as the proto types": invalid JSON, a field of the wrong
// JSON type or out of the proto field's range, a missing structural field (start, steps, t, a
// tx's type or by, an action's type), t not strictly increasing, an unknown tx or action type,
// an unknown enum name, an unknown rule field or rules key. Everything else (an empty title, bad
// hex, a value over a limit, ...) is sent to the chain, which refuses it with a stable code.
// The decisions taken here are listed in docs/scenarios.md, "Choices of this implementation".
//
// All functions are pure apart from their result (no I/O) and thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bas/v1/genesis.pb.h"
#include "bas/v1/tx.pb.h"
#include "crypto/hash.h"
#include "crypto/result.h"
#include "crypto/schnorr.h"

namespace bas::scenario {

// The chain id scenarios run under.
inline constexpr std::string_view kScenarioChainId = "bas-scenario";

// Error codes of bas::scenario. A malformed scenario or a genesis the engine refuses is the
// author's mistake (`bas` exits 2); anything else is internal (`bas` exits 1).
inline constexpr std::string_view kMalformedScenario = "MALFORMED_SCENARIO";
inline constexpr std::string_view kInvalidGenesis = "INVALID_GENESIS";  // runner.h

// Where a scenario tx leaves an id to be filled in at run time, from the refs accepted so far.
struct RefUse {
  // -1: the tx's own proposal id (vote, withdraw); otherwise the index of a list_solution action
  // in the propose tx, whose assessment id is meant.
  int action_index = -1;
  std::string name;  // the ref as written
};

// One scenario tx, ready to sign: everything but the chain id, the nonce, the ids named by
// refs and (for rotate_key) the new key and its signature, which depend on the run.
struct ScenarioTx {
  std::string type;  // the scenario's name: "propose", "vote", ...
  std::string by;    // the signer's id
  std::string ref;   // what an accepted propose / apply / submit_assessment creates; may be empty
  std::optional<uint64_t> nonce;  // "nonce": overrides the signer's next nonce
  bool bad_signature = false;
  bas::v1::TxBody body;
  std::vector<RefUse> ref_uses;
  std::optional<std::string> new_id_seed;  // rotate_key; absent sends an empty RotateKey
};

struct ScenarioStep {
  int64_t t = 0;  // seconds after start; strictly increasing
  std::vector<ScenarioTx> txs;
};

struct Scenario {
  int64_t start = 0;         // Unix seconds of step 0's block (and the genesis time)
  bas::v1::Genesis genesis;  // chain id kScenarioChainId, one CoalitionGenesis per coalition
  std::vector<ScenarioStep> steps;
};

// Parses scenario text as JSON. Fails with kMalformedScenario ("invalid JSON: line 3, column
// 7: ...").
Result<nlohmann::json> ParseScenarioJson(std::string_view text);

// Maps a scenario onto the proto types without running it. Fails with kMalformedScenario and a
// message naming the field at fault ("steps[2].txs[0].choice: expected one of YES, NO,
// ABSTAIN"); with "INTERNAL" only if a scenario key cannot be derived.
Result<Scenario> ParseScenario(const nlohmann::json& scenario);

// Parses a JSON array of actions in the scenario format for a real chain (`bas propose
// --actions FILE`). As in a scenario, except where a scenario derives what a real chain cannot:
// a member (admit_member, create_coalition) carries its public key as "key" (64 hex digits)
// instead of deriving it from its id, and list_solution's "assessment" is the assessment id
// (64 hex digits) instead of a ref. Fails with kMalformedScenario and the path of the field at
// fault ("actions[1].member.key: expected 64 hex digits").
Result<std::vector<bas::v1::Action>> ParseActionList(const nlohmann::json& actions);

// The secret key of a scenario id: tagged_hash("bas/scenario-key", id).
crypto::Hash32 ScenarioSecretKey(std::string_view id);
// The key pair of that secret. Errors: "INTERNAL" (a derived secret that is no valid key).
Result<crypto::KeyPair> ScenarioKeyPair(std::string_view id);

// The id a `proposal` or `assessment` naming no known ref is sent as:
// tagged_hash("bas/scenario-ref", name).
crypto::Hash32 UnknownRefId(std::string_view name);

}  // namespace bas::scenario
