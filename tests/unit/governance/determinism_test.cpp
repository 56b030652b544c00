// Determinism (DESIGN.md section 2: same inputs, same state and app hash, on every machine)
// and the runner's contract (cli/scenario.h, scenarios/README.md): a scenario run twice, and
// run by the `bas` binary in another process, gives the same output and app hash.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/governance/scenario_fixture.h"

#ifndef BAS_BIN
#error "BAS_BIN must name the bas binary"
#endif

namespace bas::governance::testing {
namespace {

// A scenario touching most of the state: applications, votes with changes and reasons, a
// withdrawal, a removal, plans, refused txs.
json RichScenario() {
  json members =
      With(Members({2, 1, 2, 1, 1}), {Member("sec-1", "CIVIL_SOCIETY", {"SECRETARIAT"})});
  json rules = {{"default", MajorityRule(300, 250000, 500000)},
                {"resolution", ConsensusRule(200, 250000)}};
  return Scenario(
      {Coalition("bas-dc", members, rules)},
      {Step(0, {Propose("gov-1", "p1", {AnnualPlan(2027, Hex64('d'))}),
                Propose("civ-1", "p2", {Resolution("Hold the meeting online.")}),
                Apply("new-1", "a1", "INTERGOVERNMENTAL")}),
       Step(15, {Vote("gov-2", "p1", "NO", "unclear"), Vote("priv-1", "p1", "YES"),
                 Vote("civ-2", "p2", "NO", "prefer in person"), Vote("tech-1", "a1", "YES"),
                 Vote("outsider-1", "p1", "YES"), RecordMeeting("sec-1")}),
       Step(30, {Vote("gov-2", "p1", "YES", "now clear"), Propose("aca-1", "p3", {Remove("civ-2")}),
                 Vote("aca-1", "p3", "YES"), Vote("gov-1", "p3", "YES")}),
       Step(40, {Propose("gov-1", "p4", {Resolution()}), Withdraw("gov-1", "p4")}), Step(200),
       Step(300), Step(330), Step(1000)});
}

TEST(DeterminismTest, SameScenarioTwiceSameOutputAndAppHash) {
  TestRun a = RunOk(RichScenario());
  TestRun b = RunOk(RichScenario());
  ASSERT_TRUE(a.output.contains("app_hash"));
  const std::string hash = a.output["app_hash"];
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_EQ(hash.find_first_not_of("0123456789abcdef"), std::string::npos) << hash;
  EXPECT_EQ(a.output["app_hash"], b.output["app_hash"]);
  EXPECT_EQ(a.output, b.output);
  EXPECT_EQ(a.state.size(), b.state.size());
}

TEST(DeterminismTest, DifferentHistoryDifferentAppHash) {
  json changed = RichScenario();
  changed["steps"][1]["txs"][1]["choice"] = "NO";  // priv-1 votes NO instead of YES
  TestRun a = RunOk(RichScenario());
  TestRun b = RunOk(changed);
  EXPECT_NE(a.output["app_hash"], b.output["app_hash"]);
}

struct ProcessResult {
  int exit_code = -1;
  std::string out;
};

ProcessResult RunBas(const std::string& args) {
  ProcessResult r;
  std::string cmd = std::string(BAS_BIN) + " " + args + " 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  int status = pclose(pipe);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  return r;
}

std::filesystem::path WriteTemp(const std::string& name, const std::string& text) {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("bas-govtest-" + std::to_string(getpid()) + "-" + name);
  std::ofstream(path) << text;
  return path;
}

TEST(DeterminismTest, BinaryInAnotherProcessGivesTheSameOutput) {
  json scenario = RichScenario();
  std::filesystem::path path = WriteTemp("rich.json", scenario.dump(2));
  ProcessResult r = RunBas("scenario run " + path.string());
  std::filesystem::remove(path);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  json printed = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(printed.is_discarded()) << r.out;
  TestRun in_process = RunOk(scenario);
  EXPECT_EQ(printed["app_hash"], in_process.output["app_hash"]);
  EXPECT_EQ(printed, in_process.output);
}

TEST(DeterminismTest, BinaryReadsStandardInput) {
  json scenario = RichScenario();
  std::filesystem::path path = WriteTemp("stdin.json", scenario.dump());
  ProcessResult r = RunBas("scenario run - < " + path.string());
  std::filesystem::remove(path);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  json printed = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(printed.is_discarded()) << r.out;
  EXPECT_EQ(printed["app_hash"], RunOk(scenario).output["app_hash"]);
}

TEST(RunnerContractTest, MalformedScenarioExitsTwo) {
  json bad = RichScenario();
  bad["steps"][1]["txs"][0]["choice"] = "MAYBE";
  std::filesystem::path path = WriteTemp("bad.json", bad.dump());
  ProcessResult r = RunBas("scenario run " + path.string());
  std::filesystem::remove(path);
  EXPECT_EQ(r.exit_code, 2);
  std::filesystem::path junk = WriteTemp("junk.json", "{ not json");
  EXPECT_EQ(RunBas("scenario run " + junk.string()).exit_code, 2);
  std::filesystem::remove(junk);
}

TEST(RunnerContractTest, MalformedScenarioIsAnErrorNamingTheField) {
  struct Bad {
    std::string what;
    std::function<void(json&)> patch;
  };
  const std::vector<Bad> cases = {
      {"bad choice", [](json& s) { s["steps"][1]["txs"][0]["choice"] = "MAYBE"; }},
      {"unknown tx type", [](json& s) { s["steps"][1]["txs"][0]["type"] = "teleport"; }},
      {"unknown group", [](json& s) { s["coalitions"][0]["members"][0]["group"] = "ROYALTY"; }},
      {"t not increasing", [](json& s) { s["steps"][2]["t"] = 15; }},
      {"steps not a list", [](json& s) { s["steps"] = "soon"; }},
  };
  for (const Bad& c : cases) {
    json s = RichScenario();
    c.patch(s);
    Result<scenario::ScenarioRun> run = scenario::RunScenario(s);
    ASSERT_FALSE(run.ok()) << c.what;
    EXPECT_EQ(run.error().code, "MALFORMED_SCENARIO") << c.what;
    EXPECT_FALSE(run.error().message.empty()) << c.what;
  }
}

TEST(RunnerContractTest, ScenarioKeyIsTheTaggedHashOfTheId) {
  EXPECT_EQ(scenario::ScenarioSecretKey("gov-1"), crypto::TaggedHash("bas/scenario-key", "gov-1"));
  EXPECT_NE(scenario::ScenarioSecretKey("gov-1"), scenario::ScenarioSecretKey("gov-2"));
}

}  // namespace
}  // namespace bas::governance::testing
