// How `bas` shows records: text tables, the decisions register as a table, CSV and Markdown
// (with the quoting each needs), and the proposal view's tally and "so far" test.
#include "cli/client/format.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace bas::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

bas::v1::GroupTally Group(bas::v1::StakeholderGroup g, uint64_t yes, uint64_t no, uint64_t abstain,
                          uint64_t eligible) {
  bas::v1::GroupTally out;
  out.set_group(g);
  out.set_yes(yes);
  out.set_no(no);
  out.set_abstain(abstain);
  out.set_eligible(eligible);
  return out;
}

// Two decisions: a passed annual plan with a dissent whose reason needs quoting everywhere,
// and a rejected resolution.
std::vector<bas::v1::Decision> Register() {
  bas::v1::Decision plan;
  plan.set_coalition("bas-dc");
  plan.set_number(1);
  plan.set_proposal_id(std::string(32, '\x01'));
  plan.set_title("Annual plan 2027, for the IGF");
  plan.set_status(bas::v1::Proposal::PASSED);
  plan.set_close_height(12);
  plan.set_close_time(1795685820);
  bas::v1::ProposalTally* t = plan.mutable_tally();
  t->set_yes(5);
  t->set_no(1);
  t->set_eligible(7);
  *t->add_groups() = Group(bas::v1::GOVERNMENT, 2, 0, 0, 2);
  *t->add_groups() = Group(bas::v1::PRIVATE_SECTOR, 1, 1, 0, 2);
  *t->add_groups() = Group(bas::v1::INTERGOVERNMENTAL, 0, 0, 0, 0);  // not listed
  bas::v1::Dissent* d = plan.add_dissent();
  d->set_member_id("priv-1");
  d->set_reason("no budget line | \"costs\",\nsee annex");

  bas::v1::Decision res;
  res.set_coalition("bas-dc");
  res.set_number(2);
  res.set_title("Resolution");
  res.set_status(bas::v1::Proposal::REJECTED);
  res.set_failed_test("GROUP_QUORUM:ACADEMIA");
  res.set_close_time(1795685900);
  res.mutable_tally()->set_eligible(7);
  return {plan, res};
}

TEST(TextTableTest, AlignsColumnsByCodePoints) {
  TextTable table({"NAME", "N"});
  table.AlignRight(1);
  table.AddRow({"Zoë", "7"});
  table.AddRow({"Al", "12"});
  EXPECT_EQ(table.Render(),
            "NAME   N\n"
            "Zoë    7\n"
            "Al    12\n");
}

TEST(FormatTest, PpmTimesAndIds) {
  EXPECT_EQ(FormatPpm(500000), "50%");
  EXPECT_EQ(FormatPpm(334000), "33.4%");
  EXPECT_EQ(FormatPpm(666667), "66.6667%");
  EXPECT_EQ(FormatPpm(0), "0%");
  EXPECT_EQ(FormatPpm(1000000), "100%");
  EXPECT_EQ(FormatUnixTime(1795685820), "2026-11-26 09:37:00 UTC");
  EXPECT_EQ(FormatUnixTime(0), "-");
  EXPECT_EQ(ShortHex(std::string(32, '\xab')), "abababababab");
}

TEST(CsvTest, QuotesWhatNeedsQuoting) {
  EXPECT_EQ(CsvRow({"a", "b c", ""}), "a,b c,\r\n");
  EXPECT_EQ(CsvRow({"x,y", "say \"hi\"", "two\nlines"}),
            "\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n");
  EXPECT_EQ(MarkdownCell("a|b\\c\nd"), "a\\|b\\\\c d");
}

TEST(DecisionsTest, TableListsTotalsGroupsAndDissent) {
  const std::string out = FormatDecisions(Register(), DecisionsFormat::kTable);
  EXPECT_THAT(out, HasSubstr("NUMBER    STATUS    FAILED TEST            YES  NO  ABSTAIN  "
                             "ELIGIBLE  CLOSED                   TITLE\n"));
  EXPECT_THAT(out,
              HasSubstr("bas-dc#1  PASSED    -                        5   1        0         7  "
                        "2026-11-26 09:37:00 UTC  Annual plan 2027, for the IGF\n"));
  EXPECT_THAT(out, HasSubstr("bas-dc#2  REJECTED  GROUP_QUORUM:ACADEMIA"));
  EXPECT_THAT(out, HasSubstr("bas-dc#1  PRIVATE_SECTOR    1   1        0         2\n"));
  EXPECT_THAT(out, Not(HasSubstr("INTERGOVERNMENTAL")));  // no eligible members: not tested
  EXPECT_THAT(out, HasSubstr("bas-dc#1  priv-1  no budget line"));
  EXPECT_EQ(FormatDecisions({}, DecisionsFormat::kTable), "no decisions yet\n");
}

