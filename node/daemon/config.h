// A node's settings, read from HOME/config.toml (DESIGN.md section 7). Every field has a
// default, so a config file names only what differs. Pure parsing; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "crypto/result.h"

namespace bas::node::daemon {

struct RpcConfig {
  std::string listen = "127.0.0.1:26657";  // loopback unless configured
  size_t max_body_bytes = 4 * 1024 * 1024;
  size_t max_header_bytes = 16 * 1024;
  size_t max_connections = 256;
  double rate_limit_per_s = 500;     // per client address; burst = 2 s worth
  uint32_t wait_timeout_ms = 30000;  // the longest ?wait=commit
};

struct MempoolConfig {
  size_t max_txs = 20000;
  size_t max_bytes = 64 * 1024 * 1024;
  size_t max_per_signer = 1000;
};

// The validator network (docs/p2p.md). A node whose key is in the validator set of a height
// votes; any other node follows as an observer.
struct P2pConfig {
  std::string listen;  // HOST:PORT; "" (the default) = no p2p: a single validator alone
  // Peers kept connected: "HEXKEY@HOST:PORT"; the node's own entry is skipped, so one list
  // serves a whole network.
  std::vector<std::string> persistent_peers;
  // Keys (hex) of observers allowed to connect besides the validators.
  std::vector<std::string> observers;
  size_t max_frame_bytes = size_t{8} << 20;
  uint32_t handshake_timeout_ms = 5000;
};

struct NodeConfig {
  std::filesystem::path home;
  std::string moniker = "node";
  std::filesystem::path node_key_file = "node_key.json";  // relative to home
  std::filesystem::path genesis_file = "genesis.json";    // relative to home
  std::filesystem::path data_dir = "data";                // relative to home
  std::string log_level = "info";
  RpcConfig rpc;
  MempoolConfig mempool;
  P2pConfig p2p;

  std::filesystem::path Resolve(const std::filesystem::path& p) const {
    return p.is_absolute() ? p : home / p;
  }
};

// Reads HOME/config.toml; a missing file gives the defaults. Errors: "INVALID_CONFIG" naming
// the key at fault.
Result<NodeConfig> LoadConfig(const std::filesystem::path& home);
// The TOML text of a config (for `basd init`).
std::string ConfigToToml(const NodeConfig& config);

// Splits "HOST:PORT"; "INVALID_CONFIG" if it is not one.
Result<std::pair<std::string, uint16_t>> SplitHostPort(std::string_view listen);

// A persistent peer, "HEXKEY@HOST:PORT"; "INVALID_CONFIG" if it is not one.
struct PeerAddress {
  std::array<uint8_t, 32> key{};
  std::string host;
  uint16_t port = 0;
};
Result<PeerAddress> ParsePeer(std::string_view text);

}  // namespace bas::node::daemon
