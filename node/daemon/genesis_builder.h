// A genesis document from the text forms `basd genesis new` takes (docs/network.md): one
// string per coalition, member, validator and rule. The document is only assembled here; the
// caller validates it by executing it (chain::ExecuteGenesis), exactly as the node will.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bas/v1/genesis.pb.h"
#include "crypto/result.h"

namespace bas::node::daemon {

struct GenesisSpec {
  std::string chain_id;
  int64_t genesis_time = 0;  // Unix seconds
  uint32_t idle_block_interval_s = 60;
  std::vector<std::string> coalitions;  // ID=NAME (the name may be empty: "ID")
  std::vector<std::string> members;     // COALITION/ID/GROUP/ROLE[+ROLE...]/KEYHEX[/NAME]
  std::vector<std::string> validators;  // KEYHEX[:POWER], power 10 when absent
  std::vector<std::string> rules;       // COALITION/ACTION_TYPE/VOTING_PERIOD_S
};

// Builds the genesis the spec describes, coalitions in the order given and each member and
// rule under the coalition it names. Errors: "INVALID_GENESIS" quoting the text at fault ("member
// bas-dc/gov-1/GOVERMENT/MEMBER/ab..: unknown group GOVERMENT"): a part that does not parse, a
// member or rule of a coalition not in the spec, a number that is not a whole decimal in range.
Result<bas::v1::Genesis> BuildGenesis(const GenesisSpec& spec);

}  // namespace bas::node::daemon
