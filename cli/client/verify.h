// `bas verify-vote`: checks, without replaying anything, that a transaction (a vote, or any
// tx) was committed, from the node's GET /v1/txs/{id} answer (docs/api.md) and, optionally,
// the block's GET /v1/blocks/{height} answer (DESIGN.md section 4, last point):
//
//   1. signature   the SignedTx passes CheckTx under the header's chain id (canonical
//                  encoding, fields, the signer's BIP340 signature) and its id is the one asked
//                  for; says what the tx is (a vote, with its choice and reason)
//   2. inclusion   VerifyMerkleProof(MerkleLeafHash(tx bytes), index, leaf_count, path,
//                  header.tx_root), with leaf_count taken from the block when it is given (its
//                  txs must hash to tx_root) and from the proof otherwise (then said so)
//   3. result      the tx's result (code OK) is leaf `index` of header.results_root
//   4. block hash  BlockHash(header) == block_hash, at the height the answer names
//   5. commit      VerifyCommit(chain_id, height, block_hash, commit, validators): more than
//                  2/3 of the set's power signed a PRECOMMIT for that block
//   6. validators  the set the commit was checked against hashes to header.validators_hash
//
// The validator set itself comes from the node: it must be trusted, so its hash is printed for
// an auditor to compare with the genesis (or the chain's history of validator updates). Pure;
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bas::client {

struct VerifyCheck {
  std::string name;  // "signature", "inclusion", ...
  bool ok = false;
  std::string detail;  // why it holds or fails, for people
};

struct VerifyReport {
  std::vector<VerifyCheck> checks;
  std::string tx_description;  // "vote YES on proposal ...: reason" ("" if undecodable)
  bool is_vote = false;
  std::string validators_hash;          // hex of ValidatorSetHash(validators) ("" if undecodable)
  std::vector<std::string> validators;  // "KEYHEX power P [name]"

  bool ok() const;  // every check holds (and there is at least one)
};

// Runs the checks above. tx_id_hex: the id that was asked for (64 hex digits). A response that
// does not have the documented shape fails the "response" check and stops there.
VerifyReport VerifyTxResponse(const std::string& tx_id_hex, const nlohmann::json& tx_response,
                              const std::optional<nlohmann::json>& block_response);

// The report for people: one line per check ("ok   signature: ..." / "FAIL inclusion: ..."),
// the validator set with its hash and the trust note, and a verdict line.
std::string FormatVerifyReport(const VerifyReport& report);

}  // namespace bas::client
