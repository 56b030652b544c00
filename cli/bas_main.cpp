// `bas`: the BAS Ledger client. Argument parsing only; the work is done by the libraries
// (cli/keys.h, cli/tx_commands.h, cli/read_commands.h, cli/scenario.h). Every command and flag is
// documented in docs/cli.md.
//
// Exit status (documented in `bas --help` and docs/cli.md):
//   0  success (a scenario that ran, even with refused transactions)
//   1  internal, I/O or network error
//   2  bad arguments or malformed input (a malformed scenario, a bad flag value)
//   3  the chain refused the transaction (HTTP 422; the governance code is printed)
//   4  not found (no such tx, proposal or key)
//   5  verification failed (verify-vote)
//   6  the audit found a discrepancy (audit, report)
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/audit_commands.h"
#include "cli/client_options.h"
#include "cli/keys.h"
#include "cli/read_commands.h"
#include "cli/scenario/runner.h"
#include "cli/tx_commands.h"

namespace {

using bas::cli::ClientOptions;
using bas::cli::kExitInternal;
using bas::cli::kExitOk;
using bas::cli::kExitUsage;
using bas::cli::ReportError;
using bas::cli::WithFlag;

constexpr char kFooter[] =
    "Environment: BAS_NODE (--node), BAS_KEYSTORE (--keystore), BAS_PASSPHRASE (the key's "
    "passphrase when --passphrase-file is not given; else it is asked for on the terminal).\n"
    "Exit status: 0 ok; 1 internal, I/O or network error; 2 bad arguments or malformed input; "
    "3 the chain refused the transaction; 4 not found; 5 verification failed; 6 the audit found "
    "a discrepancy.";

// What the chosen subcommand does once parsing is over; returns the exit status. Subcommand
// groups set it from their parse callbacks, so main runs exactly one.
using CommandAction = std::function<int()>;

// All of `file`, or standard input for "-".
bas::Result<std::string> ReadInput(const std::string& file) {
  std::ostringstream text;
  if (file == "-") {
    text << std::cin.rdbuf();
    if (std::cin.bad()) return bas::Error{"IO_ERROR", "cannot read standard input"};
    return text.str();
  }
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    return bas::Error{"IO_ERROR", "cannot read " + file + ": is a directory"};
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return bas::Error{"IO_ERROR", "cannot read " + file + ": " + std::strerror(errno)};
  text << in.rdbuf();
  if (in.bad()) return bas::Error{"IO_ERROR", "cannot read " + file};
  return text.str();
}

// `bas scenario run FILE`.
int RunScenarioFile(const std::string& file) {
  bas::Result<std::string> text = ReadInput(file);
  if (!text.ok()) return ReportError(text.error());
  const std::string source = file == "-" ? "<stdin>" : file;
  bas::Result<nlohmann::json> json = bas::scenario::ParseScenarioJson(*text);
  if (!json.ok()) return ReportError(WithFlag(source, json.error()));
  bas::Result<bas::scenario::ScenarioRun> run = bas::scenario::RunScenario(*json);
  if (!run.ok()) return ReportError(WithFlag(source, run.error()));
  // Replace rather than throw on invalid UTF-8: engine messages may quote arbitrary bytes.
  std::cout << run->output.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
            << "\n";
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "bas: cannot write the output\n";
    return kExitInternal;
  }
  return kExitOk;
}

// `bas scenario ...`: governance scenarios (docs/scenarios.md).
void AddScenarioCommands(CLI::App& app, CommandAction& action) {
  CLI::App* scenario = app.add_subcommand("scenario", "Governance scenarios, without a network");
  scenario->require_subcommand(1);

  CLI::App* run = scenario->add_subcommand(
      "run", "Run a scenario file and print its decisions register as JSON (docs/scenarios.md)");
  auto file = std::make_shared<std::string>();
  run->add_option("FILE", *file, "The scenario (JSON); - for standard input")->required();
  run->callback([&action, file] { action = [file] { return RunScenarioFile(*file); }; });
}

// The global options, accepted before or after the subcommand.
void AddGlobalOptions(CLI::App& app, ClientOptions& options) {
  options.keystore_dir = bas::cli::DefaultKeystoreDir();
  app.add_option("--node", options.node_url, "The node's API URL, http://HOST:PORT")
      ->envname("BAS_NODE")
      ->capture_default_str();
  app.add_option("--keystore", options.keystore_dir, "The keystore directory")
      ->envname("BAS_KEYSTORE")
      ->capture_default_str();
  app.add_option("--key", options.key_name, "The keystore key that signs");
  app.add_option("--passphrase-file", options.passphrase_file,
                 "Read the key's passphrase from the first line of FILE");
  app.add_flag("--json", options.json, "Print JSON (the API's, for reads) instead of tables");
  app.add_option("--timeout", options.timeout_s, "Seconds to wait for each HTTP request")
      ->capture_default_str();
}

