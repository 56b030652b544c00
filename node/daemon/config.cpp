#include "node/daemon/config.h"

#include <sstream>

#include <toml++/toml.h>

#include "crypto/encoding.h"

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

Result<PeerAddress> ParsePeer(std::string_view text) {
  const size_t at = text.find('@');
  if (at != 64) return Invalid("expected HEXKEY@HOST:PORT, got " + std::string(text));
  auto key = crypto::HexDecode(text.substr(0, at));
  if (!key.ok() || key->size() != 32) return Invalid("bad key in " + std::string(text));
  auto hp = SplitHostPort(text.substr(at + 1));
  if (!hp.ok()) return Invalid(hp.error().message);
  PeerAddress p;
  std::copy(key->begin(), key->end(), p.key.begin());
  p.host = hp->first;
  p.port = hp->second;
  return p;
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
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      const toml::array* a = node.as_array();
      if (a == nullptr) {
        bad = path;
        return;
      }
      out.clear();
      for (const auto& e : *a) {
        if (auto v = e.value<std::string>())
          out.push_back(*v);
        else
          bad = path;
      }
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
  read("p2p.listen", c.p2p.listen);
  read("p2p.persistent_peers", c.p2p.persistent_peers);
  read("p2p.observers", c.p2p.observers);
  read("p2p.max_frame_bytes", c.p2p.max_frame_bytes);
  read("p2p.handshake_timeout_ms", c.p2p.handshake_timeout_ms);
  if (!bad.empty()) return Invalid(file.string() + ": " + bad + ": wrong type");
  if (auto hp = SplitHostPort(c.rpc.listen); !hp.ok())
    return Invalid("rpc.listen: " + hp.error().message);
  if (!c.p2p.listen.empty()) {
    if (auto hp = SplitHostPort(c.p2p.listen); !hp.ok())
      return Invalid("p2p.listen: " + hp.error().message);
  }
  for (const auto& peer : c.p2p.persistent_peers) {
    if (auto p = ParsePeer(peer); !p.ok())
      return Invalid("p2p.persistent_peers: " + p.error().message);
  }
  for (const auto& key : c.p2p.observers) {
    if (key.size() != 64 || !crypto::HexDecode(key).ok())
      return Invalid("p2p.observers: " + key + " is not a 64-digit hex key");
  }
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
  toml::array peers, observers;
  for (const auto& p : c.p2p.persistent_peers) peers.push_back(p);
  for (const auto& o : c.p2p.observers) observers.push_back(o);
  t.insert("p2p",
           toml::table{{"listen", c.p2p.listen},
                       {"persistent_peers", peers},
                       {"observers", observers},
                       {"max_frame_bytes", static_cast<int64_t>(c.p2p.max_frame_bytes)},
                       {"handshake_timeout_ms", static_cast<int64_t>(c.p2p.handshake_timeout_ms)}});
  std::ostringstream out;
  out << "# BAS Ledger node configuration (basd). Every key is optional.\n" << t << "\n";
  return out.str();
}

}  // namespace bas::node::daemon
