// Canonical byte encodings of everything that is hashed or signed in a block
// (DESIGN.md section 4; written down in docs/encoding.md). Never a protobuf serialisation:
// these encodings are fixed-layout and the same for every implementation.
//
// Primitives: u8, u32 and u64 are big-endian; i64 is the two's-complement u64; str(s) is
// u32(len s) || s; h32 is exactly 32 bytes (a hash or an x-only key); opt32 is u8(0) for
// empty, else u8(1) || h32. Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "bas/v1/chain.pb.h"
#include "bas/v1/tx.pb.h"
#include "bas/v1/types.pb.h"
#include "crypto/hash.h"
#include "crypto/result.h"

namespace bas::node::chain {

// Appends primitives to a byte string (the encoder behind every function below).
class CanonicalWriter {
 public:
  CanonicalWriter& U8(uint8_t v);
  CanonicalWriter& U32(uint32_t v);
  CanonicalWriter& U64(uint64_t v);
  CanonicalWriter& I64(int64_t v) { return U64(static_cast<uint64_t>(v)); }
  CanonicalWriter& Str(std::string_view s);
  // Exactly 32 bytes; precondition: s.size() == 32.
  CanonicalWriter& H32(std::string_view s);
  CanonicalWriter& Opt32(std::string_view s);  // empty or 32 bytes
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

// Header fields that must be 32 bytes are; "" when the header is well-formed, else why.
std::string CheckHeaderShape(const bas::v1::BlockHeader& header);

// chain_id str || height u64 || time i64 || prev_block_hash h32 || tx_root h32 ||
// results_root h32 || app_hash h32 || validators_hash h32 || next_validators_hash h32 ||
// proposer h32 || last_commit_hash h32 || evidence_hash h32. Precondition:
// CheckHeaderShape(header) is "".
std::string EncodeHeader(const bas::v1::BlockHeader& header);
// tagged_hash("bas/block", EncodeHeader(header)).
crypto::Hash32 BlockHash(const bas::v1::BlockHeader& header);

// The message a consensus vote signs: tagged_hash("bas/vote", str chain_id || u8 type ||
// u64 height || u32 round || opt32 block_hash).
crypto::Hash32 VoteSignHash(std::string_view chain_id, bas::v1::VoteType type, uint64_t height,
                            uint32_t round, std::string_view block_hash);

// Fields of a commit that must have a fixed width do ("" when so, else why): block_hash empty or
// 32 bytes, each validator 32 bytes and each signature 64. Check before hashing input.
std::string CheckCommitShape(const bas::v1::Commit& commit);

// tagged_hash("bas/commit", u64 height || u32 round || opt32 block_hash || u32 n ||
// n * (h32 validator || str signature)), signatures in validator key order.
// For an empty commit (height 1's last commit, every field unset): 32 zero bytes.
// Precondition: CheckCommitShape(commit) is "".
crypto::Hash32 CommitHash(const bas::v1::Commit& commit);

// tagged_hash("bas/validators", u32 n || n * (h32 key || u64 power)), keys in bytewise order.
crypto::Hash32 ValidatorSetHash(std::vector<bas::v1::Validator> validators);

// The results Merkle leaves: one per tx (u32 code || events), then one for the end of the
// block (events || u32 n || n * (h32 key || u64 power) validator updates). events =
// u32 n || n * (str type || u32 m || m * (str key || str value)). Messages are for people
// and are not hashed.
std::string EncodeTxResultLeaf(const bas::v1::TxResult& result);
std::string EncodeEndBlockLeaf(const bas::v1::BlockResults& results);

// One piece of evidence as a Merkle leaf: vote(vote_a) || vote(vote_b), where vote(v) =
// u8 type || u64 height || u32 round || opt32 block_hash || h32 validator || str signature.
// Precondition: CheckEvidenceShape(evidence) is "".
std::string EncodeEvidenceLeaf(const bas::v1::Evidence& evidence);
// "" when both votes have a 32-byte validator, a 64-byte signature and an empty or 32-byte
// block hash; else why.
std::string CheckEvidenceShape(const bas::v1::Evidence& evidence);

// RFC 6962 roots over the block's txs (their exact bytes) and over the result leaves.
crypto::Hash32 TxRoot(const google::protobuf::RepeatedPtrField<std::string>& txs);
crypto::Hash32 ResultsRoot(const bas::v1::BlockResults& results);
// RFC 6962 root over EncodeEvidenceLeaf of each evidence, in block order (no evidence: the
// root of no leaves, SHA-256 of the empty string). Precondition: each has a valid shape.
crypto::Hash32 EvidenceRoot(const google::protobuf::RepeatedPtrField<bas::v1::Evidence>& evidence);

using crypto::HashBytes;
using crypto::ToHash;

}  // namespace bas::node::chain
