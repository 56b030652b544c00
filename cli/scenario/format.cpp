#include "cli/scenario/format.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <utility>

#include <google/protobuf/descriptor.h>

#include "bas/v1/state.pb.h"
#include "crypto/encoding.h"
#include "crypto/schnorr.h"
#include "governance/codes.h"

namespace bas::scenario {
namespace {

using Json = nlohmann::json;

std::string ToBytes(crypto::ByteSpan bytes) { return std::string(crypto::AsStringView(bytes)); }

// start + t, or nullopt when it leaves int64.
std::optional<int64_t> AddSeconds(int64_t start, int64_t t) {
  int64_t sum = 0;
  if (__builtin_add_overflow(start, t, &sum)) return std::nullopt;
  return sum;
}

// The value names of a proto enum other than its 0 (UNSPECIFIED) value, in number order.
std::vector<std::string> EnumNames(const google::protobuf::EnumDescriptor* type) {
  std::vector<std::string> names;
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() != 0) names.push_back(type->value(i)->name());
  }
  return names;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// The action type names, which are also the rule keys besides "default": the fields of the
// Action oneof ("admit_member", ...), so they follow tx.proto 1:1.
const std::vector<std::string>& ActionTypeNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> out;
    const google::protobuf::OneofDescriptor* kind =
        bas::v1::Action::descriptor()->FindOneofByName("kind");
    out.reserve(kind->field_count());
    for (int i = 0; i < kind->field_count(); ++i) out.push_back(kind->field(i)->name());
    return out;
  }();
  return kNames;
}

// ---------------------------------------------------------------------------------------------
// Parsing: scenario JSON -> proto types.

// A JSON value with its path in the scenario ("steps[2].txs[0]"), for error messages.
struct At {
  const Json& value;
  std::string path;
};

// Reads a scenario into a Scenario. Errors are sticky: the first one is kept, and after it the
// accessors return defaults, so the parse winds down without further checks instead of
// threading a Result through every field.
class ScenarioParser {
 public:
  Result<Scenario> Parse(const Json& root);
  // ParseActionList (scenario.h): actions with explicit member keys and assessment ids.
  Result<std::vector<bas::v1::Action>> ParseActions(const Json& root);

 private:
  using TxParser = void (ScenarioParser::*)(const At&, ScenarioTx*);
  using ActionParser = void (ScenarioParser::*)(const At&, bas::v1::Action*);

  void Fail(const std::string& path, const std::string& what,
            std::string_view code = kMalformedScenario) {
    if (!error_) {
      error_ = Error{std::string(code), (path.empty() ? "scenario" : path) + ": " + what};
    }
  }
  bool HasFailed() const { return error_.has_value(); }

  static std::string FieldPath(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }
  // Precondition: object.value is an object holding key.
  static At Child(const At& object, std::string_view key) {
    return At{object.value.at(std::string(key)), FieldPath(object.path, key)};
  }

  bool ExpectObject(const At& at) {
    if (at.value.is_object()) return true;
    Fail(at.path, "expected an object");
    return false;
  }
  // The field `key` of an object, or nullopt when it is absent (an error when required).
  std::optional<At> Field(const At& object, std::string_view key, bool required = false) {
    if (HasFailed() || !object.value.is_object() || !object.value.contains(std::string(key))) {
      if (required) Fail(FieldPath(object.path, key), "missing");
      return std::nullopt;
    }
    return Child(object, key);
  }
  std::vector<At> Elements(const At& at) {
    std::vector<At> out;
    if (HasFailed()) return out;
    if (!at.value.is_array()) {
      Fail(at.path, "expected an array");
      return out;
    }
    for (size_t i = 0; i < at.value.size(); ++i) {
      out.push_back(At{at.value[i], at.path + "[" + std::to_string(i) + "]"});
    }
    return out;
  }
  std::string String(const At& at) {
    if (HasFailed()) return "";
    if (!at.value.is_string()) {
      Fail(at.path, "expected a string");
      return "";
    }
    return at.value.get<std::string>();
  }
  template <typename T>
  T Integer(const At& at) {
    if (HasFailed()) return 0;
    const Json& v = at.value;
    if (v.is_number_unsigned() && std::in_range<T>(v.get<uint64_t>())) {
      return static_cast<T>(v.get<uint64_t>());
    }
    if (v.is_number_integer() && !v.is_number_unsigned() && std::in_range<T>(v.get<int64_t>())) {
      return static_cast<T>(v.get<int64_t>());
    }
    Fail(at.path, "expected an integer from " + std::to_string(std::numeric_limits<T>::min()) +
                      " to " + std::to_string(std::numeric_limits<T>::max()));
    return 0;
  }
  bool Bool(const At& at) {
    if (HasFailed()) return false;
    if (!at.value.is_boolean()) {
      Fail(at.path, "expected true or false");
      return false;
    }
    return at.value.get<bool>();
  }
  // An enum value by name; the UNSPECIFIED name is not accepted.
  int Enum(const At& at, const google::protobuf::EnumDescriptor* type) {
    if (HasFailed()) return 0;
    const google::protobuf::EnumValueDescriptor* value =
        at.value.is_string() ? type->FindValueByName(at.value.get<std::string>()) : nullptr;
    if (value == nullptr || value->number() == 0) {
      Fail(at.path, "expected one of " + JoinNames(EnumNames(type)));
      return 0;
    }
    return value->number();
  }

