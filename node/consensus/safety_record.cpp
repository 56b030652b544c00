#include "node/consensus/safety_record.h"

#include <algorithm>
#include <iterator>
#include <limits>

#include "node/chain/encoding.h"

namespace bas::node::consensus {
namespace {

constexpr uint8_t kVersion1 = 1;  // blocks inside the record; still read
constexpr uint8_t kVersion = 2;   // blocks apart, by hash
enum Kind : uint8_t { kProposal = 1, kVote = 2 };

using BlockPtr = std::shared_ptr<const bas::v1::Block>;

Error Corrupt(std::string why) { return Error{"CORRUPT_SAFETY_RECORD", std::move(why)}; }

// Reads the primitives CanonicalWriter writes; every read fails once the input runs out.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U8(uint8_t& v) {
    uint64_t x;
    if (!Fixed(1, x)) return false;
    v = static_cast<uint8_t>(x);
    return true;
  }
  bool U32(uint32_t& v) {
    uint64_t x;
    if (!Fixed(4, x)) return false;
    v = static_cast<uint32_t>(x);
    return true;
  }
  bool U64(uint64_t& v) { return Fixed(8, v); }
  bool I64(int64_t& v) {
    uint64_t x;
    if (!Fixed(8, x)) return false;
    v = static_cast<int64_t>(x);
    return true;
  }
  bool Str(std::string_view& s) {
    uint64_t n;
    return Fixed(4, n) && Bytes(n, s);
  }
  bool H32(std::string_view& s) { return Bytes(32, s); }
  // An empty string (u8 0) or 32 bytes (u8 1 || h32).
  bool Opt32(std::string_view& s) {
    uint8_t present;
    if (!U8(present) || present > 1) return false;
    s = {};
    return present == 0 || H32(s);
  }
  bool done() const { return in_.empty(); }

 private:
  bool Bytes(uint64_t n, std::string_view& s) {
    if (n > in_.size()) return false;
    s = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool Fixed(size_t n, uint64_t& v) {
    if (in_.size() < n) return false;
    v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(in_[i]);
    in_.remove_prefix(n);
    return true;
  }
  std::string_view in_;
};

std::string HashOf(const bas::v1::Block& block) {
  return crypto::HashBytes(chain::BlockHash(block.header()));
}

// The block of bytes; nullptr when they do not parse or the header is malformed.
BlockPtr ParseBlock(std::string_view bytes) {
  auto block = std::make_shared<bas::v1::Block>();
  if (bytes.empty() || !block->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      !block->has_header() || !chain::CheckHeaderShape(block->header()).empty()) {
    return nullptr;
  }
  return block;
}

// Every field of the proposal but its block, which is what the layout keeps apart (copying it
// here would cost what the layout saves). SafetyRecordTest.ProposalWithoutBlockKeepsEveryField
// notices a field added to the message.
bas::v1::ConsensusProposal WithoutBlock(const bas::v1::ConsensusProposal& p) {
  bas::v1::ConsensusProposal out;
  out.set_height(p.height());
  out.set_round(p.round());
  out.set_valid_round(p.valid_round());
  out.set_proposer(p.proposer());
  out.set_signature(p.signature());
  return out;
}

// The blocks a version-2 record refers to, each looked up and checked once.
class ReferredBlocks {
 public:
  explicit ReferredBlocks(const SafetyBlockLookup& lookup) : lookup_(lookup) {}
  Result<BlockPtr> Get(std::string_view hash) {
    if (auto it = blocks_.find(hash); it != blocks_.end()) return it->second;
    const std::optional<std::string> bytes = lookup_ ? lookup_(hash) : std::nullopt;
    if (!bytes) return Corrupt("a block it refers to is missing");
    BlockPtr block = ParseBlock(*bytes);
    if (block == nullptr) return Corrupt("a block it refers to does not parse");
    if (HashOf(*block) != hash) return Corrupt("a block it refers to has another hash");
    blocks_.emplace(hash, block);
    return block;
  }

 private:
  const SafetyBlockLookup& lookup_;
  std::map<std::string, BlockPtr, std::less<>> blocks_;
};

// Reads a (round, value) pair of either version into round and block.
Status ReadRoundValue(Reader& r, uint8_t version, ReferredBlocks& blocks, int32_t& round,
                      BlockPtr& block) {
  int64_t rnd;
  std::string_view value;  // version 1: the block's bytes; version 2: its hash
  if (!r.I64(rnd) || !(version == kVersion1 ? r.Str(value) : r.Opt32(value))) {
    return Corrupt("truncated");
  }
  if (rnd < -1 || rnd > std::numeric_limits<int32_t>::max()) return Corrupt("a round out of range");
  round = static_cast<int32_t>(rnd);
  if (round < 0) return value.empty() ? Status::Ok() : Corrupt("a value without a round");
  if (value.empty()) return Corrupt("a round without a value");
  if (version == kVersion1) {
    block = ParseBlock(value);
    return block != nullptr ? Status::Ok() : Corrupt("a block does not parse");
  }
  Result<BlockPtr> referred = blocks.Get(value);
  if (!referred.ok()) return referred.error();
  block = std::move(*referred);
  return Status::Ok();
}

// Reads one proposal of either version.
Result<bas::v1::ConsensusProposal> ReadProposal(Reader& r, uint8_t version,
                                                ReferredBlocks& blocks) {
  std::string_view hash;
  std::string_view message;
  if ((version != kVersion1 && !r.H32(hash)) || !r.Str(message)) return Corrupt("truncated");
  bas::v1::ConsensusProposal p;
  if (!p.ParseFromArray(message.data(), static_cast<int>(message.size()))) {
    return Corrupt("a proposal does not parse");
  }
  if (version == kVersion1) {
    if (!p.block().has_header() || !chain::CheckHeaderShape(p.block().header()).empty()) {
      return Corrupt("a proposal does not parse");
    }
    return p;
  }
  if (p.has_block()) return Corrupt("a proposal with a block inside");
  Result<BlockPtr> block = blocks.Get(hash);
  if (!block.ok()) return block.error();
  *p.mutable_block() = **block;
  return p;
}

}  // namespace

