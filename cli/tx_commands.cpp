#include "cli/tx_commands.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "cli/client/format.h"
#include "cli/client/tx_builder.h"
#include "cli/keys.h"
#include "crypto/encoding.h"
#include "governance/engine.h"

namespace bas::cli {

using client::ActionFlag;
using client::ApplyFlags;
using client::AssessFlags;
using client::BuildApply;
using client::BuildAssess;
using client::BuildMeeting;
using client::BuildPropose;
using client::BuildVote;
using client::BuildWithdraw;
using client::ChainStatus;
using client::DescribeTx;
using client::JsonInt;
using client::MakeNodeClient;
using client::MeetingFlags;
using client::NodeClient;
using client::ParseVoteSpec;
using client::ProposeFlags;
using client::ResolveProposalId;
using client::SubmitResult;
using client::VoteFlags;
namespace {

using nlohmann::json;

Error UsageError(const std::string& message) { return Error{std::string(kUsageError), message}; }

// A proposal id as given: resolved through the node when online (a prefix is then enough).
Result<std::string> ProposalIdHex(const TxContext& ctx, const std::string& given) {
  if (ctx.node != nullptr) return ResolveProposalId(*ctx.node, given);
  return given;
}

// The "event: key=value, ..." lines of a TxResult in the API's JSON.
std::string EventLines(const json& result) {
  std::string out;
  if (!result.is_object() || !result.contains("events") || !result["events"].is_array()) {
    return out;
  }
  for (const json& event : result["events"]) {
    out += "  " + event.value("type", std::string("?")) + ":";
    const json attributes = event.value("attributes", json::array());
    bool first = true;
    for (const json& a : attributes) {
      out += std::string(first ? " " : ", ") + a.value("key", std::string()) + "=" +
             a.value("value", std::string());
      first = false;
    }
    out += "\n";
  }
  return out;
}

int ReportSubmission(const ClientOptions& options, const std::string& tx_id,
                     const bas::v1::TxBody& body, const SubmitResult& submitted) {
  if (options.json) {
    std::cout << PrettyJson(submitted.body) << "\n";
    return kExitOk;
  }
  std::cout << "tx " << tx_id << "\n";
  if (submitted.http_status == 202) {
    std::cout << "accepted into the mempool (not waiting for its block)\n";
  } else {
    const json& result = submitted.body.value("result", json::object());
    std::cout << "committed at height "
              << JsonInt(submitted.body.value("height", json())).value_or(0) << ", index "
              << JsonInt(submitted.body.value("index", json())).value_or(0) << ": OK\n"
              << EventLines(result);
  }
  if (body.has_propose() || body.has_apply()) std::cout << "proposal " << tx_id << "\n";
  if (body.has_submit_assessment()) std::cout << "assessment " << tx_id << "\n";
  return kExitOk;
}

// Submits a signed tx and reports the outcome under the tx's id.
int Submit(const ClientOptions& options, NodeClient& node, const governance::SignedTxBytes& tx,
           const bas::v1::TxBody& body, bool wait) {
  const std::string tx_id = crypto::HexEncode(tx.tx_id);
  Result<SubmitResult> submitted = node.SubmitTx(tx.bytes, wait);
  if (!submitted.ok()) {
    Error error = submitted.error();
    error.message = "tx " + tx_id + ": " + error.message;
    if (error.code == client::kCommitTimeout) {
      error.message += " (check later: bas verify-vote " + tx_id + ")";
    }
    return ReportError(error);
  }
  return ReportSubmission(options, tx_id, body, *submitted);
}

// Sets the chain id and nonce, serialises and signs.
governance::SignedTxBytes Sign(const crypto::KeyPair& key, bas::v1::TxBody& body,
                               const std::string& chain_id, uint64_t nonce) {
  body.set_chain_id(chain_id);
  body.set_nonce(nonce);
  return governance::SignTx(key, body);
}

// ---- the tx commands' flags ----

TxBuilder DefinePropose(CLI::App* cmd) {
  struct State {
    ProposeFlags flags;
    std::vector<std::vector<std::string>> values;
    std::map<const CLI::Option*, size_t> action_options;  // option -> index in values
    std::vector<std::string> names;
  };
  auto state = std::make_shared<State>();
  cmd->add_option("--coalition", state->flags.coalition, "The coalition, e.g. bas-dc")->required();
  cmd->add_option("--title", state->flags.title, "The proposal's title")->required();
  cmd->add_option("--summary", state->flags.summary, "A summary");
  static const std::vector<std::pair<std::string, std::string>> kActionFlags = {
      {"resolution", "TEXT: a resolution"},
      {"annual-plan",
       "YEAR: approve the annual plan of YEAR (with --document, or --uri and "
       "--sha256)"},
      {"document",
       "FILE: the plan document; its SHA-256 is computed, its URI is file://... "
       "unless --uri is given"},
      {"uri", "URI: the plan document's URI"},
      {"sha256", "HEX: the plan document's SHA-256 (with --uri, instead of --document)"},
      {"admit-member", "ID:GROUP:ROLE[+ROLE]:KEYHEX[:NAME]: admit a member"},
      {"remove-member", "ID: remove a member"},
      {"set-roles", "ID:ROLE[+ROLE]: replace a member's roles"},
      {"list-solution", "SOLUTION_ID:ASSESSMENT_ID_HEX: list a solution in the directory"},
      {"delist-solution", "SOLUTION_ID: withdraw a listing"},
      {"igf-session", "YEAR:FORMAT:TITLE: schedule an IGF session (WORKSHOP, BOOTH, TALK)"},
      {"actions",
       "FILE: a JSON array of actions in the scenario format, for every action type "
       "(docs/cli.md)"},
  };
  state->values.resize(kActionFlags.size());
  for (size_t i = 0; i < kActionFlags.size(); ++i) {
    const auto& [name, help] = kActionFlags[i];
    CLI::Option* option =
        cmd->add_option("--" + name, state->values[i], help)->allow_extra_args(false);
    state->action_options[option] = i;
    state->names.push_back(name);
  }
  return [cmd, state](const TxContext&) -> Result<bas::v1::TxBody> {
    ProposeFlags flags = state->flags;
    std::vector<size_t> used(state->values.size(), 0);
    for (const CLI::Option* option : cmd->parse_order()) {
      auto found = state->action_options.find(option);
      if (found == state->action_options.end()) continue;
      const size_t i = found->second;
      if (used[i] >= state->values[i].size()) continue;
      flags.actions.push_back(ActionFlag{state->names[i], state->values[i][used[i]++]});
    }
    return BuildPropose(flags);
  };
}

TxBuilder DefineVote(CLI::App* cmd) {
  auto flags = std::make_shared<VoteFlags>();
  cmd->add_option("PROPOSAL_ID", flags->proposal_id,
                  "The proposal (64 hex digits, or a unique prefix when online)")
      ->required();
  cmd->add_option("CHOICE", flags->choice, "YES, NO or ABSTAIN")->required();
  cmd->add_option("--reason", flags->reason, "Why (kept with the vote; a NO's reason is dissent)");
  return [flags](const TxContext& ctx) -> Result<bas::v1::TxBody> {
    VoteFlags resolved = *flags;
    Result<std::string> id = ProposalIdHex(ctx, flags->proposal_id);
    if (!id.ok()) return id.error();
    resolved.proposal_id = *id;
    return BuildVote(resolved);
  };
}

TxBuilder DefineWithdraw(CLI::App* cmd) {
  auto id = std::make_shared<std::string>();
  cmd->add_option("PROPOSAL_ID", *id, "Your active proposal (64 hex digits or a unique prefix)")
      ->required();
  return [id](const TxContext& ctx) -> Result<bas::v1::TxBody> {
    Result<std::string> full = ProposalIdHex(ctx, *id);
    if (!full.ok()) return full.error();
    return BuildWithdraw(*full);
  };
}

TxBuilder DefineApply(CLI::App* cmd) {
  auto flags = std::make_shared<ApplyFlags>();
  cmd->add_option("--coalition", flags->coalition, "The coalition to join")->required();
  cmd->add_option("--member-id", flags->member_id, "The member id to take, e.g. aca-2")->required();
  cmd->add_option("--group", flags->group, "Stakeholder group, e.g. ACADEMIA")->required();
  cmd->add_option("--name", flags->name, "Your name");
  cmd->add_option("--organisation", flags->organisation, "Your organisation");
  cmd->add_option("--statement", flags->statement, "Why you apply");
  return [flags](const TxContext&) { return BuildApply(*flags); };
}

TxBuilder DefineAssess(CLI::App* cmd) {
  auto flags = std::make_shared<AssessFlags>();
  cmd->add_option("--solution-id", flags->solution_id, "The solution's id (a slug)")->required();
  cmd->add_option("--solution-name", flags->solution_name, "The solution's name")->required();
  cmd->add_option("--vendor", flags->vendor, "The vendor");
  cmd->add_option("--bmm-version", flags->bmm_version, "The BMM version, e.g. BMM-1.0")->required();
  cmd->add_option("--level", flags->level, "The overall level, from 1")->required();
  cmd->add_option("--element", flags->elements, "NAME=LEVEL for one element (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--valid-until", flags->valid_until,
                  "YYYY-MM-DD (the end of that day, UTC) or Unix seconds")
      ->required();
  cmd->add_option("--report", flags->report_file, "The report file (SHA-256 computed)");
  cmd->add_option("--report-uri", flags->report_uri, "The report's URI");
  cmd->add_option("--report-sha256", flags->report_sha256, "The report's SHA-256 (hex)");
  return [flags](const TxContext&) { return BuildAssess(*flags); };
}

TxBuilder DefineMeeting(CLI::App* cmd) {
  auto flags = std::make_shared<MeetingFlags>();
  cmd->add_option("--coalition", flags->coalition, "The coalition")->required();
  cmd->add_option("--date", flags->date, "The meeting's date, YYYY-MM-DD")->required();
  cmd->add_option("--minutes", flags->minutes_file, "The minutes file (SHA-256 computed)");
  cmd->add_option("--uri", flags->uri, "The minutes' URI (default: the file's file:// URI)");
  cmd->add_option("--sha256", flags->sha256, "The minutes' SHA-256 (hex), with --uri");
  return [flags](const TxContext&) { return BuildMeeting(*flags); };
}

TxBuilder DefineRotateKey(CLI::App* cmd) {
  auto new_key = std::make_shared<std::string>();
  cmd->add_option("--new-key", *new_key, "The keystore name of the new key (bas keys new)")
      ->required();
  return [new_key](const TxContext& ctx) -> Result<bas::v1::TxBody> {
    Result<crypto::KeyPair> key = LoadKey(ctx.options, *new_key);
    if (!key.ok()) return key.error();
    if (key->public_key() == ctx.signer.public_key()) {
      return UsageError("--new-key " + *new_key + " is the key that signs (--key)");
    }
    const crypto::Hash32 message =
        governance::RotateKeySigHash(ctx.signer.public_key(), key->public_key(), ctx.chain_id);
    const crypto::Signature signature = key->Sign(message);
    bas::v1::TxBody body;
    body.mutable_rotate_key()->set_new_key(std::string(crypto::AsStringView(key->public_key())));
    body.mutable_rotate_key()->set_new_key_signature(std::string(crypto::AsStringView(signature)));
    return body;
  };
}

}  // namespace

const std::vector<TxCommandSpec>& TxCommandSpecs() {
  static const std::vector<TxCommandSpec> kSpecs = {
      {"propose", "Propose actions to a coalition; prints the proposal id", DefinePropose},
      {"vote", "Vote YES, NO or ABSTAIN on a proposal (the last vote counts)", DefineVote},
      {"withdraw", "Withdraw your active proposal", DefineWithdraw},
      {"apply", "Apply for membership (signed by the applicant's key)", DefineApply},
      {"assess", "Submit a BMM assessment (ASSESSOR); prints the assessment id", DefineAssess},
      {"meeting", "Record a meeting and its minutes (SECRETARIAT)", DefineMeeting},
      {"rotate-key", "Replace your key with another keystore key", DefineRotateKey},
  };
  return kSpecs;
}

TxBuilder VoteSpecBuilder(std::string spec) {
  return [spec = std::move(spec)](const TxContext& ctx) -> Result<bas::v1::TxBody> {
    Result<VoteFlags> flags = ParseVoteSpec(spec);
    if (!flags.ok()) return flags.error();
    Result<std::string> id = ProposalIdHex(ctx, flags->proposal_id);
    if (!id.ok()) return id.error();
    flags->proposal_id = *id;
    return BuildVote(*flags);
  };
}

int RunSubmitTx(const ClientOptions& options, const TxBuilder& build, const SubmitFlags& flags) {
  Result<crypto::KeyPair> key = LoadKey(options, options.key_name);
  if (!key.ok()) return ReportError(key.error());
  Result<NodeClient> node = MakeNodeClient(options.endpoint());
  if (!node.ok()) return ReportError(node.error());
  Result<ChainStatus> status = node->Status();
  if (!status.ok()) return ReportError(status.error());
  Result<bas::v1::TxBody> body = build(TxContext{options, status->chain_id, *key, &*node});
  if (!body.ok()) return ReportError(body.error());
  uint64_t nonce = 0;
  if (flags.nonce) {
    nonce = *flags.nonce;
  } else {
    Result<uint64_t> next = node->NextNonce(key->public_key());
    if (!next.ok()) return ReportError(next.error());
    nonce = *next;
  }
  const governance::SignedTxBytes signed_tx = Sign(*key, *body, status->chain_id, nonce);
  return Submit(options, *node, signed_tx, *body, !flags.no_wait);
}

int RunSignTx(const ClientOptions& options, const SignFlags& flags, const TxBuilder& build) {
  if (flags.offline && (flags.chain_id.empty() || !flags.nonce)) {
    return ReportError(UsageError("--offline needs --chain-id and --nonce (no network is used)"));
  }
  Result<crypto::KeyPair> key = LoadKey(options, options.key_name);
  if (!key.ok()) return ReportError(key.error());
  std::optional<NodeClient> node;
  std::string chain_id = flags.chain_id;
  std::optional<uint64_t> nonce = flags.nonce;
  if (!flags.offline) {
    Result<NodeClient> client = MakeNodeClient(options.endpoint());
    if (!client.ok()) return ReportError(client.error());
    node.emplace(std::move(*client));
    if (chain_id.empty()) {
      Result<ChainStatus> status = node->Status();
      if (!status.ok()) return ReportError(status.error());
      chain_id = status->chain_id;
    }
    if (!nonce) {
      Result<uint64_t> next = node->NextNonce(key->public_key());
      if (!next.ok()) return ReportError(next.error());
      nonce = *next;
    }
  }
  Result<bas::v1::TxBody> body = build(TxContext{options, chain_id, *key, node ? &*node : nullptr});
  if (!body.ok()) return ReportError(body.error());
  const governance::SignedTxBytes signed_tx = Sign(*key, *body, chain_id, *nonce);
  const std::string tx_id = crypto::HexEncode(signed_tx.tx_id);

  std::ofstream out(flags.out, std::ios::trunc);
  out << crypto::HexEncode(signed_tx.bytes) << "\n";
  out.close();
  if (!out) {
    return ReportError(
        Error{"IO_ERROR", "cannot write " + flags.out + ": " + std::strerror(errno)});
  }
  if (options.json) {
    json report = {{"tx_id", tx_id},          {"chain_id", chain_id},
                   {"nonce", *nonce},         {"signer", crypto::HexEncode(key->public_key())},
                   {"tx", DescribeTx(*body)}, {"out", flags.out}};
    std::cout << PrettyJson(report) << "\n";
  } else {
    std::cout << "signed " << DescribeTx(*body) << "\ntx " << tx_id << "\nchain " << chain_id
              << ", nonce " << *nonce << ", signer " << crypto::HexEncode(key->public_key())
              << "\nwritten to " << flags.out << " (submit it with: bas tx broadcast " << flags.out
              << ")\n";
  }
  return kExitOk;
}

int RunBroadcastTx(const ClientOptions& options, const std::string& file, bool wait) {
  std::string text;
  if (file == "-") {
    std::ostringstream in;
    in << std::cin.rdbuf();
    text = in.str();
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in)
      return ReportError(Error{"IO_ERROR", "cannot read " + file + ": " + std::strerror(errno)});
    std::ostringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  std::string hex;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) hex += c;
  }
  Result<std::vector<uint8_t>> bytes = crypto::HexDecode(hex);
  if (!bytes.ok() || bytes->empty()) {
    return ReportError(UsageError(file + ": expected the hex of a SignedTx (bas tx sign --out)"));
  }
  // Someone else's bytes: read only as far as naming and describing them; the node checks.
  governance::SignedTxBytes tx{std::string(bytes->begin(), bytes->end())};
  bas::v1::SignedTx signed_tx;
  bas::v1::TxBody body;
  if (!signed_tx.ParseFromString(tx.bytes) || !body.ParseFromString(signed_tx.body()) ||
      signed_tx.signer().size() != 32) {
    return ReportError(UsageError(file + ": not a SignedTx"));
  }
  tx.tx_id = governance::TxId(crypto::ToHash(signed_tx.signer()), signed_tx.body());
  Result<NodeClient> node = MakeNodeClient(options.endpoint());
  if (!node.ok()) return ReportError(node.error());
  return Submit(options, *node, tx, body, wait);
}

}  // namespace bas::cli
