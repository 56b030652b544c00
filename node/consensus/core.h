// The Tendermint consensus core (DESIGN.md section 5): Algorithm 1 of Buchman, Kwon and
// Milosevic, "The latest gossip on BFT consensus" (2018, arXiv:1807.04938), as a pure state
// machine. Events go in (a proposal, a vote, a timeout that fired, the answer to a question the
// core asked); effects come out, in the order the caller must carry them out: messages to
// broadcast, timeouts to schedule, blocks to validate, a block to propose, the decided block
// with its commit certificate, and evidence of equivocation. No threads, sockets, clocks or
// randomness (signatures use the CSPRNG through crypto::KeyPair::Sign, which does not affect
// any decision). docs/consensus.md maps every upon-rule to the code.
//
// One height at a time. The caller (the driver) starts each height with StartHeight, passing
// the validator set of that height (the core never computes it: validator updates take effect
// two heights later, which the chain knows, not the core). When the core decides (a Decide
// effect) it stops working on the height; the driver executes and stores the block, then calls
// StartHeight(height + 1, ...). Messages for a later height are refused with FUTURE_HEIGHT (the
// driver may keep them and pass them after StartHeight); messages for the previous height are
// still checked for equivocation (see OnVote).
//
// Values are blocks identified by node::chain::BlockHash(header). The core does not run the
// governance: valid(v) is the driver's answer to a ValidateBlock effect, given with
// OnBlockValid; getValue() is the driver's answer to a RequestBlock effect, given with
// OnProposalBlock.
//
// Persistence: before the core returns any message it signed, it has written the SafetyRecord
// that covers it through SafetyStore::Save (synchronously; see safety_record.h). A core built
// from the stored record after a crash resumes where the record ends and never signs at or
// below the last (height, round, step) it signed. If Save fails, the call returns
// PERSIST_FAILED, the signed message is dropped, and the core is halted: every later call
// returns HALTED. The driver should then stop the process and restart it from the store.
//
// Errors (stable codes) for inputs that are refused with no change of state:
//   NOT_STARTED      no StartHeight yet
//   INVALID_MESSAGE  malformed (field widths, vote type, valid_round, block header shape)
//   STALE_HEIGHT     for a height below the current one (and out of the evidence window)
//   FUTURE_HEIGHT    for a height above the current one
//   ROUND_TOO_FAR    for a round more than kMaxRoundsAhead above the current round
//   UNKNOWN_VALIDATOR the signer is not in the height's validator set
//   NOT_PROPOSER     a proposal not signed by proposer(height, round)
//   BAD_SIGNATURE    the signature does not verify
//   INVALID_COMMIT   (OnCommit) the certificate does not verify against the set
//   INVALID_BLOCK    (OnProposalBlock) the driver's block has a malformed header
// and for failures of the core itself: PERSIST_FAILED, HALTED. A duplicate message is not an
// error: it returns no effects.
//
// Not thread-safe: one thread drives a Core.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include "bas/v1/chain.pb.h"
#include "bas/v1/genesis.pb.h"
#include "crypto/result.h"
#include "crypto/schnorr.h"
#include "node/consensus/messages.h"
#include "node/consensus/safety_record.h"
#include "node/consensus/validator_set.h"

namespace bas::node::consensus {

// Messages for rounds further ahead than this are refused (ROUND_TOO_FAR), which bounds the
// memory a faulty validator can make the core spend on future rounds.
inline constexpr uint32_t kMaxRoundsAhead = 1000;
// A faulty proposer can sign several proposals for one round; the core keeps this many.
inline constexpr size_t kMaxProposalsPerRound = 4;

// The paper's timeoutX(r) = initTimeoutX + r * timeoutDelta, in milliseconds, from the chain's
// ConsensusParams (equal on all validators).
struct TimeoutParams {
  uint64_t propose_ms = 0;
  uint64_t prevote_ms = 0;
  uint64_t precommit_ms = 0;
  uint64_t delta_ms = 0;