TEST(DecisionsTest, CsvHasOneRecordPerDecision) {
  const std::string out = FormatDecisions(Register(), DecisionsFormat::kCsv);
  const std::string header =
      "coalition,number,proposal_id,title,status,failed_test,yes,no,abstain,eligible,"
      "close_height,close_time,groups,dissent\r\n";
  ASSERT_TRUE(out.starts_with(header)) << out;
  std::string id_hex;
  for (int i = 0; i < 32; ++i) id_hex += "01";
  EXPECT_THAT(out, HasSubstr("bas-dc,1," + id_hex +
                             ",\"Annual plan 2027, for the IGF\",PASSED,,5,1,0,7,12,1795685820,"
                             "GOVERNMENT=2/0/0/2; PRIVATE_SECTOR=1/1/0/2,"
                             "\"priv-1: no budget line | \"\"costs\"\",\nsee annex\"\r\n"));
  EXPECT_THAT(out,
              HasSubstr(",Resolution,REJECTED,GROUP_QUORUM:ACADEMIA,0,0,0,7,0,1795685900,,\r\n"));
}

TEST(DecisionsTest, MarkdownEscapesCells) {
  const std::string out = FormatDecisions(Register(), DecisionsFormat::kMarkdown);
  EXPECT_TRUE(out.starts_with("| Number | Title | Status |")) << out;
  EXPECT_THAT(out, HasSubstr("| bas-dc#1 | Annual plan 2027, for the IGF | PASSED | - | 5 | 1 | 0 "
                             "| 7 | 2026-11-26 09:37:00 UTC | GOVERNMENT=2/0/0/2, "
                             "PRIVATE_SECTOR=1/1/0/2 | priv-1: no budget line \\| \"costs\", see "
                             "annex |\n"));
  // Every row has the header's number of cells.
  size_t lines = 0;
  for (size_t at = 0; (at = out.find('\n', at)) != std::string::npos; ++at) ++lines;
  EXPECT_EQ(lines, 4u);
}

TEST(DecisionsTest, FormatNames) {
  EXPECT_EQ(*ParseDecisionsFormat("md"), DecisionsFormat::kMarkdown);
  EXPECT_EQ(*ParseDecisionsFormat("csv"), DecisionsFormat::kCsv);
  EXPECT_FALSE(ParseDecisionsFormat("xml").ok());
}

TEST(ProposalViewTest, ShowsGroupTestsAndTheTestFailingSoFar) {
  ProposalView view;
  view.id_hex = std::string(64, 'a');
  bas::v1::Proposal& p = view.proposal;
  p.set_coalition("bas-dc");
  p.set_title("Annual plan 2027");
  p.set_proposer_member_id("gov-1");
  p.set_status(bas::v1::Proposal::ACTIVE);
  p.mutable_actions()->Add()->mutable_resolution()->set_text("r");
  bas::v1::EffectiveRule* rule = p.mutable_rule();
  rule->set_mode(bas::v1::MAJORITY);
  rule->set_voting_period_s(20);
  rule->set_quorum_ppm(500000);
  rule->set_threshold_ppm(500000);
  rule->set_groups_required(true);
  rule->set_group_quorum_ppm(200000);
  rule->set_group_threshold_ppm(500000);
  view.tally.set_yes(3);
  view.tally.set_no(1);
  view.tally.set_eligible(6);
  *view.tally.add_groups() = Group(bas::v1::GOVERNMENT, 2, 0, 0, 2);
  *view.tally.add_groups() = Group(bas::v1::PRIVATE_SECTOR, 1, 1, 0, 2);
  *view.tally.add_groups() = Group(bas::v1::ACADEMIA, 0, 0, 0, 2);
  bas::v1::VoteRecord vote;
  vote.set_member_id("priv-1");
  vote.set_group(bas::v1::PRIVATE_SECTOR);
  vote.set_choice(bas::v1::NO);
  vote.set_reason("no budget");
  view.votes.push_back(vote);

  const std::string out = FormatProposal(view);
  EXPECT_THAT(out, HasSubstr("rule       MAJORITY, quorum 50%, threshold over 50%, in every "
                             "group: quorum 20%, threshold over 50%; voting period 20 s\n"));
  EXPECT_THAT(out, HasSubstr("GOVERNMENT        2   0        0         2  ok\n"));
  EXPECT_THAT(out, HasSubstr("PRIVATE_SECTOR    1   1        0         2  support not met\n"));
  EXPECT_THAT(out, HasSubstr("ACADEMIA          0   0        0         2  quorum not met\n"));
  EXPECT_THAT(out, HasSubstr("TOTAL             3   1        0         6\n"));
  EXPECT_THAT(out, HasSubstr("so far     fails GROUP_SUPPORT:PRIVATE_SECTOR"));
  EXPECT_THAT(out, HasSubstr("priv-1  PRIVATE_SECTOR  NO"));

  // Once every group has a YES majority, it passes so far.
  *view.tally.mutable_groups(1) = Group(bas::v1::PRIVATE_SECTOR, 2, 0, 0, 2);
  *view.tally.mutable_groups(2) = Group(bas::v1::ACADEMIA, 1, 0, 0, 2);
  view.tally.set_yes(5);
  view.tally.set_no(0);
  EXPECT_THAT(FormatProposal(view), HasSubstr("so far     passes"));
}

}  // namespace
}  // namespace bas::client
