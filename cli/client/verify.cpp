#include "cli/client/verify.h"

#include <set>

#include "bas/v1/chain.pb.h"
#include "bas/v1/tx.pb.h"
#include "cli/client/node_client.h"
#include "cli/client/tx_builder.h"
#include "crypto/encoding.h"
#include "crypto/merkle.h"
#include "governance/codes.h"
#include "governance/engine.h"
#include "node/chain/commit.h"
#include "node/chain/encoding.h"

namespace bas::client {
namespace {

using nlohmann::json;

// What the answer must hold, decoded; the checks then work on these.
struct Evidence {
  uint64_t height = 0;
  uint64_t index = 0;
  std::string tx_bytes;
  bas::v1::TxResult result;
  uint64_t proof_index = 0;
  uint64_t proof_leaf_count = 0;
  std::vector<crypto::Hash32> tx_path;
  uint64_t result_proof_index = 0;
  uint64_t result_leaf_count = 0;
  std::vector<crypto::Hash32> result_path;
  bas::v1::BlockHeader header;
  std::string block_hash;  // 32 raw bytes
  bas::v1::Commit commit;
  bas::v1::ValidatorSet validators;
};

bool HasKey(const json& j, const char* key) { return j.is_object() && j.contains(key); }

// Reads the fields; "" on success, else what is missing or malformed.
std::string Decode(const json& r, Evidence* e) {
  for (const char* key : {"height", "index", "tx", "result", "tx_proof", "result_proof", "header",
                          "block_hash", "commit", "validators"}) {
    if (!HasKey(r, key)) return std::string("no \"") + key + "\"";
  }
  std::optional<int64_t> height = JsonInt(r["height"]);
  std::optional<int64_t> index = JsonInt(r["index"]);
  if (!height || !index || *height < 1 || *index < 0) return "bad height or index";
  e->height = static_cast<uint64_t>(*height);
  e->index = static_cast<uint64_t>(*index);

  bas::v1::SignedTx tx;
  if (!ProtoFromJson(r["tx"], &tx).ok()) return "\"tx\" is not a SignedTx";
  // The SignedTx as the block holds it: CheckTx accepts only canonical encodings, which a
  // re-serialisation reproduces exactly; the Merkle check below confirms the bytes.
  e->tx_bytes = tx.SerializeAsString();
  if (!ProtoFromJson(r["result"], &e->result).ok()) return "\"result\" is not a TxResult";
  if (!ProtoFromJson(r["header"], &e->header).ok()) return "\"header\" is not a BlockHeader";
  if (std::string shape = node::chain::CheckHeaderShape(e->header); !shape.empty()) {
    return "header: " + shape;
  }
  if (!ProtoFromJson(r["commit"], &e->commit).ok()) return "\"commit\" is not a Commit";
  if (!ProtoFromJson(r["validators"], &e->validators).ok()) {
    return "\"validators\" is not a ValidatorSet";
  }
  for (const bas::v1::Validator& v : e->validators.validators()) {
    if (v.key().size() != 32) return "a validator key is not 32 bytes";
  }
  if (!r["block_hash"].is_string()) return "\"block_hash\" is not hex";
  Result<std::array<uint8_t, 32>> hash =
      crypto::HexDecodeFixed<32>(r["block_hash"].get<std::string>());
  if (!hash.ok()) return "\"block_hash\" is not 64 hex digits";
  e->block_hash = std::string(hash->begin(), hash->end());

  auto proof = [](const json& p, uint64_t* leaf_index, uint64_t* leaf_count,
                  std::vector<crypto::Hash32>* path) -> bool {
    if (!HasKey(p, "leaf_index") || !HasKey(p, "leaf_count") || !HasKey(p, "path") ||
        !p["path"].is_array()) {
      return false;
    }
    std::optional<int64_t> i = JsonInt(p["leaf_index"]);
    std::optional<int64_t> n = JsonInt(p["leaf_count"]);
    if (!i || !n || *i < 0 || *n < 0) return false;
    *leaf_index = static_cast<uint64_t>(*i);
    *leaf_count = static_cast<uint64_t>(*n);
    for (const json& step : p["path"]) {
      if (!step.is_string()) return false;
      Result<std::array<uint8_t, 32>> h = crypto::HexDecodeFixed<32>(step.get<std::string>());
      if (!h.ok()) return false;
      path->push_back(*h);
    }
    return true;
  };
  if (!proof(r["tx_proof"], &e->proof_index, &e->proof_leaf_count, &e->tx_path)) {
    return "\"tx_proof\" is malformed";
  }
  if (!proof(r["result_proof"], &e->result_proof_index, &e->result_leaf_count, &e->result_path)) {
    return "\"result_proof\" is malformed";
  }
  return "";
}

VerifyCheck CheckSignature(const Evidence& e, const std::string& tx_id_hex, VerifyReport* report) {
  const governance::CheckTxResult checked = governance::CheckTx(e.tx_bytes, e.header.chain_id());
  if (!checked.outcome.ok()) {
    return {
        "signature", false,
        std::string(governance::CodeName(checked.outcome.code)) + ": " + checked.outcome.message};
  }
  report->tx_description = DescribeTx(checked.tx.body);
  report->is_vote = checked.tx.body.has_vote();
  const std::string id = crypto::HexEncode(checked.tx.tx_id);
  if (id != tx_id_hex) {
    return {"signature", false, "the tx has id " + id + ", not the one asked for"};
  }
  std::string detail = "a valid BIP340 signature by " + crypto::HexEncode(checked.tx.signer) +
                       " over the body (chain " + e.header.chain_id() + "); the tx is a " +
                       (report->is_vote ? "vote: " : "non-vote tx: ") + report->tx_description;
  return {"signature", true, detail};
}

// *tx_count: the number of txs in the block, from the block when given, else from the proof.
VerifyCheck CheckInclusion(const Evidence& e, const std::optional<json>& block_response,
                           uint64_t* tx_count) {
  const crypto::Hash32 root = node::chain::ToHash(e.header.tx_root());
  const crypto::Hash32 leaf = crypto::MerkleLeafHash(crypto::AsBytes(e.tx_bytes));
  if (e.proof_index != e.index) {
    return {"inclusion", false,
            "the proof is for leaf " + std::to_string(e.proof_index) + ", the tx is at index " +
                std::to_string(e.index)};
  }
  uint64_t& leaf_count = *tx_count;
  leaf_count = e.proof_leaf_count;
  std::string source = "leaf count " + std::to_string(leaf_count) +
                       " taken from the proof (the block was not fetched)";
  if (block_response) {
    bas::v1::Block block;
    if (!HasKey(*block_response, "block") ||
        !ProtoFromJson((*block_response)["block"], &block).ok()) {
      return {"inclusion", false, "the block answer does not hold a Block"};
    }
    if (node::chain::TxRoot(block.txs()) != root) {
      return {"inclusion", false, "the block's txs do not hash to the header's tx_root"};
    }
    leaf_count = static_cast<uint64_t>(block.txs_size());
    source =
        "leaf count " + std::to_string(leaf_count) + " from the block, whose txs hash to tx_root";
  }
  if (!crypto::VerifyMerkleProof(leaf, e.index, leaf_count, e.tx_path, root)) {
    return {"inclusion", false,
            "the audit path does not lead from the tx's leaf to tx_root " +
                crypto::HexEncode(root) + " (" + source + ")"};
  }
  return {"inclusion", true,
          "the tx is leaf " + std::to_string(e.index) + " of " + std::to_string(leaf_count) +
              " under tx_root " + crypto::HexEncode(root) + " (" +
              std::to_string(e.tx_path.size()) + "-step path; " + source + ")"};
}

VerifyCheck CheckResult(const Evidence& e, uint64_t tx_count) {
  const crypto::Hash32 root = node::chain::ToHash(e.header.results_root());
  const crypto::Hash32 leaf =
      crypto::MerkleLeafHash(crypto::AsBytes(node::chain::EncodeTxResultLeaf(e.result)));
  if (e.result_proof_index != e.index ||
      !crypto::VerifyMerkleProof(leaf, e.index, tx_count + 1, e.result_path, root)) {
    return {"result", false,
            "the result is not leaf " + std::to_string(e.index) + " of results_root " +
                crypto::HexEncode(root)};
  }
  if (e.result.code() != 0) {
    return {
        "result", false,
        "the result under results_root is code " + std::to_string(e.result.code()) + ", not OK"};
  }
  return {"result", true,
          "the chain recorded it as OK: its result is leaf " + std::to_string(e.index) + " of " +
              std::to_string(tx_count + 1) + " under results_root " + crypto::HexEncode(root)};
}

VerifyCheck CheckBlockHash(const Evidence& e) {
  const crypto::Hash32 computed = node::chain::BlockHash(e.header);
  if (e.header.height() != e.height) {
    return {"block hash", false,
            "the header is for height " + std::to_string(e.header.height()) + ", not " +
                std::to_string(e.height)};
  }
  if (node::chain::HashBytes(computed) != e.block_hash) {
    return {"block hash", false,
            "the header hashes to " + crypto::HexEncode(computed) + ", not to the block_hash " +
                crypto::HexEncode(e.block_hash) + " given"};
  }
  return {"block hash", true,
          "the header of height " + std::to_string(e.height) + " hashes to " +
              crypto::HexEncode(computed)};
}

VerifyCheck CheckCommit(const Evidence& e) {
  Status status = node::chain::VerifyCommit(e.header.chain_id(), e.height, e.block_hash, e.commit,
                                            e.validators);
  uint64_t total = 0;
  for (const bas::v1::Validator& v : e.validators.validators()) total += v.power();
  if (!status.ok()) return {"commit", false, status.message()};
  uint64_t signed_power = 0;
  std::set<std::string> signers;
  for (const bas::v1::CommitSig& sig : e.commit.signatures()) signers.insert(sig.validator());
  for (const bas::v1::Validator& v : e.validators.validators()) {
    if (signers.count(v.key()) != 0) signed_power += v.power();
  }
  return {"commit", true,
          std::to_string(signers.size()) + " of " + std::to_string(e.validators.validators_size()) +
              " validators, power " + std::to_string(signed_power) + " of " +
              std::to_string(total) + " (more than 2/3 needed), precommitted this block in round " +
              std::to_string(e.commit.round())};
}

VerifyCheck CheckValidators(const Evidence& e, VerifyReport* report) {
  std::vector<bas::v1::Validator> set(e.validators.validators().begin(),
                                      e.validators.validators().end());
  const crypto::Hash32 hash = node::chain::ValidatorSetHash(set);
  report->validators_hash = crypto::HexEncode(hash);
  for (const bas::v1::Validator& v : set) {
    report->validators.push_back(crypto::HexEncode(v.key()) + " power " +
                                 std::to_string(v.power()) +
                                 (v.name().empty() ? "" : " (" + v.name() + ")"));
  }
  if (node::chain::HashBytes(hash) != e.header.validators_hash()) {
    return {"validators", false,
            "the set given hashes to " + report->validators_hash +
                ", the header names validators_hash " +
                crypto::HexEncode(e.header.validators_hash())};
  }
  return {"validators", true,
          "the set given is the one the header names (validators_hash " + report->validators_hash +
              ")"};
}

}  // namespace

bool VerifyReport::ok() const {
  if (checks.empty()) return false;
  for (const VerifyCheck& check : checks) {
    if (!check.ok) return false;
  }
  return true;
}

VerifyReport VerifyTxResponse(const std::string& tx_id_hex, const json& tx_response,
                              const std::optional<json>& block_response) {
  VerifyReport report;
  Evidence e;
  if (std::string problem = Decode(tx_response, &e); !problem.empty()) {
    report.checks.push_back({"response", false, "the node's answer is malformed: " + problem});
    return report;
  }
  report.checks.push_back(CheckSignature(e, tx_id_hex, &report));
  uint64_t tx_count = 0;
  report.checks.push_back(CheckInclusion(e, block_response, &tx_count));
  report.checks.push_back(CheckResult(e, tx_count));
  report.checks.push_back(CheckBlockHash(e));
  report.checks.push_back(CheckCommit(e));
  report.checks.push_back(CheckValidators(e, &report));
  return report;
}

std::string FormatVerifyReport(const VerifyReport& report) {
  std::string out;
  for (const VerifyCheck& check : report.checks) {
    out += (check.ok ? "ok    " : "FAIL  ") + check.name + ": " + check.detail + "\n";
  }
  if (!report.validators_hash.empty()) {
    out += "\nvalidator set (hash " + report.validators_hash + "):\n";
    for (const std::string& v : report.validators) out += "  " + v + "\n";
    out +=
        "The validator set comes from the node and must itself be trusted: compare its hash "
        "with the genesis validators (and any validator updates since).\n";
  }
  if (report.ok()) {
    out +=
        report.is_vote
            ? "\nverified: this vote is in a committed block and the chain accepted it (code OK)\n"
            : "\nverified: this tx (not a vote) is in a committed block and the chain accepted "
              "it\n";
  } else {
    out += "\nNOT verified\n";
  }
  return out;
}

}  // namespace bas::client
