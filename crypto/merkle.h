// RFC 6962 Merkle trees: MTH with 0x00 leaf and 0x01 node prefixes, any number of leaves
// (the root of no leaves is SHA-256 of the empty string), and audit paths (inclusion proofs).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/hash.h"

namespace bas::crypto {

// SHA256(0x00 || data).
Hash32 MerkleLeafHash(ByteSpan data);
// SHA256(0x01 || left || right).
Hash32 MerkleNodeHash(const Hash32& left, const Hash32& right);

// Root over leaf hashes (already MerkleLeafHash'ed).
Hash32 MerkleRootFromLeafHashes(const std::vector<Hash32>& leaf_hashes);
// Root over leaf data.
Hash32 MerkleRoot(const std::vector<std::string>& leaves);

// The RFC 6962 audit path of leaf `index` among leaf_hashes, leaf side first.
// Precondition: index < leaf_hashes.size().
std::vector<Hash32> MerkleProof(const std::vector<Hash32>& leaf_hashes, uint64_t index);

// True iff proof shows that a leaf hashing to leaf_hash is at `index` of a tree of
// `leaf_count` leaves with this root. False for index >= leaf_count, a proof of the wrong
// length, or any other mismatch.
// leaf_count must come from an authenticated source (e.g. a block header), not from the
// prover: a proof binds it only through the path's shape, so a proof often also verifies
// under another leaf_count (leaf 0 of 3 leaves checks as leaf 0 of 4), and can then even
// vouch for another index (leaf 2 of 3 checks as leaf 1 of 2 against the same root).
bool VerifyMerkleProof(const Hash32& leaf_hash, uint64_t index, uint64_t leaf_count,
                       const std::vector<Hash32>& proof, const Hash32& root);

}  // namespace bas::crypto
