#include "tests/unit/cli/audit/ledger_fixture.h"

#include <fstream>

#include <gtest/gtest.h>
#include <stdlib.h>

#include "cli/audit/ledger_source.h"

namespace bas::audit::testing {

using node::testing::TestChain;
using node::testing::TxIdOf;

crypto::KeyPair NewValidatorKey() { return node::testing::DeterministicKey("validator", 4); }

TestChain BuildLedger() {
  node::testing::GenesisSpec spec;
  spec.validators = 4;
  spec.validator_power = 1;
  TestChain c(spec);
  const std::string resolution = c.Propose(0, std::nullopt, "Open data <policy> & reports");
  const std::string update =
      node::testing::ValidatorUpdateTx(c.chain_id(), c.member(1), 0, NewValidatorKey(), 10);
  c.Produce({resolution, update});
  std::vector<std::string> votes;
  for (size_t i = 0; i < c.member_count(); ++i) {
    const bas::v1::VoteChoice choice = i <= 2   ? bas::v1::YES
                                       : i <= 4 ? bas::v1::NO
                                                : bas::v1::ABSTAIN;
    votes.push_back(c.Vote(i, TxIdOf(resolution), std::nullopt, choice));
  }
  for (size_t i = 0; i < c.member_count(); ++i) {
    votes.push_back(c.Vote(i, TxIdOf(update), c.NextNonce(i) + 1));
  }
  c.Produce(votes);
  const auto closing = c.Produce({}, c.Info().time + 3600);
  if (closing.exec.results.validator_updates_size() != 1) {
    ADD_FAILURE() << "the validator update did not pass";
  }
  const std::string second = c.Propose(2, std::nullopt, "Second resolution");
  c.Produce({second});
  votes.clear();
  for (size_t i = 0; i < c.member_count(); ++i) votes.push_back(c.Vote(i, TxIdOf(second)));
  c.Produce(votes);
  c.Produce({}, c.Info().time + 3600);
  c.Produce({});
  return c;
}

std::vector<Record> ExportRecords(const TestChain& chain) {
  bas::v1::ExportHeader header;
  header.set_format_version(kExportFormatVersion);
  header.set_chain_id(chain.chain_id());
  header.set_first_height(1);
  header.set_last_height(chain.height());
  header.set_has_results(true);
  std::vector<Record> out = {{ExportRecordType::kHeader, header.SerializeAsString()},
                             {ExportRecordType::kGenesis, chain.genesis().SerializeAsString()}};
  for (uint64_t h = 1; h <= chain.height(); ++h) {
    const auto& b = chain.at(h);
    out.push_back({ExportRecordType::kBlock, b.block.SerializeAsString()});
    out.push_back({ExportRecordType::kCommit, b.commit.SerializeAsString()});
    out.push_back({ExportRecordType::kResults, b.exec.results.SerializeAsString()});
  }
  return out;
}

void WriteRecords(const std::filesystem::path& file, const std::vector<Record>& records) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << kExportMagic;
  for (const Record& r : records) out << EncodeExportRecord(r.type, r.payload);
  if (!out) ADD_FAILURE() << "cannot write " << file;
}

Result<AuditResult> AuditFile(const std::filesystem::path& file, const bas::v1::Genesis& genesis,
                              const std::filesystem::path& scratch_dir) {
  Result<std::unique_ptr<LedgerSource>> source = OpenExportSource(file);
  if (!source.ok()) return source.error();
  AuditOptions options;
  options.threads = 2;
  options.scratch_dir = scratch_dir;
  return AuditLedger(**source, genesis, options);
}

}  // namespace bas::audit::testing
