// The reports of an audit (cli/audit_report.h): they show what the chain itself holds (checked
// against the chain's own state, not the replay's), escape user text, filter by year, and show
// nothing but the verdict for a ledger that does not verify.
#include "cli/audit/report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/client/format.h"
#include "crypto/encoding.h"
#include "governance/query.h"
#include "tests/unit/cli/audit/ledger_fixture.h"

namespace bas::audit {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ReportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    chain_ = new node::testing::TestChain(testing::BuildLedger());
    dir_ = new testing::TempDir();
    const auto file = dir_->path() / "ledger.basexp";
    testing::WriteRecords(file, testing::ExportRecords(*chain_));
    auto r = testing::AuditFile(file, chain_->genesis(), dir_->path());
    if (r.ok() && r->clean()) audit_ = new AuditResult(std::move(*r));
  }
  void SetUp() override { ASSERT_NE(audit_, nullptr) << "the test ledger does not audit clean"; }
  static void TearDownTestSuite() {
    delete audit_;
    delete dir_;
    delete chain_;
  }

  static node::testing::TestChain* chain_;
  static testing::TempDir* dir_;
  static AuditResult* audit_;
};
node::testing::TestChain* ReportTest::chain_ = nullptr;
testing::TempDir* ReportTest::dir_ = nullptr;
AuditResult* ReportTest::audit_ = nullptr;

TEST_F(ReportTest, JsonHoldsTheVerdictAndTheChainsRegisters) {
  const auto j = nlohmann::json::parse(FormatAuditReport(*audit_, AuditReportFormat::kJson));
  EXPECT_EQ(j["audit"]["verdict"], "clean");
  EXPECT_EQ(j["audit"]["height"], chain_->height());
  EXPECT_EQ(j["audit"]["block_hash"],
            crypto::HexEncode(crypto::ByteSpan(chain_->at(chain_->height()).block_hash)));
  EXPECT_TRUE(j["audit"]["discrepancy"].is_null());

  const auto decisions = governance::ListDecisions(chain_->state(), "");
  ASSERT_EQ(j["decisions"].size(), decisions.size());
  for (size_t i = 0; i < decisions.size(); ++i) {
    const auto& d = j["decisions"][i];
    EXPECT_EQ(d["title"], decisions[i].title());
    EXPECT_EQ(d["number"], std::to_string(decisions[i].number()));  // int64 as a string
    EXPECT_EQ(d["status"], bas::v1::Proposal::Status_Name(decisions[i].status()));
    EXPECT_EQ(d["dissent"].size(), static_cast<size_t>(decisions[i].dissent_size()));
  }
  // The resolution's two NO votes are its dissent, with their reasons.
  const auto& first = j["decisions"][0];
  ASSERT_EQ(first["title"], "Open data <policy> & reports");
  ASSERT_EQ(first["dissent"].size(), 2u);
  EXPECT_EQ(first["dissent"][0]["member_id"], "member-3");
  EXPECT_EQ(first["dissent"][0]["reason"], "test vote");

  ASSERT_EQ(j["coalitions"].size(), 1u);
  EXPECT_EQ(j["coalitions"][0]["membership_history"].size(), 6u);
  EXPECT_EQ(j["validators"].size(), 5u);
  EXPECT_TRUE(j["evidence"].empty());
}

// The text with every JSON string emptied ("..." -> ""), escapes included.
std::string WithoutStringContents(const std::string& json) {
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (!in_string) {
      out.push_back(c);
      in_string = c == '"';
    } else if (c == '\\') {
      ++i;
    } else if (c == '"') {
      out.push_back(c);
      in_string = false;
    }
  }
  return out;
}

// The JSON report is laid out as nlohmann lays out its own parse of it (two-space indentation,
// "key": value, empty lists as []), although records are no longer printed through nlohmann.
// Strings may be escaped differently (protobuf writes '<' as \u003c, nlohmann as '<'): their
// contents are left out of the comparison and checked by the test above.
TEST_F(ReportTest, JsonIsLaidOutLikeNlohmannsPrettyPrint) {
  std::string text = FormatAuditReport(*audit_, AuditReportFormat::kJson);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  const auto parsed = nlohmann::ordered_json::parse(text);
  EXPECT_EQ(WithoutStringContents(text), WithoutStringContents(parsed.dump(2)));
  EXPECT_EQ(parsed["decisions"][0]["title"], "Open data <policy> & reports");
}

TEST_F(ReportTest, CsvIsTheRegisterOfTheChain) {
  EXPECT_EQ(FormatAuditReport(*audit_, AuditReportFormat::kCsv),
            client::FormatDecisions(governance::ListDecisions(chain_->state(), ""),
                                    client::DecisionsFormat::kCsv));
}

