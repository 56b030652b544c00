#include "cli/audit/ledger_source.h"

#include <deque>

#include "cli/client/node_client.h"
#include "node/storage/chain_store.h"

namespace bas::audit {
namespace {

Error Malformed(std::string what) { return Error{std::string(kLedgerMalformed), std::move(what)}; }

class ExportSource final : public LedgerSource {
 public:
  ExportSource(std::string name, ExportReader reader)
      : name_(std::move(name)), reader_(std::move(reader)) {}
  std::string Describe() const override { return "export " + name_; }
  const bas::v1::Genesis& genesis() const override { return reader_.genesis(); }
  uint64_t last_height() const override { return reader_.header().last_height(); }
  bool has_results() const override { return reader_.header().has_results(); }
  Result<std::optional<CertifiedBlock>> Next() override { return reader_.Next(); }

 private:
  std::string name_;
  ExportReader reader_;
};

class DataDirSource final : public LedgerSource {
 public:
  DataDirSource(std::string dir, std::unique_ptr<node::storage::ChainStore> store,
                bas::v1::Genesis genesis)
      : dir_(std::move(dir)),
        store_(std::move(store)),
        genesis_(std::move(genesis)),
        last_(store_->head().height) {}
  std::string Describe() const override { return "data dir " + dir_; }
  const bas::v1::Genesis& genesis() const override { return genesis_; }
  uint64_t last_height() const override { return last_; }
  bool has_results() const override { return true; }
  Result<std::optional<CertifiedBlock>> Next() override {
    if (next_ > last_) return std::optional<CertifiedBlock>();
    const std::string where = "height " + std::to_string(next_) + ": the store has no ";
    CertifiedBlock out;
    auto block = store_->GetBlock(next_);
    if (!block) return Malformed(where + "block");
    auto commit = store_->GetCommit(next_);
    if (!commit) return Malformed(where + "commit");
    auto results = store_->GetResults(next_);
    if (!results) return Malformed(where + "results");
    out.block = std::move(*block);
    out.commit = std::move(*commit);
    out.results = results->SerializeAsString();
    ++next_;
    return std::optional<CertifiedBlock>(std::move(out));
  }

 private:
  std::string dir_;
  std::unique_ptr<node::storage::ChainStore> store_;
  bas::v1::Genesis genesis_;
  uint64_t last_;
  uint64_t next_ = 1;
};

// GET /v1/blocks answers at most 100 blocks (and about 8 MiB) per call; a page is held until
// consumed.
class NodeSource final : public LedgerSource {
 public:
  NodeSource(std::string url, client::NodeClient client, bas::v1::Genesis genesis, uint64_t last)
      : url_(std::move(url)),
        client_(std::move(client)),
        genesis_(std::move(genesis)),
        last_(last) {}
  std::string Describe() const override { return "node " + url_; }
  const bas::v1::Genesis& genesis() const override { return genesis_; }
  uint64_t last_height() const override { return last_; }
  bool has_results() const override { return true; }
  Result<std::optional<CertifiedBlock>> Next() override {
    if (next_ > last_) return std::optional<CertifiedBlock>();
    if (page_.empty()) {
      if (Status s = FetchPage(); !s.ok()) return s.error();
    }
    CertifiedBlock out = std::move(page_.front());
    page_.pop_front();
    ++next_;
    return std::optional<CertifiedBlock>(std::move(out));
  }

 private:
  Status FetchPage() {
    const uint64_t to = std::min(last_, next_ + 99);
    const std::string target =
        "/v1/blocks?from=" + std::to_string(next_) + "&to=" + std::to_string(to);
    Result<nlohmann::json> answer = client_.GetJson(target);
    if (!answer.ok()) return answer.error();
    if (!answer->is_object() || !answer->contains("blocks") || !(*answer)["blocks"].is_array()) {
      return Malformed("GET " + target + ": the answer has no \"blocks\" list");
    }
    uint64_t expect = next_;
    for (const nlohmann::json& entry : (*answer)["blocks"]) {
      const std::string where = "height " + std::to_string(expect) + ": ";
      CertifiedBlock block;
      bas::v1::BlockResults results;
      if (!entry.is_object() || !entry.contains("block") || !entry.contains("commit") ||
          !entry.contains("results")) {
        return Malformed(where + "the node's block entry lacks its block, commit or results");
      }
      if (!client::ProtoFromJson(entry["block"], &block.block).ok() ||
          !client::ProtoFromJson(entry["commit"], &block.commit).ok() ||
          !client::ProtoFromJson(entry["results"], &results).ok()) {
        return Malformed(where + "the node sent a block, commit or results that does not parse");
      }
      block.results = results.SerializeAsString();
      page_.push_back(std::move(block));
      ++expect;
    }
    if (page_.empty()) {
      return Malformed("height " + std::to_string(next_) + ": the node has no block there");
    }
    return Status::Ok();
  }