// `bas keys ...`: the local keystore.
void AddKeysCommands(CLI::App& app, CommandAction& action, const ClientOptions& options) {
  CLI::App* keys = app.add_subcommand("keys", "Manage the keys in the keystore");
  keys->require_subcommand(1);
  auto name = std::make_shared<std::string>();
  auto secret_hex = std::make_shared<std::string>();
  auto secret = std::make_shared<bool>(false);

  CLI::App* create = keys->add_subcommand("new", "Create a key (never overwrites one)");
  create->add_option("NAME", *name, "The key's name")->required();
  create->callback(
      [&, name] { action = [&, name] { return bas::cli::RunKeysNew(options, *name); }; });

  CLI::App* list = keys->add_subcommand("list", "List the keys (names and public keys)");
  list->callback([&] { action = [&] { return bas::cli::RunKeysList(options); }; });

  CLI::App* show = keys->add_subcommand("show", "Show a key's public key and file");
  show->add_option("NAME", *name, "The key's name")->required();
  show->callback(
      [&, name] { action = [&, name] { return bas::cli::RunKeysShow(options, *name); }; });

  CLI::App* import = keys->add_subcommand("import", "Import a secret key");
  import->add_option("NAME", *name, "The new key's name")->required();
  import->add_option("--secret-hex", *secret_hex,
                     "The secret key, 64 hex digits (default: one line on standard input)");
  import->callback([&, name, secret_hex] {
    action = [&, name, secret_hex] { return bas::cli::RunKeysImport(options, *name, *secret_hex);
};
}  // namespace
);

CLI::App* export_key = keys->add_subcommand("export", "Print a key's public key (or secret)");
export_key->add_option("NAME", *name, "The key's name")->required();
export_key->add_flag("--secret", *secret, "Print the secret key (asks for the passphrase)");
export_key->callback([&, name, secret] {
  action = [&, name, secret] { return bas::cli::RunKeysExport(options, *name, *secret); };
});
}

// The tx commands: propose, vote, withdraw, apply, assess, meeting, rotate-key.
void AddTxCommands(CLI::App& app, CommandAction& action, const ClientOptions& options) {
  for (const bas::cli::TxCommandSpec& spec : bas::cli::TxCommandSpecs()) {
    CLI::App* cmd = app.add_subcommand(spec.name, spec.description);
    bas::cli::TxBuilder build = spec.define(cmd);
    auto flags = std::make_shared<bas::cli::SubmitFlags>();
    cmd->add_flag("--no-wait", flags->no_wait,
                  "Return once the node's mempool has the tx, without waiting for its block");
    cmd->add_option("--nonce", flags->nonce, "Sign with this nonce instead of the next one");
    cmd->callback([&action, &options, build, flags] {
      action = [&options, build, flags] { return bas::cli::RunSubmitTx(options, build, *flags); };
    });
  }
}

// `bas tx sign` (air-gapped signing) and `bas tx broadcast`.
void AddTxSignCommands(CLI::App& app, CommandAction& action, const ClientOptions& options) {
  CLI::App* tx =
      app.add_subcommand("tx", "Sign a tx without submitting it, or submit a signed one");
  tx->require_subcommand(1);

  CLI::App* sign = tx->add_subcommand(
      "sign", "Sign a tx and write it to a file: give --vote, or a tx subcommand with its flags");
  auto sign_flags = std::make_shared<bas::cli::SignFlags>();
  auto vote_spec = std::make_shared<std::string>();
  sign->add_flag("--offline", sign_flags->offline,
                 "Use no network (needs --chain-id and --nonce): for an air-gapped machine");
  sign->add_option("--chain-id", sign_flags->chain_id, "The chain id (bas status shows it)");
  sign->add_option("--nonce", sign_flags->nonce,
                   "The signer's next nonce (GET /v1/accounts/KEY shows it)");
  sign->add_option("--out", sign_flags->out, "Where to write the signed tx (hex)")->required();
  sign->add_option("--vote", *vote_spec, "PROPOSAL_ID:CHOICE[:REASON]: sign this vote");
  sign->require_subcommand(0, 1);
  auto builders = std::make_shared<std::map<const CLI::App*, bas::cli::TxBuilder>>();
  for (const bas::cli::TxCommandSpec& spec : bas::cli::TxCommandSpecs()) {
    CLI::App* cmd = sign->add_subcommand(spec.name, spec.description);
    (*builders)[cmd] = spec.define(cmd);
  }
  sign->callback([&action, &options, sign, sign_flags, vote_spec, builders] {
    const std::vector<CLI::App*> chosen = sign->get_subcommands();
    if (chosen.empty() == vote_spec->empty()) {
      throw CLI::ValidationError("tx sign", "give either --vote or one tx subcommand");
    }
    bas::cli::TxBuilder build =
        chosen.empty() ? bas::cli::VoteSpecBuilder(*vote_spec) : builders->at(chosen.front());
    action = [&options, sign_flags, build] {
      return bas::cli::RunSignTx(options, *sign_flags, build);
    };
  });

  CLI::App* broadcast = tx->add_subcommand("broadcast", "Submit a tx written by bas tx sign");
  auto file = std::make_shared<std::string>();
  auto wait = std::make_shared<bool>(false);
  broadcast->add_option("FILE", *file, "The signed tx (hex); - for standard input")->required();
  broadcast->add_flag("--wait", *wait, "Wait until the tx is in a committed block");
  broadcast->callback([&action, &options, file, wait] {
    action = [&options, file, wait] { return bas::cli::RunBroadcastTx(options, *file, *wait); };
  });
}

