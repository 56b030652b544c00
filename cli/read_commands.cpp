#include "cli/read_commands.h"

#include <algorithm>
#include <cctype>
#include <iostream>
#include <optional>

#include "bas/v1/state.pb.h"
#include "cli/client/format.h"
#include "cli/client/node_client.h"
#include "cli/client/verify.h"
#include "cli/keys.h"
#include "crypto/encoding.h"

namespace bas::cli {

using client::DecisionsFormat;
using client::FormatAssessments;
using client::FormatDecisions;
using client::FormatDirectory;
using client::FormatMeetings;
using client::FormatMembers;
using client::FormatProposal;
using client::FormatProposalList;
using client::FormatUnixTime;
using client::FormatVerifyReport;
using client::JsonInt;
using client::MakeNodeClient;
using client::MemberRow;
using client::NodeClient;
using client::ParseDecisionsFormat;
using client::ProposalRow;
using client::ProposalView;
using client::ProtoFromJson;
using client::ResolveProposalId;
using client::UrlEncode;
using client::VerifyCheck;
using client::VerifyReport;
using client::VerifyTxResponse;

namespace {

using nlohmann::json;

// The records under `key` of an API answer, parsed as M.
template <typename M>
Result<std::vector<M>> RecordsOf(const json& answer, const char* key) {
  std::vector<M> out;
  if (!answer.is_object() || !answer.contains(key) || !answer[key].is_array()) {
    return Error{"INTERNAL", std::string("the node's answer has no \"") + key + "\" list"};
  }
  for (const json& item : answer[key]) {
    M record;
    if (Status s = ProtoFromJson(item, &record); !s.ok()) return s.error();
    out.push_back(std::move(record));
  }
  return out;
}

void PrintJson(const json& value) {
  // Replace rather than throw on invalid UTF-8 (titles and reasons are user text).
  std::cout << PrettyJson(value) << "\n";
}

// GET target, then print it as JSON (--json) or through show(answer).
template <typename Show>
int Read(const ClientOptions& options, const std::string& target, Show show) {
  Result<NodeClient> node = MakeNodeClient(options.endpoint());
  if (!node.ok()) return ReportError(node.error());
  Result<json> answer = node->GetJson(target);
  if (!answer.ok()) return ReportError(answer.error());
  if (options.json) {
    PrintJson(*answer);
    return kExitOk;
  }
  Result<std::string> text = show(*answer);
  if (!text.ok()) return ReportError(text.error());
  std::cout << *text;
  return kExitOk;
}

std::string WithQuery(std::string target, const std::string& key, const std::string& value) {
  if (value.empty()) return target;
  target += target.find('?') == std::string::npos ? '?' : '&';
  return target + key + "=" + UrlEncode(value);
}

// The coalition given, or every coalition when none is.
Result<std::vector<std::string>> CoalitionIds(NodeClient& node, const std::string& coalition) {
  if (!coalition.empty()) return std::vector<std::string>{coalition};
  Result<json> list = node.GetJson("/v1/coalitions");
  if (!list.ok()) return list.error();
  Result<std::vector<bas::v1::Coalition>> records =
      RecordsOf<bas::v1::Coalition>(*list, "coalitions");
  if (!records.ok()) return records.error();
  std::vector<std::string> ids;
  for (const bas::v1::Coalition& c : *records) ids.push_back(c.id());
  return ids;
}

}  // namespace

int RunStatus(const ClientOptions& options) {
  return Read(options, "/v1/status", [&](const json& s) -> Result<std::string> {
    std::string out;
    out += "node        " + options.node_url + "\n";
    out += "chain       " + s.value("chain_id", std::string("?")) + "\n";
    out += "height      " + std::to_string(JsonInt(s.value("height", json())).value_or(0)) + "\n";
    out += "block       " + s.value("latest_block_hash", std::string("?")) + "\n";
    out += "block time  " +
           FormatUnixTime(JsonInt(s.value("latest_block_time", json())).value_or(0)) + "\n";
    out += "app hash    " + s.value("app_hash", std::string("?")) + "\n";
    out += "mempool     " + std::to_string(JsonInt(s.value("mempool_size", json())).value_or(0)) +
           " txs\n";
    out += "node key    " + s.value("node_key", std::string("?")) + "\n";
    return out;
  });
}

int RunAccount(const ClientOptions& options, const std::string& key) {
  std::string hex = key;
  if (hex.empty()) {
    if (options.key_name.empty()) {
      return ReportError(Error{std::string(kUsageError), "give a KEY (hex) or --key NAME"});
    }
    if (Status s = ValidateKeyName(options.key_name); !s.ok()) return ReportError(s.error());
    const std::string path = KeyFilePath(options.keystore_dir, options.key_name).string();
    Result<crypto::KeyFileInfo> info = crypto::ReadKeyFileInfo(path);
    if (!info.ok()) {
      return ReportError(info.error().code == "IO_ERROR"
                             ? Error{std::string(client::kNotFound),
                                     "no key " + options.key_name + " in " + options.keystore_dir}
                             : info.error());
    }
    hex = crypto::HexEncode(info->public_key);
  } else if (!crypto::HexDecodeFixed<32>(hex).ok()) {
    return ReportError(Error{std::string(kUsageError), "KEY: expected 64 hex digits"});
  }
  return Read(options, "/v1/accounts/" + hex, [](const json& a) -> Result<std::string> {
    std::string out = "key         " + a.value("key", std::string("?")) + "\n";
    out +=
        "next nonce  " + std::to_string(JsonInt(a.value("next_nonce", json())).value_or(0)) + "\n";
    for (const json& m : a.value("memberships", json::array())) {
      out += "member of   " + m.value("coalition", std::string("?")) + " as " +
             m.value("member_id", std::string("?")) + "\n";
    }
    if (a.value("memberships", json::array()).empty()) out += "member of   no coalition\n";
    return out;
  });
}

int RunProposals(const ClientOptions& options, const std::string& coalition,
                 const std::string& status) {
  std::string upper = status;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  const std::string target =
      WithQuery(WithQuery("/v1/proposals", "coalition", coalition), "status", upper);
  return Read(options, target, [](const json& answer) -> Result<std::string> {
    std::vector<ProposalRow> rows;
    for (const json& item : answer.value("proposals", json::array())) {
      ProposalRow row;
      row.id_hex = item.value("id", std::string());
      if (Status s = ProtoFromJson(item.value("proposal", json::object()), &row.proposal);
          !s.ok()) {
        return s.error();
      }
      if (Status s = ProtoFromJson(item.value("tally", json::object()), &row.tally); !s.ok()) {
        return s.error();
      }
      rows.push_back(std::move(row));
    }
    return FormatProposalList(rows);
  });
}

int RunProposal(const ClientOptions& options, const std::string& id) {
  Result<NodeClient> node = MakeNodeClient(options.endpoint());
  if (!node.ok()) return ReportError(node.error());
  Result<std::string> full = ResolveProposalId(*node, id);
  if (!full.ok()) return ReportError(full.error());
  Result<json> answer = node->GetJson("/v1/proposals/" + *full);
  if (!answer.ok()) return ReportError(answer.error());
  Result<json> votes = node->GetJson("/v1/proposals/" + *full + "/votes");
  if (!votes.ok()) return ReportError(votes.error());
  if (options.json) {
    json combined = *answer;
    combined["votes"] = votes->value("votes", json::array());
    PrintJson(combined);
    return kExitOk;
  }
  ProposalView view;
  view.id_hex = *full;
  if (Status s = ProtoFromJson(answer->value("proposal", json::object()), &view.proposal);
      !s.ok()) {
    return ReportError(s.error());
  }
  if (Status s = ProtoFromJson(answer->value("tally", json::object()), &view.tally); !s.ok()) {
    return ReportError(s.error());
  }
  if (answer->contains("decision") && (*answer)["decision"].is_object()) {
    bas::v1::Decision decision;
    if (Status s = ProtoFromJson((*answer)["decision"], &decision); !s.ok()) {
      return ReportError(s.error());
    }
    view.decision = std::move(decision);
  }
  Result<std::vector<bas::v1::VoteRecord>> records =
      RecordsOf<bas::v1::VoteRecord>(*votes, "votes");
  if (!records.ok()) return ReportError(records.error());
  view.votes = std::move(*records);
  std::cout << FormatProposal(view);
  return kExitOk;
}

int RunMembers(const ClientOptions& options, const std::string& coalition, bool all) {
  Result<NodeClient> node = MakeNodeClient(options.endpoint());
  if (!node.ok()) return ReportError(node.error());
  Result<std::vector<std::string>> coalitions = CoalitionIds(*node, coalition);
  if (!coalitions.ok()) return ReportError(coalitions.error());
  json combined = json::array();
  std::vector<MemberRow> rows;
  for (const std::string& id : *coalitions) {
    std::string target = "/v1/coalitions/" + UrlEncode(id) + "/members";
    if (all) target += "?all=1";
    Result<json> answer = node->GetJson(target);
    if (!answer.ok()) return ReportError(answer.error());
    if (!coalition.empty() && options.json) {
      PrintJson(*answer);
      return kExitOk;
    }
    combined.push_back({{"coalition", id}, {"members", answer->value("members", json::array())}});
    Result<std::vector<bas::v1::Member>> members = RecordsOf<bas::v1::Member>(*answer, "members");
    if (!members.ok()) return ReportError(members.error());
    for (bas::v1::Member& m : *members) rows.push_back(MemberRow{id, std::move(m)});
  }
  if (options.json) {
    PrintJson(json{{"coalitions", combined}});
  } else {
    std::cout << FormatMembers(rows);
  }
  return kExitOk;
}

int RunDecisions(const ClientOptions& options, const std::string& coalition,
                 const std::string& format) {
  ClientOptions effective = options;
  std::optional<DecisionsFormat> parsed;
  if (format == "json") {
    effective.json = true;
  } else if (!options.json) {
    Result<DecisionsFormat> f = ParseDecisionsFormat(format);
    if (!f.ok()) return ReportError(WithFlag("--format", f.error()));
    parsed = *f;
  }
  return Read(effective, WithQuery("/v1/decisions", "coalition", coalition),
              [&](const json& answer) -> Result<std::string> {
                Result<std::vector<bas::v1::Decision>> decisions =
                    RecordsOf<bas::v1::Decision>(answer, "decisions");
                if (!decisions.ok()) return decisions.error();
                return FormatDecisions(*decisions, parsed.value_or(DecisionsFormat::kTable));
              });
}

int RunDirectory(const ClientOptions& options) {
  return Read(options, "/v1/directory", [](const json& answer) -> Result<std::string> {
    Result<std::vector<bas::v1::Listing>> listings =
        RecordsOf<bas::v1::Listing>(answer, "listings");
    if (!listings.ok()) return listings.error();
    return FormatDirectory(*listings);
  });
}

int RunAssessments(const ClientOptions& options) {
  return Read(options, "/v1/assessments", [](const json& answer) -> Result<std::string> {
    Result<std::vector<bas::v1::Assessment>> assessments =
        RecordsOf<bas::v1::Assessment>(answer, "assessments");
    if (!assessments.ok()) return assessments.error();
    return FormatAssessments(*assessments);
  });
}

int RunMeetings(const ClientOptions& options, const std::string& coalition) {
  Result<NodeClient> node = MakeNodeClient(options.endpoint());
  if (!node.ok()) return ReportError(node.error());
  Result<std::vector<std::string>> coalitions = CoalitionIds(*node, coalition);
  if (!coalitions.ok()) return ReportError(coalitions.error());
  // One request per coalition: GET /v1/meetings without ?coalition= lists none on some nodes.
  json all = json::array();
  for (const std::string& id : *coalitions) {
    Result<json> answer = node->GetJson(WithQuery("/v1/meetings", "coalition", id));
    if (!answer.ok()) return ReportError(answer.error());
    for (json& m : (*answer)["meetings"]) all.push_back(std::move(m));
  }
  const json answer = {{"meetings", all}};
  if (options.json) {
    PrintJson(answer);
    return kExitOk;
  }
  Result<std::vector<bas::v1::Meeting>> meetings = RecordsOf<bas::v1::Meeting>(answer, "meetings");
  if (!meetings.ok()) return ReportError(meetings.error());
  std::cout << FormatMeetings(*meetings);
  return kExitOk;
}

int RunVerifyVote(const ClientOptions& options, const std::string& tx_id) {
  std::string id = tx_id;
  std::transform(id.begin(), id.end(), id.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!crypto::HexDecodeFixed<32>(id).ok()) {
    return ReportError(Error{std::string(kUsageError), "TXID: expected 64 hex digits"});
  }
  Result<NodeClient> node = MakeNodeClient(options.endpoint());
  if (!node.ok()) return ReportError(node.error());
  Result<json> answer = node->GetJson("/v1/txs/" + id);
  if (!answer.ok()) return ReportError(answer.error());
  // The block gives the authenticated leaf count (its txs must hash to the header's tx_root).
  std::optional<json> block;
  if (std::optional<int64_t> height = JsonInt(answer->value("height", json())); height) {
    Result<json> fetched = node->GetJson("/v1/blocks/" + std::to_string(*height));
    if (fetched.ok()) block = std::move(*fetched);
  }
  const VerifyReport report = VerifyTxResponse(id, *answer, block);
  if (options.json) {
    json checks = json::array();
    for (const VerifyCheck& c : report.checks) {
      checks.push_back({{"check", c.name}, {"ok", c.ok}, {"detail", c.detail}});
    }
    PrintJson(json{{"tx_id", id},
                   {"verified", report.ok()},
                   {"is_vote", report.is_vote},
                   {"tx", report.tx_description},
                   {"checks", checks},
                   {"validators_hash", report.validators_hash},
                   {"validators", report.validators}});
  } else {
    std::cout << "tx " << id << "\n" << FormatVerifyReport(report);
  }
  return report.ok() ? kExitOk : kExitVerifyFailed;
}

}  // namespace bas::cli
