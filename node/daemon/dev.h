// Development and local-network set-ups for `basd`: node homes with a key, config and genesis.
// Pure file writing; not thread-safe over one home.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "bas/v1/genesis.pb.h"
#include "crypto/result.h"
#include "crypto/schnorr.h"
#include "node/daemon/config.h"

namespace bas::node::daemon {

// The node key file's passphrase comes from BASD_PASSPHRASE (empty when unset).
std::string NodeKeyPassphrase();

// Creates home with a new node key (unless one exists) and config.toml (unless one exists).
// Returns the node key. Errors: "IO_ERROR", and the keystore's codes.
Result<crypto::KeyPair> InitHome(const std::filesystem::path& home, const NodeConfig& config);
Result<crypto::KeyPair> LoadNodeKey(const NodeConfig& config);

struct DevMember {
  std::string id;
  bas::v1::StakeholderGroup group;
  std::vector<bas::v1::Role> roles;
  std::string name;
  std::string organisation;
};
// The demo coalition of `basd start --dev`: members from several stakeholder groups, a
// secretariat, a BMM assessment partner.
const std::vector<DevMember>& DevMembers();
// Key names written to HOME/keys besides the members': an applicant who is not a member yet.
inline constexpr std::string_view kDevApplicant = "applicant-1";

// Sets up a dev home: node key, config (rpc.listen = rpc_listen), member keys in HOME/keys
// (empty passphrase), and a genesis with the bas-dc coalition whose every rule uses
// voting_period_s. Keeps what already exists. Returns the genesis.
Result<bas::v1::Genesis> SetUpDevHome(const std::filesystem::path& home,
                                      const std::string& rpc_listen, uint64_t voting_period_s);

// `basd localnet`: N validator homes DIR/node0..node{N-1} on 127.0.0.1 (node i: API on
// base_port + 2i, p2p on base_port + 2i + 1), every node a persistent peer of every other,
// one genesis (chain "bas-localnet", the N node keys as validators of power 10, the demo
// coalition with member keys in DIR/keys). Overwrites configs and genesis; keeps node keys.
struct LocalnetNode {
  std::string name;
  std::filesystem::path home;
  std::string rpc;  // HOST:PORT
  std::string p2p;  // HOST:PORT
  std::string key;  // hex
};
Result<std::vector<LocalnetNode>> SetUpLocalnet(const std::filesystem::path& dir, int nodes,
                                                uint16_t base_port, uint64_t voting_period_s);

}  // namespace bas::node::daemon