  // Optional fields: the proto default ("", 0, false) when absent, which the chain judges.
  std::string StringField(const At& object, std::string_view key) {
    std::optional<At> at = Field(object, key);
    return at ? String(*at) : "";
  }
  template <typename T>
  T IntegerField(const At& object, std::string_view key) {
    std::optional<At> at = Field(object, key);
    return at ? Integer<T>(*at) : 0;
  }
  int EnumField(const At& object, std::string_view key,
                const google::protobuf::EnumDescriptor* type) {
    std::optional<At> at = Field(object, key);
    return at ? Enum(*at, type) : 0;
  }
  std::vector<std::string> StringListField(const At& object, std::string_view key) {
    std::vector<std::string> out;
    if (std::optional<At> at = Field(object, key)) {
      for (const At& element : Elements(*at)) out.push_back(String(element));
    }
    return out;
  }
  // Hex as bytes. Text that is not hex becomes empty bytes, which the chain refuses as a
  // malformed field: bad hex is the chain's business, not a malformed scenario.
  std::string HexField(const At& object, std::string_view key) {
    std::string text = StringField(object, key);
    Result<std::vector<uint8_t>> bytes = crypto::HexDecode(text);
    return bytes.ok() ? ToBytes(*bytes) : "";
  }
  // A seconds offset from start as an absolute time, 0 when absent.
  int64_t TimeField(const At& object, std::string_view key) {
    std::optional<At> at = Field(object, key);
    if (!at) return 0;
    int64_t t = Integer<int64_t>(*at);
    std::optional<int64_t> time = AddSeconds(start_, t);
    if (!time) Fail(at->path, "start + " + std::to_string(t) + " is out of range");
    return time.value_or(0);
  }

  void ParseCoalition(const At& at, bas::v1::CoalitionGenesis* out);
  void ParseMember(const At& at, bas::v1::MemberInfo* out);
  void ParseRoles(const At& object, google::protobuf::RepeatedField<int>* out);
  void ParseRules(const At& at, google::protobuf::RepeatedPtrField<bas::v1::RuleEntry>* out);
  void ParseRule(const At& at, bas::v1::VotingRule* out);
  void ParseStep(const At& at, std::optional<int64_t> previous_t, ScenarioStep* out);
  void ParseTx(const At& at, ScenarioTx* out);
  void ParseAction(const At& at, int index, ScenarioTx* tx, bas::v1::Action* out);
  // Records a `proposal` / `assessment` field as a ref to resolve at run time.
  void ParseRefUse(const At& object, std::string_view key, int action_index, ScenarioTx* tx);

  void ParsePropose(const At& at, ScenarioTx* tx);
  void ParseVote(const At& at, ScenarioTx* tx);
  void ParseWithdraw(const At& at, ScenarioTx* tx);
  void ParseApply(const At& at, ScenarioTx* tx);
  void ParseSubmitAssessment(const At& at, ScenarioTx* tx);
  void ParseRecordMeeting(const At& at, ScenarioTx* tx);
  void ParseRotateKey(const At& at, ScenarioTx* tx);