TEST_F(ReportTest, MarkdownShowsVerdictRegisterAndDissentEscaped) {
  const std::string md = FormatAuditReport(*audit_, AuditReportFormat::kMarkdown);
  EXPECT_TRUE(Contains(md, "| Verdict | CLEAN")) << md;
  EXPECT_TRUE(Contains(md, "Open data \\<policy\\> & reports")) << md;
  EXPECT_FALSE(Contains(md, "<policy>"));
  EXPECT_TRUE(Contains(md, "member-3: test vote")) << md;
  EXPECT_TRUE(Contains(md, "member-4: test vote")) << md;
  EXPECT_TRUE(Contains(md, "## Validators and evidence of equivocation"));
  EXPECT_TRUE(Contains(md, "No evidence of equivocation in any block."));
}

TEST_F(ReportTest, AnnualReportKeepsToItsYear) {
  // The test chain starts on 2026-01-01 and lasts a few hours.
  ASSERT_EQ(UtcYear(chain_->genesis().genesis_time()), 2026);
  auto md = FormatAnnualReport(*audit_, "bas-dc", 2026, AnnualReportFormat::kMarkdown);
  ASSERT_TRUE(md.ok());
  EXPECT_TRUE(Contains(*md, "Test coalition (bas-dc): annual report 2026")) << *md;
  EXPECT_TRUE(Contains(*md, "3 decisions")) << *md;
  EXPECT_TRUE(Contains(*md, "member-3: test vote"));
  EXPECT_TRUE(Contains(*md, "height " + std::to_string(chain_->height())));
  EXPECT_TRUE(
      Contains(*md, crypto::HexEncode(crypto::ByteSpan(chain_->at(chain_->height()).block_hash))));
  EXPECT_TRUE(Contains(*md, "| ADMITTED | member-0 |")) << *md;  // genesis members, in 2026

  auto next_year = FormatAnnualReport(*audit_, "bas-dc", 2027, AnnualReportFormat::kMarkdown);
  ASSERT_TRUE(next_year.ok());
  EXPECT_TRUE(Contains(*next_year, "No decision closed in 2027."));
  EXPECT_TRUE(Contains(*next_year, "No member voted NO on a decision of 2027."));
  EXPECT_TRUE(Contains(*next_year, "No membership change in 2027."));
  EXPECT_FALSE(Contains(*next_year, "member-3: test vote"));
}

TEST_F(ReportTest, AnnualReportHtmlEscapesUserText) {
  auto html = FormatAnnualReport(*audit_, "bas-dc", 2026, AnnualReportFormat::kHtml);
  ASSERT_TRUE(html.ok());
  EXPECT_TRUE(Contains(*html, "<!DOCTYPE html>"));
  EXPECT_TRUE(Contains(*html, "Open data &lt;policy&gt; &amp; reports")) << *html;
  EXPECT_FALSE(Contains(*html, "<policy>"));
  EXPECT_TRUE(Contains(*html, "<td>member-0</td>"));
}

TEST_F(ReportTest, UnknownCoalitionIsNotFound) {
  auto r = FormatAnnualReport(*audit_, "no-such-dc", 2026, AnnualReportFormat::kMarkdown);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, client::kNotFound);
}

TEST(ReportVerdictTest, ADiscrepancyShowsOnlyTheVerdict) {
  AuditResult failed;
  failed.chain_id = "bas-test";
  failed.height = 4;
  failed.discrepancy = Discrepancy{5, "commit", "INVALID_COMMIT: signers hold 2/3 or less"};
  const auto j = nlohmann::json::parse(FormatAuditReport(failed, AuditReportFormat::kJson));
  EXPECT_EQ(j["audit"]["verdict"], "discrepancy");
  EXPECT_EQ(j["audit"]["discrepancy"]["height"], 5);
  EXPECT_EQ(j["audit"]["discrepancy"]["structure"], "commit");
  EXPECT_FALSE(j.contains("decisions"));
  const std::string md = FormatAuditReport(failed, AuditReportFormat::kMarkdown);
  EXPECT_TRUE(Contains(md, "DISCREPANCY at height 5: commit: INVALID_COMMIT")) << md;
  EXPECT_FALSE(Contains(md, "Decisions register"));
  EXPECT_EQ(FormatAuditReport(failed, AuditReportFormat::kCsv), "");
}

TEST(UtcYearTest, YearBoundaries) {
  EXPECT_EQ(UtcYear(1767225599), 2025);  // 2025-12-31T23:59:59Z
  EXPECT_EQ(UtcYear(1767225600), 2026);
  EXPECT_EQ(UtcYear(0), 1970);
}

}  // namespace
}  // namespace bas::audit