  std::string url_;
  client::NodeClient client_;
  bas::v1::Genesis genesis_;
  uint64_t last_;
  uint64_t next_ = 1;
  std::deque<CertifiedBlock> page_;
};

}  // namespace

Result<std::unique_ptr<LedgerSource>> OpenExportSource(const std::filesystem::path& file) {
  Result<ExportReader> reader = ExportReader::Open(file);
  if (!reader.ok()) return reader.error();
  return std::unique_ptr<LedgerSource>(
      std::make_unique<ExportSource>(file.string(), std::move(*reader)));
}

Result<std::unique_ptr<LedgerSource>> OpenDataDirSource(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Error{"STORAGE_ERROR", dir.string() + ": not a directory"};
  }
  auto store = node::storage::ChainStore::Open(dir, /*read_only=*/true);
  if (!store.ok()) return store.error();
  Result<bas::v1::Genesis> genesis = (*store)->LoadGenesis();
  if (!genesis.ok()) return Malformed(dir.string() + ": " + genesis.error().message);
  return std::unique_ptr<LedgerSource>(
      std::make_unique<DataDirSource>(dir.string(), std::move(*store), std::move(*genesis)));
}

Result<uint64_t> LastHeightToRead(const LedgerSource& source, std::optional<uint64_t> to_height) {
  const uint64_t last = to_height.value_or(source.last_height());
  if (last > source.last_height()) {
    return Error{std::string(kHeightOutOfRange), "height " + std::to_string(last) +
                                                     " was asked for; the ledger ends at height " +
                                                     std::to_string(source.last_height())};
  }
  return last;
}

Result<std::unique_ptr<LedgerSource>> OpenNodeSource(const client::Endpoint& endpoint) {
  Result<client::NodeClient> client = client::MakeNodeClient(endpoint);
  if (!client.ok()) return client.error();
  Result<nlohmann::json> answer = client->GetJson("/v1/genesis");
  if (!answer.ok()) return answer.error();
  bas::v1::Genesis genesis;
  if (!answer->is_object() || !answer->contains("genesis") ||
      !client::ProtoFromJson((*answer)["genesis"], &genesis).ok()) {
    return Malformed("GET /v1/genesis: the answer holds no genesis");
  }
  Result<client::ChainStatus> status = client->Status();
  if (!status.ok()) return status.error();
  return std::unique_ptr<LedgerSource>(std::make_unique<NodeSource>(
      endpoint.url, std::move(*client), std::move(genesis), status->height));
}

Status ExportLedger(LedgerSource& source, const std::filesystem::path& out,
                    std::optional<uint64_t> to_height,
                    const std::function<void(uint64_t, uint64_t)>& progress) {
  Result<uint64_t> last_or = LastHeightToRead(source, to_height);
  if (!last_or.ok()) return last_or.error();
  const uint64_t last = *last_or;
  bas::v1::ExportHeader header;
  header.set_format_version(kExportFormatVersion);
  header.set_chain_id(source.genesis().chain_id());
  header.set_first_height(last > 0 ? 1 : 0);
  header.set_last_height(last);
  header.set_has_results(source.has_results());
  Result<ExportWriter> writer = ExportWriter::Create(out, header, source.genesis());
  if (!writer.ok()) return writer.error();
  for (uint64_t h = 1; h <= last; ++h) {
    Result<std::optional<CertifiedBlock>> next = source.Next();
    if (!next.ok()) return next.error();
    if (!next->has_value()) {
      return Malformed(source.Describe() + ": ends at height " + std::to_string(h - 1));
    }
    const CertifiedBlock& b = **next;
    const std::string* results = b.results ? &*b.results : nullptr;
    if (Status s = writer->WriteHeight(b.block, b.commit, results); !s.ok()) return s;
    if (progress) progress(h, last);
  }
  return writer->Finish();
}

}  // namespace bas::audit