  void ParseAdmitMember(const At& at, bas::v1::Action* action);
  void ParseRemoveMember(const At& at, bas::v1::Action* action);
  void ParseSetRoles(const At& at, bas::v1::Action* action);
  void ParseApproveAnnualPlan(const At& at, bas::v1::Action* action);
  void ParseListSolution(const At& at, bas::v1::Action* action);
  void ParseDelistSolution(const At& at, bas::v1::Action* action);
  void ParseScheduleIgfSession(const At& at, bas::v1::Action* action);
  void ParseSetBmmModel(const At& at, bas::v1::Action* action);
  void ParseChangeRules(const At& at, bas::v1::Action* action);
  void ParseCreateCoalition(const At& at, bas::v1::Action* action);
  void ParseResolution(const At& at, bas::v1::Action* action);

  static const std::vector<std::pair<std::string_view, TxParser>>& TxParsers();
  static const std::vector<std::pair<std::string_view, ActionParser>>& ActionParsers();

  // 32 bytes from a required field of 64 hex digits (explicit-id mode).
  std::string Id32Field(const At& object, std::string_view key) {
    std::optional<At> at = Field(object, key, /*required=*/true);
    if (!at) return "";
    Result<std::array<uint8_t, 32>> bytes = crypto::HexDecodeFixed<32>(String(*at));
    if (HasFailed()) return "";
    if (!bytes.ok()) {
      Fail(at->path, "expected 64 hex digits");
      return "";
    }
    return ToBytes(*bytes);
  }

  std::optional<Error> error_;
  int64_t start_ = 0;
  // Members carry "key" and list_solution an "assessment" id in hex (ParseActionList).
  bool explicit_ids_ = false;
};

const std::vector<std::pair<std::string_view, ScenarioParser::TxParser>>&
ScenarioParser::TxParsers() {
  static const std::vector<std::pair<std::string_view, TxParser>> kParsers = {
      {"propose", &ScenarioParser::ParsePropose},
      {"vote", &ScenarioParser::ParseVote},
      {"withdraw", &ScenarioParser::ParseWithdraw},
      {"apply", &ScenarioParser::ParseApply},
      {"submit_assessment", &ScenarioParser::ParseSubmitAssessment},
      {"record_meeting", &ScenarioParser::ParseRecordMeeting},
      {"rotate_key", &ScenarioParser::ParseRotateKey},
  };
  return kParsers;
}

const std::vector<std::pair<std::string_view, ScenarioParser::ActionParser>>&
ScenarioParser::ActionParsers() {
  static const std::vector<std::pair<std::string_view, ActionParser>> kParsers = {
      {"admit_member", &ScenarioParser::ParseAdmitMember},
      {"remove_member", &ScenarioParser::ParseRemoveMember},
      {"set_roles", &ScenarioParser::ParseSetRoles},
      {"approve_annual_plan", &ScenarioParser::ParseApproveAnnualPlan},
      {"list_solution", &ScenarioParser::ParseListSolution},
      {"delist_solution", &ScenarioParser::ParseDelistSolution},
      {"schedule_igf_session", &ScenarioParser::ParseScheduleIgfSession},
      {"set_bmm_model", &ScenarioParser::ParseSetBmmModel},
      {"change_rules", &ScenarioParser::ParseChangeRules},
      {"create_coalition", &ScenarioParser::ParseCreateCoalition},
      {"resolution", &ScenarioParser::ParseResolution},
  };
  return kParsers;
}

Result<Scenario> ScenarioParser::Parse(const Json& root) {
  Scenario scenario;
  At at{root, ""};
  if (!ExpectObject(at)) return *error_;
  if (std::optional<At> start = Field(at, "start", /*required=*/true)) {
    start_ = Integer<int64_t>(*start);
  }
  scenario.start = start_;
  scenario.genesis.set_chain_id(std::string(kScenarioChainId));
  scenario.genesis.set_genesis_time(start_);
  if (std::optional<At> coalitions = Field(at, "coalitions")) {
    for (const At& coalition : Elements(*coalitions)) {
      ParseCoalition(coalition, scenario.genesis.add_coalitions());
    }
  }
  if (std::optional<At> steps = Field(at, "steps", /*required=*/true)) {
    std::optional<int64_t> previous_t;
    for (const At& step : Elements(*steps)) {
      ScenarioStep& parsed = scenario.steps.emplace_back();
      ParseStep(step, previous_t, &parsed);
      previous_t = parsed.t;
    }
  }
  if (error_) return *error_;
  return scenario;
}

