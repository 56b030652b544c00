// The export file's framing (docs/export.md): the record layout as documented, a round trip
// through writer and reader, and each way a file can be malformed, named by the reader.
#include "cli/audit/export_format.h"

#include <fstream>

#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "tests/unit/cli/audit/ledger_fixture.h"

namespace bas::audit {
namespace {

using testing::Record;

std::string ReadAll(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The layout written in docs/export.md, computed here from the document's words.
TEST(ExportFormatTest, RecordLayoutIsTheDocumentedOne) {
  const std::string payload = "some payload bytes";
  const std::string record = EncodeExportRecord(ExportRecordType::kCommit, payload);
  ASSERT_EQ(record.size(), 4 + 1 + payload.size() + 4);
  EXPECT_EQ(record.substr(0, 4), std::string("\0\0\0\x12", 4));  // 18, big-endian
  EXPECT_EQ(record[4], '\x04');                                  // COMMIT
  EXPECT_EQ(record.substr(5, payload.size()), payload);
  const crypto::Hash32 sha = crypto::Sha256Of(record.substr(0, 5 + payload.size()));
  EXPECT_EQ(record.substr(5 + payload.size()), std::string(sha.begin(), sha.begin() + 4));
}

class ExportFileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    chain_ = new node::testing::TestChain();
    chain_->Produce({chain_->Propose(0)});
    chain_->Produce({});
  }
  static void TearDownTestSuite() { delete chain_; }

  // Writes records and opens them; nullopt-free reading is left to each test.
  Result<ExportReader> Open(const std::vector<Record>& records) {
    testing::WriteRecords(file_, records);
    return ExportReader::Open(file_);
  }
  // Reads every height; the first error.
  static Status ReadAllHeights(ExportReader& reader) {
    while (true) {
      auto next = reader.Next();
      if (!next.ok()) return next.error();
      if (!next->has_value()) return Status::Ok();
    }
  }

  testing::TempDir dir_;
  std::filesystem::path file_ = dir_.path() / "x.basexp";
  static node::testing::TestChain* chain_;
};
node::testing::TestChain* ExportFileTest::chain_ = nullptr;

TEST_F(ExportFileTest, WriterAndReaderRoundTrip) {
  bas::v1::ExportHeader header;
  header.set_format_version(kExportFormatVersion);
  header.set_chain_id(chain_->chain_id());
  header.set_first_height(1);
  header.set_last_height(2);
  header.set_has_results(true);
  {
    auto writer = ExportWriter::Create(file_, header, chain_->genesis());
    ASSERT_TRUE(writer.ok());
    // Until Finish, the file is not there under its name.
    EXPECT_FALSE(std::filesystem::exists(file_));
    for (uint64_t h = 1; h <= 2; ++h) {
      const std::string results = chain_->at(h).exec.results.SerializeAsString();
      ASSERT_TRUE(writer->WriteHeight(chain_->at(h).block, chain_->at(h).commit, &results).ok());
    }
    ASSERT_TRUE(writer->Finish().ok());
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "x.basexp.partial"));
  auto reader = ExportReader::Open(file_);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->header().SerializeAsString(), header.SerializeAsString());
  EXPECT_EQ(reader->genesis().SerializeAsString(), chain_->genesis().SerializeAsString());
  for (uint64_t h = 1; h <= 2; ++h) {
    auto next = reader->Next();
    ASSERT_TRUE(next.ok() && next->has_value());
    EXPECT_EQ((*next)->block.SerializeAsString(), chain_->at(h).block.SerializeAsString());
    EXPECT_EQ((*next)->commit.SerializeAsString(), chain_->at(h).commit.SerializeAsString());
    EXPECT_EQ(*(*next)->results, chain_->at(h).exec.results.SerializeAsString());
  }
  auto end = reader->Next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
  // The same bytes as the records the fixture writes by hand from the document.
  const std::string written = ReadAll(file_);
  testing::WriteRecords(file_, testing::ExportRecords(*chain_));
  EXPECT_EQ(written, ReadAll(file_));
}

TEST_F(ExportFileTest, AnUnfinishedWriterLeavesNoFile) {
  bas::v1::ExportHeader header;
  header.set_format_version(kExportFormatVersion);
  { ASSERT_TRUE(ExportWriter::Create(file_, header, chain_->genesis()).ok()); }
  EXPECT_FALSE(std::filesystem::exists(file_));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "x.basexp.partial"));
}

TEST_F(ExportFileTest, MalformedFilesAreNamed) {
  const std::vector<Record> good = testing::ExportRecords(*chain_);
  struct Case {
    const char* name;
    std::function<void(std::vector<Record>&)> edit;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"no header", [](auto& rs) { rs.erase(rs.begin()); }, "expected a HEADER record"},
      {"future version",
       [](auto& rs) {
         auto h = testing::Parse<bas::v1::ExportHeader>(rs[0]);
         h.set_format_version(2);
         rs[0].payload = h.SerializeAsString();
       },
       "format version 2"},
      {"range not from 1",
       [](auto& rs) {
         auto h = testing::Parse<bas::v1::ExportHeader>(rs[0]);
         h.set_first_height(2);
         rs[0].payload = h.SerializeAsString();
       },
       "does not start at height 1"},
      {"genesis that does not parse", [](auto& rs) { rs[1].payload = "\xff\xff\xff"; },
       "does not parse as bas.v1.Genesis"},
      {"commit before block",
       [](auto& rs) { std::swap(rs[testing::BlockAt(1)], rs[testing::CommitAt(1)]); },
       "height 1: expected a BLOCK record, found COMMIT"},
      {"results missing",
       [](auto& rs) { rs.erase(rs.begin() + static_cast<long>(testing::ResultsAt(2))); },
       "height 2: expected a RESULTS record, found the end of the file"},
      {"a record after the last height", [](auto& rs) { rs.push_back(rs[testing::BlockAt(2)]); },
       "a BLOCK record after height 2"},
  };
  for (const Case& c : cases) {
    std::vector<Record> records = good;
    c.edit(records);
    testing::WriteRecords(file_, records);
    Status s = [&]() -> Status {
      auto reader = ExportReader::Open(file_);
      if (!reader.ok()) return reader.error();
      return ReadAllHeights(*reader);
    }();
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.code(), kLedgerMalformed) << c.name;
    EXPECT_NE(s.message().find(c.reason), std::string::npos) << c.name << ": " << s.message();
  }
}

TEST_F(ExportFileTest, BadMagicAndOversizedRecords) {
  std::ofstream(file_, std::ios::binary) << "BASEXP2\n";
  auto magic = ExportReader::Open(file_);
  ASSERT_FALSE(magic.ok());
  EXPECT_EQ(magic.error().code, kLedgerMalformed);

  // A length past the limit is refused before anything is allocated for it.
  std::ofstream(file_, std::ios::binary | std::ios::trunc)
      << kExportMagic << std::string("\x7f\xff\xff\xff\x01", 5);
  auto huge = ExportReader::Open(file_);
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().message.find("a record of 2147483647 bytes"), std::string::npos)
      << huge.error().message;

  auto missing = ExportReader::Open(dir_.path() / "no-such-file");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "IO_ERROR");
}

}  // namespace
}  // namespace bas::audit
