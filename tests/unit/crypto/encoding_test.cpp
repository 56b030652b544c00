#include "crypto/encoding.h"

#include <cctype>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace bas::crypto {
namespace {

std::string AsString(const std::vector<uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

struct Rfc4648Case {
  std::string data;
  std::string base16;
  std::string base64;
};

// RFC 4648 section 10.
const Rfc4648Case kRfc4648Cases[] = {
    {"", "", ""},
    {"f", "66", "Zg=="},
    {"fo", "666F", "Zm8="},
    {"foo", "666F6F", "Zm9v"},
    {"foob", "666F6F62", "Zm9vYg=="},
    {"fooba", "666F6F6261", "Zm9vYmE="},
    {"foobar", "666F6F626172", "Zm9vYmFy"},
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(HexTest, Rfc4648Vectors) {
  for (const Rfc4648Case& c : kRfc4648Cases) {
    EXPECT_EQ(HexEncode(c.data), Lower(c.base16));
    Result<std::vector<uint8_t>> upper = HexDecode(c.base16);
    ASSERT_TRUE(upper.ok()) << c.base16;
    EXPECT_EQ(AsString(*upper), c.data);
    Result<std::vector<uint8_t>> lower = HexDecode(Lower(c.base16));
    ASSERT_TRUE(lower.ok()) << c.base16;
    EXPECT_EQ(AsString(*lower), c.data);
  }
}

TEST(HexTest, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  Result<std::vector<uint8_t>> back = HexDecode(HexEncode(all));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(AsString(*back), all);
}

TEST(HexTest, RejectsMalformedInput) {
  for (const std::string& bad :
       std::vector<std::string>{"0", "abc", "0g", "g0", "zz", " 00", "00 ", "0x00", "00\n", "-1",
                                std::string("0\0", 2)}) {
    Result<std::vector<uint8_t>> r = HexDecode(bad);
    ASSERT_FALSE(r.ok()) << "accepted '" << bad << "'";
    EXPECT_EQ(r.error().code, "MALFORMED_HEX");
  }
}

TEST(HexTest, FixedLength) {
  Result<std::array<uint8_t, 2>> ok = HexDecodeFixed<2>("a1B2");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (std::array<uint8_t, 2>{0xa1, 0xb2}));
  for (std::string_view bad : {"a1", "a1b2c3", "", "a1b"}) {
    Result<std::array<uint8_t, 2>> r = HexDecodeFixed<2>(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "MALFORMED_HEX");
  }
}

TEST(Base64Test, Rfc4648Vectors) {
  for (const Rfc4648Case& c : kRfc4648Cases) {
    EXPECT_EQ(Base64Encode(AsBytes(c.data)), c.base64);
    Result<std::vector<uint8_t>> back = Base64Decode(c.base64);
    ASSERT_TRUE(back.ok()) << c.base64;
    EXPECT_EQ(AsString(*back), c.data);
  }
}

TEST(Base64Test, RoundTripsEveryLength) {
  std::string data;
  for (int len = 0; len < 100; ++len) {
    Result<std::vector<uint8_t>> back = Base64Decode(Base64Encode(AsBytes(data)));
    ASSERT_TRUE(back.ok()) << len;
    EXPECT_EQ(AsString(*back), data);
    data.push_back(static_cast<char>(len * 37 + 11));
  }
}

TEST(Base64Test, RejectsMalformedInput) {
  const char* bad_inputs[] = {
      "Zg=",       // length not a multiple of 4
      "Zg",        // padding missing
      "Zm9vY",     // length
      "Z===",      // three padding characters
      "====",      // padding only
      "Zh==",      // non-zero bits after the last byte ("Zg==" is canonical)
      "Zm9=",      // likewise for two bytes ("Zm8=" is canonical)
      "Zg==Zg==",  // padding in the middle
      "Zm=v",      // padding inside a group
      "=Zm9",      // padding first
      "Zm9\n",     // whitespace, with a valid length
      "Zm 9",      //
      "Zm9v\n",    //
      "Zm-v",      // base64url alphabet
      "Zm_v",      //
      "Zm9v!A==",  // bad character
  };
  for (const char* bad : bad_inputs) {
    Result<std::vector<uint8_t>> r = Base64Decode(bad);
    ASSERT_FALSE(r.ok()) << "accepted '" << bad << "'";
    EXPECT_EQ(r.error().code, "MALFORMED_BASE64");
  }
}

}  // namespace
}  // namespace bas::crypto
