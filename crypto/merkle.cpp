#include "crypto/merkle.h"

#include <cassert>
#include <cstring>

namespace bas::crypto {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// Collapses one level in place: adjacent pairs become their parent, and an unpaired last node
// moves up unchanged. Repeating this until one node is left gives exactly RFC 6962's MTH
// (which splits at the largest power of two below n), because the left subtree of every split
// is complete and so is always paired off first.
size_t CollapseLevel(std::vector<Hash32>& level, size_t width) {
  size_t out = 0;
  for (size_t i = 0; i + 1 < width; i += 2) level[out++] = MerkleNodeHash(level[i], level[i + 1]);
  if (width % 2 == 1) level[out++] = level[width - 1];
  return out;
}

}  // namespace

Hash32 MerkleLeafHash(ByteSpan data) {
  thread_local Sha256 sha;
  return sha.Update(ByteSpan(&kLeafPrefix, 1)).Update(data).Final();
}

Hash32 MerkleNodeHash(const Hash32& left, const Hash32& right) {
  // One contiguous buffer: a single digest update is cheaper than three small ones.
  uint8_t buf[1 + 2 * sizeof(Hash32)];
  buf[0] = kNodePrefix;
  std::memcpy(buf + 1, left.data(), left.size());
  std::memcpy(buf + 1 + left.size(), right.data(), right.size());
  return Sha256Of(ByteSpan(buf, sizeof buf));
}

Hash32 MerkleRootFromLeafHashes(const std::vector<Hash32>& leaf_hashes) {
  if (leaf_hashes.empty()) return Sha256Of(ByteSpan());
  std::vector<Hash32> level = leaf_hashes;
  size_t width = level.size();
  while (width > 1) width = CollapseLevel(level, width);
  return level[0];
}

Hash32 MerkleRoot(const std::vector<std::string>& leaves) {
  std::vector<Hash32> leaf_hashes;
  leaf_hashes.reserve(leaves.size());
  for (const std::string& leaf : leaves) leaf_hashes.push_back(MerkleLeafHash(AsBytes(leaf)));
  return MerkleRootFromLeafHashes(leaf_hashes);
}

std::vector<Hash32> MerkleProof(const std::vector<Hash32>& leaf_hashes, uint64_t index) {
  assert(index < leaf_hashes.size());
  std::vector<Hash32> proof;
  std::vector<Hash32> level = leaf_hashes;
  size_t width = level.size();
  // Same level-by-level walk as the root: the sibling at each level is index ^ 1, and a node
  // without one (the unpaired last node) contributes nothing at that level, as in RFC 6962's
  // PATH, which recurses into the subtree holding the leaf and appends the other subtree's
  // root.
  while (width > 1) {
    const uint64_t sibling = index ^ 1;
    if (sibling < width) proof.push_back(level[sibling]);
    index /= 2;
    width = CollapseLevel(level, width);
  }
  return proof;
}

bool VerifyMerkleProof(const Hash32& leaf_hash, uint64_t index, uint64_t leaf_count,
                       const std::vector<Hash32>& proof, const Hash32& root) {
  // RFC 9162 section 2.1.3.2, step by step.
  if (index >= leaf_count) return false;
  uint64_t fn = index;
  uint64_t sn = leaf_count - 1;
  Hash32 r = leaf_hash;
  for (const Hash32& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      r = MerkleNodeHash(p, r);
      // Skip the levels where this node is the unpaired last one and has no sibling.
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = MerkleNodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

}  // namespace bas::crypto
