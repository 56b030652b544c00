#include "node/daemon/dev.h"

#include <chrono>
#include <cstdlib>
#include <fstream>

#include "crypto/encoding.h"
#include "crypto/keystore.h"
#include "governance/engine.h"
#include "proto/json.h"

namespace bas::node::daemon {
namespace {

namespace fs = std::filesystem;

std::string KeyBytes(const crypto::KeyPair& k) {
  return std::string(reinterpret_cast<const char*>(k.public_key().data()), 32);
}

Result<crypto::KeyPair> LoadOrCreateKey(const fs::path& file, const std::string& name,
                                        std::string_view passphrase) {
  if (fs::exists(file)) {
    auto kf = crypto::ReadKeyFile(file, passphrase);
    if (!kf.ok()) return kf.error();
    return crypto::KeyPair::FromSecret(kf->secret_key);
  }
  auto key = crypto::KeyPair::Generate();
  if (!key.ok()) return key.error();
  crypto::KeyFile kf{name, key->public_key(), key->secret_key()};
  if (Status s = crypto::WriteKeyFile(file, kf, passphrase); !s.ok()) return s.error();
  return key;
}

Status WriteText(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Error{"IO_ERROR", "cannot write " + file.string()};
  return Status::Ok();
}

}  // namespace

std::string NodeKeyPassphrase() {
  const char* p = std::getenv("BASD_PASSPHRASE");
  return p ? p : "";
}

Result<crypto::KeyPair> InitHome(const fs::path& home, const NodeConfig& config) {
  std::error_code ec;
  fs::create_directories(home, ec);
  if (ec) return Error{"IO_ERROR", "cannot create " + home.string() + ": " + ec.message()};
  fs::create_directories(config.Resolve(config.data_dir), ec);
  if (!fs::exists(home / "config.toml")) {
    if (Status s = WriteText(home / "config.toml", ConfigToToml(config)); !s.ok()) return s.error();
  }
  return LoadOrCreateKey(config.Resolve(config.node_key_file), config.moniker, NodeKeyPassphrase());
}

Result<crypto::KeyPair> LoadNodeKey(const NodeConfig& config) {
  auto kf = crypto::ReadKeyFile(config.Resolve(config.node_key_file), NodeKeyPassphrase());
  if (!kf.ok()) return kf.error();
  return crypto::KeyPair::FromSecret(kf->secret_key);
}

const std::vector<DevMember>& DevMembers() {
  using namespace bas::v1;  // NOLINT(google-build-using-namespace): enum values only
  static const std::vector<DevMember> members = {
      {"gov-1", GOVERNMENT, {MEMBER}, "Ada Obi", "Ministry of Digital Economy"},
      {"gov-2", GOVERNMENT, {MEMBER}, "Lars Berg", "Digital Agency"},
      {"priv-1", PRIVATE_SECTOR, {MEMBER}, "Mei Chen", "LedgerWorks Ltd"},
      {"civ-1", CIVIL_SOCIETY, {MEMBER, SECRETARIAT}, "Sara Haddad", "Open Gov Network"},
      {"tech-1", TECHNICAL_COMMUNITY, {MEMBER}, "Tomas Silva", "Internet Standards Forum"},
      {"aca-1", ACADEMIA, {MEMBER}, "Priya Rao", "University of Lagos"},
      {"bmm-1", PRIVATE_SECTOR, {ASSESSOR}, "Jon Park", "Assurance Partners (BMM)"},
  };
  return members;
}

namespace {

// The demo coalition with member keys in keys_dir (made when missing, empty passphrase) and the
// given validators (power 10 each).
Result<bas::v1::Genesis> DemoGenesis(
    const fs::path& keys_dir, const std::string& chain_id,
    const std::vector<std::pair<std::string, crypto::KeyPair>>& validators,
    uint64_t voting_period_s) {
  std::error_code ec;
  fs::create_directories(keys_dir, ec);
  if (ec) return Error{"IO_ERROR", "cannot create " + keys_dir.string()};
  bas::v1::Genesis g;
  g.set_chain_id(chain_id);
  g.set_genesis_time(std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  for (const auto& [name, key] : validators) {
    auto* v = g.add_validators();
    v->set_key(KeyBytes(key));
    v->set_power(10);
    v->set_name(name);
  }
  g.mutable_params()->set_idle_block_interval_s(10);
  auto* c = g.add_coalitions();
  c->set_id("bas-dc");
  c->set_name("Blockchain Assurance & Standardization DC");
  for (const DevMember& m : DevMembers()) {
    auto key = LoadOrCreateKey(keys_dir / (m.id + ".key"), m.id, "");
    if (!key.ok()) return key.error();
    auto* info = c->add_members();
    info->set_id(m.id);
    info->set_key(KeyBytes(*key));
    info->set_name(m.name);
    info->set_organisation(m.organisation);
    info->set_group(m.group);
    for (auto r : m.roles) info->add_roles(r);
  }
  auto applicant = LoadOrCreateKey(keys_dir / (std::string(kDevApplicant) + ".key"),
                                   std::string(kDevApplicant), "");
  if (!applicant.ok()) return applicant.error();
  auto* rule = c->add_rules();
  rule->set_action_type("default");
  rule->mutable_rule()->set_voting_period_s(voting_period_s);
  auto* model = g.add_bmm_models();
  model->set_version("BMM-1.0");
  for (const char* e :
       {"Governance", "Security", "Interoperability", "Performance", "Compliance"}) {
    model->add_elements(e);
  }
  for (const char* l : {"Initial", "Managed", "Defined", "Measured", "Optimized"}) {
    model->add_levels(l);
  }
  return g;
}

}  // namespace

Result<bas::v1::Genesis> SetUpDevHome(const fs::path& home, const std::string& rpc_listen,
                                      uint64_t voting_period_s) {
  NodeConfig config;
  config.home = home;
  config.moniker = "dev";
  config.rpc.listen = rpc_listen;
  config.p2p.listen = "";  // one validator alone
  auto node_key = InitHome(home, config);
  if (!node_key.ok()) return node_key.error();
  const fs::path genesis_file = config.Resolve(config.genesis_file);
  if (fs::exists(genesis_file)) return proto::ReadGenesis(genesis_file);
  auto g = DemoGenesis(home / "keys", "bas-dev", {{"dev", *node_key}}, voting_period_s);
  if (!g.ok()) return g;
  if (Status s = proto::WriteGenesis(genesis_file, *g); !s.ok()) return s.error();
  return g;
}

Result<std::vector<LocalnetNode>> SetUpLocalnet(const fs::path& dir, int nodes, uint16_t base_port,
                                                uint64_t voting_period_s) {
  if (nodes < 1 || nodes > 64) return Error{"USAGE", "--nodes must be 1..64"};
  if (base_port == 0 || base_port + 2 * nodes > 65535) return Error{"USAGE", "bad --base-port"};
  std::vector<LocalnetNode> out;
  std::vector<NodeConfig> configs;
  std::vector<std::pair<std::string, crypto::KeyPair>> keys;
  for (int i = 0; i < nodes; ++i) {
    NodeConfig config;
    config.home = dir / ("node" + std::to_string(i));
    config.moniker = "node" + std::to_string(i);
    LocalnetNode n;
    n.name = config.moniker;
    n.home = config.home;
    n.rpc = "127.0.0.1:" + std::to_string(base_port + 2 * i);
    n.p2p = "127.0.0.1:" + std::to_string(base_port + 2 * i + 1);
    config.rpc.listen = n.rpc;
    config.p2p.listen = n.p2p;
    // The key first (InitHome keeps an existing one), the config once every key is known.
    auto key = InitHome(config.home, config);
    if (!key.ok()) return key.error();
    n.key = crypto::HexEncode(key->public_key());
    keys.emplace_back(n.name, *key);
    out.push_back(n);
    configs.push_back(config);
  }
  std::vector<std::string> peers;
  for (const auto& n : out) peers.push_back(n.key + "@" + n.p2p);
  auto genesis = DemoGenesis(dir / "keys", "bas-localnet", keys, voting_period_s);
  if (!genesis.ok()) return genesis.error();
  for (auto& config : configs) {
    config.p2p.persistent_peers = peers;
    if (Status s = WriteText(config.home / "config.toml", ConfigToToml(config)); !s.ok())
      return s.error();
    if (Status s = proto::WriteGenesis(config.Resolve(config.genesis_file), *genesis); !s.ok())
      return s.error();
  }
  return out;
}

}  // namespace bas::node::daemon
