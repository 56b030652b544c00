// The stateless stage of a governance transaction (Bitcoin Core's consensus/tx_check.h): what
// can be decided from the tx's bytes and the chain id alone, without any state. Decoding,
// canonical encoding, field limits and signatures; the tx's identity and the messages its
// signatures sign; and SignTx, the inverse that wallets and tests use.
//
// Pure functions; thread-safe. The contextual checks and the apply are the Engine's
// (governance/engine.h).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "bas/v1/tx.pb.h"
#include "crypto/hash.h"
#include "crypto/schnorr.h"
#include "governance/codes.h"

namespace bas::governance {

// Size limits (bytes, UTF-8 checked) and counts; a tx over one is INVALID_ARGUMENT.
inline constexpr size_t kMaxTxBytes = 64 * 1024;
inline constexpr size_t kMaxTitleBytes = 200;
inline constexpr size_t kMaxSummaryBytes = 10000;
inline constexpr size_t kMaxReasonBytes = 1000;
inline constexpr size_t kMaxStatementBytes = 2000;
inline constexpr size_t kMaxActions = 16;

// A transaction that passed the stateless checks.
struct CheckedTx {
  std::string raw;  // the SignedTx bytes exactly as received (a leaf of the tx root)
  bas::v1::SignedTx signed_tx;
  bas::v1::TxBody body;
  crypto::PublicKey signer{};
  // tagged_hash("bas/txid", signer || body bytes): the tx's identity, independent of the
  // signature's randomness. A proposal's id is the id of the tx that opened it.
  crypto::Hash32 tx_id{};
};

struct TxOutcome {
  Code code = Code::kOk;
  std::string message;  // why, for people
  bool ok() const { return code == Code::kOk; }
};

struct CheckTxResult {
  TxOutcome outcome;
  // Complete only when outcome.ok(); signer and tx_id are set as soon as the SignedTx decodes
  // with a 32-byte signer and a 64-byte signature, so a refused tx can still be named.
  CheckedTx tx;
};

// Stateless checks in the order of "Precise rules" 1: decoding, chain id, fields and limits
// (INVALID_ARGUMENT), then the signature(s) (BAD_SIGNATURE). With verify_signature false the
// caller vouches that the signature was verified already (the mempool's cached result).
CheckTxResult CheckTx(std::string_view signed_tx_bytes, std::string_view chain_id,
                      bool verify_signature = true);

// tagged_hash("bas/txid", signer || body).
crypto::Hash32 TxId(const crypto::PublicKey& signer, std::string_view body);
// The message a tx signature signs: tagged_hash("bas/tx", body).
crypto::Hash32 TxSigHash(std::string_view body);
// The message a RotateKey's new key signs: tagged_hash("bas/rotate-key", old || new || chain).
crypto::Hash32 RotateKeySigHash(const crypto::PublicKey& old_key, const crypto::PublicKey& new_key,
                                std::string_view chain_id);

// A tx as its signer made it: the SignedTx bytes to submit and the id the chain will know
// them by (TxId of the body bytes inside), so that no caller parses its own tx to name it.
struct SignedTxBytes {
  std::string bytes;
  crypto::Hash32 tx_id{};
};

// Serializes body once and signs those exact bytes.
SignedTxBytes SignTx(const crypto::KeyPair& key, const bas::v1::TxBody& body);

}  // namespace bas::governance
