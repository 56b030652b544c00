#include "node/chain/encoding.h"

#include <algorithm>
#include <cassert>

#include "crypto/merkle.h"

namespace bas::node::chain {
namespace {

void Events(CanonicalWriter& w, const google::protobuf::RepeatedPtrField<bas::v1::Event>& events) {
  w.U32(static_cast<uint32_t>(events.size()));
  for (const auto& e : events) {
    w.Str(e.type()).U32(static_cast<uint32_t>(e.attributes_size()));
    for (const auto& a : e.attributes()) w.Str(a.key()).Str(a.value());
  }
}

}  // namespace

CanonicalWriter& CanonicalWriter::U8(uint8_t v) {
  out_.push_back(static_cast<char>(v));
  return *this;
}
CanonicalWriter& CanonicalWriter::U32(uint32_t v) {
  for (int i = 3; i >= 0; --i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return *this;
}
CanonicalWriter& CanonicalWriter::U64(uint64_t v) {
  for (int i = 7; i >= 0; --i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return *this;
}
CanonicalWriter& CanonicalWriter::Str(std::string_view s) {
  U32(static_cast<uint32_t>(s.size()));
  out_.append(s);
  return *this;
}
CanonicalWriter& CanonicalWriter::H32(std::string_view s) {
  assert(s.size() == 32);
  out_.append(s);
  return *this;
}
CanonicalWriter& CanonicalWriter::Opt32(std::string_view s) {
  assert(s.empty() || s.size() == 32);
  if (s.empty()) return U8(0);
  U8(1);
  out_.append(s);
  return *this;
}

std::string CheckHeaderShape(const bas::v1::BlockHeader& h) {
  const std::pair<const std::string*, const char*> fields[] = {
      {&h.prev_block_hash(), "prev_block_hash"},
      {&h.tx_root(), "tx_root"},
      {&h.results_root(), "results_root"},
      {&h.app_hash(), "app_hash"},
      {&h.validators_hash(), "validators_hash"},
      {&h.next_validators_hash(), "next_validators_hash"},
      {&h.proposer(), "proposer"},
      {&h.last_commit_hash(), "last_commit_hash"},
      {&h.evidence_hash(), "evidence_hash"},
  };
  for (const auto& [value, name] : fields) {
    if (value->size() != 32) return std::string("header.") + name + ": must be 32 bytes";
  }
  return "";
}

std::string EncodeHeader(const bas::v1::BlockHeader& h) {
  CanonicalWriter w;
  w.Str(h.chain_id())
      .U64(h.height())
      .I64(h.time())
      .H32(h.prev_block_hash())
      .H32(h.tx_root())
      .H32(h.results_root())
      .H32(h.app_hash())
      .H32(h.validators_hash())
      .H32(h.next_validators_hash())
      .H32(h.proposer())
      .H32(h.last_commit_hash())
      .H32(h.evidence_hash());
  return w.bytes();
}

crypto::Hash32 BlockHash(const bas::v1::BlockHeader& header) {
  return crypto::TaggedHash("bas/block", EncodeHeader(header));
}

crypto::Hash32 VoteSignHash(std::string_view chain_id, bas::v1::VoteType type, uint64_t height,
                            uint32_t round, std::string_view block_hash) {
  CanonicalWriter w;
  w.Str(chain_id).U8(static_cast<uint8_t>(type)).U64(height).U32(round).Opt32(block_hash);
  return crypto::TaggedHash("bas/vote", w.bytes());
}

std::string CheckCommitShape(const bas::v1::Commit& commit) {
  if (!commit.block_hash().empty() && commit.block_hash().size() != 32) {
    return "commit.block_hash: must be 32 bytes";
  }
  for (int i = 0; i < commit.signatures_size(); ++i) {
    const auto& s = commit.signatures(i);
    if (s.validator().size() != 32 || s.signature().size() != 64) {
      return "commit.signatures[" + std::to_string(i) +
             "]: a 32-byte validator and a 64-byte signature";
    }
  }
  return "";
}

crypto::Hash32 CommitHash(const bas::v1::Commit& commit) {
  if (commit.ByteSizeLong() == 0) return crypto::Hash32{};
  std::vector<const bas::v1::CommitSig*> sigs;
  for (const auto& s : commit.signatures()) sigs.push_back(&s);
  std::sort(sigs.begin(), sigs.end(),
            [](const auto* a, const auto* b) { return a->validator() < b->validator(); });
  CanonicalWriter w;
  w.U64(commit.height()).U32(commit.round()).Opt32(commit.block_hash());
  w.U32(static_cast<uint32_t>(sigs.size()));
  for (const auto* s : sigs) w.H32(s->validator()).Str(s->signature());
  return crypto::TaggedHash("bas/commit", w.bytes());
}

crypto::Hash32 ValidatorSetHash(std::vector<bas::v1::Validator> validators) {
  std::sort(validators.begin(), validators.end(),
            [](const auto& a, const auto& b) { return a.key() < b.key(); });
  CanonicalWriter w;
  w.U32(static_cast<uint32_t>(validators.size()));
  for (const auto& v : validators) w.H32(v.key()).U64(v.power());
  return crypto::TaggedHash("bas/validators", w.bytes());
}

std::string EncodeTxResultLeaf(const bas::v1::TxResult& result) {
  CanonicalWriter w;
  w.U32(result.code());
  Events(w, result.events());
  return w.bytes();
}

std::string EncodeEndBlockLeaf(const bas::v1::BlockResults& results) {
  CanonicalWriter w;
  Events(w, results.end_block_events());
  w.U32(static_cast<uint32_t>(results.validator_updates_size()));
  for (const auto& v : results.validator_updates()) w.H32(v.key()).U64(v.power());
  return w.bytes();
}

namespace {
void Vote(CanonicalWriter& w, const bas::v1::ConsensusVote& v) {
  w.U8(static_cast<uint8_t>(v.type()))
      .U64(v.height())
      .U32(v.round())
      .Opt32(v.block_hash())
      .H32(v.validator())
      .Str(v.signature());
}
std::string CheckVoteShape(const bas::v1::ConsensusVote& v) {
  if (!v.block_hash().empty() && v.block_hash().size() != 32) return "block_hash: 32 bytes";
  if (v.validator().size() != 32) return "validator: 32 bytes";
  if (v.signature().size() != 64) return "signature: 64 bytes";
  return "";
}
}  // namespace

std::string CheckEvidenceShape(const bas::v1::Evidence& evidence) {
  if (auto e = CheckVoteShape(evidence.vote_a()); !e.empty()) return "evidence.vote_a." + e;
  if (auto e = CheckVoteShape(evidence.vote_b()); !e.empty()) return "evidence.vote_b." + e;
  return "";
}

std::string EncodeEvidenceLeaf(const bas::v1::Evidence& evidence) {
  CanonicalWriter w;
  Vote(w, evidence.vote_a());
  Vote(w, evidence.vote_b());
  return w.bytes();
}

crypto::Hash32 EvidenceRoot(const google::protobuf::RepeatedPtrField<bas::v1::Evidence>& evidence) {
  std::vector<crypto::Hash32> leaves;
  leaves.reserve(evidence.size());
  for (const auto& e : evidence) {
    leaves.push_back(crypto::MerkleLeafHash(crypto::AsBytes(EncodeEvidenceLeaf(e))));
  }
  return crypto::MerkleRootFromLeafHashes(leaves);
}

crypto::Hash32 TxRoot(const google::protobuf::RepeatedPtrField<std::string>& txs) {
  std::vector<crypto::Hash32> leaves;
  leaves.reserve(txs.size());
  for (const auto& tx : txs) leaves.push_back(crypto::MerkleLeafHash(crypto::AsBytes(tx)));
  return crypto::MerkleRootFromLeafHashes(leaves);
}

crypto::Hash32 ResultsRoot(const bas::v1::BlockResults& results) {
  std::vector<crypto::Hash32> leaves;
  leaves.reserve(results.tx_results_size() + 1);
  for (const auto& r : results.tx_results()) {
    leaves.push_back(crypto::MerkleLeafHash(crypto::AsBytes(EncodeTxResultLeaf(r))));
  }
  leaves.push_back(crypto::MerkleLeafHash(crypto::AsBytes(EncodeEndBlockLeaf(results))));
  return crypto::MerkleRootFromLeafHashes(leaves);
}

}  // namespace bas::node::chain