// The read commands and verify-vote.
void AddReadCommands(CLI::App& app, CommandAction& action, const ClientOptions& options) {
  auto coalition = std::make_shared<std::string>();
  auto text = std::make_shared<std::string>();
  auto flag = std::make_shared<bool>(false);

  app.add_subcommand("status", "The node's chain, height and latest block")->callback([&] {
    action = [&] { return bas::cli::RunStatus(options); };
  });

  CLI::App* account =
      app.add_subcommand("account", "A key's next nonce and memberships (default: --key's)");
  account->add_option("KEY", *text, "A public key (64 hex digits)");
  account->callback(
      [&, text] { action = [&, text] { return bas::cli::RunAccount(options, *text); }; });

  CLI::App* proposals = app.add_subcommand("proposals", "List proposals with their tallies");
  proposals->add_option("--coalition", *coalition, "Only this coalition");
  proposals->add_option("--status", *text, "ACTIVE, PASSED, REJECTED, FAILED or WITHDRAWN");
  proposals->callback([&, coalition, text] {
    action = [&, coalition, text] { return bas::cli::RunProposals(options, *coalition, *text); };
  });

  CLI::App* proposal =
      app.add_subcommand("proposal", "One proposal: its tally per group, rule, status and votes");
  proposal->add_option("ID", *text, "The proposal id (64 hex digits or a unique prefix)")
      ->required();
  proposal->callback(
      [&, text] { action = [&, text] { return bas::cli::RunProposal(options, *text); }; });

  CLI::App* members = app.add_subcommand("members", "List members");
  members->add_option("--coalition", *coalition, "Only this coalition (default: all)");
  members->add_flag("--all", *flag, "Removed members too");
  members->callback([&, coalition, flag] {
    action = [&, coalition, flag] { return bas::cli::RunMembers(options, *coalition, *flag); };
  });

  CLI::App* decisions = app.add_subcommand(
      "decisions", "The decisions register: tallies per group and dissent with reasons");
  decisions->add_option("--coalition", *coalition, "Only this coalition");
  auto format = std::make_shared<std::string>("table");
  decisions->add_option("--format", *format, "table, json, csv or md")->capture_default_str();
  decisions->callback([&, coalition, format] {
    action = [&, coalition, format] {
      return bas::cli::RunDecisions(options, *coalition, *format);
    };
  });

  app.add_subcommand("directory", "The directory of Trusted Blockchain Solutions")->callback([&] {
    action = [&] { return bas::cli::RunDirectory(options); };
  });
  app.add_subcommand("assessments", "BMM assessments")->callback([&] {
    action = [&] { return bas::cli::RunAssessments(options); };
  });
  CLI::App* meetings = app.add_subcommand("meetings", "Recorded meetings and their minutes");
  meetings->add_option("--coalition", *coalition, "Only this coalition");
  meetings->callback([&, coalition] {
    action = [&, coalition] { return bas::cli::RunMeetings(options, *coalition); };
  });

  CLI::App* verify = app.add_subcommand(
      "verify-vote",
      "Check that a vote (or any tx) was committed: signature, Merkle proof, block hash, commit");
  verify->add_option("TXID", *text, "The tx id (64 hex digits)")->required();
  verify->callback(
      [&, text] { action = [&, text] { return bas::cli::RunVerifyVote(options, *text); }; });
}