Result<std::vector<bas::v1::Action>> ScenarioParser::ParseActions(const Json& root) {
  explicit_ids_ = true;
  std::vector<bas::v1::Action> actions;
  ScenarioTx unused;  // collects no refs: list_solution takes an id here
  std::vector<At> elements = Elements(At{root, "actions"});
  for (size_t i = 0; i < elements.size(); ++i) {
    ParseAction(elements[i], static_cast<int>(i), &unused, &actions.emplace_back());
  }
  if (error_) return *error_;
  return actions;
}

void ScenarioParser::ParseCoalition(const At& at, bas::v1::CoalitionGenesis* out) {
  if (!ExpectObject(at)) return;
  out->set_id(StringField(at, "id"));
  out->set_name(StringField(at, "name"));
  if (std::optional<At> members = Field(at, "members")) {
    for (const At& member : Elements(*members)) ParseMember(member, out->add_members());
  }
  if (std::optional<At> rules = Field(at, "rules")) ParseRules(*rules, out->mutable_rules());
}

void ScenarioParser::ParseMember(const At& at, bas::v1::MemberInfo* out) {
  if (!ExpectObject(at)) return;
  out->set_id(StringField(at, "id"));
  out->set_group(static_cast<bas::v1::StakeholderGroup>(
      EnumField(at, "group", bas::v1::StakeholderGroup_descriptor())));
  ParseRoles(at, out->mutable_roles());
  out->set_name(StringField(at, "name"));
  out->set_organisation(StringField(at, "organisation"));
  if (HasFailed()) return;
  if (explicit_ids_) {
    out->set_key(Id32Field(at, "key"));
    return;
  }
  Result<crypto::KeyPair> key = ScenarioKeyPair(out->id());
  if (!key.ok()) {
    Fail(at.path, key.error().message, key.error().code);
    return;
  }
  out->set_key(ToBytes(key->public_key()));
}

void ScenarioParser::ParseRoles(const At& object, google::protobuf::RepeatedField<int>* out) {
  std::optional<At> roles = Field(object, "roles");
  if (!roles) return;
  for (const At& role : Elements(*roles)) out->Add(Enum(role, bas::v1::Role_descriptor()));
}

void ScenarioParser::ParseRules(const At& at,
                                google::protobuf::RepeatedPtrField<bas::v1::RuleEntry>* out) {
  if (!ExpectObject(at)) return;
  const std::vector<std::string>& types = ActionTypeNames();
  // Json objects iterate in key order, so the entries come out sorted by action type.
  for (const auto& [key, value] : at.value.items()) {
    if (HasFailed()) return;
    if (key != "default" && std::find(types.begin(), types.end(), key) == types.end()) {
      Fail(Child(at, key).path,
           "unknown rules key (expected default or an action type: " + JoinNames(types) + ")");
      return;
    }
    bas::v1::RuleEntry* entry = out->Add();
    entry->set_action_type(key);
    ParseRule(Child(at, key), entry->mutable_rule());
  }
}

void ScenarioParser::ParseRule(const At& at, bas::v1::VotingRule* out) {
  if (!ExpectObject(at)) return;
  for (const auto& [key, value] : at.value.items()) {
    if (HasFailed()) return;
    At field = Child(at, key);
    if (key == "voting_period_s") {
      out->set_voting_period_s(Integer<uint64_t>(field));
    } else if (key == "mode") {
      out->set_mode(
          static_cast<bas::v1::VotingMode>(Enum(field, bas::v1::VotingMode_descriptor())));
    } else if (key == "quorum_ppm") {
      out->set_quorum_ppm(Integer<uint32_t>(field));
    } else if (key == "threshold_ppm") {
      out->set_threshold_ppm(Integer<uint32_t>(field));
    } else if (key == "groups_required") {
      out->set_groups_required(Bool(field));
    } else if (key == "group_quorum_ppm") {
      out->set_group_quorum_ppm(Integer<uint32_t>(field));
    } else if (key == "group_threshold_ppm") {
      out->set_group_threshold_ppm(Integer<uint32_t>(field));
    } else if (key == "objection_ppm") {
      out->set_objection_ppm(Integer<uint32_t>(field));
    } else {
      Fail(field.path,
           "unknown rule field (expected voting_period_s, mode, quorum_ppm, threshold_ppm, "
           "groups_required, group_quorum_ppm, group_threshold_ppm or objection_ppm)");
    }
  }
}

