// A node's settings, read from HOME/config.toml (DESIGN.md section 7). Every field has a
// default, so a config file names only what differs. Pure parsing; thread-safe.
#pragma once

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

struct NodeConfig {
  std::filesystem::path home;
  std::string moniker = "node";
  std::filesystem::path node_key_file = "node_key.json";  // relative to home
  std::filesystem::path genesis_file = "genesis.json";    // relative to home
  std::filesystem::path data_dir = "data";                // relative to home
  std::string log_level = "info";
  RpcConfig rpc;
  MempoolConfig mempool;

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

}  // namespace bas::node::daemon
