#include "node/daemon/dev.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <google/protobuf/util/json_util.h>

#include "crypto/keystore.h"
#include "governance/engine.h"

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

Result<bas::v1::Genesis> ReadGenesis(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return Error{"IO_ERROR", "cannot read " + file.string()};
  std::stringstream text;
  text << in.rdbuf();
  bas::v1::Genesis g;
  auto status = google::protobuf::util::JsonStringToMessage(text.str(), &g);
  if (!status.ok()) {
    return Error{"INVALID_GENESIS", file.string() + ": " + std::string(status.message())};
  }
  return g;
}

Status WriteGenesis(const fs::path& file, const bas::v1::Genesis& genesis) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(genesis, &json, options).ok()) {
    return Error{"INTERNAL", "cannot print the genesis"};
  }
  return WriteText(file, json);
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

Result<bas::v1::Genesis> SetUpDevHome(const fs::path& home, const std::string& rpc_listen,
                                      uint64_t voting_period_s) {
  NodeConfig config;
  config.home = home;
  config.moniker = "dev";
  config.rpc.listen = rpc_listen;
  auto node_key = InitHome(home, config);
  if (!node_key.ok()) return node_key.error();
  const fs::path genesis_file = config.Resolve(config.genesis_file);
  if (fs::exists(genesis_file)) return ReadGenesis(genesis_file);

  std::error_code ec;
  fs::create_directories(home / "keys", ec);
  if (ec) return Error{"IO_ERROR", "cannot create " + (home / "keys").string()};
  bas::v1::Genesis g;
  g.set_chain_id("bas-dev");
  g.set_genesis_time(std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  auto* v = g.add_validators();
  v->set_key(KeyBytes(*node_key));
  v->set_power(10);
  v->set_name("dev");
  g.mutable_params()->set_idle_block_interval_s(10);
  auto* c = g.add_coalitions();
  c->set_id("bas-dc");
  c->set_name("Blockchain Assurance & Standardization DC");
  for (const DevMember& m : DevMembers()) {
    auto key = LoadOrCreateKey(home / "keys" / (m.id + ".key"), m.id, "");
    if (!key.ok()) return key.error();
    auto* info = c->add_members();
    info->set_id(m.id);
    info->set_key(KeyBytes(*key));
    info->set_name(m.name);
    info->set_organisation(m.organisation);
    info->set_group(m.group);
    for (auto r : m.roles) info->add_roles(r);
  }
  auto applicant = LoadOrCreateKey(home / "keys" / (std::string(kDevApplicant) + ".key"),
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
  if (Status s = WriteGenesis(genesis_file, g); !s.ok()) return s.error();
  return g;
}

}  // namespace bas::node::daemon