void ScenarioParser::ParseStep(const At& at, std::optional<int64_t> previous_t, ScenarioStep* out) {
  if (!ExpectObject(at)) return;
  if (std::optional<At> t = Field(at, "t", /*required=*/true)) {
    out->t = Integer<int64_t>(*t);
    if (HasFailed()) return;
    if (previous_t && out->t <= *previous_t) {
      Fail(t->path,
           "must be greater than the previous step's t (" + std::to_string(*previous_t) + ")");
    } else if (!AddSeconds(start_, out->t)) {
      Fail(t->path, "start + " + std::to_string(out->t) + " is out of range");
    }
  }
  if (std::optional<At> txs = Field(at, "txs")) {
    for (const At& tx : Elements(*txs)) ParseTx(tx, &out->txs.emplace_back());
  }
}

void ScenarioParser::ParseTx(const At& at, ScenarioTx* out) {
  if (!ExpectObject(at)) return;
  std::optional<At> type = Field(at, "type", /*required=*/true);
  if (type) out->type = String(*type);
  if (std::optional<At> by = Field(at, "by", /*required=*/true)) out->by = String(*by);
  out->ref = StringField(at, "ref");
  if (std::optional<At> nonce = Field(at, "nonce")) out->nonce = Integer<uint64_t>(*nonce);
  if (std::optional<At> bad = Field(at, "bad_signature")) out->bad_signature = Bool(*bad);
  if (HasFailed()) return;
  for (const auto& [name, parse] : TxParsers()) {
    if (name == out->type) {
      (this->*parse)(at, out);
      return;
    }
  }
  std::vector<std::string> names;
  for (const auto& [name, parse] : TxParsers()) names.emplace_back(name);
  Fail(type->path,
       "unknown transaction type \"" + out->type + "\" (expected one of " + JoinNames(names) + ")");
}

void ScenarioParser::ParseRefUse(const At& object, std::string_view key, int action_index,
                                 ScenarioTx* tx) {
  // Absent: the id field stays empty, which the chain refuses as a missing field.
  if (std::optional<At> name = Field(object, key)) {
    tx->ref_uses.push_back(RefUse{action_index, String(*name)});
  }
}

void ScenarioParser::ParsePropose(const At& at, ScenarioTx* tx) {
  bas::v1::Propose* propose = tx->body.mutable_propose();
  propose->set_coalition(StringField(at, "coalition"));
  propose->set_title(StringField(at, "title"));
  propose->set_summary(StringField(at, "summary"));
  if (std::optional<At> actions = Field(at, "actions")) {
    std::vector<At> elements = Elements(*actions);
    for (size_t i = 0; i < elements.size(); ++i) {
      ParseAction(elements[i], static_cast<int>(i), tx, propose->add_actions());
    }
  }
}

void ScenarioParser::ParseVote(const At& at, ScenarioTx* tx) {
  bas::v1::Vote* vote = tx->body.mutable_vote();
  ParseRefUse(at, "proposal", -1, tx);
  vote->set_choice(
      static_cast<bas::v1::VoteChoice>(EnumField(at, "choice", bas::v1::VoteChoice_descriptor())));
  vote->set_reason(StringField(at, "reason"));
}

void ScenarioParser::ParseWithdraw(const At& at, ScenarioTx* tx) {
  tx->body.mutable_withdraw();
  ParseRefUse(at, "proposal", -1, tx);
}

