#include "cli/client/node_client.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>

#include "crypto/encoding.h"
#include "proto/json.h"

namespace bas::client {

Error ApiErrorOf(const HttpResponse& response, std::string* api_code) {
  std::string code;
  std::string message;
  const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const nlohmann::json& error = body["error"];
    if (error.contains("code") && error["code"].is_string()) code = error["code"];
    if (error.contains("message") && error["message"].is_string()) message = error["message"];
  } else {
    // Not our API's error body (a proxy's page?): show its start.
    message = response.body.substr(0, 200);
  }
  if (api_code != nullptr) *api_code = code;
  switch (response.status) {
    case 404:
      return Error{std::string(kNotFound), "not found: " + message};
    case 422:
      return Error{std::string(kRefused), "refused: " + code + ": " + message};
    case 400:
      return Error{std::string(kInvalidInput),
                   "the node refused the request: " + code + ": " + message};
    default:
      return Error{
          std::string(response.status == 504 && code == "TIMEOUT" ? kCommitTimeout : kApiError),
          "HTTP " + std::to_string(response.status) + (code.empty() ? "" : " " + code) + ": " +
              message};
  }
}

Status ProtoFromJson(const nlohmann::json& json, google::protobuf::Message* out) {
  if (Status s = proto::ParseJsonLenient(json.dump(), out); !s.ok()) {
    return Error{"INTERNAL",
                 "the node sent a " + out->GetTypeName() + " that does not parse: " + s.message()};
  }
  return Status::Ok();
}

std::optional<int64_t> JsonInt(const nlohmann::json& value) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    int64_t out = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) return out;
  }
  return std::nullopt;
}

NodeClient::NodeClient(HttpUrl url, HttpClientOptions options) : http_(std::move(url), options) {}

Result<nlohmann::json> NodeClient::GetJson(std::string_view target) {
  Result<HttpResponse> response = http_.Get(target);
  if (!response.ok()) return response.error();
  if (response->status != 200) return ApiErrorOf(*response);
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  if (body.is_discarded()) {
    return Error{"INTERNAL", "GET " + std::string(target) + ": the answer is not JSON"};
  }
  return body;
}

Result<ChainStatus> NodeClient::Status() {
  Result<nlohmann::json> json = GetJson("/v1/status");
  if (!json.ok()) return json.error();
  ChainStatus out;
  if (!json->contains("chain_id") || !(*json)["chain_id"].is_string()) {
    return Error{"INTERNAL", "GET /v1/status: no chain_id in the answer"};
  }
  out.chain_id = (*json)["chain_id"];
  out.height = static_cast<uint64_t>(JsonInt(json->value("height", nlohmann::json())).value_or(0));
  out.json = std::move(*json);
  return out;
}

Result<uint64_t> NodeClient::NextNonce(const crypto::PublicKey& key) {
  Result<nlohmann::json> json = GetJson("/v1/accounts/" + crypto::HexEncode(key));
  if (!json.ok()) return json.error();
  std::optional<int64_t> nonce = JsonInt(json->value("next_nonce", nlohmann::json()));
  if (!nonce || *nonce < 0) {
    return Error{"INTERNAL", "GET /v1/accounts: no next_nonce in the answer"};
  }
  return static_cast<uint64_t>(*nonce);
}

Result<SubmitResult> NodeClient::SubmitTx(std::string_view signed_tx, bool wait_for_commit) {
  Result<HttpResponse> response = http_.Post(wait_for_commit ? "/v1/txs?wait=commit" : "/v1/txs",
                                             signed_tx, "application/x-protobuf");
  if (!response.ok()) return response.error();
  if (response->status != 200 && response->status != 202) return ApiErrorOf(*response);
  SubmitResult out;
  out.http_status = response->status;
  out.body = nlohmann::json::parse(response->body, nullptr, false);
  if (out.body.is_discarded() || !out.body.is_object()) {
    return Error{"INTERNAL", "POST /v1/txs: the answer is not a JSON object"};
  }
  return out;
}

Result<NodeClient> MakeNodeClient(const Endpoint& endpoint) {
  Result<HttpUrl> url = ParseHttpUrl(endpoint.url);
  if (!url.ok()) return url.error();
  HttpClientOptions http;
  if (endpoint.timeout_s > 0) {
    http.request_timeout =
        std::chrono::milliseconds(static_cast<int64_t>(endpoint.timeout_s * 1000));
  }
  return NodeClient(std::move(*url), http);
}

Result<std::string> ResolveProposalId(NodeClient& node, std::string_view id_or_prefix) {
  std::string prefix(id_or_prefix);
  std::transform(prefix.begin(), prefix.end(), prefix.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const bool hex =
      !prefix.empty() && prefix.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (hex && prefix.size() == 64) return prefix;
  if (!hex || prefix.size() < 4 || prefix.size() > 64) {
    return Error{std::string(kInvalidInput),
                 "proposal id " + std::string(id_or_prefix) +
                     ": expected 64 hex digits or a unique prefix of at least 4"};
  }
  Result<nlohmann::json> list = node.GetJson("/v1/proposals");
  if (!list.ok()) return list.error();
  std::vector<std::string> matches;
  for (const nlohmann::json& item : list->value("proposals", nlohmann::json::array())) {
    if (!item.contains("id") || !item["id"].is_string()) continue;
    const std::string& id = item["id"].get_ref<const std::string&>();
    if (id.starts_with(prefix)) matches.push_back(id);
  }
  if (matches.empty()) {
    return Error{std::string(kNotFound), "no proposal id starts with " + prefix};
  }
  if (matches.size() > 1) {
    return Error{std::string(kInvalidInput), "proposal id prefix " + prefix + " is ambiguous (" +
                                                 std::to_string(matches.size()) + " proposals)"};
  }
  return matches.front();
}

std::string PercentEncode(std::string_view value, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
        keep.find(c) != std::string_view::npos) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

// Unreserved characters only: a query value or a path segment.
std::string UrlEncode(std::string_view value) { return PercentEncode(value, "-._~"); }

}  // namespace bas::client
