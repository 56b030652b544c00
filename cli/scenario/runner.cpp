// The scenario runner: genesis, then one block per step through the governance engine, and
// the report `bas scenario run` prints (runner.h).
#include "cli/scenario/runner.h"

#include <algorithm>
#include <map>
#include <utility>

#include "bas/v1/state.pb.h"
#include "crypto/encoding.h"
#include "crypto/schnorr.h"
#include "governance/codes.h"
#include "governance/engine.h"
#include "governance/query.h"

namespace bas::scenario {
namespace {

using Json = nlohmann::json;
using OutJson = nlohmann::ordered_json;

std::string ToBytes(crypto::ByteSpan bytes) { return std::string(crypto::AsStringView(bytes)); }

std::optional<crypto::Hash32> AsHash32(std::string_view bytes) {
  if (bytes.size() != 32) return std::nullopt;
  crypto::Hash32 out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

// Signatures use a fixed auxiliary randomness, so that a scenario run is byte-for-byte
// reproducible. Scenario keys are public anyway; BIP340 stays sound with any aux value.
constexpr crypto::AuxRand kScenarioAuxRand{};

class ScenarioRunner {
 public:
  explicit ScenarioRunner(const Scenario& scenario) : scenario_(scenario) {}

  Result<ScenarioRun> Run();

 private:
  Status InitChain();
  Status RunStep(size_t step_index);
  Status RunTx(governance::Engine& engine, size_t step_index, size_t tx_index);
  void Commit(const governance::WriteSet& writes);
  Result<crypto::KeyPair> CurrentKey(const std::string& id) const;
  std::string ResolveRef(const std::string& name) const;
  std::string NameOf(const std::string& id) const;
  OutJson Report() const;
  OutJson DecisionsReport() const;
  OutJson DirectoryReport() const;

  const Scenario& scenario_;
  ScenarioRun run_;
  crypto::Hash32 app_hash_{};
  std::map<std::string, crypto::KeyPair> rotated_keys_;  // id -> key after a rotate_key
  std::map<std::string, std::string> names_;             // id bytes -> ref, for the report
  // proposal id bytes -> index of the accepted withdraw tx in its block, to order decisions.
  std::map<std::string, size_t> withdrawn_at_;
  OutJson rejected_ = OutJson::array();
};

Result<ScenarioRun> ScenarioRunner::Run() {
  if (Status status = InitChain(); !status.ok()) return status.error();
  for (size_t i = 0; i < scenario_.steps.size(); ++i) {
    if (Status status = RunStep(i); !status.ok()) return status.error();
  }
  run_.output = Report();
  return std::move(run_);
}

void ScenarioRunner::Commit(const governance::WriteSet& writes) {
  app_hash_ = governance::NextAppHash(app_hash_, writes);
  run_.state.Apply(writes);
}

Status ScenarioRunner::InitChain() {
  governance::WriteSet writes;
  {
    governance::Engine engine(run_.state);
    if (Status status = engine.InitChain(scenario_.genesis); !status.ok()) {
      return Error{std::string(kInvalidGenesis),
                   "the genesis was refused (" + status.code() + "): " + status.message()};
    }
    writes = engine.TakeWrites();
  }
  Commit(writes);
  return Status::Ok();
}

Status ScenarioRunner::RunStep(size_t step_index) {
  const ScenarioStep& step = scenario_.steps[step_index];
  governance::WriteSet writes;
  {
    governance::Engine engine(run_.state);
    // ParseScenario checked that start + t fits.
    engine.BeginBlock(governance::BlockContext{std::string(kScenarioChainId), step_index + 1,
                                               scenario_.start + step.t});
    for (size_t j = 0; j < step.txs.size(); ++j) {
      if (Status status = RunTx(engine, step_index, j); !status.ok()) return status;
    }
    engine.EndBlock();
    writes = engine.TakeWrites();
  }
  Commit(writes);
  return Status::Ok();
}

Status ScenarioRunner::RunTx(governance::Engine& engine, size_t step_index, size_t tx_index) {
  const ScenarioTx& tx = scenario_.steps[step_index].txs[tx_index];
  Result<crypto::KeyPair> signer = CurrentKey(tx.by);
  if (!signer.ok()) return signer.error();

  bas::v1::TxBody body = tx.body;
  body.set_chain_id(std::string(kScenarioChainId));
  // Read through the engine, so that earlier txs of this block count.
  body.set_nonce(
      tx.nonce.value_or(governance::GetAccount(engine.view(), signer->public_key()).next_nonce()));
  for (const RefUse& use : tx.ref_uses) {
    std::string id = ResolveRef(use.name);
    if (use.action_index >= 0) {
      body.mutable_propose()
          ->mutable_actions(use.action_index)
          ->mutable_list_solution()
          ->set_assessment_id(id);
    } else if (body.has_vote()) {
      body.mutable_vote()->set_proposal_id(id);
    } else if (body.has_withdraw()) {
      body.mutable_withdraw()->set_proposal_id(id);
    }
  }
  std::optional<crypto::KeyPair> new_key;
  if (body.has_rotate_key() && tx.new_id_seed) {
    Result<crypto::KeyPair> key = ScenarioKeyPair(*tx.new_id_seed);
    if (!key.ok()) return key.error();
    new_key = *key;
    crypto::Hash32 message =
        governance::RotateKeySigHash(signer->public_key(), new_key->public_key(), kScenarioChainId);
    body.mutable_rotate_key()->set_new_key(ToBytes(new_key->public_key()));
    body.mutable_rotate_key()->set_new_key_signature(
        ToBytes(new_key->Sign(message, kScenarioAuxRand)));
  }

  // The body is serialised once; these exact bytes are signed, sent and hashed into ids.
  std::string body_bytes;
  if (!body.SerializeToString(&body_bytes)) {
    return Error{"INTERNAL", "cannot serialise the body of steps[" + std::to_string(step_index) +
                                 "].txs[" + std::to_string(tx_index) + "]"};
  }
  crypto::Signature signature = signer->Sign(governance::TxSigHash(body_bytes), kScenarioAuxRand);
  if (tx.bad_signature) signature[0] ^= 0x01;
  bas::v1::SignedTx signed_tx;
  signed_tx.set_body(body_bytes);
  signed_tx.set_signer(ToBytes(signer->public_key()));
  signed_tx.set_signature(ToBytes(signature));
  std::string tx_bytes;
  if (!signed_tx.SerializeToString(&tx_bytes)) {
    return Error{"INTERNAL", "cannot serialise steps[" + std::to_string(step_index) + "].txs[" +
                                 std::to_string(tx_index) + "]"};
  }

  governance::TxOutcome outcome;
  governance::CheckTxResult checked = governance::CheckTx(tx_bytes, kScenarioChainId);
  outcome = checked.outcome.ok() ? engine.DeliverTx(checked.tx).outcome : checked.outcome;
  if (!outcome.ok()) {
    OutJson rejected;
    rejected["step"] = step_index;
    rejected["tx"] = tx_index;
    rejected["code"] = std::string(governance::CodeName(outcome.code));
    rejected["message"] = outcome.message;
    rejected_.push_back(std::move(rejected));
    return Status::Ok();
  }

  if (body.has_propose() || body.has_apply() || body.has_submit_assessment()) {
    const crypto::Hash32& id = checked.tx.tx_id;
    if (!tx.ref.empty()) {
      run_.refs[tx.ref] = id;
      names_[ToBytes(id)] = tx.ref;
    }
  }
  if (body.has_withdraw()) withdrawn_at_[body.withdraw().proposal_id()] = tx_index;
  if (new_key) rotated_keys_.insert_or_assign(tx.by, *new_key);
  return Status::Ok();
}

Result<crypto::KeyPair> ScenarioRunner::CurrentKey(const std::string& id) const {
  auto rotated = rotated_keys_.find(id);
  if (rotated != rotated_keys_.end()) return rotated->second;
  return ScenarioKeyPair(id);
}

std::string ScenarioRunner::ResolveRef(const std::string& name) const {
  auto ref = run_.refs.find(name);
  return ToBytes(ref != run_.refs.end() ? ref->second : UnknownRefId(name));
}

std::string ScenarioRunner::NameOf(const std::string& id) const {
  auto name = names_.find(id);
  return name != names_.end() ? name->second : crypto::HexEncode(id);
}

OutJson TallyReport(uint64_t yes, uint64_t no, uint64_t abstain, uint64_t eligible) {
  OutJson out;
  out["yes"] = yes;
  out["no"] = no;
  out["abstain"] = abstain;
  out["eligible"] = eligible;
  return out;
}

OutJson ScenarioRunner::DecisionsReport() const {
  const governance::KvReader& state = run_.state;
  // Closing order across coalitions: by block; inside a block, withdrawals first in tx order
  // (they close when their tx runs), then the end-of-block closings in acceptance order
  // (Proposal.sequence). (coalition, number) only makes the order total.
  using ClosingOrder = std::tuple<uint64_t, int, uint64_t, std::string, uint64_t>;
  std::vector<std::pair<ClosingOrder, bas::v1::Decision>> decisions;
  for (bas::v1::Decision& decision : governance::ListDecisions(state, "")) {
    int phase = 1;
    uint64_t position = 0;
    auto withdrawn = withdrawn_at_.find(decision.proposal_id());
    if (decision.status() == bas::v1::Proposal::WITHDRAWN && withdrawn != withdrawn_at_.end()) {
      phase = 0;
      position = withdrawn->second;
    } else if (std::optional<crypto::Hash32> id = AsHash32(decision.proposal_id())) {
      if (std::optional<bas::v1::Proposal> proposal = governance::GetProposal(state, *id)) {
        position = proposal->sequence();
      }
    }
    ClosingOrder order{decision.close_height(), phase, position, decision.coalition(),
                       decision.number()};
    decisions.emplace_back(std::move(order), std::move(decision));
  }
  std::sort(decisions.begin(), decisions.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  OutJson out = OutJson::array();
  for (const auto& [order, decision] : decisions) {
    const bas::v1::ProposalTally& tally = decision.tally();
    OutJson groups = OutJson::object();
    for (const bas::v1::GroupTally& group : tally.groups()) {
      if (group.eligible() == 0) continue;
      groups[bas::v1::StakeholderGroup_Name(group.group())] =
          TallyReport(group.yes(), group.no(), group.abstain(), group.eligible());
    }
    OutJson dissent = OutJson::array();
    for (const bas::v1::Dissent& entry : decision.dissent()) {
      OutJson item;
      item["member"] = entry.member_id();
      item["reason"] = entry.reason();
      dissent.push_back(std::move(item));
    }
    OutJson item;
    item["coalition"] = decision.coalition();
    item["number"] = decision.number();
    item["proposal"] = NameOf(decision.proposal_id());
    item["title"] = decision.title();
    item["status"] = bas::v1::Proposal::Status_Name(decision.status());
    item["failed_test"] = decision.failed_test();
    item["closed_t"] = decision.close_time() - scenario_.start;
    item["tally"] = TallyReport(tally.yes(), tally.no(), tally.abstain(), tally.eligible());
    item["groups"] = std::move(groups);
    item["dissent"] = std::move(dissent);
    out.push_back(std::move(item));
  }
  return out;
}

OutJson ScenarioRunner::DirectoryReport() const {
  OutJson out = OutJson::array();
  for (const bas::v1::Listing& listing : governance::ListDirectory(run_.state)) {
    OutJson item;
    item["solution_id"] = listing.solution_id();
    item["status"] = bas::v1::Listing::Status_Name(listing.status());
    item["level"] = listing.level();
    item["solution_name"] = listing.solution_name();
    item["vendor"] = listing.vendor();
    item["bmm_version"] = listing.bmm_version();
    item["assessment"] = NameOf(listing.assessment_id());
    item["coalition"] = listing.coalition();
    item["valid_until_t"] = listing.valid_until() - scenario_.start;
    out.push_back(std::move(item));
  }
  return out;
}

OutJson ScenarioRunner::Report() const {
  const governance::KvReader& state = run_.state;
  OutJson members = OutJson::object();
  OutJson annual_plans = OutJson::object();
  for (const bas::v1::Coalition& coalition : governance::ListCoalitions(state)) {
    std::vector<std::string> ids;
    for (const bas::v1::Member& member :
         governance::ListMembers(state, coalition.id(), /*active_only=*/true)) {
      ids.push_back(member.info().id());
    }
    std::sort(ids.begin(), ids.end());
    members[coalition.id()] = ids;

    OutJson plans = OutJson::object();
    for (const bas::v1::AnnualPlan& plan : governance::ListAnnualPlans(state, coalition.id())) {
      plans[std::to_string(plan.year())] = crypto::HexEncode(plan.document().sha256());
    }
    if (!plans.empty()) annual_plans[coalition.id()] = std::move(plans);
  }

  OutJson out;
  out["decisions"] = DecisionsReport();
  out["rejected"] = rejected_;
  out["members"] = std::move(members);
  out["annual_plans"] = std::move(annual_plans);
  out["directory"] = DirectoryReport();
  out["app_hash"] = crypto::HexEncode(app_hash_);
  return out;
}

}  // namespace

Result<ScenarioRun> RunScenario(const Scenario& scenario) { return ScenarioRunner(scenario).Run(); }

Result<ScenarioRun> RunScenario(const nlohmann::json& scenario) {
  Result<Scenario> parsed = ParseScenario(scenario);
  if (!parsed.ok()) return parsed.error();
  return RunScenario(*parsed);
}

}  // namespace bas::scenario