  // Fails with "INVALID_CONSENSUS_PARAMS" when any of the four is 0.
  static Result<TimeoutParams> FromChainParams(const bas::v1::ConsensusParams& params);
  // The timeout of step in round.
  uint64_t For(Step step, uint32_t round) const;
};

// A timeout the core scheduled; given back to OnTimeout when it expires.
struct Timeout {
  uint64_t height = 0;
  uint32_t round = 0;
  Step step = Step::kPropose;  // kPropose: OnTimeoutPropose, and so on
  bool operator==(const Timeout&) const = default;
};

// Effects, in the order the driver must carry them out.
struct BroadcastProposal {
  bas::v1::ConsensusProposal proposal;  // signed; already durable in the SafetyRecord
};
struct BroadcastVote {
  bas::v1::ConsensusVote vote;  // signed; already durable in the SafetyRecord
};
// Call OnTimeout(timeout) after delay_ms of local time. Never cancelled: a timeout that no
// longer applies is ignored by OnTimeout.
struct ScheduleTimeout {
  Timeout timeout;
  uint64_t delay_ms = 0;
};
// getValue(): this validator proposes at height/round; answer with OnProposalBlock. A late or
// missing answer is safe: the validator then prevotes nil when its propose timeout expires.
struct RequestBlock {
  uint64_t height = 0;
  uint32_t round = 0;
};
// valid(v): check the block (transactions, app hash, results, ...) as a validator of this
// height; answer with OnBlockValid(block_hash, ok). Until then the rules that need valid(v)
// wait for it.
struct ValidateBlock {
  std::string block_hash;
  std::shared_ptr<const bas::v1::Block> block;
};
// The height is decided: block (valid per the driver) is certified by commit (more than 2/3
// of the height's power precommitted it in round), which node::chain::VerifyCommit accepts
// with the height's validator set. The core does nothing more at this height.
struct Decide {
  uint64_t height = 0;
  uint32_t round = 0;
  std::string block_hash;
  std::shared_ptr<const bas::v1::Block> block;
  bas::v1::Commit commit;
};
// Two votes by one validator for one height, round and type with different block hashes, both
// with valid signatures; vote_a has the bytewise smaller block hash (nil first), so the same
// pair gives the same evidence whichever arrived first. Reported once per validator, height,
// round and type.
struct ReportEvidence {
  bas::v1::Evidence evidence;
};
using Effect = std::variant<BroadcastProposal, BroadcastVote, ScheduleTimeout, RequestBlock,
                            ValidateBlock, Decide, ReportEvidence>;
using Effects = std::vector<Effect>;

class Core {
 public:
  // A core for the validator (or observer) with key. store is not owned and must outlive the
  // core. persisted is the record last saved through store (nullopt for a new node); the core
  // resumes from it when StartHeight reaches its height, and never signs at or below it.
  Core(std::string chain_id, TimeoutParams timeouts, crypto::KeyPair key, SafetyStore* store,
       std::optional<SafetyRecord> persisted);

  // Starts height with its validator set (upon start do StartRound(0), or the resumption of
  // the persisted record at this height: its messages are re-sent, its lock and valid value
  // restored, and the round and step are those of its last message). Any height may follow
  // any other (block sync can skip heights); if key is not in validators the core follows the
  // height without signing.
  Result<Effects> StartHeight(uint64_t height, ValidatorSet validators);

  // A proposal from the network (lines 22, 28, 36, 49, 55).
  Result<Effects> OnProposal(const bas::v1::ConsensusProposal& proposal);
  // A vote from the network (lines 28, 34, 36, 44, 47, 49, 55). A vote that conflicts with one
  // already received from the same validator (same height, round and type) is evidence; both
  // count, as messages do in the paper. Votes of the height before the current one are only
  // checked for such conflicts.
  Result<Effects> OnVote(const bas::v1::ConsensusVote& vote);
  // A scheduled timeout expired (lines 57-67).
  Result<Effects> OnTimeout(const Timeout& timeout);
  // The driver's answer to ValidateBlock. An answer for an unknown block is ignored.
  Result<Effects> OnBlockValid(std::string_view block_hash, bool valid);
  // The driver's answer to RequestBlock (line 18): the block this validator proposes. Ignored
  // when it comes too late (another height, round or step). The block is taken as valid.
  Result<Effects> OnProposalBlock(uint64_t height, uint32_t round, bas::v1::Block block);
  // A block and its commit certificate for the current height from block sync: once the
  // certificate verifies and the block is valid, the height is decided (line 49 with the
  // certificate's precommits as the 2f + 1 messages).
  Result<Effects> OnCommit(const bas::v1::Block& block, const bas::v1::Commit& commit);

  uint64_t height() const { return height_; }
  uint32_t round() const { return round_; }
  Step step() const { return step_; }
  bool decided() const { return decided_; }
  bool halted() const { return halted_; }
  int32_t locked_round() const { return locked_round_; }
  int32_t valid_round() const { return valid_round_; }
  // The messages this validator signed at the current height, oldest first: the driver
  // re-gossips them periodically (the paper assumes every message of a correct process reaches
  // every correct process; after a restart this is what makes it so).
  std::vector<SignedMessage> OwnMessages() const;

