#include "node/consensus/validator_set.h"

#include <algorithm>
#include <numeric>

namespace bas::node::consensus {
namespace {

// One cycle of the smooth weighted round robin over weights (each >= 1).
std::vector<uint32_t> SmoothRoundRobin(const std::vector<uint64_t>& weights) {
  const uint64_t total = std::accumulate(weights.begin(), weights.end(), uint64_t{0});
  std::vector<int64_t> credit(weights.size(), 0);
  std::vector<uint32_t> cycle;
  cycle.reserve(total);
  for (uint64_t slot = 0; slot < total; ++slot) {
    size_t best = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
      credit[i] += static_cast<int64_t>(weights[i]);
      if (credit[i] > credit[best]) best = i;
    }
    credit[best] -= static_cast<int64_t>(total);
    cycle.push_back(static_cast<uint32_t>(best));
  }
  return cycle;
}

}  // namespace

Result<ValidatorSet> ValidatorSet::From(const bas::v1::ValidatorSet& set) {
  auto fail = [](std::string why) { return Error{"INVALID_VALIDATOR_SET", std::move(why)}; };
  if (set.validators_size() == 0) return fail("no validators");
  if (static_cast<uint64_t>(set.validators_size()) > kMaxProposerCycle / 2) {
    return fail("more than " + std::to_string(kMaxProposerCycle / 2) + " validators");
  }
  std::vector<const bas::v1::Validator*> sorted;
  for (const auto& v : set.validators()) {
    if (v.key().size() != 32) return fail("a key is not 32 bytes");
    if (v.power() == 0) return fail("a validator has power 0");
    sorted.push_back(&v);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->key() < b->key(); });
  auto m = std::make_shared<Members>();
  m->proto = set;
  unsigned __int128 total = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0 && sorted[i]->key() == sorted[i - 1]->key()) return fail("a key appears twice");
    m->keys.push_back(sorted[i]->key());
    m->powers.push_back(sorted[i]->power());
    total += sorted[i]->power();
  }
  if (total >= static_cast<unsigned __int128>(1) << 63)
    return fail("total power does not fit in 63 bits");
  m->total = static_cast<uint64_t>(total);

  uint64_t divisor = 0;
  for (uint64_t p : m->powers) divisor = std::gcd(divisor, p);
  std::vector<uint64_t> weights;
  uint64_t reduced_total = 0;
  for (uint64_t p : m->powers) {
    weights.push_back(p / divisor);
    reduced_total += p / divisor;
  }
  if (reduced_total > kMaxProposerCycle) {
    for (uint64_t& w : weights) {
      const unsigned __int128 scaled =
          static_cast<unsigned __int128>(w) * (kMaxProposerCycle - weights.size()) / reduced_total;
      w = std::max<uint64_t>(1, static_cast<uint64_t>(scaled));
    }
  }
  m->proposer_cycle = SmoothRoundRobin(weights);
  return ValidatorSet(std::move(m));
}

std::optional<size_t> ValidatorSet::IndexOf(std::string_view key) const {
  const auto& keys = members_->keys;
  auto it = std::lower_bound(keys.begin(), keys.end(), key,
                             [](const std::string& a, std::string_view b) { return a < b; });
  if (it == keys.end() || *it != key) return std::nullopt;
  return static_cast<size_t>(it - keys.begin());
}

bool ValidatorSet::IsQuorum(uint64_t power) const {
  return static_cast<unsigned __int128>(power) * 3 >
         static_cast<unsigned __int128>(members_->total) * 2;
}

bool ValidatorSet::IsBlocking(uint64_t power) const {
  return static_cast<unsigned __int128>(power) * 3 >
         static_cast<unsigned __int128>(members_->total);
}

size_t ValidatorSet::Proposer(uint64_t height, uint32_t round) const {
  const auto& cycle = members_->proposer_cycle;
  const uint64_t n = cycle.size();
  return cycle[(height % n + round % n) % n];
}

}  // namespace bas::node::consensus