// The ledger source flags of export, audit and report (--node is the global option).
void AddSourceFlags(CLI::App* cmd, bas::cli::LedgerSourceFlags& flags, bool with_export) {
  cmd->add_option("--data-dir", flags.data_dir,
                  "Read a stopped node's RocksDB data directory (read-only)");
  if (with_export) {
    cmd->add_option("--export", flags.export_file, "Read a ledger export (bas export --out)");
  }
}

// `bas export`, `bas audit` and `bas report annual` (docs/audit.md, docs/export.md).
void AddAuditCommands(CLI::App& app, CommandAction& action, const ClientOptions& options) {
  CLI::App* export_cmd = app.add_subcommand(
      "export", "Write the genesis and every block with its commit to one file (docs/export.md)");
  auto export_flags = std::make_shared<bas::cli::ExportFlags>();
  AddSourceFlags(export_cmd, export_flags->source, false);
  export_cmd->add_option("--out", export_flags->out, "The export file to write")->required();
  export_cmd->add_option("--to-height", export_flags->to_height,
                         "Stop at this height (default: the head)");
  export_cmd->callback([&action, &options, export_flags] {
    action = [&options, export_flags] { return bas::cli::RunExport(options, *export_flags); };
  });

  CLI::App* audit = app.add_subcommand(
      "audit",
      "Replay the ledger from genesis and check every header, commit, signature, root and tally");
  auto audit_flags = std::make_shared<bas::cli::AuditFlags>();
  AddSourceFlags(audit, audit_flags->source, true);
  audit->add_option("--genesis", audit_flags->genesis_file, "The genesis you trust (JSON)")
      ->required();
  audit->add_option("--report", audit_flags->report_file,
                    "Write the report to FILE (default: standard output)");
  audit->add_option("--format", audit_flags->format, "md, json or csv")->capture_default_str();
  audit->add_option("--to-height", audit_flags->to_height,
                    "Audit up to this height (default: the last)");
  audit->add_option("--threads", audit_flags->threads,
                    "Threads verifying signatures (default: every core)");
  audit->add_option("--scratch-dir", audit_flags->scratch_dir,
                    "Where the replayed state is kept meanwhile (default: $TMPDIR or /tmp)");
  audit->callback([&action, &options, audit_flags] {
    action = [&options, audit_flags] { return bas::cli::RunAudit(options, *audit_flags); };
  });

  CLI::App* report = app.add_subcommand("report", "Reports from the audited ledger");
  report->require_subcommand(1);
  CLI::App* annual = report->add_subcommand(
      "annual", "A coalition's yearly report for the IGF, from the audited ledger");
  auto annual_flags = std::make_shared<bas::cli::AnnualReportFlags>();
  AddSourceFlags(annual, annual_flags->source, true);
  annual->add_option("--genesis", annual_flags->genesis_file, "The genesis you trust (JSON)")
      ->required();
  annual->add_option("--coalition", annual_flags->coalition, "The coalition, e.g. bas-dc")
      ->required();
  annual->add_option("--year", annual_flags->year, "The calendar year (UTC), YYYY")->required();
  annual->add_option("--format", annual_flags->format, "md or html")->capture_default_str();
  annual->add_option("--out", annual_flags->out, "Write to FILE (default: standard output)");
  annual->add_option("--to-height", annual_flags->to_height,
                     "Report as of this height (default: the last)");
  annual->add_option("--threads", annual_flags->threads,
                     "Threads verifying signatures (default: every core)");
  annual->add_option("--scratch-dir", annual_flags->scratch_dir,
                     "Where the replayed state is kept meanwhile (default: $TMPDIR or /tmp)");
  annual->callback([&action, &options, annual_flags] {
    action = [&options, annual_flags] { return bas::cli::RunAnnualReport(options, *annual_flags); };
  });
}

// Builds the command tree and runs the chosen command.
int Main(int argc, char** argv) {
  CLI::App app{"bas: the BAS Ledger client", "bas"};
  app.set_version_flag("--version", std::string("bas ") + BAS_VERSION);
  app.footer(kFooter);
  app.require_subcommand(1);
  // Global options may follow the subcommand (bas vote ID YES --key gov-1).
  app.fallthrough();

  ClientOptions options;
  CommandAction action;
  AddGlobalOptions(app, options);
  AddKeysCommands(app, action, options);
  AddTxCommands(app, action, options);
  AddTxSignCommands(app, action, options);
  AddReadCommands(app, action, options);
  AddScenarioCommands(app, action);
  AddAuditCommands(app, action, options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version are "errors" with exit code 0; real usage errors become kExitUsage.
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  return action ? action() : kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  // The boundary for whatever the libraries below let through (std::bad_alloc, a CLI11
  // construction error): report it, never terminate with an uncaught exception.
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bas: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}
