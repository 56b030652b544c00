// node/rpc/json.h: the writer that composes responses around protobuf's JSON text must write
// what nlohmann would have written for the same value, and never invalid JSON.
#include "node/rpc/json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bas/v1/genesis.pb.h"
#include "proto/json.h"

namespace bas::node::rpc {
namespace {

using json = nlohmann::ordered_json;

TEST(JsonWriter, WritesWhatNlohmannWritesForTheSameValue) {
  JsonWriter w;
  w.BeginObject()
      .Field("id", "ab01")
      .Field("height", uint64_t{18446744073709551615u})
      .Key("empty_list")
      .BeginArray()
      .EndArray()
      .Key("empty_object")
      .BeginObject()
      .EndObject()
      .Key("list")
      .BeginArray()
      .String("a")
      .Uint(0)
      .BeginObject()
      .Field("k", "v")
      .EndObject()
      .Value(json{{"x", {1, 2}}, {"y", nullptr}})
      .EndArray()
      .Field("last", "")
      .EndObject();
  const json expected = {{"id", "ab01"},
                         {"height", uint64_t{18446744073709551615u}},
                         {"empty_list", json::array()},
                         {"empty_object", json::object()},
                         {"list", {"a", 0, {{"k", "v"}}, {{"x", {1, 2}}, {"y", nullptr}}}},
                         {"last", ""}};
  EXPECT_EQ(std::move(w).Take(), DumpJson(expected));
}

TEST(JsonWriter, EscapesStringsAsNlohmannDoes) {
  const std::string cases[] = {
      "plain",
      "quote \" backslash \\ slash /",
      "controls \x01\x1f\t\n\r\b\f del \x7f",
      "utf-8 \xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80",
      "not utf-8 \xff\xfe \xc3 end",  // replaced with U+FFFD, never an error
      std::string("nul \0 inside", 12),
  };
  for (const std::string& s : cases) {
    JsonWriter w;
    w.BeginArray().String(s).EndArray();
    const std::string text = std::move(w).Take();
    EXPECT_EQ(text, DumpJson(json::array({s}))) << s;
    EXPECT_FALSE(json::parse(text, nullptr, false).is_discarded()) << text;
  }
}

TEST(JsonWriter, SplicesRecordsAsProtobufPrintsThem) {
  bas::v1::Genesis g;
  g.set_chain_id("bas <test> & \xff");
  g.set_genesis_time(5);
  const auto record = proto::PrintJson(g);
  ASSERT_TRUE(record.ok());

  JsonWriter w;
  w.BeginObject().Field("genesis", g).Key("list").Records(std::vector{g, g}).EndObject();
  const std::string text = std::move(w).Take();
  EXPECT_EQ(text, "{\"genesis\":" + *record + ",\"list\":[" + *record + "," + *record + "]}");
  // The same value as the print-parse-print of before: valid JSON, the record unchanged.
  const json doc = json::parse(text, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << text;
  EXPECT_EQ(doc["genesis"], json::parse(*record));
  EXPECT_EQ(doc["genesis"]["genesis_time"], "5");
}

}  // namespace
}  // namespace bas::node::rpc
