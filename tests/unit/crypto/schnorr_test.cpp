#include "crypto/schnorr.h"

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/encoding.h"

namespace bas::crypto {
namespace {

// One row of the BIP340 reference vectors (github.com/bitcoin/bips, bip-0340/test-vectors.csv).
struct Bip340Vector {
  int index = -1;
  std::string secret_key;  // hex; empty for verification-only rows
  std::string public_key;
  std::string aux_rand;
  std::string message;  // hex; any length, including empty
  std::string signature;
  bool valid = false;
  std::string comment;
};

std::vector<Bip340Vector> LoadVectors() {
  std::ifstream in(std::string(BAS_TEST_DATA_DIR) + "/bip340-test-vectors.csv");
  std::vector<Bip340Vector> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::stringstream ss(line);
    std::string field;
    // The comment is last and may itself contain commas.
    for (int i = 0; i < 7 && std::getline(ss, field, ','); ++i) fields.push_back(field);
    std::string comment;
    std::getline(ss, comment);         // leaves it empty when the row has none
    if (fields.size() != 7) continue;  // HasAllRows notices
    Bip340Vector v;
    v.index = std::stoi(fields[0]);
    v.secret_key = fields[1];
    v.public_key = fields[2];
    v.aux_rand = fields[3];
    v.message = fields[4];
    v.signature = fields[5];
    v.valid = fields[6] == "TRUE";
    v.comment = comment;
    rows.push_back(v);
  }
  return rows;
}

const std::vector<Bip340Vector>& Vectors() {
  static const std::vector<Bip340Vector> vectors = LoadVectors();
  return vectors;
}

TEST(Bip340VectorFileTest, HasAllRows) {
  ASSERT_EQ(Vectors().size(), 19u) << "tests/data/bip340-test-vectors.csv";
  for (size_t i = 0; i < Vectors().size(); ++i) EXPECT_EQ(Vectors()[i].index, static_cast<int>(i));
}

class Bip340VectorTest : public ::testing::TestWithParam<int> {};

TEST_P(Bip340VectorTest, SignsAndVerifiesAsPublished) {
  ASSERT_LT(static_cast<size_t>(GetParam()), Vectors().size());
  const Bip340Vector& v = Vectors()[GetParam()];
  SCOPED_TRACE("row " + std::to_string(v.index) + ": " + v.comment);

  Result<PublicKey> public_key = HexDecodeFixed<32>(v.public_key);
  Result<Signature> signature = HexDecodeFixed<64>(v.signature);
  Result<std::vector<uint8_t>> message = HexDecode(v.message);
  ASSERT_TRUE(public_key.ok() && signature.ok() && message.ok());

  if (!v.secret_key.empty()) {
    Result<SecretKey> secret = HexDecodeFixed<32>(v.secret_key);
    Result<AuxRand> aux = HexDecodeFixed<32>(v.aux_rand);
    ASSERT_TRUE(secret.ok() && aux.ok());
    Result<KeyPair> pair = KeyPair::FromSecret(*secret);
    ASSERT_TRUE(pair.ok());
    EXPECT_EQ(HexEncode(pair->public_key()), HexEncode(*public_key));
    EXPECT_EQ(HexEncode(pair->Sign(*message, *aux)), HexEncode(*signature));
  }

  // Rows 5 and 14 carry keys that are not x coordinates of curve points.
  const bool bad_key = v.comment.find("public key") != std::string::npos;
  EXPECT_EQ(IsValidPublicKey(*public_key), !bad_key);
  EXPECT_EQ(Verify(*public_key, *message, *signature), v.valid);
  // The cached lift gives the same answer on a miss and on the hit that follows.
  EXPECT_EQ(VerifyWithKeyCache(*public_key, *message, *signature), v.valid);
  EXPECT_EQ(VerifyWithKeyCache(*public_key, *message, *signature), v.valid);
}

INSTANTIATE_TEST_SUITE_P(Bip340, Bip340VectorTest, ::testing::Range(0, 19),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "Row" + std::to_string(info.param);
                         });

