#include "crypto/merkle.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/encoding.h"

namespace bas::crypto {
namespace {

// A direct transcription of RFC 6962 section 2.1 (MTH and PATH), recursive, sharing nothing
// with the implementation under test except SHA-256. Subtree roots are memoised by range so
// that proofs for every leaf of a 300-leaf tree stay cheap.
class ReferenceTree {
 public:
  explicit ReferenceTree(std::vector<std::string> leaves) : leaves_(std::move(leaves)) {}

  Hash32 Root() { return Mth(0, leaves_.size()); }

  std::vector<Hash32> Path(size_t m) { return PathIn(m, 0, leaves_.size()); }

 private:
  static size_t LargestPowerOfTwoBelow(size_t n) {
    size_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

  Hash32 Mth(size_t begin, size_t end) {
    const auto key = std::make_pair(begin, end);
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    const size_t n = end - begin;
    Sha256 sha;
    if (n == 0) {
      // nothing: SHA-256 of the empty string
    } else if (n == 1) {
      sha.Update(std::string(1, '\x00')).Update(leaves_[begin]);
    } else {
      const size_t k = LargestPowerOfTwoBelow(n);
      sha.Update(std::string(1, '\x01')).Update(Mth(begin, begin + k)).Update(Mth(begin + k, end));
    }
    return memo_[key] = sha.Final();
  }

  std::vector<Hash32> PathIn(size_t m, size_t begin, size_t end) {
    const size_t n = end - begin;
    if (n == 1) return {};
    const size_t k = LargestPowerOfTwoBelow(n);
    std::vector<Hash32> path;
    if (m < k) {
      path = PathIn(m, begin, begin + k);
      path.push_back(Mth(begin + k, end));
    } else {
      path = PathIn(m - k, begin + k, end);
      path.push_back(Mth(begin, begin + k));
    }
    return path;
  }

  std::vector<std::string> leaves_;
  std::map<std::pair<size_t, size_t>, Hash32> memo_;
};

// The shape of PATH(m, D[n]): for each proof element, leaf side first, whether it is the left
// sibling. This is all a verifier learns from (index, leaf_count).
std::vector<bool> ReferenceShape(size_t m, size_t n) {
  if (n == 1) return {};
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  std::vector<bool> shape = m < k ? ReferenceShape(m, k) : ReferenceShape(m - k, n - k);
  shape.push_back(m >= k);
  return shape;
}

std::vector<std::string> Leaves(size_t n) {
  std::vector<std::string> leaves;
  for (size_t i = 0; i < n; ++i) leaves.push_back("leaf-" + std::to_string(i));
  return leaves;
}

std::vector<Hash32> LeafHashes(const std::vector<std::string>& leaves) {
  std::vector<Hash32> hashes;
  for (const std::string& leaf : leaves) hashes.push_back(MerkleLeafHash(AsBytes(leaf)));
  return hashes;
}

TEST(MerkleTest, EmptyTreeRootIsSha256OfTheEmptyString) {
  const std::string empty_sha256 =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  EXPECT_EQ(HexEncode(MerkleRootFromLeafHashes({})), empty_sha256);
  EXPECT_EQ(HexEncode(MerkleRoot({})), empty_sha256);
}

// Expected values from an independent implementation:
//   python3 -c 'import hashlib
//   H=lambda b: hashlib.sha256(b).digest(); L=lambda d: H(b"\x00"+d)
//   N=lambda a,b: H(b"\x01"+a+b)
//   print(L(b"a").hex()); print(N(N(L(b"a"),L(b"b")),L(b"c")).hex())
//   print(N(N(N(L(b"a"),L(b"b")),N(L(b"c"),L(b"d"))),L(b"e")).hex())'
TEST(MerkleTest, KnownAnswers) {
  EXPECT_EQ(HexEncode(MerkleRoot({"a"})),
            "022a6979e6dab7aa5ae4c3e5e45f7e977112a7e63593820dbec1ec738a24f93c");
  EXPECT_EQ(HexEncode(MerkleLeafHash(AsBytes("a"))),
            "022a6979e6dab7aa5ae4c3e5e45f7e977112a7e63593820dbec1ec738a24f93c");
  EXPECT_EQ(HexEncode(MerkleRoot({"a", "b", "c"})),
            "36642e73c2540ab121e3a6bf9545b0a24982cd830eb13d3cd19de3ce6c021ec1");
  EXPECT_EQ(HexEncode(MerkleRoot({"a", "b", "c", "d", "e"})),
            "fe14a5426fbd70c0fa73f52342afed0da0bd23c4838662ccf6b88a3070ead97b");
}

TEST(MerkleTest, RootsAndProofsMatchTheReferenceForEveryLeafCountUpTo300) {
  for (size_t n = 1; n <= 300; ++n) {
    const std::vector<std::string> leaves = Leaves(n);
    const std::vector<Hash32> hashes = LeafHashes(leaves);
    ReferenceTree reference(leaves);
    const Hash32 root = MerkleRootFromLeafHashes(hashes);
    ASSERT_EQ(root, reference.Root()) << "n=" << n;
    ASSERT_EQ(MerkleRoot(leaves), root) << "n=" << n;
    for (size_t i = 0; i < n; ++i) {
      const std::vector<Hash32> proof = MerkleProof(hashes, i);
      ASSERT_EQ(proof, reference.Path(i)) << "n=" << n << " i=" << i;
      ASSERT_TRUE(VerifyMerkleProof(hashes[i], i, n, proof, root)) << "n=" << n << " i=" << i;
    }
  }
}

TEST(MerkleTest, RejectsTamperedProofsLeavesRootsAndIndices) {
  for (size_t n = 1; n <= 300; ++n) {
    const std::vector<Hash32> hashes = LeafHashes(Leaves(n));
    const Hash32 root = MerkleRootFromLeafHashes(hashes);
    for (size_t i = 0; i < n; ++i) {
      const std::vector<Hash32> proof = MerkleProof(hashes, i);
      SCOPED_TRACE("n=" + std::to_string(n) + " i=" + std::to_string(i));
      // Exhaustive byte flips on small trees, one byte per element on large ones.
      for (size_t k = 0; k < proof.size(); ++k) {
        for (size_t byte = 0; byte < 32; ++byte) {
          if (n > 33 && byte != (i + k) % 32) continue;
          std::vector<Hash32> bad = proof;
          bad[k][byte] ^= 0x01;
          ASSERT_FALSE(VerifyMerkleProof(hashes[i], i, n, bad, root)) << "k=" << k;
        }
      }
      Hash32 bad_leaf = hashes[i];
      bad_leaf[i % 32] ^= 0x80;
      ASSERT_FALSE(VerifyMerkleProof(bad_leaf, i, n, proof, root));
      Hash32 bad_root = root;
      bad_root[(i + 5) % 32] ^= 0x80;
      ASSERT_FALSE(VerifyMerkleProof(hashes[i], i, n, proof, bad_root));
      if (!proof.empty()) {
        std::vector<Hash32> shorter(proof.begin(), proof.end() - 1);
        ASSERT_FALSE(VerifyMerkleProof(hashes[i], i, n, shorter, root));
      }
      std::vector<Hash32> longer = proof;
      longer.push_back(root);
      ASSERT_FALSE(VerifyMerkleProof(hashes[i], i, n, longer, root));

      for (size_t j : {i ^ 1, i + 1, i - 1, n - 1 - i, size_t{0}}) {
        if (j >= n || j == i) continue;
        ASSERT_FALSE(VerifyMerkleProof(hashes[i], j, n, proof, root)) << "j=" << j;
      }
      ASSERT_FALSE(VerifyMerkleProof(hashes[i], n, n, proof, root));  // index out of range
      ASSERT_FALSE(VerifyMerkleProof(hashes[i], i, i, proof, root));  // count too small
    }
  }
}

// A proof binds the leaf count only through its shape (see merkle.h): another count is
// rejected exactly when it changes the shape of the path. For leaves inside a complete left
// subtree it usually does not (about two thirds of the cases below), which is why callers must
// take leaf_count from an authenticated header.
TEST(MerkleTest, WrongLeafCountIsRejectedWhenItChangesThePathShape) {
  size_t rejected = 0;
  size_t accepted = 0;
  for (size_t n = 1; n <= 300; ++n) {
    const std::vector<Hash32> hashes = LeafHashes(Leaves(n));
    const Hash32 root = MerkleRootFromLeafHashes(hashes);
    for (size_t i = 0; i < n; ++i) {
      const std::vector<Hash32> proof = MerkleProof(hashes, i);
      for (size_t m : {n - 1, n + 1, n + 2, 2 * n, n + 64}) {
        if (m <= i || m == n) continue;
        const bool same_shape = ReferenceShape(i, m) == ReferenceShape(i, n);
        ASSERT_EQ(VerifyMerkleProof(hashes[i], i, m, proof, root), same_shape)
            << "n=" << n << " i=" << i << " m=" << m;
        ++(same_shape ? accepted : rejected);
      }
    }
  }
  EXPECT_GT(rejected, 0u);
  EXPECT_GT(accepted, 0u);
}

TEST(MerkleTest, SingleLeafTree) {
  const Hash32 leaf = MerkleLeafHash(AsBytes("only"));
  EXPECT_EQ(MerkleRootFromLeafHashes({leaf}), leaf);
  EXPECT_TRUE(MerkleProof({leaf}, 0).empty());
  EXPECT_TRUE(VerifyMerkleProof(leaf, 0, 1, {}, leaf));
  EXPECT_FALSE(VerifyMerkleProof(leaf, 0, 0, {}, leaf));
  EXPECT_FALSE(VerifyMerkleProof(leaf, 1, 1, {}, leaf));
}

TEST(MerkleTest, LeafAndNodeHashesAreDomainSeparated) {
  // A 64-byte leaf equal to two child hashes must not hash like their parent node.
  const Hash32 a = MerkleLeafHash(AsBytes("a"));
  const Hash32 b = MerkleLeafHash(AsBytes("b"));
  std::string concatenated(AsStringView(a));
  concatenated += AsStringView(b);
  EXPECT_NE(MerkleLeafHash(AsBytes(concatenated)), MerkleNodeHash(a, b));
}

}  // namespace
}  // namespace bas::crypto
