// proto/json.h: the one print option set, strict and lenient parsing, genesis files.
#include "proto/json.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bas/v1/chain.pb.h"

namespace bas::proto {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "bas-proto-json-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = tmpl;
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string Slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void Spit(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

bas::v1::Genesis SmallGenesis() {
  bas::v1::Genesis g;
  g.set_chain_id("bas-test");
  g.set_genesis_time(1'700'000'000);
  auto* v = g.add_validators();
  v->set_key(std::string(32, '\x01'));
  v->set_power(10);
  v->set_name("v0");
  return g;
}

TEST(PrintJson, PrintsEveryFieldWithProtoNamesCompact) {
  auto text = PrintJson(bas::v1::Genesis());
  ASSERT_TRUE(text.ok());
  // Zeros, empty strings and empty lists are printed; int64 as a string; no whitespace.
  EXPECT_NE(text->find("\"chain_id\":\"\""), std::string::npos) << *text;
  EXPECT_NE(text->find("\"genesis_time\":\"0\""), std::string::npos) << *text;
  EXPECT_NE(text->find("\"validators\":[]"), std::string::npos) << *text;
  EXPECT_EQ(text->find("chainId"), std::string::npos) << *text;
  EXPECT_EQ(text->find_first_of(" \n"), std::string::npos) << *text;
}

TEST(PrintJson, Int64AsStringAndBytesAsBase64) {
  auto text = PrintJson(SmallGenesis());
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("\"genesis_time\":\"1700000000\""), std::string::npos) << *text;
  EXPECT_NE(text->find("\"key\":\"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\""),
            std::string::npos)
      << *text;
}

TEST(PrintJson, RoundTripsThroughStrictParse) {
  auto text = PrintJson(SmallGenesis());
  ASSERT_TRUE(text.ok());
  bas::v1::Genesis back;
  ASSERT_TRUE(ParseJsonStrict(*text, &back).ok());
  EXPECT_EQ(back.SerializeAsString(), SmallGenesis().SerializeAsString());
}

// proto3 parsing refuses strings that are not UTF-8, but a message built in memory can hold
// one: the text must still be valid JSON in UTF-8 (nlohmann's parser checks both).
TEST(PrintJson, TextIsValidUtf8EvenWhenAStringIsNot) {
  bas::v1::Genesis g;
  g.set_chain_id("bad \xff\xfe utf8 \xc3 <tag> \x01");
  auto text = PrintJson(g);
  ASSERT_TRUE(text.ok());
  const auto doc = nlohmann::json::parse(*text, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << *text;
  // protobuf drops what is not UTF-8 (here with the byte after a truncated sequence).
  EXPECT_EQ(doc["chain_id"], "bad  utf8 <tag> \x01");
}

TEST(ParseJson, StrictRefusesUnknownFieldsLenientIgnoresThem) {
  const std::string text = R"({"chain_id": "x", "field_from_the_future": 7})";
  bas::v1::Genesis g;
  Status strict = ParseJsonStrict(text, &g);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.code(), "MALFORMED");
  EXPECT_NE(strict.message().find("field_from_the_future"), std::string::npos) << strict.message();

  ASSERT_TRUE(ParseJsonLenient(text, &g).ok());
  EXPECT_EQ(g.chain_id(), "x");
}

TEST(ParseJson, RefusesWhatIsNotTheMapping) {
  const char* cases[] = {
      "",                                    // empty
      "{",                                   // not JSON
      "[]",                                  // not an object
      R"({"chain_id": 5})",                  // wrong type
      R"({"genesis_time": "soon"})",         // not an integer
      R"({"validators": [{"key": "%%"}]})",  // not base64
  };
  for (const char* text : cases) {
    bas::v1::Genesis g;
    Status strict = ParseJsonStrict(text, &g);
    EXPECT_FALSE(strict.ok()) << text;
    if (!strict.ok()) {
      EXPECT_EQ(strict.code(), "MALFORMED") << text;
    }
    Status lenient = ParseJsonLenient(text, &g);
    EXPECT_FALSE(lenient.ok()) << text;
  }
}

TEST(ParseJson, AcceptsJsonNamesAndClearsTheMessage) {
  bas::v1::Genesis g = SmallGenesis();
  ASSERT_TRUE(ParseJsonStrict(R"({"chainId": "y"})", &g).ok());
  EXPECT_EQ(g.chain_id(), "y");
  EXPECT_EQ(g.validators_size(), 0);
}

TEST(GenesisFile, WriteThenReadRoundTrips) {
  TempDir dir;
  const fs::path file = dir.path() / "genesis.json";
  ASSERT_TRUE(WriteGenesis(file, SmallGenesis()).ok());
  auto back = ReadGenesis(file);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->SerializeAsString(), SmallGenesis().SerializeAsString());
}

// The layout `basd genesis new` and `basd start --dev` have always written: pretty, proto
// names, defaults left out. Operators diff these files.
TEST(GenesisFile, WritesTheOperatorLayout) {
  TempDir dir;
  const fs::path file = dir.path() / "genesis.json";
  ASSERT_TRUE(WriteGenesis(file, SmallGenesis()).ok());
  EXPECT_EQ(Slurp(file), R"({
 "chain_id": "bas-test",
 "genesis_time": "1700000000",
 "validators": [
  {
   "key": "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
   "power": "10",
   "name": "v0"
  }
 ]
}
)");
}

TEST(GenesisFile, MissingIsAnIoError) {
  TempDir dir;
  auto g = ReadGenesis(dir.path() / "nope.json");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, "IO_ERROR");
}

TEST(GenesisFile, MalformedIsInvalidGenesisNamingTheFile) {
  TempDir dir;
  const fs::path file = dir.path() / "genesis.json";
  for (const char* text : {"{", R"({"chain_id": "x", "extra": 1})", "null"}) {
    Spit(file, text);
    auto g = ReadGenesis(file);
    ASSERT_FALSE(g.ok()) << text;
    EXPECT_EQ(g.error().code, "INVALID_GENESIS") << text;
    EXPECT_NE(g.error().message.find(file.string()), std::string::npos) << g.error().message;
  }
}

TEST(GenesisFile, TooLargeIsRefusedAtTheLimit) {
  TempDir dir;
  const fs::path file = dir.path() / "genesis.json";
  // A valid genesis padded with whitespace: exactly at the limit it reads, one byte over not.
  const std::string body = R"({"chain_id": "x"})";
  std::string text = body + std::string(kMaxGenesisFileBytes - body.size(), ' ');
  Spit(file, text);
  auto at_limit = ReadGenesis(file);
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().message;
  EXPECT_EQ(at_limit->chain_id(), "x");

  Spit(file, text + " ");
  auto over = ReadGenesis(file);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, "TOO_LARGE");
}

TEST(GenesisFile, WriteToAMissingDirectoryIsAnIoError) {
  TempDir dir;
  Status s = WriteGenesis(dir.path() / "no" / "such" / "genesis.json", SmallGenesis());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), "IO_ERROR");
}

}  // namespace
}  // namespace bas::proto
