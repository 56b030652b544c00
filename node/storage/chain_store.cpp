#include "node/storage/chain_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

namespace bas::node::storage {
namespace {

// Metadata keys.
constexpr std::string_view kHead = "head";        // ChainHead, encoded below
constexpr std::string_view kGenesis = "genesis";  // Genesis bytes

std::string Be64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * (7 - i))) & 0xff);
  return s;
}
uint64_t ReadBe64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}
using crypto::HashBytes;
using crypto::ToHash;

// Block-table keys: 'b' + height (block), 'c' + height (commit), 'r' + height (results).
std::string BlockKey(char kind, uint64_t height) { return std::string(1, kind) + Be64(height); }
std::string ValidatorSetKey(uint64_t height) { return "valset/" + Be64(height); }

std::string EncodeHead(const ChainHead& h) {
  return Be64(h.height) + HashBytes(h.app_hash) + HashBytes(h.block_hash) +
         Be64(static_cast<uint64_t>(h.time));
}
ChainHead DecodeHead(std::string_view s) {
  ChainHead h;
  if (s.size() != 8 + 32 + 32 + 8) std::abort();  // written only by EncodeHead
  h.height = ReadBe64(s.substr(0, 8));
  h.app_hash = ToHash(s.substr(8, 32));
  h.block_hash = ToHash(s.substr(40, 32));
  h.time = static_cast<int64_t>(ReadBe64(s.substr(72, 8)));
  return h;
}

Error StorageError(const rocksdb::Status& s) { return Error{"STORAGE_ERROR", s.ToString()}; }

template <typename Msg>
std::optional<Msg> Parse(const std::optional<std::string>& raw) {
  if (!raw) return std::nullopt;
  Msg m;
  if (!m.ParseFromString(*raw)) return std::nullopt;
  return m;
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

void AddStateWrites(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* cf,
                    const governance::WriteSet& writes) {
  for (const auto& [k, v] : writes) {
    if (v) {
      batch.Put(cf, k, *v);
    } else {
      batch.Delete(cf, k);
    }
  }
}

// What the store keeps of a tip: the head, and the set that decides tip.height + 2 (the set
// of tip.height + 1 was written with the tip before, or with the genesis).
void PutTip(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* meta,
            const chain::ChainTip& tip) {
  const ChainHead head{tip.height, tip.app_hash, tip.block_hash, tip.time};
  batch.Put(meta, ToSlice(kHead), EncodeHead(head));
  batch.Put(meta, ValidatorSetKey(tip.height + 2), tip.next_validators.SerializeAsString());
}

}  // namespace

// ---- StateSnapshot ----

StateSnapshot::~StateSnapshot() { db_->ReleaseSnapshot(snap_); }

std::optional<std::string> StateSnapshot::Get(std::string_view key) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snap_;
  std::string value;
  rocksdb::Status s = db_->Get(ro, cf_, ToSlice(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) std::abort();  // a read error of committed state: the store is unusable
  return value;
}

void StateSnapshot::Scan(std::string_view prefix,
                         const std::function<bool(std::string_view, std::string_view)>& fn) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snap_;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_));
  for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    if (!k.starts_with(ToSlice(prefix))) break;
    const rocksdb::Slice v = it->value();
    if (!fn(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()))) break;
  }
  if (!it->status().ok()) std::abort();
}

// ---- ChainStore ----

ChainStore::~ChainStore() {
  if (db_) {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
  }
}

Result<std::unique_ptr<ChainStore>> ChainStore::Open(const std::filesystem::path& dir,
                                                     bool read_only) {
  rocksdb::Options options;
  options.create_if_missing = !read_only;
  options.create_missing_column_families = !read_only;
  options.paranoid_checks = true;
  // Executing a block is mostly point reads of keys that often do not exist yet (a member's
  // first vote on a proposal): whole-key bloom filters, in the memtable and in every table
  // file, answer those without searching, and a block cache keeps hot state in memory.
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_cache = rocksdb::NewLRUCache(64 << 20);
  table.cache_index_and_filter_blocks = true;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.memtable_whole_key_filtering = true;
  options.memtable_prefix_bloom_size_ratio = 0.05;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name :
       {rocksdb::kDefaultColumnFamilyName.c_str(), "blocks", "txindex", "state", "consensus"}) {
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
  }
  // A block's state writes arrive sorted (a governance::WriteSet), mostly runs of new keys of
  // one table and proposal ("v/" + sequence + "/", 11 bytes): with a hint per prefix each
  // insert starts where the last one ended instead of at the top of the memtable's skip list.
  cfs[3].options.memtable_insert_with_hint_prefix_extractor.reset(
      rocksdb::NewCappedPrefixTransform(11));
  // The tx index is point lookups of random 32-byte ids, never scanned: a hashed memtable
  // inserts each in constant time where the skip list searched some twenty levels.
  cfs[2].options.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(32));
  cfs[2].options.memtable_factory.reset(rocksdb::NewHashLinkListRepFactory(1 << 16));
  options.allow_concurrent_memtable_write = false;  // not supported by the hashed memtable
  std::unique_ptr<ChainStore> store(new ChainStore());
  rocksdb::DB* db = nullptr;
  rocksdb::Status s =
      read_only ? rocksdb::DB::OpenForReadOnly(options, dir.string(), cfs, &store->handles_, &db)
                : rocksdb::DB::Open(options, dir.string(), cfs, &store->handles_, &db);
  if (!s.ok()) return StorageError(s);
  store->db_.reset(db);
  store->meta_ = store->handles_[0];
  store->blocks_ = store->handles_[1];
  store->txindex_ = store->handles_[2];
  store->state_ = store->handles_[3];
  store->consensus_ = store->handles_[4];
  return store;
}