 private:
  enum class Validity : uint8_t { kUnknown, kValid, kInvalid };
  struct KnownBlock {
    std::shared_ptr<const bas::v1::Block> block;
    Validity validity = Validity::kUnknown;
  };
  // One validator's votes of one type in one round: the first, then at most one conflicting.
  using VoteSlot = std::vector<bas::v1::ConsensusVote>;
  struct VoteTally {
    std::map<size_t, VoteSlot> by_validator;
    std::map<std::string, uint64_t> power_for;  // block hash ("" = nil) -> power voting it
    uint64_t any_power = 0;                     // power of the validators with any vote
  };
  struct RoundProposal {
    std::shared_ptr<const bas::v1::ConsensusProposal> proposal;
    std::string block_hash;
  };
  struct RoundLog {
    VoteTally prevotes;
    VoteTally precommits;
    std::vector<RoundProposal> proposals;  // signed by proposer(h, r), in arrival order
    std::vector<bool> heard_from;          // validators with any message in this round
    uint64_t heard_power = 0;
    bool line34_fired = false;
    bool line36_fired = false;
    bool line47_fired = false;
  };
  struct Certificate {
    std::string block_hash;
    bas::v1::Commit commit;
  };
  // The previous height's votes, kept to detect equivocation in late votes.
  struct PreviousHeight {
    uint64_t height = 0;
    std::optional<ValidatorSet> validators;
    std::map<std::tuple<uint32_t, int, size_t>, VoteSlot> votes;  // (round, type, validator)
  };

  Result<Effects> Finish(Effects out, Status status);
  Status RunRules(Effects& out);
  Status Line22Or28(Effects& out, bool& fired);
  Status Line34(Effects& out, bool& fired);
  Status Line36(Effects& out, bool& fired);
  Status Line44(Effects& out, bool& fired);
  Status Line47(Effects& out, bool& fired);
  Status Line49(Effects& out, bool& fired);
  Status Line55(Effects& out, bool& fired);
  Status StartRound(uint32_t round, Effects& out);
  Status Propose(std::shared_ptr<const bas::v1::Block> block, int32_t valid_round, Effects& out);
  Status Vote(bas::v1::VoteType type, std::string_view block_hash, Effects& out);
  // Saves the record of the current height with signed_now (if any) appended and the lock and
  // valid value as they are now; on failure halts and leaves record_ as it was.
  Status Persist(std::optional<SignedMessage> signed_now);
  bool MaySign(const Position& position) const;
  void Schedule(Step step, Effects& out);

  Result<Effects> OnPreviousHeightVote(const bas::v1::ConsensusVote& vote);
  RoundLog& Log(uint32_t round);
  void Hear(RoundLog& log, size_t validator);
  void AddProposal(std::shared_ptr<const bas::v1::ConsensusProposal> proposal,
                   std::string block_hash, Validity validity, Effects& out);
  // Records a vote already known to be correctly signed; returns the evidence it makes, if any.
  std::optional<bas::v1::Evidence> AddVote(const bas::v1::ConsensusVote& vote, size_t validator);
  void LearnBlock(const std::string& hash, std::shared_ptr<const bas::v1::Block> block,
                  Validity validity, Effects& out);
  Validity ValidityOf(const std::string& hash) const;
  bool Quorum(const VoteTally& tally, const std::string& hash) const;

  std::string chain_id_;
  TimeoutParams timeouts_;
  crypto::KeyPair key_;
  std::string key_bytes_;
  SafetyStore* store_;
  std::optional<SafetyRecord> record_;  // the last record Save accepted (or was loaded)

  bool started_ = false;
  bool decided_ = false;
  bool halted_ = false;
  uint64_t height_ = 0;
  std::optional<ValidatorSet> validators_;
  std::optional<size_t> self_;  // this validator's index in validators_
  uint32_t round_ = 0;
  Step step_ = Step::kPropose;
  std::optional<uint32_t> block_requested_for_;  // the round of an unanswered RequestBlock
  int32_t locked_round_ = -1;
  std::string locked_hash_;
  std::shared_ptr<const bas::v1::Block> locked_block_;
  int32_t valid_round_ = -1;
  std::string valid_hash_;
  std::shared_ptr<const bas::v1::Block> valid_block_;
  std::map<uint32_t, RoundLog> rounds_;
  std::map<std::string, KnownBlock> blocks_;  // by block hash
  std::optional<Certificate> certificate_;
  PreviousHeight previous_;
};

}  // namespace bas::node::consensus
