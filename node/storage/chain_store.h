// The node's durable storage on RocksDB (DESIGN.md section 6, "Storage").
//
// Column families: "blocks" (blocks, their commits and results by height), "txindex" (tx id ->
// height and index), "state" (the governance key-value state), "consensus" (what the
// validator signed, for safety across crashes) and "default" (node metadata: height, hashes,
// genesis, validator sets per height).
//
// A block, its commit, its results, its state writes and the new height are written in one
// synced WriteBatch: after a crash at any moment the store holds all of a block or none of it.
// Thread-safe: RocksDB serialises writers; readers use snapshots (StateSnapshot) to see one
// committed height throughout.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bas/v1/chain.pb.h"
#include "bas/v1/genesis.pb.h"
#include "crypto/hash.h"
#include "crypto/result.h"
#include "governance/kv.h"
#include "node/chain/block.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Snapshot;
}  // namespace rocksdb

namespace bas::node::storage {

// The head of the chain as last committed.
struct ChainHead {
  uint64_t height = 0;  // 0: genesis only
  crypto::Hash32 app_hash{};
  crypto::Hash32 block_hash{};  // zero at height 0
  int64_t time = 0;             // genesis time at height 0
};

// A read-only view of the state at one committed height. Keeps a RocksDB snapshot until
// destroyed; must not outlive its store.
class StateSnapshot final : public governance::KvReader {
 public:
  ~StateSnapshot() override;
  std::optional<std::string> Get(std::string_view key) const override;
  void Scan(std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& fn) const override;
  uint64_t height() const { return height_; }

 private:
  friend class ChainStore;
  StateSnapshot(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const rocksdb::Snapshot* snap,
                uint64_t height)
      : db_(db), cf_(cf), snap_(snap), height_(height) {}
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  const rocksdb::Snapshot* snap_;
  uint64_t height_;
};

class ChainStore {
 public:
  ~ChainStore();
  ChainStore(const ChainStore&) = delete;
  ChainStore& operator=(const ChainStore&) = delete;

  // Opens (creating if missing) the store in dir. read_only opens without writing (the
  // auditor on a stopped node's data). Errors: "STORAGE_ERROR" with RocksDB's reason.
  static Result<std::unique_ptr<ChainStore>> Open(const std::filesystem::path& dir,
                                                  bool read_only = false);

  // True once InitGenesis has committed.
  bool initialized() const;
  // Writes the genesis document, its state writes and app hash, and the validator sets of
  // heights 1 and 2, in one synced batch. Precondition: !initialized().
  Status InitGenesis(const bas::v1::Genesis& genesis, const governance::WriteSet& writes,
                     const crypto::Hash32& app_hash);
  Result<bas::v1::Genesis> LoadGenesis() const;

  ChainHead head() const;

  // Commits block (at head().height + 1) with the commit that certifies it, its results, the
  // ids of its txs (tx_ids[i] is the id of block.txs(i), as the execution computed it: the
  // store indexes them without decoding a tx), its state writes and the tip it leaves
  // (chain::NextTip: the new head, and the set that decides tip.height + 2), in one synced
  // WriteBatch. The store keeps what the tip says and decides no schedule of its own.
  // Precondition: block.header().height() == head().height + 1. Errors: "INTERNAL" with
  // nothing written when tx_ids and the txs differ in number or the tip is not the block's;
  // "STORAGE_ERROR".
  Status CommitBlock(const bas::v1::Block& block, const bas::v1::Commit& commit,
                     const bas::v1::BlockResults& results,
                     const std::vector<crypto::Hash32>& tx_ids, const governance::WriteSet& writes,
                     const chain::ChainTip& tip);

  std::optional<bas::v1::Block> GetBlock(uint64_t height) const;
  // The commit that certifies the block at height.
  std::optional<bas::v1::Commit> GetCommit(uint64_t height) const;
  std::optional<bas::v1::BlockResults> GetResults(uint64_t height) const;
  std::optional<bas::v1::TxLocation> FindTx(const crypto::Hash32& tx_id) const;
  // The validator set that decides the block at height (>= 1).
  std::optional<bas::v1::ValidatorSet> ValidatorsAt(uint64_t height) const;

  // The committed state now (one height throughout the snapshot's life).
  std::unique_ptr<StateSnapshot> Snapshot() const;
  // One key of the latest committed state, without a snapshot.
  std::optional<std::string> ReadState(std::string_view key) const { return Read(state_, key); }

  // Consensus persistence (the validator's safety record, node/consensus/safety_record.h).
  // Writes puts, then deletes, in the "consensus" column family as one synced WriteBatch: after
  // a crash at any moment the store holds all of it or none of it, and it is durable when Ok
  // returns (a key both put and deleted ends deleted). Errors: "STORAGE_ERROR", with nothing
  // written.
  Status WriteConsensus(const std::vector<std::pair<std::string, std::string>>& puts,
                        const std::vector<std::string>& deletes);
  std::optional<std::string> GetConsensus(std::string_view key) const;
  // The keys in the "consensus" column family that start with prefix, in bytewise order.
  std::vector<std::string> ConsensusKeys(std::string_view prefix) const;

 private:
  ChainStore() = default;
  std::optional<std::string> Read(rocksdb::ColumnFamilyHandle* cf, std::string_view key) const;

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* blocks_ = nullptr;
  rocksdb::ColumnFamilyHandle* txindex_ = nullptr;
  rocksdb::ColumnFamilyHandle* state_ = nullptr;
  rocksdb::ColumnFamilyHandle* consensus_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace bas::node::storage
