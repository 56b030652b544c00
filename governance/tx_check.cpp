// The stateless stage: CheckTx and the hashes a tx is named and signed by.
#include "governance/tx_check.h"

#include <algorithm>

#include "governance/validate.h"

namespace bas::governance {

crypto::Hash32 TxId(const crypto::PublicKey& signer, std::string_view body) {
  return crypto::TaggedHash("bas/txid", signer, crypto::AsBytes(body));
}

crypto::Hash32 TxSigHash(std::string_view body) { return crypto::TaggedHash("bas/tx", body); }

crypto::Hash32 RotateKeySigHash(const crypto::PublicKey& old_key, const crypto::PublicKey& new_key,
                                std::string_view chain_id) {
  crypto::TaggedHasher h("bas/rotate-key");
  h.Update(old_key);
  h.Update(new_key);
  h.Update(chain_id);
  return h.Final();
}

SignedTxBytes SignTx(const crypto::KeyPair& key, const bas::v1::TxBody& body) {
  bas::v1::SignedTx tx;
  tx.set_body(body.SerializeAsString());
  tx.set_signer(std::string(reinterpret_cast<const char*>(key.public_key().data()), 32));
  const crypto::Signature sig = key.Sign(TxSigHash(tx.body()));
  tx.set_signature(std::string(reinterpret_cast<const char*>(sig.data()), sig.size()));
  return {tx.SerializeAsString(), TxId(key.public_key(), tx.body())};
}

CheckTxResult CheckTx(std::string_view bytes, std::string_view chain_id, bool verify_signature) {
  CheckTxResult r;
  auto invalid = [&](std::string message) {
    r.outcome = {Code::kInvalidArgument, std::move(message)};
    return r;
  };
  if (bytes.size() > kMaxTxBytes) {
    return invalid("tx is " + std::to_string(bytes.size()) + " bytes, at most " +
                   std::to_string(kMaxTxBytes));
  }
  CheckedTx& tx = r.tx;
  if (!tx.signed_tx.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return invalid("not a SignedTx");
  }
  // One tx, one encoding: a re-encoded or padded copy would be a second tx with the same
  // meaning. Protobuf writes fields in number order, so a canonical encoder reproduces it.
  if (tx.signed_tx.SerializeAsString() != bytes)
    return invalid("SignedTx is not canonically encoded");
  if (tx.signed_tx.signer().size() != 32) return invalid("signer: must be 32 bytes");
  if (tx.signed_tx.signature().size() != 64) return invalid("signature: must be 64 bytes");
  const std::string& body = tx.signed_tx.body();
  // The id is known from here on, so that even a refused tx can be named to its sender.
  tx.signer = crypto::ToHash(tx.signed_tx.signer());
  tx.tx_id = TxId(tx.signer, body);
  if (!tx.body.ParseFromString(body)) return invalid("body: not a TxBody");
  if (tx.body.SerializeAsString() != body) return invalid("body: not canonically encoded");
  if (tx.body.chain_id() != chain_id) {
    return invalid("chain_id: \"" + tx.body.chain_id() + "\", this chain is \"" +
                   std::string(chain_id) + "\"");
  }
  if (auto e = ValidateTxBody(tx.body); !e.empty()) return invalid(e);

  tx.raw = std::string(bytes);
  if (verify_signature) {
    crypto::Signature sig;
    std::copy(tx.signed_tx.signature().begin(), tx.signed_tx.signature().end(), sig.begin());
    const crypto::Hash32 msg = TxSigHash(body);
    // Signers are members who sign again and again: their keys are lifted once per thread.
    if (!crypto::VerifyWithKeyCache(tx.signer, msg, sig)) {
      r.outcome = {Code::kBadSignature, "signature does not verify"};
      return r;
    }
    if (tx.body.tx_case() == bas::v1::TxBody::kRotateKey) {
      const auto& rk = tx.body.rotate_key();
      const crypto::PublicKey new_key = crypto::ToHash(rk.new_key());
      crypto::Signature new_sig;
      std::copy(rk.new_key_signature().begin(), rk.new_key_signature().end(), new_sig.begin());
      if (!crypto::Verify(new_key, RotateKeySigHash(tx.signer, new_key, chain_id), new_sig)) {
        r.outcome = {Code::kBadSignature, "new_key_signature does not verify"};
        return r;
      }
    }
  }
  r.outcome = {Code::kOk, ""};
  return r;
}

}  // namespace bas::governance
