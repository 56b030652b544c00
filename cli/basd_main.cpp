// `basd`: the BAS Ledger node daemon. Argument parsing only; the work is in node/.
//
//   basd init --home DIR [--moniker NAME] [--rpc HOST:PORT]
//   basd genesis new --home DIR --chain-id ID --coalition ID=NAME --member ... [--validator ...]
//   basd genesis validate FILE
//   basd start --home DIR
//   basd start --dev [--home DIR] [--rpc HOST:PORT] [--voting-period S]
//   basd localnet --nodes N --dir DIR [--base-port P] [--voting-period S]
//
// Exit status: 0 success (a node that stopped on SIGINT/SIGTERM); 1 a runtime failure (storage,
// bind, key); 2 bad arguments, config or genesis.
#include <csignal>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <google/protobuf/stubs/logging.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "crypto/encoding.h"
#include "governance/rules.h"
#include "node/chain/executor.h"
#include "node/daemon/config.h"
#include "node/daemon/dev.h"
#include "node/daemon/genesis_builder.h"
#include "node/daemon/node.h"
#include "node/rpc/server.h"
#include "proto/json.h"

namespace {

namespace fs = std::filesystem;
using bas::node::daemon::NodeConfig;

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

int Fail(int code, const bas::Error& e) {
  std::cerr << "basd: " << e.code << ": " << e.message << "\n";
  return code;
}

std::string Hex(const bas::crypto::PublicKey& k) { return bas::crypto::HexEncode(k); }

// Runs the node until SIGINT or SIGTERM.
int RunNode(const NodeConfig& config, const bas::v1::Genesis& genesis,
            const bas::crypto::KeyPair& key, bool announce_url) {
  // Block the stop signals in every thread; main waits for them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto node = bas::node::daemon::Node::Open(config, genesis, key,
                                            std::make_shared<bas::node::daemon::SystemClock>());
  if (!node.ok())
    return Fail(node.error().code == "STORAGE_ERROR" ? kExitRuntime : kExitUsage, node.error());
  auto server = bas::node::rpc::ApiServer::Start(**node, config.rpc);
  if (!server.ok()) return Fail(kExitRuntime, server.error());
  if (bas::Status s = (*node)->Start(); !s.ok()) return Fail(kExitRuntime, s.error());
  auto host = bas::node::daemon::SplitHostPort(config.rpc.listen);
  const std::string url = "http://" + host->first + ":" + std::to_string((*server)->port());
  spdlog::info("chain {} at height {}, node key {}, API {}", genesis.chain_id(),
               (*node)->store().head().height, Hex(key.public_key()), url);
  if (announce_url) std::cout << "RPC " << url << "\nHOME " << config.home.string() << std::endl;

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("signal {}: stopping", sig);
  (*server)->Stop();
  (*node)->Stop();
  return kExitOk;
}

int Start(const fs::path& home) {
  auto config = bas::node::daemon::LoadConfig(home);
  if (!config.ok()) return Fail(kExitUsage, config.error());
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  auto genesis = bas::proto::ReadGenesis(config->Resolve(config->genesis_file));
  if (!genesis.ok()) return Fail(kExitUsage, genesis.error());
  auto key = bas::node::daemon::LoadNodeKey(*config);
  if (!key.ok()) return Fail(kExitUsage, key.error());
  return RunNode(*config, *genesis, *key, false);
}

int StartDev(fs::path home, const std::string& rpc, uint64_t voting_period_s) {
  if (home.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "basd-dev-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return Fail(kExitRuntime, {"IO_ERROR", "mkdtemp failed"});
    home = tmpl;
  }
  auto genesis = bas::node::daemon::SetUpDevHome(home, rpc, voting_period_s);
  if (!genesis.ok()) return Fail(kExitRuntime, genesis.error());
  auto config = bas::node::daemon::LoadConfig(home);
  if (!config.ok()) return Fail(kExitUsage, config.error());
  config->rpc.listen = rpc;
  auto key = bas::node::daemon::LoadNodeKey(*config);
  if (!key.ok()) return Fail(kExitUsage, key.error());
  return RunNode(*config, *genesis, *key, true);
}

