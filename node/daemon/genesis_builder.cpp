#include "node/daemon/genesis_builder.h"

#include <charconv>
#include <limits>
#include <optional>
#include <string_view>

#include "crypto/encoding.h"

namespace bas::node::daemon {
namespace {

Error Invalid(std::string_view what, std::string_view spec, std::string_view why) {
  return Error{"INVALID_GENESIS",
               std::string(what) + " " + std::string(spec) + ": " + std::string(why)};
}

// A whole decimal number in [0, max]; std::strtoull would read "12abc" as 12 and "x" as 0.
std::optional<uint64_t> ParseCount(std::string_view text, uint64_t max) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > max) {
    return std::nullopt;
  }
  return value;
}

std::vector<std::string_view> SplitParts(std::string_view spec, char sep, size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    const size_t at = spec.find(sep);
    if (at == std::string_view::npos) break;
    parts.push_back(spec.substr(0, at));
    spec.remove_prefix(at + 1);
  }
  parts.push_back(spec);
  return parts;
}

Result<bas::v1::MemberInfo> ParseMember(std::string_view spec) {
  // The name comes last and may hold '/'.
  const std::vector<std::string_view> parts = SplitParts(spec, '/', 6);
  if (parts.size() < 5)
    return Invalid("member", spec, "expected COALITION/ID/GROUP/ROLES/KEYHEX[/NAME]");
  bas::v1::MemberInfo m;
  m.set_id(std::string(parts[1]));
  bas::v1::StakeholderGroup group;
  if (!bas::v1::StakeholderGroup_Parse(std::string(parts[2]), &group) ||
      group == bas::v1::GROUP_UNSPECIFIED) {
    return Invalid("member", spec, "unknown group " + std::string(parts[2]));
  }
  m.set_group(group);
  for (std::string_view r : SplitParts(parts[3], '+', std::numeric_limits<size_t>::max())) {
    bas::v1::Role role;
    if (!bas::v1::Role_Parse(std::string(r), &role) || role == bas::v1::ROLE_UNSPECIFIED) {
      return Invalid("member", spec, "unknown role " + std::string(r));
    }
    m.add_roles(role);
  }
  auto key = crypto::HexDecodeFixed<32>(parts[4]);
  if (!key.ok()) return Invalid("member", spec, "key: " + key.error().message);
  m.set_key(std::string(key->begin(), key->end()));
  if (parts.size() > 5) m.set_name(std::string(parts[5]));
  return m;
}

bas::v1::CoalitionGenesis* FindCoalition(bas::v1::Genesis& g, std::string_view id) {
  for (auto& c : *g.mutable_coalitions()) {
    if (c.id() == id) return &c;
  }
  return nullptr;
}

}  // namespace

Result<bas::v1::Genesis> BuildGenesis(const GenesisSpec& spec) {
  bas::v1::Genesis g;
  g.set_chain_id(spec.chain_id);
  g.set_genesis_time(spec.genesis_time);
  g.mutable_params()->set_idle_block_interval_s(spec.idle_block_interval_s);
  for (const std::string& c : spec.coalitions) {
    const size_t eq = c.find('=');
    auto* gc = g.add_coalitions();
    gc->set_id(c.substr(0, eq));
    if (eq != std::string::npos) gc->set_name(c.substr(eq + 1));
  }
  for (const std::string& text : spec.members) {
    Result<bas::v1::MemberInfo> m = ParseMember(text);
    if (!m.ok()) return m.error();
    bas::v1::CoalitionGenesis* c = FindCoalition(g, text.substr(0, text.find('/')));
    if (c == nullptr) return Invalid("member", text, "no such coalition");
    *c->add_members() = std::move(*m);
  }
  for (const std::string& text : spec.rules) {
    const std::vector<std::string_view> parts = SplitParts(text, '/', 3);
    bas::v1::CoalitionGenesis* c = parts.size() == 3 ? FindCoalition(g, parts[0]) : nullptr;
    const std::optional<uint64_t> seconds =
        parts.size() == 3 ? ParseCount(parts[2], std::numeric_limits<uint64_t>::max())
                          : std::nullopt;
    if (c == nullptr || !seconds) {
      return Invalid("rule", text, "expected COALITION/ACTION_TYPE/SECONDS of a given coalition");
    }
    auto* r = c->add_rules();
    r->set_action_type(std::string(parts[1]));
    r->mutable_rule()->set_voting_period_s(*seconds);
  }
  for (const std::string& text : spec.validators) {
    const size_t colon = text.find(':');
    auto key = crypto::HexDecodeFixed<32>(std::string_view(text).substr(0, colon));
    if (!key.ok()) return Invalid("validator", text, key.error().message);
    std::optional<uint64_t> power = 10;
    if (colon != std::string::npos) {
      power = ParseCount(std::string_view(text).substr(colon + 1),
                         std::numeric_limits<uint64_t>::max());
    }
    if (!power) return Invalid("validator", text, "the power must be a whole number");
    auto* v = g.add_validators();
    v->set_key(std::string(key->begin(), key->end()));
    v->set_power(*power);
  }
  return g;
}

}  // namespace bas::node::daemon