void ScenarioParser::ParseApply(const At& at, ScenarioTx* tx) {
  bas::v1::ApplyForMembership* apply = tx->body.mutable_apply();
  apply->set_coalition(StringField(at, "coalition"));
  apply->set_member_id(tx->by);
  apply->set_group(static_cast<bas::v1::StakeholderGroup>(
      EnumField(at, "group", bas::v1::StakeholderGroup_descriptor())));
  apply->set_name(StringField(at, "name"));
  apply->set_statement(StringField(at, "statement"));
}

void ScenarioParser::ParseSubmitAssessment(const At& at, ScenarioTx* tx) {
  bas::v1::SubmitAssessment* assessment = tx->body.mutable_submit_assessment();
  assessment->set_solution_id(StringField(at, "solution_id"));
  assessment->set_solution_name(StringField(at, "solution_name"));
  assessment->set_vendor(StringField(at, "vendor"));
  assessment->set_bmm_version(StringField(at, "bmm_version"));
  assessment->set_level(IntegerField<uint32_t>(at, "level"));
  if (std::optional<At> elements = Field(at, "elements")) {
    if (!ExpectObject(*elements)) return;
    // Json objects iterate in key order: the elements come out sorted by name.
    for (const auto& [name, level] : elements->value.items()) {
      bas::v1::ElementLevel* element = assessment->add_elements();
      element->set_element(name);
      element->set_level(Integer<uint32_t>(Child(*elements, name)));
    }
  }
  assessment->set_valid_until(TimeField(at, "valid_until_t"));
  assessment->set_assessed_at(0);  // the block time
}

void ScenarioParser::ParseRecordMeeting(const At& at, ScenarioTx* tx) {
  bas::v1::RecordMeeting* meeting = tx->body.mutable_record_meeting();
  meeting->set_coalition(StringField(at, "coalition"));
  meeting->set_date(StringField(at, "date"));
  meeting->mutable_minutes()->set_uri(StringField(at, "uri"));
  meeting->mutable_minutes()->set_sha256(HexField(at, "sha256"));
}

void ScenarioParser::ParseRotateKey(const At& at, ScenarioTx* tx) {
  tx->body.mutable_rotate_key();
  if (std::optional<At> seed = Field(at, "new_id_seed")) tx->new_id_seed = String(*seed);
}

void ScenarioParser::ParseAction(const At& at, int index, ScenarioTx* tx, bas::v1::Action* out) {
  if (!ExpectObject(at)) return;
  std::optional<At> type_at = Field(at, "type", /*required=*/true);
  if (!type_at) return;
  std::string type = String(*type_at);
  if (HasFailed()) return;
  for (const auto& [name, parse] : ActionParsers()) {
    if (name == type) {
      (this->*parse)(at, out);
      if (type == "list_solution") {
        if (explicit_ids_) {
          out->mutable_list_solution()->set_assessment_id(Id32Field(at, "assessment"));
        } else {
          ParseRefUse(at, "assessment", index, tx);
        }
      }
      return;
    }
  }
  std::vector<std::string> names;
  for (const auto& [name, parse] : ActionParsers()) names.emplace_back(name);
  Fail(type_at->path,
       "unknown action type \"" + type + "\" (expected one of " + JoinNames(names) + ")");
}

void ScenarioParser::ParseAdmitMember(const At& at, bas::v1::Action* action) {
  bas::v1::AdmitMember* admit = action->mutable_admit_member();
  if (std::optional<At> member = Field(at, "member")) ParseMember(*member, admit->mutable_member());
}

void ScenarioParser::ParseRemoveMember(const At& at, bas::v1::Action* action) {
  action->mutable_remove_member()->set_member_id(StringField(at, "member_id"));
}

void ScenarioParser::ParseSetRoles(const At& at, bas::v1::Action* action) {
  bas::v1::SetRoles* set_roles = action->mutable_set_roles();
  set_roles->set_member_id(StringField(at, "member_id"));
  ParseRoles(at, set_roles->mutable_roles());
}

void ScenarioParser::ParseApproveAnnualPlan(const At& at, bas::v1::Action* action) {
  bas::v1::ApproveAnnualPlan* plan = action->mutable_approve_annual_plan();
  plan->set_year(IntegerField<uint32_t>(at, "year"));
  plan->mutable_document()->set_uri(StringField(at, "uri"));
  plan->mutable_document()->set_sha256(HexField(at, "sha256"));
}

