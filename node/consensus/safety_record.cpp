#include "node/consensus/safety_record.h"

#include <limits>

#include "node/chain/encoding.h"

namespace bas::node::consensus {
namespace {

constexpr uint8_t kVersion = 1;
enum Kind : uint8_t { kProposal = 1, kVote = 2 };

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
    if (!Fixed(4, n) || n > in_.size()) return false;
    s = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  bool Fixed(size_t n, uint64_t& v) {
    if (in_.size() < n) return false;
    v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(in_[i]);
    in_.remove_prefix(n);
    return true;
  }
  std::string_view in_;
};

std::string BlockBytes(int32_t round, const std::shared_ptr<const bas::v1::Block>& block) {
  return round >= 0 && block != nullptr ? block->SerializeAsString() : std::string();
}

// Reads a (round, block) pair; false when malformed.
bool ReadRoundBlock(Reader& r, int32_t& round, std::shared_ptr<const bas::v1::Block>& block) {
  int64_t rnd;
  std::string_view bytes;
  if (!r.I64(rnd) || !r.Str(bytes)) return false;
  if (rnd < -1 || rnd > std::numeric_limits<int32_t>::max()) return false;
  round = static_cast<int32_t>(rnd);
  if (round < 0) return bytes.empty();
  auto b = std::make_shared<bas::v1::Block>();
  if (bytes.empty() || !b->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      !b->has_header() || !chain::CheckHeaderShape(b->header()).empty()) {
    return false;
  }
  block = std::move(b);
  return true;
}

}  // namespace

std::string EncodeSafetyRecord(const SafetyRecord& rec) {
  chain::CanonicalWriter w;
  w.U8(kVersion).U64(rec.height).U32(static_cast<uint32_t>(rec.signed_messages.size()));
  for (const SignedMessage& m : rec.signed_messages) {
    if (const auto* p = std::get_if<bas::v1::ConsensusProposal>(&m)) {
      w.U8(kProposal).Str(p->SerializeAsString());
    } else {
      w.U8(kVote).Str(std::get<bas::v1::ConsensusVote>(m).SerializeAsString());
    }
  }
  w.I64(rec.locked_round).Str(BlockBytes(rec.locked_round, rec.locked_block));
  w.I64(rec.valid_round).Str(BlockBytes(rec.valid_round, rec.valid_block));
  return w.bytes();
}

Result<SafetyRecord> DecodeSafetyRecord(std::string_view bytes) {
  auto fail = [](std::string why) { return Error{"CORRUPT_SAFETY_RECORD", std::move(why)}; };
  Reader r(bytes);
  SafetyRecord rec;
  uint8_t version = 0;
  uint32_t count = 0;
  if (!r.U8(version) || version != kVersion) return fail("unknown version");
  if (!r.U64(rec.height) || !r.U32(count)) return fail("truncated");
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t kind = 0;
    std::string_view message;
    if (!r.U8(kind) || !r.Str(message)) return fail("truncated");
    const int size = static_cast<int>(message.size());
    if (kind == kProposal) {
      bas::v1::ConsensusProposal p;
      if (!p.ParseFromArray(message.data(), size) || !p.block().has_header() ||
          !chain::CheckHeaderShape(p.block().header()).empty()) {
        return fail("a proposal does not parse");
      }
      rec.signed_messages.push_back(std::move(p));
    } else if (kind == kVote) {
      bas::v1::ConsensusVote v;
      if (!v.ParseFromArray(message.data(), size)) return fail("a vote does not parse");
      if (v.type() != bas::v1::PREVOTE && v.type() != bas::v1::PRECOMMIT) {
        return fail("a vote has no type");
      }
      rec.signed_messages.push_back(std::move(v));
    } else {
      return fail("unknown message kind");
    }
    const Position pos = PositionOf(rec.signed_messages.back());
    if (pos.height != rec.height) return fail("a message at another height");
    if (i > 0 && !(PositionOf(rec.signed_messages[i - 1]) < pos)) {
      return fail("messages out of signing order");
    }
  }
  if (!ReadRoundBlock(r, rec.locked_round, rec.locked_block)) return fail("bad locked value");
  if (!ReadRoundBlock(r, rec.valid_round, rec.valid_block)) return fail("bad valid value");
  if (!r.done()) return fail("trailing bytes");
  return rec;
}

}  // namespace bas::node::consensus