EncodedSafetyRecord EncodeSafetyRecord(const SafetyRecord& rec) {
  EncodedSafetyRecord out;
  auto refer = [&](const bas::v1::Block& block) {
    std::string hash = HashOf(block);
    out.blocks.emplace(hash, &block);
    return hash;
  };
  auto value_hash = [&](int32_t round, const BlockPtr& block) {
    return round >= 0 && block != nullptr ? refer(*block) : std::string();
  };
  chain::CanonicalWriter w;
  w.U8(kVersion).U64(rec.height).U32(static_cast<uint32_t>(rec.signed_messages.size()));
  for (const SignedMessage& m : rec.signed_messages) {
    if (const auto* p = std::get_if<bas::v1::ConsensusProposal>(&m)) {
      w.U8(kProposal).H32(refer(p->block())).Str(WithoutBlock(*p).SerializeAsString());
    } else {
      w.U8(kVote).Str(std::get<bas::v1::ConsensusVote>(m).SerializeAsString());
    }
  }
  w.I64(rec.locked_round).Opt32(value_hash(rec.locked_round, rec.locked_block));
  w.I64(rec.valid_round).Opt32(value_hash(rec.valid_round, rec.valid_block));
  out.bytes = w.bytes();
  return out;
}

Result<SafetyRecord> DecodeSafetyRecord(std::string_view bytes,
                                        const SafetyBlockLookup& block_bytes) {
  Reader r(bytes);
  ReferredBlocks blocks(block_bytes);
  SafetyRecord rec;
  uint8_t version = 0;
  uint32_t count = 0;
  if (!r.U8(version) || (version != kVersion1 && version != kVersion)) {
    return Corrupt("unknown version");
  }
  if (!r.U64(rec.height) || !r.U32(count)) return Corrupt("truncated");
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t kind = 0;
    if (!r.U8(kind)) return Corrupt("truncated");
    if (kind == kProposal) {
      Result<bas::v1::ConsensusProposal> p = ReadProposal(r, version, blocks);
      if (!p.ok()) return p.error();
      rec.signed_messages.push_back(std::move(*p));
    } else if (kind == kVote) {
      std::string_view message;
      bas::v1::ConsensusVote v;
      if (!r.Str(message)) return Corrupt("truncated");
      if (!v.ParseFromArray(message.data(), static_cast<int>(message.size()))) {
        return Corrupt("a vote does not parse");
      }
      if (v.type() != bas::v1::PREVOTE && v.type() != bas::v1::PRECOMMIT) {
        return Corrupt("a vote has no type");
      }
      rec.signed_messages.push_back(std::move(v));
    } else {
      return Corrupt("unknown message kind");
    }
    const Position pos = PositionOf(rec.signed_messages.back());
    if (pos.height != rec.height) return Corrupt("a message at another height");
    if (i > 0 && !(PositionOf(rec.signed_messages[i - 1]) < pos)) {
      return Corrupt("messages out of signing order");
    }
  }
  if (Status s = ReadRoundValue(r, version, blocks, rec.locked_round, rec.locked_block); !s.ok()) {
    return Error{s.code(), "locked value: " + s.message()};
  }
  if (Status s = ReadRoundValue(r, version, blocks, rec.valid_round, rec.valid_block); !s.ok()) {
    return Error{s.code(), "valid value: " + s.message()};
  }
  if (!r.done()) return Corrupt("trailing bytes");
  return rec;
}

std::string SafetyBlockKey(std::string_view block_hash) {
  std::string key(kSafetyBlockKeyPrefix);
  key.append(block_hash);
  return key;
}

KeyValueSafetyStore::KeyValueSafetyStore(const std::vector<std::string>& stored_block_keys,
                                         AtomicWrite write)
    : write_(std::move(write)), stored_(stored_block_keys.begin(), stored_block_keys.end()) {}

Status KeyValueSafetyStore::Save(const SafetyRecord& record) {
  EncodedSafetyRecord encoded = EncodeSafetyRecord(record);
  KeyValues puts;
  std::set<std::string> referred;
  for (const auto& [hash, block] : encoded.blocks) {
    std::string key = SafetyBlockKey(hash);
    if (!stored_.contains(key)) puts.emplace_back(key, block->SerializeAsString());
    referred.insert(std::move(key));
  }
  puts.emplace_back(std::string(kSafetyRecordKey), std::move(encoded.bytes));
  std::vector<std::string> deletes;
  std::set_difference(stored_.begin(), stored_.end(), referred.begin(), referred.end(),
                      std::back_inserter(deletes));
  if (Status status = write_(puts, deletes); !status.ok()) return status;
  // The write applied in full: exactly the referred blocks are stored now.
  stored_ = std::move(referred);
  return Status::Ok();
}

Result<std::optional<SafetyRecord>> LoadSafetyRecord(
    const std::function<std::optional<std::string>(std::string_view key)>& get) {
  const std::optional<std::string> bytes = get(kSafetyRecordKey);
  if (!bytes) return std::optional<SafetyRecord>();
  Result<SafetyRecord> record =
      DecodeSafetyRecord(*bytes, [&](std::string_view hash) { return get(SafetyBlockKey(hash)); });
  if (!record.ok()) return record.error();
  return std::optional<SafetyRecord>(std::move(record).value());
}

}  // namespace bas::node::consensus
