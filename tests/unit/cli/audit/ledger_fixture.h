// The ledger the auditor's tests audit, and the tools to tamper with it: a chain of several
// validators built and certified through node/chain exactly as the node does
// (tests/unit/node/test_chain.h), its export file as a list of records, and the audit of a file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bas/v1/chain.pb.h"
#include "cli/audit/auditor.h"
#include "cli/audit/export_format.h"
#include "tests/unit/node/temp_dir.h"
#include "tests/unit/node/test_chain.h"

namespace bas::audit::testing {

using node::testing::TempDir;

// Four genesis validators of power 1 and six members, then:
//   1  a resolution (member 0) and a proposal to add validator 4 with power 10 (member 1)
//   2  every member votes YES on the update; on the resolution members 0-2 YES, 3-4 NO with a
//      reason, 5 ABSTAIN
//   3  an hour later: both close; the update passes, so validator 4 (10 of 14 of the power)
//      decides from height 5 and every commit from then on needs its signature
//   4  a second resolution (member 2); 5  its votes; 6  it closes; 7  empty
node::testing::TestChain BuildLedger();
inline constexpr uint64_t kNewSetHeight = 5;  // the first height the changed set decides

// The validator that joins at kNewSetHeight.
crypto::KeyPair NewValidatorKey();

struct Record {
  ExportRecordType type;
  std::string payload;
};

// The export of chain as records: HEADER, GENESIS, then BLOCK, COMMIT, RESULTS per height.
std::vector<Record> ExportRecords(const node::testing::TestChain& chain);
// Index of the records of height h in such a list.
inline size_t BlockAt(uint64_t h) { return 2 + 3 * (h - 1); }
inline size_t CommitAt(uint64_t h) { return BlockAt(h) + 1; }
inline size_t ResultsAt(uint64_t h) { return BlockAt(h) + 2; }

// Writes records as an export file (valid checksums: the tamperer is careful).
void WriteRecords(const std::filesystem::path& file, const std::vector<Record>& records);

template <typename M>
M Parse(const Record& r) {
  M m;
  if (!m.ParseFromString(r.payload)) ADD_FAILURE() << "record does not parse";
  return m;
}

// Audits an export file against genesis on two threads, with the scratch state under dir.
Result<AuditResult> AuditFile(const std::filesystem::path& file, const bas::v1::Genesis& genesis,
                              const std::filesystem::path& scratch_dir);

}  // namespace bas::audit::testing
