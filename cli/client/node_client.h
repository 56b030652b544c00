// The node's HTTP/JSON API (docs/api.md) as `bas` uses it: JSON reads, tx submission, and the
// mapping of API errors onto bas::client error codes (errors.h):
//
//   404            kNotFound      "not found: <the node's message>"
//   422            kRefused       "refused: <GOVERNANCE_CODE>: <the node's message>"
//   400            kInvalidInput  "the node refused the request: MALFORMED: ..."
//   504 TIMEOUT    kCommitTimeout "HTTP 504 TIMEOUT: ..." (a tx that may still commit)
//   anything else  kApiError      "HTTP 503 MEMPOOL_FULL: ..."
//
// Not thread-safe (one HttpClient underneath).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>
#include <nlohmann/json.hpp>

#include "cli/client/errors.h"
#include "cli/client/http_client.h"
#include "crypto/result.h"
#include "crypto/schnorr.h"

namespace bas::client {

// The error an HTTP response other than 2xx stands for (the table above). api_code is set to the
// body's "error.code" ("" when the body has none).
Error ApiErrorOf(const HttpResponse& response, std::string* api_code = nullptr);

// Parses one record of the API (the proto3 JSON mapping) into *out; fields this client does not
// know are ignored, so a newer node still works. Errors: "INTERNAL" ("the node sent a ...
// that does not parse: ...").
Status ProtoFromJson(const nlohmann::json& json, google::protobuf::Message* out);

// Reads a JSON number or a decimal string (the mapping prints 64-bit integers as strings) as an
// integer; nullopt for anything else.
std::optional<int64_t> JsonInt(const nlohmann::json& value);

struct ChainStatus {
  std::string chain_id;
  uint64_t height = 0;
  nlohmann::json json;  // the whole answer
};

struct SubmitResult {
  unsigned http_status = 0;  // 200 committed (with wait), 202 in the mempool
  nlohmann::json body;       // {"tx_id", "height", "index", "result"} or {"tx_id", "code"}
};

class NodeClient {
 public:
  explicit NodeClient(HttpUrl url, HttpClientOptions options = {});

  // GET target; the JSON body of a 200. Errors: the table above; kNetworkError; "INTERNAL"
  // when a 200 body is not JSON.
  Result<nlohmann::json> GetJson(std::string_view target);

  // GET /v1/status.
  Result<ChainStatus> Status();
  // GET /v1/accounts/{key}: the key's next nonce (0 for a key never seen).
  Result<uint64_t> NextNonce(const crypto::PublicKey& key);

  // POST /v1/txs[?wait=commit] with the SignedTx bytes as application/x-protobuf. Errors: the
  // table above (a 422 is the chain refusing the tx; kCommitTimeout means it may still commit).
  Result<SubmitResult> SubmitTx(std::string_view signed_tx, bool wait_for_commit);

  HttpClient& http() { return http_; }

 private:
  HttpClient http_;
};

// Where a node's API is and how long to wait for it.
struct Endpoint {
  std::string url = "http://127.0.0.1:26657";  // ParseHttpUrl's form
  double timeout_s = 60;                       // per request; <= 0 keeps the default
};

// A client for endpoint.url with endpoint.timeout_s as the request deadline. Errors:
// kInvalidInput (a URL that does not parse).
Result<NodeClient> MakeNodeClient(const Endpoint& endpoint);

// The full id (64 lowercase hex digits) of a proposal given in full or as a unique prefix of at
// least 4 hex digits (looked up in GET /v1/proposals). Errors: kInvalidInput (not hex, too
// short, ambiguous), kNotFound (no proposal has that prefix), the request's errors.
Result<std::string> ResolveProposalId(NodeClient& node, std::string_view id_or_prefix);

// Percent-encodes a query parameter value (RFC 3986 unreserved characters stay).
std::string UrlEncode(std::string_view value);
// RFC 3986 percent-encoding: keeps ASCII letters, digits and the characters in `keep`, encodes
// every other byte as %XX.
std::string PercentEncode(std::string_view value, std::string_view keep);

}  // namespace bas::client