std::optional<std::string> ChainStore::Read(rocksdb::ColumnFamilyHandle* cf,
                                            std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, ToSlice(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) std::abort();
  return value;
}

bool ChainStore::initialized() const { return Read(meta_, kHead).has_value(); }

Status ChainStore::InitGenesis(const bas::v1::Genesis& genesis, const governance::WriteSet& writes,
                               const crypto::Hash32& app_hash) {
  rocksdb::WriteBatch batch;
  AddStateWrites(batch, state_, writes);
  batch.Put(meta_, ToSlice(kGenesis), genesis.SerializeAsString());
  const chain::ChainTip tip = chain::GenesisTip(genesis, app_hash);
  PutTip(batch, meta_, tip);
  batch.Put(meta_, ValidatorSetKey(tip.height + 1), tip.validators.SerializeAsString());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) return StorageError(s);
  return Status::Ok();
}

Result<bas::v1::Genesis> ChainStore::LoadGenesis() const {
  auto g = Parse<bas::v1::Genesis>(Read(meta_, kGenesis));
  if (!g) return Error{"STORAGE_ERROR", "no genesis in the store"};
  return *g;
}

ChainHead ChainStore::head() const {
  auto raw = Read(meta_, kHead);
  return raw ? DecodeHead(*raw) : ChainHead{};
}

Status ChainStore::CommitBlock(const bas::v1::Block& block, const bas::v1::Commit& commit,
                               const bas::v1::BlockResults& results,
                               const std::vector<crypto::Hash32>& tx_ids,
                               const governance::WriteSet& writes, const chain::ChainTip& tip) {
  if (tx_ids.size() != static_cast<size_t>(block.txs_size())) {
    return Error{"INTERNAL", std::to_string(tx_ids.size()) + " tx ids for a block of " +
                                 std::to_string(block.txs_size()) + " txs"};
  }
  const uint64_t height = block.header().height();
  if (tip.height != height || HashBytes(tip.block_hash) != commit.block_hash()) {
    return Error{"INTERNAL",
                 "the tip given is not the one block " + std::to_string(height) + " leaves"};
  }
  rocksdb::WriteBatch batch;
  batch.Put(blocks_, BlockKey('b', height), block.SerializeAsString());
  batch.Put(blocks_, BlockKey('c', height), commit.SerializeAsString());
  batch.Put(blocks_, BlockKey('r', height), results.SerializeAsString());
  for (size_t i = 0; i < tx_ids.size(); ++i) {
    bas::v1::TxLocation loc;
    loc.set_height(height);
    loc.set_index(static_cast<uint32_t>(i));
    batch.Put(txindex_, HashBytes(tx_ids[i]), loc.SerializeAsString());
  }
  AddStateWrites(batch, state_, writes);
  PutTip(batch, meta_, tip);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) return StorageError(s);
  return Status::Ok();
}

std::optional<bas::v1::Block> ChainStore::GetBlock(uint64_t height) const {
  return Parse<bas::v1::Block>(Read(blocks_, BlockKey('b', height)));
}
std::optional<bas::v1::Commit> ChainStore::GetCommit(uint64_t height) const {
  return Parse<bas::v1::Commit>(Read(blocks_, BlockKey('c', height)));
}
std::optional<bas::v1::BlockResults> ChainStore::GetResults(uint64_t height) const {
  return Parse<bas::v1::BlockResults>(Read(blocks_, BlockKey('r', height)));
}
std::optional<bas::v1::TxLocation> ChainStore::FindTx(const crypto::Hash32& tx_id) const {
  return Parse<bas::v1::TxLocation>(Read(txindex_, HashBytes(tx_id)));
}
std::optional<bas::v1::ValidatorSet> ChainStore::ValidatorsAt(uint64_t height) const {
  return Parse<bas::v1::ValidatorSet>(Read(meta_, ValidatorSetKey(height)));
}

std::unique_ptr<StateSnapshot> ChainStore::Snapshot() const {
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  // The head read under the same snapshot, so height and state agree.
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  std::string raw;
  uint64_t height = 0;
  if (db_->Get(ro, meta_, ToSlice(kHead), &raw).ok()) height = DecodeHead(raw).height;
  return std::unique_ptr<StateSnapshot>(new StateSnapshot(db_.get(), state_, snap, height));
}

Status ChainStore::WriteConsensus(const std::vector<std::pair<std::string, std::string>>& puts,
                                  const std::vector<std::string>& deletes) {
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : puts) batch.Put(consensus_, key, value);
  for (const std::string& key : deletes) batch.Delete(consensus_, key);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) return StorageError(s);
  return Status::Ok();
}

std::optional<std::string> ChainStore::GetConsensus(std::string_view key) const {
  return Read(consensus_, key);
}

std::vector<std::string> ChainStore::ConsensusKeys(std::string_view prefix) const {
  std::vector<std::string> keys;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), consensus_));
  for (it->Seek(ToSlice(prefix)); it->Valid() && it->key().starts_with(ToSlice(prefix));
       it->Next()) {
    keys.push_back(it->key().ToString());
  }
  if (!it->status().ok()) std::abort();  // as Read: the store is unusable
  return keys;
}

}  // namespace bas::node::storage
