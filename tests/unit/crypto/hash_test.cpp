#include "crypto/hash.h"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/encoding.h"

namespace bas::crypto {
namespace {

std::string Hex(const Hash32& h) { return HexEncode(h); }

// FIPS 180-2 appendix B (SHA-256 examples) and the empty message.
TEST(Sha256Test, FipsKnownAnswers) {
  EXPECT_EQ(Hex(Sha256Of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256Of("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256Of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, MillionAs) {
  Sha256 sha;
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) sha.Update(chunk);
  EXPECT_EQ(Hex(sha.Final()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, IncrementalMatchesOneShotAtEverySplit) {
  std::string msg;
  for (int i = 0; i < 150; ++i) msg.push_back(static_cast<char>(i * 7));
  const Hash32 expected = Sha256Of(msg);
  Sha256 sha;
  for (size_t split = 0; split <= msg.size(); ++split) {
    sha.Update(std::string_view(msg).substr(0, split));
    sha.Update(std::string_view(msg).substr(split));
    ASSERT_EQ(sha.Final(), expected) << "split at " << split;  // also checks Final() resets
  }
}

// Expected values from an independent implementation:
//   python3 -c 'import hashlib
//   def th(tag, msg):
//       t = hashlib.sha256(tag.encode()).digest()
//       return hashlib.sha256(t + t + msg).hexdigest()
//   print(th("BIP0340/challenge", b""))
//   print(th("BIP0340/aux", bytes(32)))
//   print(th("bas/tx", b"hello"))
//   print(th("BIP0340/nonce", bytes(i % 256 for i in range(200))))
//   print(th("", b"abc"))'
struct TaggedHashCase {
  std::string tag;
  std::string msg;
  std::string expected_hex;
};

std::vector<TaggedHashCase> TaggedHashCases() {
  std::string counting;
  for (int i = 0; i < 200; ++i) counting.push_back(static_cast<char>(i));
  return {
      {"BIP0340/challenge", "", "c216d352f5818b7b4beacd4ae0a26fe888080823d2a598856661bcd54f1b3713"},
      {"BIP0340/aux", std::string(32, '\0'),
       "54f169cfc9e2e5727480441f90ba25c488f461c70b5ea5dcaaf7af69270aa514"},
      {"bas/tx", "hello", "e119fb4bdee050dd607dedd8e527739b44c7f8789ec906b459bc4236a763a36f"},
      {"BIP0340/nonce", counting,
       "b92191f584e76cfb4720d54ebf879e33cc138da2fa22449e88c7f4880c731c63"},
      {"", "abc", "d7f526e0a2ee5577fc14454a6ccf01d91cd3d2b38915bd17706725e1ce6a0816"},
  };
}

TEST(TaggedHashTest, KnownAnswers) {
  for (const TaggedHashCase& c : TaggedHashCases()) {
    EXPECT_EQ(Hex(TaggedHash(c.tag, c.msg)), c.expected_hex) << c.tag;
    // Twice: the second call takes the cached-midstate path.
    EXPECT_EQ(Hex(TaggedHash(c.tag, c.msg)), c.expected_hex) << c.tag;
    TaggedHasher hasher(c.tag);
    const std::string_view msg = c.msg;
    hasher.Update(msg.substr(0, msg.size() / 3)).Update(msg.substr(msg.size() / 3));
    EXPECT_EQ(Hex(hasher.Final()), c.expected_hex) << c.tag;
    // In two parts, split anywhere (empty parts included).
    for (size_t cut : {size_t{0}, msg.size() / 2, msg.size()}) {
      EXPECT_EQ(Hex(TaggedHash(c.tag, AsBytes(msg.substr(0, cut)), AsBytes(msg.substr(cut)))),
                c.expected_hex)
          << c.tag << " cut at " << cut;
    }
  }
}

TEST(TaggedHashTest, MatchesDefinition) {
  const Hash32 tag_hash = Sha256Of("bas/app");
  Sha256 sha;
  sha.Update(tag_hash).Update(tag_hash).Update("payload");
  EXPECT_EQ(TaggedHash("bas/app", "payload"), sha.Final());
}

// More distinct tags than the per-thread midstate cache holds, interleaved, so entries are
// evicted and refilled: results must not depend on the cache state.
TEST(TaggedHashTest, ManyTagsStayCorrectAcrossCacheEviction) {
  for (int round = 0; round < 3; ++round) {
    for (int t = 0; t < 40; ++t) {
      const std::string tag = "tag-" + std::to_string(t);
      const Hash32 tag_hash = Sha256Of(tag);
      Sha256 sha;
      sha.Update(tag_hash).Update(tag_hash).Update("m");
      ASSERT_EQ(TaggedHash(tag, "m"), sha.Final()) << tag << " round " << round;
    }
  }
}

TEST(TaggedHashTest, DifferentTagsDiffer) {
  EXPECT_NE(TaggedHash("bas/tx", "x"), TaggedHash("bas/app", "x"));
  EXPECT_NE(TaggedHash("bas/tx", "x"), Sha256Of("x"));
}

TEST(TaggedHashTest, ThreadsComputeTheSameValues) {
  const std::vector<TaggedHashCase> cases = TaggedHashCases();
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const TaggedHashCase& c = cases[(i + t) % cases.size()];
        if (Hex(TaggedHash(c.tag, c.msg)) != c.expected_hex) ++failures[t];
        if (Hex(Sha256Of("abc")) !=
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") {
          ++failures[t];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace bas::crypto