void ScenarioParser::ParseListSolution(const At& at, bas::v1::Action* action) {
  // The assessment id is a ref, filled in at run time (ParseAction records it).
  action->mutable_list_solution()->set_solution_id(StringField(at, "solution_id"));
}

void ScenarioParser::ParseDelistSolution(const At& at, bas::v1::Action* action) {
  action->mutable_delist_solution()->set_solution_id(StringField(at, "solution_id"));
}

void ScenarioParser::ParseScheduleIgfSession(const At& at, bas::v1::Action* action) {
  bas::v1::ScheduleIgfSession* session = action->mutable_schedule_igf_session();
  session->set_igf_year(IntegerField<uint32_t>(at, "igf_year"));
  session->set_title(StringField(at, "title"));
  session->set_format(static_cast<bas::v1::SessionFormat>(
      EnumField(at, "format", bas::v1::SessionFormat_descriptor())));
}

void ScenarioParser::ParseSetBmmModel(const At& at, bas::v1::Action* action) {
  bas::v1::BmmModel* model = action->mutable_set_bmm_model()->mutable_model();
  model->set_version(StringField(at, "version"));
  for (std::string& element : StringListField(at, "elements")) {
    model->add_elements(std::move(element));
  }
  for (std::string& level : StringListField(at, "levels")) model->add_levels(std::move(level));
}

void ScenarioParser::ParseChangeRules(const At& at, bas::v1::Action* action) {
  bas::v1::ChangeRules* change = action->mutable_change_rules();
  // The action type is a value, not a rules key: an unknown one is the chain's to refuse.
  change->set_action_type(StringField(at, "action_type"));
  if (std::optional<At> rule = Field(at, "rule")) ParseRule(*rule, change->mutable_rule());
}

void ScenarioParser::ParseCreateCoalition(const At& at, bas::v1::Action* action) {
  bas::v1::CreateCoalition* create = action->mutable_create_coalition();
  create->set_id(StringField(at, "id"));
  create->set_name(StringField(at, "name"));
  if (std::optional<At> members = Field(at, "members")) {
    for (const At& member : Elements(*members)) ParseMember(member, create->add_members());
  }
  if (std::optional<At> rules = Field(at, "rules")) ParseRules(*rules, create->mutable_rules());
}

void ScenarioParser::ParseResolution(const At& at, bas::v1::Action* action) {
  action->mutable_resolution()->set_text(StringField(at, "text"));
}

}  // namespace

Result<nlohmann::json> ParseScenarioJson(std::string_view text) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ...".
    std::string what = e.what();
    if (size_t end = what.find("] "); what.starts_with("[json.exception") && end != what.npos) {
      what.erase(0, end + 2);
    }
    return Error{std::string(kMalformedScenario), "invalid JSON: " + what};
  }
}

Result<Scenario> ParseScenario(const nlohmann::json& scenario) {
  // Only nlohmann's own accessors could throw here, and the parser checks every type before
  // using it; the catch is the boundary that keeps a missed case from escaping as an exception.
  try {
    return ScenarioParser().Parse(scenario);
  } catch (const Json::exception& e) {
    return Error{std::string(kMalformedScenario), std::string("unexpected JSON: ") + e.what()};
  }
}

Result<std::vector<bas::v1::Action>> ParseActionList(const nlohmann::json& actions) {
  try {
    return ScenarioParser().ParseActions(actions);
  } catch (const Json::exception& e) {
    return Error{std::string(kMalformedScenario), std::string("unexpected JSON: ") + e.what()};
  }
}

Result<crypto::KeyPair> ScenarioKeyPair(std::string_view id) {
  Result<crypto::KeyPair> key = crypto::KeyPair::FromSecret(ScenarioSecretKey(id));
  if (!key.ok()) {
    return Error{"INTERNAL",
                 "cannot derive the key of \"" + std::string(id) + "\": " + key.error().message};
  }
  return key;
}

crypto::Hash32 ScenarioSecretKey(std::string_view id) {
  return crypto::TaggedHash("bas/scenario-key", id);
}

crypto::Hash32 UnknownRefId(std::string_view name) {
  return crypto::TaggedHash("bas/scenario-ref", name);
}

}  // namespace bas::scenario
