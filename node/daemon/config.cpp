#include "node/daemon/config.h"

#include <sstream>

#include <toml++/toml.h>

namespace bas::node::daemon {
namespace {

Error Invalid(std::string why) { return Error{"INVALID_CONFIG", std::move(why)}; }

}  // namespace

Result<std::pair<std::string, uint16_t>> SplitHostPort(std::string_view listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return Invalid("expected HOST:PORT");
  const std::string port_text(listen.substr(colon + 1));
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port < 0 || port > 65535) {
    return Invalid("bad port in " + std::string(listen));
  }
  return std::make_pair(std::string(listen.substr(0, colon)), static_cast<uint16_t>(port));
}

Result<NodeConfig> LoadConfig(const std::filesystem::path& home) {
  NodeConfig c;
  c.home = home;
  const auto file = home / "config.toml";
  if (!std::filesystem::exists(file)) return c;
  toml::table t;
  try {
    t = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << file.string() << ":" << e.source().begin.line << ": " << e.description();
    return Invalid(msg.str());
  }
  // Reads key (a dotted path) into out when present; false when present with the wrong type.
  std::string bad;
  auto read = [&](const char* path, auto& out) {
    auto node = t.at_path(path);
    if (!node) return;
    using T = std::decay_t<decltype(out)>;
    if constexpr (std::is_same_v<T, std::string>) {
      if (auto v = node.value<std::string>())
        out = *v;
      else
        bad = path;
    } else if constexpr (std::is_same_v<T, std::filesystem::path>) {
      if (auto v = node.value<std::string>())
        out = *v;
      else
        bad = path;
    } else if constexpr (std::is_same_v<T, double>) {
      if (auto v = node.value<double>())
        out = *v;
      else
        bad = path;
    } else {
      auto v = node.value<int64_t>();
      if (v && *v >= 0)
        out = static_cast<T>(*v);
      else
        bad = path;
    }
  };
  read("node.moniker", c.moniker);
  read("node.key_file", c.node_key_file);
  read("node.genesis_file", c.genesis_file);
  read("node.data_dir", c.data_dir);
  read("node.log_level", c.log_level);
  read("rpc.listen", c.rpc.listen);
  read("rpc.max_body_bytes", c.rpc.max_body_bytes);
  read("rpc.max_header_bytes", c.rpc.max_header_bytes);
  read("rpc.max_connections", c.rpc.max_connections);
  read("rpc.rate_limit_per_s", c.rpc.rate_limit_per_s);
  read("rpc.wait_timeout_ms", c.rpc.wait_timeout_ms);
  read("mempool.max_txs", c.mempool.max_txs);
  read("mempool.max_bytes", c.mempool.max_bytes);
  read("mempool.max_per_signer", c.mempool.max_per_signer);
  if (!bad.empty()) return Invalid(file.string() + ": " + bad + ": wrong type");
  if (auto hp = SplitHostPort(c.rpc.listen); !hp.ok())
    return Invalid("rpc.listen: " + hp.error().message);
  return c;
}

std::string ConfigToToml(const NodeConfig& c) {
  toml::table t{
      {"node", toml::table{{"moniker", c.moniker},
                           {"key_file", c.node_key_file.string()},
                           {"genesis_file", c.genesis_file.string()},
                           {"data_dir", c.data_dir.string()},
                           {"log_level", c.log_level}}},
      {"rpc", toml::table{{"listen", c.rpc.listen},
                          {"max_body_bytes", static_cast<int64_t>(c.rpc.max_body_bytes)},
                          {"max_header_bytes", static_cast<int64_t>(c.rpc.max_header_bytes)},
                          {"max_connections", static_cast<int64_t>(c.rpc.max_connections)},
                          {"rate_limit_per_s", c.rpc.rate_limit_per_s},
                          {"wait_timeout_ms", static_cast<int64_t>(c.rpc.wait_timeout_ms)}}},
      {"mempool", toml::table{{"max_txs", static_cast<int64_t>(c.mempool.max_txs)},
                              {"max_bytes", static_cast<int64_t>(c.mempool.max_bytes)},
                              {"max_per_signer", static_cast<int64_t>(c.mempool.max_per_signer)}}},
  };
  std::ostringstream out;
  out << "# BAS Ledger node configuration (basd). Every key is optional.\n" << t << "\n";
  return out.str();
}

}  // namespace bas::node::daemon
