#include "node/rpc/api.h"

#include <algorithm>
#include <charconv>
#include <memory>
#include <mutex>
#include <stdexcept>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "bas/v1/chain.pb.h"
#include "crypto/encoding.h"
#include "crypto/merkle.h"
#include "governance/codes.h"
#include "governance/query.h"
#include "governance/rules.h"
#include "node/chain/encoding.h"
#include "node/rpc/json.h"
#include "proto/json.h"

namespace bas::node::rpc {
namespace {

using boost::beast::http::verb;
using json = nlohmann::ordered_json;

constexpr uint64_t kMaxBlocksPerCall = 100;
constexpr size_t kMaxBlocksBytes = size_t{8} << 20;
constexpr size_t kMaxBatchTxs = 1000;
constexpr std::chrono::milliseconds kMaxWait{30000};

ApiResponse Malformed(std::string_view message) { return ErrorResponse(400, "MALFORMED", message); }
ApiResponse NotFound(std::string_view message) { return ErrorResponse(404, "NOT_FOUND", message); }

// A broken store invariant: the server turns it into 500 INTERNAL.
[[noreturn]] void Internal(const std::string& what) { throw std::runtime_error(what); }

std::optional<crypto::Hash32> ParseId(std::string_view hex) {
  auto bytes = crypto::HexDecodeFixed<32>(hex);
  if (!bytes.ok()) return std::nullopt;
  return *bytes;
}

std::optional<uint64_t> ParseU64(std::string_view s) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

bool QueryFlag(const ApiRequest& req, std::string_view name) {
  const auto v = req.Query(name);
  return v && (*v == "1" || *v == "true");
}

// {key: [record, ...]}
template <typename T>
ApiResponse ListResponse(std::string_view key, const std::vector<T>& items) {
  JsonWriter w;
  w.BeginObject().Key(key).Records(items).EndObject();
  return JsonResponse(200, std::move(w));
}

// ---- status ----

// Node exposes no accessor for its key; the single-validator driver (node.h) proposes every
// block with it, and at height 0 it is genesis's only validator.
ApiResponse GetStatus(ApiContext& ctx, const ApiRequest&) {
  const storage::ChainHead head = ctx.node.store().head();
  return JsonResponse(200, {{"chain_id", ctx.node.chain_id()},
                            {"height", head.height},
                            {"latest_block_hash", Hex(head.block_hash)},
                            {"latest_block_time", head.time},
                            {"app_hash", Hex(head.app_hash)},
                            {"mempool_size", ctx.node.mempool().size()},
                            {"node_key", crypto::HexEncode(ctx.node.node_key())}});
}

// The genesis the chain was started from (an auditor's export starts with it).
ApiResponse GetGenesis(ApiContext& ctx, const ApiRequest&) {
  JsonWriter w;
  w.BeginObject().Field("genesis", ctx.node.genesis()).EndObject();
  return JsonResponse(200, std::move(w));
}

// ---- submitting txs ----

// One tx of a submission: its SignedTx bytes, or why it does not parse.
struct SubmittedTx {
  std::string bytes;
  std::string malformed;  // non-empty: the item is not a SignedTx
};
struct Submission {
  bool batch = false;
  std::vector<SubmittedTx> txs;
};

SubmittedTx SignedTxFromJson(const std::string& text) {
  bas::v1::SignedTx tx;
  if (Status s = proto::ParseJsonStrict(text, &tx); !s.ok()) {
    return {"", "not a SignedTx: " + s.message()};
  }
  return {tx.SerializeAsString(), ""};
}

Result<Submission> ParseSubmission(const ApiRequest& req) {
  Submission sub;
  if (req.content_type == "application/x-protobuf" ||
      req.content_type == "application/octet-stream") {
    sub.batch = QueryFlag(req, "batch");
    bas::v1::SignedTx probe;
    if (!sub.batch) {
      // The exact bytes go on: they are the tx's leaf in the block.
      if (!probe.ParseFromString(req.body)) return Error{"MALFORMED", "not a SignedTx"};
      sub.txs.push_back({req.body, ""});
    } else {
      bas::v1::TxBatch batch;
      if (!batch.ParseFromString(req.body)) return Error{"MALFORMED", "not a TxBatch"};
      for (const std::string& tx : batch.txs()) {
        sub.txs.push_back(probe.ParseFromString(tx) ? SubmittedTx{tx, ""}
                                                    : SubmittedTx{"", "not a SignedTx"});
      }
    }
  } else if (req.content_type == "application/json") {
    const json doc = json::parse(req.body, nullptr, false);
    if (doc.is_discarded()) return Error{"MALFORMED", "the body is not JSON"};
    sub.batch = doc.is_object() && doc.contains("txs");
    if (QueryFlag(req, "batch") && !sub.batch) {
      return Error{"MALFORMED", "a batch is {\"txs\": [SignedTx, ...]}"};
    }
    if (!sub.batch) {
      SubmittedTx tx = SignedTxFromJson(req.body);
      if (!tx.malformed.empty()) return Error{"MALFORMED", tx.malformed};
      sub.txs.push_back(std::move(tx));
    } else {
      if (doc.size() != 1 || !doc["txs"].is_array()) {
        return Error{"MALFORMED", "a batch is {\"txs\": [SignedTx, ...]}"};
      }
      for (const json& item : doc["txs"]) sub.txs.push_back(SignedTxFromJson(item.dump()));
    }
  } else {
    return Error{"MALFORMED", "Content-Type must be application/json or application/x-protobuf"};
  }
  if (sub.txs.size() > kMaxBatchTxs) {
    return Error{"TOO_LARGE", "at most " + std::to_string(kMaxBatchTxs) + " txs per batch"};
  }
  return sub;
}

// Admits one tx. A tx the chain already holds counts as known like one in the mempool, so that
// resubmitting after a 504 is idempotent.
mempool::AddResult Admit(ApiContext& ctx, std::string_view bytes) {
  mempool::AddResult r = ctx.node.SubmitTx(bytes);
  if (r.code == mempool::AddCode::kRejected && r.governance_code == governance::Code::kBadNonce &&
      ctx.node.store().FindTx(r.tx_id)) {
    r.code = mempool::AddCode::kAlreadyKnown;
    r.message = "already committed";
  }
  return r;
}

std::chrono::milliseconds WaitTimeout(const ApiContext& ctx) {
  return std::min(std::chrono::milliseconds(ctx.config.wait_timeout_ms), kMaxWait);
}

std::string TimeoutMessage(const ApiContext& ctx) {
  return "not committed within " + std::to_string(WaitTimeout(ctx).count()) +
         " ms; the tx may still commit";
}

// The response to `?wait=commit` for one tx.
ApiResponse WaitOutcome(ApiContext& ctx, const crypto::Hash32& id, const daemon::TxWait& w) {
  switch (w.status) {
    case daemon::TxWait::Status::kCommitted: {
      const auto results = ctx.node.store().GetResults(w.location.height());
      if (!results || w.location.index() >= static_cast<uint32_t>(results->tx_results_size())) {
        Internal("no results for a committed tx at height " + std::to_string(w.location.height()));
      }
      JsonWriter out;
      out.BeginObject()
          .Field("tx_id", Hex(id))
          .Field("height", w.location.height())
          .Field("index", uint64_t{w.location.index()})
          .Field("result", results->tx_results(w.location.index()))
          .EndObject();
      return JsonResponse(200, std::move(out));
    }
    case daemon::TxWait::Status::kRefused:
      return ErrorResponse(422, governance::CodeName(w.outcome.code), w.outcome.message);
    case daemon::TxWait::Status::kTimeout:
      break;
  }
  return ErrorResponse(504, "TIMEOUT", TimeoutMessage(ctx));
}

ApiResponse SubmitOne(ApiContext& ctx, const SubmittedTx& tx, bool wait) {
  const mempool::AddResult r = Admit(ctx, tx.bytes);
  switch (r.code) {
    case mempool::AddCode::kRejected:
      return ErrorResponse(422, governance::CodeName(r.governance_code), r.message);
    case mempool::AddCode::kFull:
      return ErrorResponse(503, "MEMPOOL_FULL", r.message);
    case mempool::AddCode::kAccepted:
    case mempool::AddCode::kAlreadyKnown:
      break;
  }
  if (!wait) return JsonResponse(202, {{"tx_id", Hex(r.tx_id)}, {"code", "OK"}});
  ApiResponse deferred;
  deferred.deferred = [&ctx, id = r.tx_id](Reply reply) {
    ctx.watcher.Watch(id, WaitTimeout(ctx),
                      [&ctx, id, reply = std::move(reply)](const daemon::TxWait& w) {
                        reply([&ctx, id, w] { return WaitOutcome(ctx, id, w); });
                      });
  };
  return deferred;
}

// The outcomes of a batch's waited-for txs, as they arrive; the response is built from them
// once the last one is in.
struct BatchWait {
  std::mutex mu;
  json results;
  std::vector<std::pair<size_t, daemon::TxWait>> outcomes;  // results index, outcome
  size_t remaining = 0;
  Reply reply;
};

ApiResponse SubmitBatch(ApiContext& ctx, const std::vector<SubmittedTx>& txs, bool wait) {
  json results = json::array();
  std::vector<std::pair<size_t, crypto::Hash32>> admitted;
  for (const SubmittedTx& tx : txs) {
    json entry = {{"tx_id", ""}, {"code", "MALFORMED"}, {"message", tx.malformed}};
    if (tx.malformed.empty()) {
      const mempool::AddResult r = Admit(ctx, tx.bytes);
      entry["message"] = r.message;
      if (r.tx_id != crypto::Hash32{}) entry["tx_id"] = Hex(r.tx_id);
      switch (r.code) {
        case mempool::AddCode::kRejected:
          entry["code"] = governance::CodeName(r.governance_code);
          break;
        case mempool::AddCode::kFull:
          entry["code"] = "MEMPOOL_FULL";
          break;
        case mempool::AddCode::kAccepted:
        case mempool::AddCode::kAlreadyKnown:
          entry["code"] = "OK";
          admitted.emplace_back(results.size(), r.tx_id);
          break;
      }
    }
    results.push_back(std::move(entry));
  }
  if (!wait || admitted.empty()) return JsonResponse(200, {{"results", std::move(results)}});

  auto state = std::make_shared<BatchWait>();
  state->results = std::move(results);
  state->remaining = admitted.size();
  ApiResponse deferred;
  deferred.deferred = [&ctx, state, admitted = std::move(admitted)](Reply reply) {
    state->reply = std::move(reply);
    for (const auto& item : admitted) {
      const size_t i = item.first;
      ctx.watcher.Watch(item.second, WaitTimeout(ctx), [&ctx, state, i](const daemon::TxWait& w) {
        std::unique_lock lock(state->mu);
        state->outcomes.emplace_back(i, w);
        if (--state->remaining > 0) return;
        lock.unlock();
        state->reply([&ctx, state] {
          for (const auto& [index, outcome] : state->outcomes) {
            json& entry = state->results[index];
            switch (outcome.status) {
              case daemon::TxWait::Status::kCommitted:
                entry["height"] = outcome.location.height();
                entry["index"] = outcome.location.index();
                break;
              case daemon::TxWait::Status::kRefused:
                entry["code"] = governance::CodeName(outcome.outcome.code);
                entry["message"] = outcome.outcome.message;
                break;
              case daemon::TxWait::Status::kTimeout:
                entry["code"] = "TIMEOUT";
                entry["message"] = TimeoutMessage(ctx);
                break;
            }
          }
          return JsonResponse(200, {{"results", std::move(state->results)}});
        });
      });
    }
  };
  return deferred;
}

ApiResponse PostTxs(ApiContext& ctx, const ApiRequest& req) {
  const auto wait = req.Query("wait");
  if (wait && *wait != "commit") return Malformed("wait: the only value is \"commit\"");
  auto sub = ParseSubmission(req);
  if (!sub.ok()) {
    return ErrorResponse(sub.error().code == "TOO_LARGE" ? 413 : 400, sub.error().code,
                         sub.error().message);
  }
  if (!sub->batch) return SubmitOne(ctx, sub->txs.front(), wait.has_value());
  return SubmitBatch(ctx, sub->txs, wait.has_value());
}

// ---- txs and blocks ----

json ProofJson(const std::vector<crypto::Hash32>& leaves, uint32_t index) {
  json path = json::array();
  for (const auto& h : crypto::MerkleProof(leaves, index)) path.push_back(Hex(h));
  return {{"leaf_index", index}, {"leaf_count", leaves.size()}, {"path", std::move(path)}};
}

ApiResponse GetTx(ApiContext& ctx, const ApiRequest& req) {
  const auto id = ParseId(req.params[0]);
  if (!id) return Malformed("a tx id is 64 hex digits");
  const storage::ChainStore& store = ctx.node.store();
  const auto loc = store.FindTx(*id);
  if (!loc) return NotFound("no committed tx " + req.params[0]);
  const uint64_t height = loc->height();
  const uint32_t index = loc->index();
  const auto block = store.GetBlock(height);
  const auto results = store.GetResults(height);
  const auto commit = store.GetCommit(height);
  const auto validators = store.ValidatorsAt(height);
  if (!block || !results || !commit || !validators) {
    Internal("the store lacks parts of block " + std::to_string(height));
  }
  if (index >= static_cast<uint32_t>(block->txs_size()) ||
      results->tx_results_size() != block->txs_size()) {
    Internal("the tx index disagrees with block " + std::to_string(height));
  }
  bas::v1::SignedTx tx;
  bas::v1::TxBody body;
  if (!tx.ParseFromString(block->txs(index)) || !body.ParseFromString(tx.body())) {
    Internal("a committed tx does not decode at height " + std::to_string(height));
  }
  // The leaves exactly as chain::TxRoot and chain::ResultsRoot hash them.
  std::vector<crypto::Hash32> tx_leaves, result_leaves;
  for (const std::string& raw : block->txs()) {
    tx_leaves.push_back(crypto::MerkleLeafHash(crypto::AsBytes(raw)));
  }
  for (const auto& r : results->tx_results()) {
    result_leaves.push_back(crypto::MerkleLeafHash(crypto::AsBytes(chain::EncodeTxResultLeaf(r))));
  }
  result_leaves.push_back(
      crypto::MerkleLeafHash(crypto::AsBytes(chain::EncodeEndBlockLeaf(*results))));

  JsonWriter w;
  w.BeginObject()
      .Field("tx_id", Hex(*id))
      .Field("height", height)
      .Field("index", uint64_t{index})
      .Field("tx", tx)
      .Field("body", body)
      .Field("result", results->tx_results(index))
      .Key("tx_proof")
      .Value(ProofJson(tx_leaves, index))
      .Key("result_proof")
      .Value(ProofJson(result_leaves, index))
      .Field("header", block->header())
      .Field("block_hash", Hex(chain::BlockHash(block->header())))
      .Field("commit", *commit)
      .Field("validators", *validators)
      .EndObject();
  return JsonResponse(200, std::move(w));
}

// Writes a committed block with its hash, the commit that certifies it and its results; false
// (nothing written) above the head. Adds the block's and results' encoded size to *bytes when
// not null.
bool WriteBlock(JsonWriter& w, const storage::ChainStore& store, uint64_t height,
                size_t* bytes = nullptr) {
  const auto block = store.GetBlock(height);
  if (!block) return false;
  const auto commit = store.GetCommit(height);
  const auto results = store.GetResults(height);
  if (!commit || !results) Internal("the store lacks parts of block " + std::to_string(height));
  if (bytes != nullptr) *bytes += block->ByteSizeLong() + results->ByteSizeLong();
  w.BeginObject()
      .Field("block", *block)
      .Field("block_hash", Hex(chain::BlockHash(block->header())))
      .Field("commit", *commit)
      .Field("results", *results)
      .EndObject();
  return true;
}

ApiResponse GetBlock(ApiContext& ctx, const ApiRequest& req) {
  const auto height = ParseU64(req.params[0]);
  if (!height) return Malformed("a height is a decimal number");
  JsonWriter w;
  if (*height == 0 || !WriteBlock(w, ctx.node.store(), *height)) {
    return NotFound("no block at height " + req.params[0]);
  }
  return JsonResponse(200, std::move(w));
}

// from and to are inclusive; without to, up to the head; without from, the 100 blocks up to
// `to`; more than 100 are cut at from + 99, and the list ends early past kMaxBlocksBytes so
// that a range of full blocks cannot make a response of gigabytes.
ApiResponse ListBlocks(ApiContext& ctx, const ApiRequest& req) {
  std::optional<uint64_t> from, to;
  if (auto v = req.Query("from"); v && !(from = ParseU64(*v))) return Malformed("from: a height");
  if (auto v = req.Query("to"); v && !(to = ParseU64(*v))) return Malformed("to: a height");
  const uint64_t head = ctx.node.store().head().height;
  uint64_t last = std::min(to.value_or(head), head);
  const uint64_t first = std::max<uint64_t>(
      1, from.value_or(last >= kMaxBlocksPerCall ? last - kMaxBlocksPerCall + 1 : 1));
  last = std::min(last, first + kMaxBlocksPerCall - 1);
  JsonWriter w;
  w.BeginObject().Key("blocks").BeginArray();
  size_t bytes = 0;
  for (uint64_t h = first; h <= last && bytes < kMaxBlocksBytes; ++h) {
    if (!WriteBlock(w, ctx.node.store(), h, &bytes)) break;
  }
  w.EndArray().EndObject();
  return JsonResponse(200, std::move(w));
}

// ---- governance state ----

ApiResponse ListCoalitions(ApiContext& ctx, const ApiRequest&) {
  auto snap = ctx.node.store().Snapshot();
  return ListResponse("coalitions", governance::ListCoalitions(*snap));
}

ApiResponse GetCoalition(ApiContext& ctx, const ApiRequest& req) {
  auto snap = ctx.node.store().Snapshot();
  const std::string& id = req.params[0];
  const auto coalition = governance::GetCoalition(*snap, id);
  if (!coalition) return NotFound("no coalition " + id);
  JsonWriter w;
  w.BeginObject()
      .Field("coalition", *coalition)
      .Key("annual_plans")
      .Records(governance::ListAnnualPlans(*snap, id))
      .Key("igf_sessions")
      .Records(governance::ListIgfSessions(*snap, id))
      .Key("resolutions")
      .Records(governance::ListResolutions(*snap, id))
      .Key("rules")
      .BeginObject();
  for (std::string_view type : governance::ActionTypeNames()) {
    w.Field(type, governance::RuleFor(*snap, id, type));
  }
  w.EndObject().EndObject();
  return JsonResponse(200, std::move(w));
}

ApiResponse ListMembers(ApiContext& ctx, const ApiRequest& req) {
  auto snap = ctx.node.store().Snapshot();
  const std::string& id = req.params[0];
  if (!governance::GetCoalition(*snap, id)) return NotFound("no coalition " + id);
  const bool all = QueryFlag(req, "all");
  return ListResponse("members", governance::ListMembers(*snap, id, !all));
}

ApiResponse MembershipHistory(ApiContext& ctx, const ApiRequest& req) {
  auto snap = ctx.node.store().Snapshot();
  const std::string& id = req.params[0];
  if (!governance::GetCoalition(*snap, id)) return NotFound("no coalition " + id);
  return ListResponse("events", governance::MembershipHistory(*snap, id));
}

// A proposal's tally; the empty tally before its first vote.
bas::v1::ProposalTally TallyOf(const governance::KvReader& kv, const crypto::Hash32& id) {
  auto tally = governance::GetTally(kv, id);
  return tally ? *std::move(tally) : bas::v1::ProposalTally();
}

ApiResponse ListProposals(ApiContext& ctx, const ApiRequest& req) {
  std::optional<bas::v1::Proposal::Status> status;
  if (auto name = req.Query("status")) {
    bas::v1::Proposal::Status s;
    if (!bas::v1::Proposal::Status_Parse(std::string(*name), &s) ||
        s == bas::v1::Proposal::STATUS_UNSPECIFIED) {
      return Malformed("status: one of ACTIVE, PASSED, REJECTED, FAILED, WITHDRAWN");
    }
    status = s;
  }
  auto snap = ctx.node.store().Snapshot();
  JsonWriter w;
  w.BeginObject().Key("proposals").BeginArray();
  for (const auto& p : governance::ListProposals(*snap, req.Query("coalition").value_or(""))) {
    if (status && p.status() != *status) continue;
    w.BeginObject()
        .Field("id", Hex(p.id()))
        .Field("proposal", p)
        .Field("tally", TallyOf(*snap, chain::ToHash(p.id())))
        .EndObject();
  }
  w.EndArray().EndObject();
  return JsonResponse(200, std::move(w));
}

ApiResponse GetProposal(ApiContext& ctx, const ApiRequest& req) {
  const auto id = ParseId(req.params[0]);
  if (!id) return Malformed("a proposal id is 64 hex digits");
  auto snap = ctx.node.store().Snapshot();
  const auto proposal = governance::GetProposal(*snap, *id);
  if (!proposal) return NotFound("no proposal " + req.params[0]);
  json electorate = json::array();
  for (const auto& [member_id, group] : governance::Electorate(*snap, *id)) {
    electorate.push_back(
        {{"member_id", member_id}, {"group", bas::v1::StakeholderGroup_Name(group)}});
  }
  JsonWriter w;
  w.BeginObject()
      .Field("id", Hex(*id))
      .Field("proposal", *proposal)
      .Field("tally", TallyOf(*snap, *id))
      .Key("electorate")
      .Value(electorate);
  if (proposal->status() != bas::v1::Proposal::ACTIVE) {
    std::optional<bas::v1::Decision> decision;  // the last one recorded for it
    for (auto& d : governance::ListDecisions(*snap, proposal->coalition())) {
      if (d.proposal_id() == proposal->id()) decision = std::move(d);
    }
    if (decision) w.Field("decision", *decision);
  }
  w.EndObject();
  return JsonResponse(200, std::move(w));
}

ApiResponse ListVotes(ApiContext& ctx, const ApiRequest& req) {
  const auto id = ParseId(req.params[0]);
  if (!id) return Malformed("a proposal id is 64 hex digits");
  auto snap = ctx.node.store().Snapshot();
  if (!governance::GetProposal(*snap, *id)) return NotFound("no proposal " + req.params[0]);
  JsonWriter w;
  w.BeginObject()
      .Key("votes")
      .Records(governance::ListVotes(*snap, *id))
      .Key("history")
      .Records(governance::VoteHistory(*snap, *id))
      .EndObject();
  return JsonResponse(200, std::move(w));
}

ApiResponse ListDecisions(ApiContext& ctx, const ApiRequest& req) {
  auto snap = ctx.node.store().Snapshot();
  const auto coalition = req.Query("coalition").value_or("");
  return ListResponse("decisions", governance::ListDecisions(*snap, coalition));
}

ApiResponse ListDirectory(ApiContext& ctx, const ApiRequest&) {
  auto snap = ctx.node.store().Snapshot();
  return ListResponse("listings", governance::ListDirectory(*snap));
}

ApiResponse ListAssessments(ApiContext& ctx, const ApiRequest&) {
  auto snap = ctx.node.store().Snapshot();
  return ListResponse("assessments", governance::ListAssessments(*snap));
}

ApiResponse ListMeetings(ApiContext& ctx, const ApiRequest& req) {
  auto snap = ctx.node.store().Snapshot();
  const auto coalition = req.Query("coalition").value_or("");
  return ListResponse("meetings", governance::ListMeetings(*snap, coalition));
}

ApiResponse ListBmmModels(ApiContext& ctx, const ApiRequest&) {
  auto snap = ctx.node.store().Snapshot();
  return ListResponse("models", governance::ListBmmModels(*snap));
}

ApiResponse ListValidators(ApiContext& ctx, const ApiRequest&) {
  auto snap = ctx.node.store().Snapshot();
  return ListResponse("validators", governance::ListValidators(*snap));
}

ApiResponse GetAccount(ApiContext& ctx, const ApiRequest& req) {
  const auto key = ParseId(req.params[0]);
  if (!key) return Malformed("a key is 64 hex digits");
  auto snap = ctx.node.store().Snapshot();
  json memberships = json::array();
  for (const auto& [coalition, member_id] : governance::MembershipsOfKey(*snap, *key)) {
    memberships.push_back({{"coalition", coalition}, {"member_id", member_id}});
  }
  return JsonResponse(200, {{"key", Hex(*key)},
                            {"next_nonce", governance::GetAccount(*snap, *key).next_nonce()},
                            {"memberships", std::move(memberships)}});
}

ApiResponse Metrics(ApiContext& ctx, const ApiRequest&) {
  ApiResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = prometheus::TextSerializer().Serialize(ctx.node.metrics().Collect());
  return r;
}

}  // namespace

std::vector<Route> ApiRoutes(ApiContext& ctx) {
  using Fn = ApiResponse (*)(ApiContext&, const ApiRequest&);
  auto bind = [&ctx](Fn fn) -> Handler {
    return [&ctx, fn](const ApiRequest& req) { return fn(ctx, req); };
  };
  return {
      {verb::get, "/v1/status", bind(GetStatus)},
      {verb::get, "/v1/genesis", bind(GetGenesis)},
      {verb::post, "/v1/txs", bind(PostTxs)},
      {verb::get, "/v1/txs/{tx_id}", bind(GetTx)},
      {verb::get, "/v1/blocks", bind(ListBlocks)},
      {verb::get, "/v1/blocks/{height}", bind(GetBlock)},
      {verb::get, "/v1/coalitions", bind(ListCoalitions)},
      {verb::get, "/v1/coalitions/{id}", bind(GetCoalition)},
      {verb::get, "/v1/coalitions/{id}/members", bind(ListMembers)},
      {verb::get, "/v1/coalitions/{id}/history", bind(MembershipHistory)},
      {verb::get, "/v1/proposals", bind(ListProposals)},
      {verb::get, "/v1/proposals/{id}", bind(GetProposal)},
      {verb::get, "/v1/proposals/{id}/votes", bind(ListVotes)},
      {verb::get, "/v1/decisions", bind(ListDecisions)},
      {verb::get, "/v1/directory", bind(ListDirectory)},
      {verb::get, "/v1/assessments", bind(ListAssessments)},
      {verb::get, "/v1/meetings", bind(ListMeetings)},
      {verb::get, "/v1/bmm-models", bind(ListBmmModels)},
      {verb::get, "/v1/validators", bind(ListValidators)},
      {verb::get, "/v1/accounts/{key}", bind(GetAccount)},
      {verb::get, "/metrics", bind(Metrics)},
  };
}

}  // namespace bas::node::rpc
