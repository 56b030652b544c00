#include "node/consensus/core.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "node/chain/commit.h"
#include "node/chain/encoding.h"

// Line numbers in comments ("line 36") are those of Algorithm 1 in arXiv:1807.04938v3.

namespace bas::node::consensus {
namespace {

Error Refuse(std::string code, std::string why) { return Error{std::move(code), std::move(why)}; }

Step StepOf(bas::v1::VoteType type) {
  return type == bas::v1::PREVOTE ? Step::kPrevote : Step::kPrecommit;
}

std::string CheckVoteShape(const bas::v1::ConsensusVote& v) {
  if (v.type() != bas::v1::PREVOTE && v.type() != bas::v1::PRECOMMIT) {
    return "vote.type: must be PREVOTE or PRECOMMIT";
  }
  if (!v.block_hash().empty() && v.block_hash().size() != 32) {
    return "vote.block_hash: must be empty (nil) or 32 bytes";
  }
  if (v.validator().size() != 32) return "vote.validator: must be 32 bytes";
  if (v.signature().size() != 64) return "vote.signature: must be 64 bytes";
  return "";
}

bas::v1::Evidence MakeEvidence(const bas::v1::ConsensusVote& x, const bas::v1::ConsensusVote& y) {
  bas::v1::Evidence e;
  const bool x_first = x.block_hash() < y.block_hash();
  *e.mutable_vote_a() = x_first ? x : y;
  *e.mutable_vote_b() = x_first ? y : x;
  return e;
}

std::string HashOf(const bas::v1::Block& block) {
  return crypto::HashBytes(chain::BlockHash(block.header()));
}

}  // namespace

Result<TimeoutParams> TimeoutParams::FromChainParams(const bas::v1::ConsensusParams& p) {
  if (p.timeout_propose_ms() == 0 || p.timeout_prevote_ms() == 0 || p.timeout_precommit_ms() == 0 ||
      p.timeout_delta_ms() == 0) {
    return Refuse("INVALID_CONSENSUS_PARAMS",
                  "timeout_propose_ms, timeout_prevote_ms, timeout_precommit_ms and "
                  "timeout_delta_ms must all be above 0");
  }
  return TimeoutParams{p.timeout_propose_ms(), p.timeout_prevote_ms(), p.timeout_precommit_ms(),
                       p.timeout_delta_ms()};
}

uint64_t TimeoutParams::For(Step step, uint32_t round) const {
  const uint64_t base = step == Step::kPropose   ? propose_ms
                        : step == Step::kPrevote ? prevote_ms
                                                 : precommit_ms;
  const unsigned __int128 t =
      static_cast<unsigned __int128>(base) + static_cast<unsigned __int128>(round) * delta_ms;
  return t > std::numeric_limits<uint64_t>::max() ? std::numeric_limits<uint64_t>::max()
                                                  : static_cast<uint64_t>(t);
}

Core::Core(std::string chain_id, TimeoutParams timeouts, crypto::KeyPair key, SafetyStore* store,
           std::optional<SafetyRecord> persisted)
    : chain_id_(std::move(chain_id)),
      timeouts_(timeouts),
      key_(std::move(key)),
      key_bytes_(crypto::HashBytes(key_.public_key())),
      store_(store),
      record_(std::move(persisted)) {}

Result<Effects> Core::Finish(Effects out, Status status) {
  if (!status.ok()) return status.error();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Inputs

Result<Effects> Core::StartHeight(uint64_t height, ValidatorSet validators) {
  if (halted_) return Refuse("HALTED", "a SafetyStore::Save failed");
  previous_ = PreviousHeight{};
  if (started_ && height == height_ + 1) {
    previous_.height = height_;
    previous_.validators = std::move(validators_);
    for (const auto& [round, log] : rounds_) {
      for (const auto& [i, slot] : log.prevotes.by_validator) {
        previous_.votes[{round, bas::v1::PREVOTE, i}] = slot;
      }
      for (const auto& [i, slot] : log.precommits.by_validator) {
        previous_.votes[{round, bas::v1::PRECOMMIT, i}] = slot;
      }
    }
  }
  started_ = true;
  decided_ = false;
  height_ = height;
  validators_ = std::move(validators);
  self_ = validators_->IndexOf(key_bytes_);
  round_ = 0;
  step_ = Step::kPropose;
  block_requested_for_.reset();
  // Line 53: the lock, the valid value and the message log start empty at each height.
  locked_round_ = valid_round_ = -1;
  locked_hash_.clear();
  valid_hash_.clear();
  locked_block_.reset();
  valid_block_.reset();
  rounds_.clear();
  blocks_.clear();
  certificate_.reset();

  Effects out;
  Status status;
  if (record_ && record_->height == height && self_) {
    // Resumption after a restart: the state the record covers, and every message in it sent
    // again (they may never have left before the crash; re-sending the same bytes is harmless).
    if (record_->locked_round >= 0) {
      locked_round_ = record_->locked_round;
      locked_block_ = record_->locked_block;
      locked_hash_ = HashOf(*locked_block_);
      LearnBlock(locked_hash_, locked_block_, Validity::kValid, out);
    }
    if (record_->valid_round >= 0) {
      valid_round_ = record_->valid_round;
      valid_block_ = record_->valid_block;
      valid_hash_ = HashOf(*valid_block_);
      LearnBlock(valid_hash_, valid_block_, Validity::kValid, out);
    }
    for (const SignedMessage& m : record_->signed_messages) {
      if (const auto* p = std::get_if<bas::v1::ConsensusProposal>(&m)) {
        AddProposal(std::make_shared<const bas::v1::ConsensusProposal>(*p), ProposalBlockHash(*p),
                    Validity::kValid, out);
        out.push_back(BroadcastProposal{*p});
      } else {
        const auto& v = std::get<bas::v1::ConsensusVote>(m);
        AddVote(v, *self_);
        out.push_back(BroadcastVote{v});
      }
    }
    if (record_->signed_messages.empty()) {
      status = StartRound(0, out);
    } else {
      const Position last = PositionOf(record_->signed_messages.back());
      round_ = last.round;
      step_ = last.step;
      // The timers of the crashed process are gone. Those of lines 34 and 47 are scheduled
      // again when their condition holds again (the message log restarts empty); line 21's
      // is scheduled only by StartRound, so it is scheduled here.
      if (step_ == Step::kPropose) Schedule(Step::kPropose, out);
    }
  } else {
    status = StartRound(0, out);  // line 10
  }
  if (status.ok()) status = RunRules(out);
  return Finish(std::move(out), status);
}

Result<Effects> Core::OnProposal(const bas::v1::ConsensusProposal& p) {
  if (halted_) return Refuse("HALTED", "a SafetyStore::Save failed");
  if (!started_) return Refuse("NOT_STARTED", "no height started");
  if (std::string why = CheckProposalShape(p, chain_id_); !why.empty()) {
    return Refuse("INVALID_MESSAGE", why);
  }
  if (p.height() != height_) {
    return Refuse(p.height() < height_ ? "STALE_HEIGHT" : "FUTURE_HEIGHT",
                  "proposal for height " + std::to_string(p.height()));
  }
  if (uint64_t{p.round()} > uint64_t{round_} + kMaxRoundsAhead) {
    return Refuse("ROUND_TOO_FAR", "proposal for round " + std::to_string(p.round()));
  }
  if (validators_->key(validators_->Proposer(height_, p.round())) != p.proposer()) {
    return Refuse("NOT_PROPOSER", "not the proposer of round " + std::to_string(p.round()));
  }
  const std::string hash = ProposalBlockHash(p);
  if (auto it = rounds_.find(p.round()); it != rounds_.end()) {
    const auto& proposals = it->second.proposals;
    for (const RoundProposal& known : proposals) {
      if (known.block_hash == hash && known.proposal->valid_round() == p.valid_round()) {
        return Effects{};  // a duplicate
      }
    }
    if (proposals.size() >= kMaxProposalsPerRound) return Effects{};
  }
  if (!VerifyProposal(chain_id_, p)) return Refuse("BAD_SIGNATURE", "proposal signature");
  if (decided_) return Effects{};
  Effects out;
  AddProposal(std::make_shared<const bas::v1::ConsensusProposal>(p), hash, Validity::kUnknown, out);
  Status status = RunRules(out);
  return Finish(std::move(out), status);
}

Result<Effects> Core::OnVote(const bas::v1::ConsensusVote& v) {
  if (halted_) return Refuse("HALTED", "a SafetyStore::Save failed");
  if (!started_) return Refuse("NOT_STARTED", "no height started");
  if (std::string why = CheckVoteShape(v); !why.empty()) return Refuse("INVALID_MESSAGE", why);
  if (v.height() != height_) {
    if (previous_.validators && v.height() == previous_.height) return OnPreviousHeightVote(v);
    return Refuse(v.height() < height_ ? "STALE_HEIGHT" : "FUTURE_HEIGHT",
                  "vote for height " + std::to_string(v.height()));
  }
  const std::optional<size_t> index = validators_->IndexOf(v.validator());
  if (!index) return Refuse("UNKNOWN_VALIDATOR", "vote by a key outside the validator set");
  if (uint64_t{v.round()} > uint64_t{round_} + kMaxRoundsAhead) {
    return Refuse("ROUND_TOO_FAR", "vote for round " + std::to_string(v.round()));
  }
  if (auto it = rounds_.find(v.round()); it != rounds_.end()) {
    const VoteTally& tally =
        v.type() == bas::v1::PREVOTE ? it->second.prevotes : it->second.precommits;
    if (auto slot = tally.by_validator.find(*index); slot != tally.by_validator.end()) {
      for (const auto& known : slot->second) {
        if (known.block_hash() == v.block_hash()) return Effects{};  // a duplicate
      }
      // Already an equivocation on record (and reported): a third value adds nothing.
      if (slot->second.size() >= 2) return Effects{};
    }
  }
  if (!chain::VerifyVote(chain_id_, v)) return Refuse("BAD_SIGNATURE", "vote signature");
  Effects out;
  if (auto evidence = AddVote(v, *index)) out.push_back(ReportEvidence{std::move(*evidence)});
  Status status = RunRules(out);
  return Finish(std::move(out), status);
}

Result<Effects> Core::OnPreviousHeightVote(const bas::v1::ConsensusVote& v) {
  const std::optional<size_t> index = previous_.validators->IndexOf(v.validator());
  if (!index) return Refuse("UNKNOWN_VALIDATOR", "vote by a key outside the validator set");
  uint32_t last_round = 0;
  if (!previous_.votes.empty()) last_round = std::get<0>(previous_.votes.rbegin()->first);
  if (uint64_t{v.round()} > uint64_t{last_round} + kMaxRoundsAhead) {
    return Refuse("ROUND_TOO_FAR", "vote for round " + std::to_string(v.round()));
  }
  VoteSlot& slot = previous_.votes[{v.round(), v.type(), *index}];
  for (const auto& known : slot) {
    if (known.block_hash() == v.block_hash()) return Effects{};
  }
  if (slot.size() >= 2) return Effects{};
  if (!chain::VerifyVote(chain_id_, v)) {
    if (slot.empty()) previous_.votes.erase({v.round(), v.type(), *index});
    return Refuse("BAD_SIGNATURE", "vote signature");
  }
  slot.push_back(v);
  Effects out;
  if (slot.size() == 2) out.push_back(ReportEvidence{MakeEvidence(slot[0], slot[1])});
  return out;
}

Result<Effects> Core::OnTimeout(const Timeout& t) {
  if (halted_) return Refuse("HALTED", "a SafetyStore::Save failed");
  if (!started_) return Refuse("NOT_STARTED", "no height started");
  if (t.height != height_ || t.round != round_ || decided_) return Effects{};
  Effects out;
  Status status;
  switch (t.step) {
    case Step::kPropose:  // lines 57-60
      if (step_ == Step::kPropose) {
        status = Vote(bas::v1::PREVOTE, "", out);
        step_ = Step::kPrevote;
      }
      break;
    case Step::kPrevote:  // lines 61-64
      if (step_ == Step::kPrevote) {
        status = Vote(bas::v1::PRECOMMIT, "", out);
        step_ = Step::kPrecommit;
      }
      break;
    case Step::kPrecommit:  // lines 65-67
      if (round_ < std::numeric_limits<uint32_t>::max()) status = StartRound(round_ + 1, out);
      break;
  }
  if (status.ok()) status = RunRules(out);
  return Finish(std::move(out), status);
}

Result<Effects> Core::OnBlockValid(std::string_view block_hash, bool valid) {
  if (halted_) return Refuse("HALTED", "a SafetyStore::Save failed");
  if (!started_) return Refuse("NOT_STARTED", "no height started");
  auto it = blocks_.find(std::string(block_hash));
  if (it == blocks_.end() || it->second.validity != Validity::kUnknown) return Effects{};
  it->second.validity = valid ? Validity::kValid : Validity::kInvalid;
  Effects out;
  Status status = RunRules(out);
  return Finish(std::move(out), status);
}

Result<Effects> Core::OnProposalBlock(uint64_t height, uint32_t round, bas::v1::Block block) {
  if (halted_) return Refuse("HALTED", "a SafetyStore::Save failed");
  if (!started_) return Refuse("NOT_STARTED", "no height started");
  if (height != height_ || round != round_ || decided_ || step_ != Step::kPropose ||
      block_requested_for_ != round) {
    return Effects{};  // too late: the validator has moved on
  }
  if (std::string why = CheckBlockShape(block, chain_id_, height_); !why.empty()) {
    return Refuse("INVALID_BLOCK", why);
  }
  block_requested_for_.reset();
  Effects out;
  // Line 19 with proposal = getValue(): validValue_p is nil, so validRound_p is -1.
  Status status = Propose(std::make_shared<const bas::v1::Block>(std::move(block)), -1, out);
  if (status.ok()) status = RunRules(out);
  return Finish(std::move(out), status);
}

Result<Effects> Core::OnCommit(const bas::v1::Block& block, const bas::v1::Commit& commit) {
  if (halted_) return Refuse("HALTED", "a SafetyStore::Save failed");
  if (!started_) return Refuse("NOT_STARTED", "no height started");
  if (block.has_header() && block.header().height() != height_) {
    return Refuse(block.header().height() < height_ ? "STALE_HEIGHT" : "FUTURE_HEIGHT",
                  "block for height " + std::to_string(block.header().height()));
  }
  if (std::string why = CheckBlockShape(block, chain_id_, height_); !why.empty()) {
    return Refuse("INVALID_MESSAGE", why);
  }
  if (std::string why = chain::CheckCommitShape(commit); !why.empty()) {
    return Refuse("INVALID_COMMIT", why);
  }
  const std::string hash = HashOf(block);
  if (Status s = chain::VerifyCommit(chain_id_, height_, hash, commit, validators_->proto());
      !s.ok()) {
    return s.error();
  }
  if (decided_) return Effects{};
  Effects out;
  // More than 2/3 of the power precommitted the block in commit.round: the 2f + 1 messages of
  // line 49. A second certificate for another block would need more than 1/3 of the power to
  // equivocate; the first one is kept.
  if (!certificate_) certificate_ = Certificate{hash, commit};
  LearnBlock(hash, std::make_shared<const bas::v1::Block>(block), Validity::kUnknown, out);
  Status status = RunRules(out);
  return Finish(std::move(out), status);
}

std::vector<SignedMessage> Core::OwnMessages() const {
  if (!record_ || record_->height != height_ || !started_) return {};
  return record_->signed_messages;
}

// ---------------------------------------------------------------------------------------------
// The upon-rules. RunRules applies them until none is enabled; each one that fires changes the
// state so that it is not enabled again (a step, a round, a "for the first time" flag or the
// decision). The paper lets enabled rules fire in any order; this order decides first.

Status Core::RunRules(Effects& out) {
  using Rule = Status (Core::*)(Effects&, bool&);
  static constexpr Rule kRules[] = {&Core::Line49, &Core::Line55, &Core::Line22Or28, &Core::Line34,
                                    &Core::Line36, &Core::Line44, &Core::Line47};
  bool fired = true;
  while (fired && !decided_) {
    fired = false;
    for (Rule rule : kRules) {
      Status status = (this->*rule)(out, fired);
      if (!status.ok()) return status;
      if (fired || decided_) break;
    }
  }
  return Status::Ok();
}

// Line 49: upon <PROPOSAL, h_p, r, v, *> from proposer(h_p, r) AND 2f + 1 <PRECOMMIT, h_p, r,
// id(v)> while decision_p[h_p] = nil: if valid(v), decide v. The proposal's role is to give v
// for id(v); a block whose BlockHash is id(v) gives the same v whatever delivered it, so any
// known block counts (a proposal of any round, a lock restored after a restart, block sync).
Status Core::Line49(Effects& out, bool& fired) {
  auto decide = [&](uint32_t round, const std::string& hash, bas::v1::Commit commit) {
    decided_ = true;  // line 51; lines 52-54 are the driver's StartHeight(h + 1)
    fired = true;
    out.push_back(Decide{height_, round, hash, blocks_.at(hash).block, std::move(commit)});
  };
  if (certificate_ && ValidityOf(certificate_->block_hash) == Validity::kValid) {  // line 50
    decide(certificate_->commit.round(), certificate_->block_hash, certificate_->commit);
    return Status::Ok();
  }
  for (const auto& [round, log] : rounds_) {
    for (const auto& [hash, power] : log.precommits.power_for) {
      if (hash.empty() || !validators_->IsQuorum(power)) continue;
      // Line 50: an invalid v is never decided; an unknown one waits for OnBlockValid (asked
      // for when the block arrived) or for the block itself.
      if (ValidityOf(hash) != Validity::kValid) continue;
      std::vector<bas::v1::ConsensusVote> precommits;
      for (const auto& [i, slot] : log.precommits.by_validator) {
        for (const auto& v : slot) {
          if (v.block_hash() == hash) precommits.push_back(v);
        }
      }
      decide(round, hash, chain::MakeCommit(height_, round, hash, precommits));
      return Status::Ok();
    }
  }
  return Status::Ok();
}

// Line 55: upon f + 1 <*, h_p, round, *, *> with round > round_p do StartRound(round). The
// highest such round is taken.
Status Core::Line55(Effects& out, bool& fired) {
  for (auto it = rounds_.rbegin(); it != rounds_.rend() && it->first > round_; ++it) {
    if (validators_->IsBlocking(it->second.heard_power)) {
      fired = true;
      return StartRound(it->first, out);  // line 56
    }
  }
  return Status::Ok();
}

// Line 22: upon <PROPOSAL, h_p, round_p, v, -1> from proposer(h_p, round_p) while
// step_p = propose. Line 28: upon <PROPOSAL, h_p, round_p, v, vr> from proposer(h_p, round_p)
// AND 2f + 1 <PREVOTE, h_p, vr, id(v)> while step_p = propose and 0 <= vr < round_p (the range
// is checked when the proposal arrives). Both need valid(v) answered; until then they wait.
Status Core::Line22Or28(Effects& out, bool& fired) {
  if (step_ != Step::kPropose) return Status::Ok();
  auto it = rounds_.find(round_);
  if (it == rounds_.end()) return Status::Ok();
  for (const RoundProposal& rp : it->second.proposals) {
    const Validity validity = ValidityOf(rp.block_hash);
    if (validity == Validity::kUnknown) continue;
    const int32_t vr = rp.proposal->valid_round();
    bool for_block = false;
    if (vr == -1) {
      // Line 23: valid(v) and (lockedRound_p = -1 or lockedValue_p = v).
      for_block =
          validity == Validity::kValid && (locked_round_ == -1 || locked_hash_ == rp.block_hash);
    } else {
      auto at_vr = rounds_.find(static_cast<uint32_t>(vr));
      if (at_vr == rounds_.end() || !Quorum(at_vr->second.prevotes, rp.block_hash)) continue;
      // Line 29: valid(v) and (lockedRound_p <= vr or lockedValue_p = v).
      for_block =
          validity == Validity::kValid && (locked_round_ <= vr || locked_hash_ == rp.block_hash);
    }
    fired = true;
    // Lines 24/26 and 30/32: prevote id(v) or nil; lines 27/33: step_p <- prevote.
    Status status = Vote(bas::v1::PREVOTE, for_block ? rp.block_hash : std::string(), out);
    step_ = Step::kPrevote;
    return status;
  }
  return Status::Ok();
}

// Line 34: upon 2f + 1 <PREVOTE, h_p, round_p, *> while step_p = prevote for the first time:
// schedule OnTimeoutPrevote(h_p, round_p) after timeoutPrevote(round_p).
Status Core::Line34(Effects& out, bool& fired) {
  if (step_ != Step::kPrevote) return Status::Ok();
  auto it = rounds_.find(round_);
  if (it == rounds_.end() || it->second.line34_fired ||
      !validators_->IsQuorum(it->second.prevotes.any_power)) {
    return Status::Ok();
  }
  it->second.line34_fired = fired = true;
  Schedule(Step::kPrevote, out);  // line 35
  return Status::Ok();
}

// Line 36: upon <PROPOSAL, h_p, round_p, v, *> from proposer(h_p, round_p) AND 2f + 1
// <PREVOTE, h_p, round_p, id(v)> while valid(v) and step_p >= prevote for the first time.
Status Core::Line36(Effects& out, bool& fired) {
  if (step_ == Step::kPropose) return Status::Ok();
  auto it = rounds_.find(round_);
  if (it == rounds_.end() || it->second.line36_fired) return Status::Ok();
  RoundLog& log = it->second;
  for (const RoundProposal& rp : log.proposals) {
    if (ValidityOf(rp.block_hash) != Validity::kValid || !Quorum(log.prevotes, rp.block_hash)) {
      continue;
    }
    log.line36_fired = fired = true;
    const std::shared_ptr<const bas::v1::Block> block = blocks_.at(rp.block_hash).block;
    // Lines 42-43 come first here so that the record saved with the precommit holds them too;
    // the rule is atomic, so the order inside it is not observable.
    valid_block_ = block;
    valid_hash_ = rp.block_hash;
    valid_round_ = static_cast<int32_t>(round_);
    if (step_ == Step::kPrevote) {  // line 37
      locked_block_ = block;        // line 38
      locked_hash_ = rp.block_hash;
      locked_round_ = static_cast<int32_t>(round_);                  // line 39
      Status status = Vote(bas::v1::PRECOMMIT, rp.block_hash, out);  // line 40
      step_ = Step::kPrecommit;                                      // line 41
      return status;
    }
    return Persist(std::nullopt);
  }
  return Status::Ok();
}

// Line 44: upon 2f + 1 <PREVOTE, h_p, round_p, nil> while step_p = prevote.
Status Core::Line44(Effects& out, bool& fired) {
  if (step_ != Step::kPrevote) return Status::Ok();
  auto it = rounds_.find(round_);
  if (it == rounds_.end() || !Quorum(it->second.prevotes, "")) return Status::Ok();
  fired = true;
  Status status = Vote(bas::v1::PRECOMMIT, "", out);  // line 45
  step_ = Step::kPrecommit;                           // line 46
  return status;
}

// Line 47: upon 2f + 1 <PRECOMMIT, h_p, round_p, *> for the first time: schedule
// OnTimeoutPrecommit(h_p, round_p) after timeoutPrecommit(round_p).
Status Core::Line47(Effects& out, bool& fired) {
  auto it = rounds_.find(round_);
  if (it == rounds_.end() || it->second.line47_fired ||
      !validators_->IsQuorum(it->second.precommits.any_power)) {
    return Status::Ok();
  }
  it->second.line47_fired = fired = true;
  Schedule(Step::kPrecommit, out);  // line 48
  return Status::Ok();
}

// Lines 11-21.
Status Core::StartRound(uint32_t round, Effects& out) {
  round_ = round;          // line 12
  step_ = Step::kPropose;  // line 13
  block_requested_for_.reset();
  if (self_ && validators_->Proposer(height_, round) == *self_) {  // line 14
    if (valid_block_) {                                            // lines 15-16
      Status status = Propose(valid_block_, valid_round_, out);    // line 19
      if (!status.ok()) return status;
    } else {  // line 18: getValue(), answered by OnProposalBlock
      block_requested_for_ = round;
      out.push_back(RequestBlock{height_, round});
    }
  }
  // Line 21. The proposer schedules it too: if its block is late it then prevotes nil like
  // any validator whose proposal is late, instead of waiting in the propose step.
  Schedule(Step::kPropose, out);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Signing, persistence and the message log

Status Core::Propose(std::shared_ptr<const bas::v1::Block> block, int32_t valid_round,
                     Effects& out) {
  if (!self_ || !MaySign({height_, round_, Step::kPropose})) return Status::Ok();
  auto proposal = std::make_shared<const bas::v1::ConsensusProposal>(
      SignProposal(key_, chain_id_, height_, round_, valid_round, *block));
  if (Status status = Persist(*proposal); !status.ok()) return status;
  out.push_back(BroadcastProposal{*proposal});
  AddProposal(proposal, HashOf(*block), Validity::kValid, out);
  return Status::Ok();
}

Status Core::Vote(bas::v1::VoteType type, std::string_view block_hash, Effects& out) {
  if (!self_ || !MaySign({height_, round_, StepOf(type)})) return Status::Ok();
  bas::v1::ConsensusVote vote = chain::SignVote(key_, chain_id_, type, height_, round_, block_hash);
  if (Status status = Persist(vote); !status.ok()) return status;
  out.push_back(BroadcastVote{vote});
  AddVote(vote, *self_);
  return Status::Ok();
}

bool Core::MaySign(const Position& position) const {
  if (!record_) return true;
  if (position.height != record_->height) return position.height > record_->height;
  return record_->signed_messages.empty() || PositionOf(record_->signed_messages.back()) < position;
}

Status Core::Persist(std::optional<SignedMessage> signed_now) {
  // Only a validator signs, and never below the record's height: nothing else needs saving.
  if (!self_ || (record_ && record_->height > height_)) return Status::Ok();
  // The record changes in place: a copy would copy every message signed at the height (the
  // proposal with its block) at each save. If the save fails it is put back as it was, so that
  // nothing it did not cover leaves (OwnMessages) and MaySign still answers from the stored one.
  const bool new_height = !record_ || record_->height != height_;
  std::optional<SafetyRecord> replaced;  // an earlier height's record (or none), moved out
  if (new_height) replaced = std::exchange(record_, SafetyRecord{.height = height_});
  SafetyRecord& record = *record_;
  const int32_t locked_round = std::exchange(record.locked_round, locked_round_);
  std::shared_ptr<const bas::v1::Block> locked_block =
      std::exchange(record.locked_block, locked_block_);
  const int32_t valid_round = std::exchange(record.valid_round, valid_round_);
  std::shared_ptr<const bas::v1::Block> valid_block =
      std::exchange(record.valid_block, valid_block_);
  const bool appended = signed_now.has_value();
  if (appended) record.signed_messages.push_back(std::move(*signed_now));
  if (Status status = store_->Save(record); !status.ok()) {
    if (new_height) {
      record_ = std::move(replaced);
    } else {
      if (appended) record.signed_messages.pop_back();
      record.locked_round = locked_round;
      record.locked_block = std::move(locked_block);
      record.valid_round = valid_round;
      record.valid_block = std::move(valid_block);
    }
    halted_ = true;
    return Refuse("PERSIST_FAILED", status.code() + ": " + status.message());
  }
  return Status::Ok();
}

void Core::Schedule(Step step, Effects& out) {
  out.push_back(ScheduleTimeout{{height_, round_, step}, timeouts_.For(step, round_)});
}

Core::RoundLog& Core::Log(uint32_t round) {
  RoundLog& log = rounds_[round];
  if (log.heard_from.empty()) log.heard_from.assign(validators_->size(), false);
  return log;
}

void Core::Hear(RoundLog& log, size_t validator) {
  if (log.heard_from[validator]) return;
  log.heard_from[validator] = true;
  log.heard_power += validators_->power(validator);
}

void Core::AddProposal(std::shared_ptr<const bas::v1::ConsensusProposal> proposal,
                       std::string block_hash, Validity validity, Effects& out) {
  RoundLog& log = Log(proposal->round());
  Hear(log, validators_->Proposer(height_, proposal->round()));
  // The block lives inside the proposal; the aliasing pointer keeps the proposal alive.
  std::shared_ptr<const bas::v1::Block> block(proposal, &proposal->block());
  LearnBlock(block_hash, std::move(block), validity, out);
  log.proposals.push_back({std::move(proposal), std::move(block_hash)});
}

std::optional<bas::v1::Evidence> Core::AddVote(const bas::v1::ConsensusVote& vote,
                                               size_t validator) {
  RoundLog& log = Log(vote.round());
  VoteTally& tally = vote.type() == bas::v1::PREVOTE ? log.prevotes : log.precommits;
  VoteSlot& slot = tally.by_validator[validator];
  const uint64_t power = validators_->power(validator);
  if (slot.empty()) tally.any_power += power;
  slot.push_back(vote);
  tally.power_for[vote.block_hash()] += power;
  Hear(log, validator);
  if (slot.size() == 2) return MakeEvidence(slot[0], slot[1]);
  return std::nullopt;
}

void Core::LearnBlock(const std::string& hash, std::shared_ptr<const bas::v1::Block> block,
                      Validity validity, Effects& out) {
  auto [it, inserted] = blocks_.try_emplace(hash);
  if (!inserted) {
    // This validator's own block (its proposal, its lock) needs no second opinion.
    if (validity == Validity::kValid && it->second.validity == Validity::kUnknown) {
      it->second.validity = Validity::kValid;
    }
    return;
  }
  it->second.block = std::move(block);
  it->second.validity = validity;
  if (validity == Validity::kUnknown) out.push_back(ValidateBlock{hash, it->second.block});
}

Core::Validity Core::ValidityOf(const std::string& hash) const {
  auto it = blocks_.find(hash);
  return it == blocks_.end() ? Validity::kUnknown : it->second.validity;
}

bool Core::Quorum(const VoteTally& tally, const std::string& hash) const {
  auto it = tally.power_for.find(hash);
  return it != tally.power_for.end() && validators_->IsQuorum(it->second);
}

}  // namespace bas::node::consensus
