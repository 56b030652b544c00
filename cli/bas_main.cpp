// `bas`: the BAS Ledger client. Argument parsing only; the work is done by the libraries.
//
// Exit status (documented in `bas --help`):
//   0  success (a scenario that ran, even with refused transactions)
//   1  internal or I/O error (an unreadable file, a failed write)
//   2  malformed input: bad arguments, or a malformed scenario (the reason on stderr)
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/scenario.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitInternal = 1;
constexpr int kExitMalformed = 2;

constexpr char kExitStatusHelp[] =
    "Exit status: 0 success; 1 internal or I/O error; 2 malformed input (arguments or "
    "scenario).";

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
  if (!text.ok()) {
    std::cerr << "bas: " << text.error().message << "\n";
    return kExitInternal;
  }
  std::string source = file == "-" ? "<stdin>" : file;
  bas::Result<nlohmann::json> json = bas::cli::ParseScenarioJson(*text);
  if (!json.ok()) {
    std::cerr << "bas: " << source << ": " << json.error().message << "\n";
    return kExitMalformed;
  }
  bas::Result<bas::cli::ScenarioRun> run = bas::cli::RunScenario(*json);
  if (!run.ok()) {
    const std::string& code = run.error().code;
    bool malformed = code == bas::cli::kMalformedScenario || code == bas::cli::kInvalidGenesis;
    std::cerr << "bas: " << source << ": " << run.error().message << "\n";
    return malformed ? kExitMalformed : kExitInternal;
  }
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

// Builds the command tree and runs the chosen command.
int Main(int argc, char** argv) {
  CLI::App app{"bas: the BAS Ledger client", "bas"};
  app.set_version_flag("--version", std::string("bas ") + BAS_VERSION);
  app.footer(kExitStatusHelp);
  app.require_subcommand(1);

  CommandAction action;
  AddScenarioCommands(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version are "errors" with exit code 0; real usage errors become kExitMalformed.
    return app.exit(e) == 0 ? kExitOk : kExitMalformed;
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