// Protobuf logs a line for every string field with invalid UTF-8 it refuses to parse, which
// anyone can trigger by sending such a tx: keep those at debug level, not on the operator's
// console. The refusal itself is reported to the sender with a stable code.
void ProtobufLogToDebug(google::protobuf::LogLevel level, const char* file, int line,
                        const std::string& message) {
  if (level >= google::protobuf::LOGLEVEL_FATAL) {
    spdlog::critical("protobuf {}:{}: {}", file, line, message);
  } else {
    spdlog::debug("protobuf {}:{}: {}", file, line, message);
  }
}

}  // namespace

int main(int argc, char** argv) {
  google::protobuf::SetLogHandler(&ProtobufLogToDebug);
  // Every line at info and above reaches the log before a crash could lose it.
  spdlog::flush_on(spdlog::level::info);
  CLI::App app{"basd: the BAS Ledger node"};
  app.require_subcommand(1);
  app.footer("Exit status: 0 success; 1 runtime failure; 2 bad arguments, config or genesis.");
  int exit_code = kExitOk;

  // init
  auto* init = app.add_subcommand("init", "Create a node home: node key and config.toml");
  std::string init_home, moniker = "node", init_rpc = "127.0.0.1:26657";
  init->add_option("--home", init_home, "Node home directory")->required();
  init->add_option("--moniker", moniker, "A name for this node");
  init->add_option("--rpc", init_rpc, "API listen address HOST:PORT");
  init->callback([&] {
    NodeConfig config;
    config.home = init_home;
    config.moniker = moniker;
    config.rpc.listen = init_rpc;
    auto key = bas::node::daemon::InitHome(init_home, config);
    if (!key.ok()) {
      exit_code = Fail(kExitRuntime, key.error());
      return;
    }
    std::cout << "node key " << Hex(key->public_key()) << "\nhome " << init_home << "\n";
  });

  // genesis new | validate
  auto* genesis = app.add_subcommand("genesis", "Create or check a genesis file");
  genesis->require_subcommand(1);
  auto* gnew = genesis->add_subcommand("new", "Write HOME/genesis.json");
  std::string g_home, chain_id, out_file;
  std::vector<std::string> coalitions, members, validators, rules;
  int64_t genesis_time = 0;
  uint32_t idle_interval = 60;
  gnew->add_option("--home", g_home, "Node home (its key is the validator by default)")->required();
  gnew->add_option("--chain-id", chain_id, "Chain id")->required();
  gnew->add_option("--coalition", coalitions, "ID=NAME (repeatable)")->required();
  gnew->add_option("--member", members,
                   "COALITION/ID/GROUP/ROLE[+ROLE]/KEYHEX[/NAME] (repeatable)");
  gnew->add_option("--validator", validators,
                   "KEYHEX[:POWER] (repeatable; default this home's key)");
  gnew->add_option("--rule", rules, "COALITION/ACTION_TYPE/VOTING_PERIOD_S (repeatable)");
  gnew->add_option("--time", genesis_time, "Genesis time, Unix seconds (default now)");
  gnew->add_option("--idle-interval", idle_interval, "Seconds before an empty block");
  gnew->add_option("--out", out_file, "Output file (default HOME/genesis.json)");
  gnew->callback([&] {
    if (validators.empty()) {
      NodeConfig config;
      config.home = g_home;
      auto key = bas::node::daemon::LoadNodeKey(config);
      if (!key.ok()) {
        exit_code = Fail(kExitUsage, key.error());
        return;
      }
      validators.push_back(Hex(key->public_key()));
    }
    auto g = bas::node::daemon::BuildGenesis(bas::node::daemon::GenesisSpec{
        .chain_id = chain_id,
        .genesis_time = genesis_time != 0 ? genesis_time
                                          : std::chrono::duration_cast<std::chrono::seconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count(),
        .idle_block_interval_s = idle_interval,
        .coalitions = coalitions,
        .members = members,
        .validators = validators,
        .rules = rules,
    });
    if (!g.ok()) {
      exit_code = Fail(kExitUsage, g.error());
      return;
    }
    // Validated by executing it, exactly as the node will.
    if (auto state = bas::node::chain::ExecuteGenesis(*g); !state.ok()) {
      exit_code = Fail(kExitUsage, state.error());
      return;
    }
    const fs::path out = out_file.empty() ? fs::path(g_home) / "genesis.json" : fs::path(out_file);
    if (auto s = bas::proto::WriteGenesis(out, *g); !s.ok()) {
      exit_code = Fail(kExitRuntime, s.error());
      return;
    }
    std::cout << "genesis written to " << out.string() << "\n";
  });
  auto* gval = genesis->add_subcommand("validate", "Check a genesis file");
  std::string gval_file;
  gval->add_option("file", gval_file, "Genesis JSON")->required();
  gval->callback([&] {
    auto g = bas::proto::ReadGenesis(gval_file);
    if (!g.ok()) {
      exit_code = Fail(kExitUsage, g.error());
      return;
    }
    auto state = bas::node::chain::ExecuteGenesis(*g);
    if (!state.ok()) {
      exit_code = Fail(kExitUsage, state.error());
      return;
    }
    std::cout << "ok: chain " << g->chain_id() << ", app hash "
              << bas::crypto::HexEncode(state->app_hash) << "\n";
  });

  // start
  auto* start = app.add_subcommand("start", "Run the node until SIGINT or SIGTERM");
  std::string start_home, dev_rpc = "127.0.0.1:26657";
  bool dev = false;
  uint64_t voting_period = 30;
  start->add_option("--home", start_home, "Node home (with --dev: default a new temporary one)");
  start->add_flag("--dev", dev, "One validator, demo members and short voting periods");
  start->add_option("--rpc", dev_rpc, "With --dev: API listen address HOST:PORT");
  start->add_option("--voting-period", voting_period, "With --dev: every voting period, seconds");
  start->callback([&] {
    if (dev) {
      exit_code = StartDev(start_home, dev_rpc, voting_period);
    } else if (start_home.empty()) {
      exit_code = Fail(kExitUsage, {"USAGE", "start needs --home (or --dev)"});
    } else {
      exit_code = Start(start_home);
    }
  });

  // localnet
  auto* localnet = app.add_subcommand(
      "localnet", "Write N validator homes on 127.0.0.1 sharing one genesis (scripts/localnet.sh)");
  int ln_nodes = 4;
  std::string ln_dir;
  uint16_t ln_base_port = 26700;
  uint64_t ln_voting_period = 30;
  localnet->add_option("--nodes", ln_nodes, "Validators")->capture_default_str();
  localnet->add_option("--dir", ln_dir, "Directory of the homes")->required();
  localnet->add_option("--base-port", ln_base_port, "Node i: API on P+2i, p2p on P+2i+1")
      ->capture_default_str();
  localnet->add_option("--voting-period", ln_voting_period, "Every voting period, seconds")
      ->capture_default_str();
  localnet->callback([&] {
    auto nodes = bas::node::daemon::SetUpLocalnet(ln_dir, ln_nodes, ln_base_port, ln_voting_period);
    if (!nodes.ok()) {
      exit_code = Fail(nodes.error().code == "USAGE" ? kExitUsage : kExitRuntime, nodes.error());
      return;
    }
    nlohmann::json out = nlohmann::json::array();
    for (const auto& n : *nodes) {
      out.push_back({{"name", n.name},
                     {"home", fs::absolute(n.home).string()},
                     {"rpc", n.rpc},
                     {"p2p", n.p2p},
                     {"key", n.key}});
    }
    std::cout << out.dump(2) << "\n";
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return exit_code;
}