KeyPair NewKey() {
  Result<KeyPair> pair = KeyPair::Generate();
  EXPECT_TRUE(pair.ok());
  return *pair;
}

// A signature by a key of its own over TaggedHash("bas/tx", i), for i = 0 .. n - 1.
struct SignedItem {
  PublicKey key;
  Hash32 msg;
  Signature sig;
  bool valid = true;
};
std::vector<SignedItem> SignedItems(int n) {
  std::vector<SignedItem> items;
  for (int i = 0; i < n; ++i) {
    const KeyPair key = NewKey();
    const Hash32 msg = TaggedHash("bas/tx", std::to_string(i));
    items.push_back({key.public_key(), msg, key.Sign(msg)});
  }
  return items;
}

TEST(SchnorrTest, GeneratedKeysAreDistinctAndReproducible) {
  const KeyPair a = NewKey();
  const KeyPair b = NewKey();
  EXPECT_NE(a.secret_key(), b.secret_key());
  EXPECT_NE(a.public_key(), b.public_key());
  EXPECT_TRUE(IsValidPublicKey(a.public_key()));
  Result<KeyPair> again = KeyPair::FromSecret(a.secret_key());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_key(), a.public_key());
}

TEST(SchnorrTest, SignsAndVerifiesMessagesOfAnyLength) {
  const KeyPair key = NewKey();
  for (size_t len : {0, 1, 31, 32, 33, 64, 1000}) {
    const std::string msg(len, 'm');
    const Signature sig = key.Sign(AsBytes(msg));
    EXPECT_TRUE(Verify(key.public_key(), AsBytes(msg), sig)) << len;
    const std::string longer = msg + "x";
    EXPECT_FALSE(Verify(key.public_key(), AsBytes(longer), sig)) << len;
    if (len > 0) {
      const std::string shorter = msg.substr(1);
      EXPECT_FALSE(Verify(key.public_key(), AsBytes(shorter), sig)) << len;
    }
  }
}

TEST(SchnorrTest, FreshAuxRandomnessByDefaultAndDeterministicWithGivenAux) {
  const KeyPair key = NewKey();
  const Hash32 msg = TaggedHash("bas/tx", "body");
  const Signature s1 = key.Sign(msg);
  const Signature s2 = key.Sign(msg);
  EXPECT_NE(s1, s2);  // equal only with probability 2^-256
  EXPECT_TRUE(Verify(key.public_key(), msg, s1));
  EXPECT_TRUE(Verify(key.public_key(), msg, s2));

  const AuxRand aux{7};
  EXPECT_EQ(key.Sign(msg, aux), key.Sign(msg, aux));
}

TEST(SchnorrTest, RejectsEveryFlippedSignatureBitAndWrongKeyOrMessage) {
  const KeyPair key = NewKey();
  const KeyPair other = NewKey();
  const Hash32 msg = TaggedHash("bas/tx", "vote yes");
  const Signature sig = key.Sign(msg);
  for (size_t bit = 0; bit < sig.size() * 8; ++bit) {
    Signature bad = sig;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(Verify(key.public_key(), msg, bad)) << "bit " << bit;
  }
  EXPECT_FALSE(Verify(other.public_key(), msg, sig));
  Hash32 other_msg = msg;
  other_msg[31] ^= 1;
  EXPECT_FALSE(Verify(key.public_key(), other_msg, sig));
}

TEST(SchnorrTest, FromSecretRejectsOutOfRangeScalars) {
  // n is the order of secp256k1.
  for (std::string_view bad : {
           "0000000000000000000000000000000000000000000000000000000000000000",
           "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141",  // n
           "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364142",  // n + 1
           "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
       }) {
    Result<KeyPair> pair = KeyPair::FromSecret(*HexDecodeFixed<32>(bad));
    ASSERT_FALSE(pair.ok()) << bad;
    EXPECT_EQ(pair.error().code, "INVALID_SECRET_KEY");
  }
  for (std::string_view good : {
           "0000000000000000000000000000000000000000000000000000000000000001",
           "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140",  // n - 1
       }) {
    EXPECT_TRUE(KeyPair::FromSecret(*HexDecodeFixed<32>(good)).ok()) << good;
  }
}

TEST(SchnorrTest, InvalidPublicKeysNeverVerify) {
  const KeyPair key = NewKey();
  const Hash32 msg = TaggedHash("bas/tx", "x");
  const Signature sig = key.Sign(msg);
  // p (the field size) and 2^256 - 1 are not field elements at all.
  for (std::string_view bad : {
           "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F",
           "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
           "EEFDEA4CDB677750A420FEE807EACF21EB9898AE79B9768766E4FAA04A2D4A34",  // BIP340 row 5
       }) {
    const PublicKey pk = *HexDecodeFixed<32>(bad);
    EXPECT_FALSE(IsValidPublicKey(pk)) << bad;
    EXPECT_FALSE(Verify(pk, msg, sig)) << bad;
    EXPECT_FALSE(VerifyWithKeyCache(pk, msg, sig)) << bad;
    EXPECT_FALSE(VerifyWithKeyCache(pk, msg, sig)) << bad;
  }
}

// 3,000 keys, each used twice in a row and again after all the others: about 500 of them share
// one of the 16,384 slots of a thread's table with another (birthday bound), so hits, misses
// and slots taken over by another key all give Verify's answer, and a signature by one key
// never verifies under the next key's lift.
TEST(SchnorrTest, KeyCacheAgreesWithVerifyThroughCollisionsAndEviction) {
  const std::vector<SignedItem> items = SignedItems(3000);
  int wrong = 0;
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < items.size(); ++i) {
      const SignedItem& item = items[i];
      const SignedItem& other = items[(i + 1) % items.size()];
      if (!VerifyWithKeyCache(item.key, item.msg, item.sig)) ++wrong;
      if (!VerifyWithKeyCache(item.key, item.msg, item.sig)) ++wrong;
      if (VerifyWithKeyCache(other.key, item.msg, item.sig)) ++wrong;
      if (VerifyWithKeyCache(item.key, other.msg, other.sig)) ++wrong;
    }
  }
  EXPECT_EQ(wrong, 0);
}

TEST(SchnorrTest, VerifiesConcurrentlyOnSeveralThreads) {
  std::vector<SignedItem> items = SignedItems(64);
  for (size_t i = 0; i < items.size(); ++i) {
    items[i].valid = i % 3 != 0;
    if (!items[i].valid) items[i].sig[10] ^= 0x40;
  }
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const KeyPair signer = NewKey();  // signing on the same threads as verification
      for (int round = 0; round < 5; ++round) {
        for (const SignedItem& item : items) {
          if (Verify(item.key, item.msg, item.sig) != item.valid) ++mismatches[t];
          if (VerifyWithKeyCache(item.key, item.msg, item.sig) != item.valid) ++mismatches[t];
        }
        const Hash32 msg = TaggedHash("bas/tx", "thread");
        if (!Verify(signer.public_key(), msg, signer.Sign(msg))) ++mismatches[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST(SchnorrTest, RandomBytesFillsTheBuffer) {
  std::array<uint8_t, 64> a{};
  std::array<uint8_t, 64> b{};
  ASSERT_TRUE(RandomBytes(a).ok());
  ASSERT_TRUE(RandomBytes(b).ok());
  EXPECT_NE(a, b);
  EXPECT_NE(a, (std::array<uint8_t, 64>{}));
  EXPECT_TRUE(RandomBytes(std::span<uint8_t>()).ok());
}

}  // namespace
}  // namespace bas::crypto
