#include "node/p2p/tls.h"

#include <string>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "crypto/schnorr.h"
#include "node/p2p/auth.h"

namespace bas::node::p2p {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};

Error TlsError(std::string_view what) {
  std::string reason(what);
  // Drain OpenSSL's error queue of this thread, so a later call does not see stale errors.
  char buf[256];
  bool first = true;
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof(buf));
    reason += first ? ": " : "; ";
    reason += buf;
    first = false;
  }
  return Error{"P2P_TLS_SETUP_FAILED", reason};
}

// A self-signed certificate for key. Ed25519 signs without a separate digest, so no digest
// is fetched.
Result<std::unique_ptr<X509, X509Free>> SelfSigned(EVP_PKEY* key) {
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) return TlsError("X509_new");
  uint8_t serial_bytes[16];
  if (auto s = crypto::RandomBytes(serial_bytes); !s.ok()) return TlsError("serial");
  serial_bytes[0] &= 0x7f;  // a positive serial number
  BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr);
  bool ok = serial != nullptr && X509_set_version(cert.get(), 2) == 1 &&
            BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get())) != nullptr &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600) != nullptr &&
            X509_set_pubkey(cert.get(), key) == 1;
  BN_free(serial);
  X509_NAME* name = ok ? X509_get_subject_name(cert.get()) : nullptr;
  ok = ok && name != nullptr &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>("bas-p2p"), -1, -1,
                                  0) == 1 &&
       X509_set_issuer_name(cert.get(), name) == 1 && X509_sign(cert.get(), key, nullptr) > 0;
  if (!ok) return TlsError("self-signed certificate");
  return cert;
}

}  // namespace

Result<std::unique_ptr<boost::asio::ssl::context>> MakeTlsContext() {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) return TlsError("Ed25519 key generation");
  auto cert = SelfSigned(key.get());
  if (!cert.ok()) return cert.error();

  std::unique_ptr<boost::asio::ssl::context> ctx;
  try {
    ctx = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls);
  } catch (const std::exception& e) {
    return TlsError(std::string("SSL_CTX_new: ") + e.what());
  }
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION) != 1) {
    return TlsError("TLS 1.3 only");
  }
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // No session tickets: every connection runs the full handshake with fresh keys.
  SSL_CTX_set_num_tickets(native, 0);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  // Peers' certificates are ephemeral and self-signed; the hello proves who the peer is.
  SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
  if (SSL_CTX_use_certificate(native, cert->get()) != 1 ||
      SSL_CTX_use_PrivateKey(native, key.get()) != 1 || SSL_CTX_check_private_key(native) != 1) {
    return TlsError("certificate and key");
  }
  return ctx;
}

Result<crypto::Hash32> ExportAuthValue(SSL* ssl) {
  crypto::Hash32 out{};
  static_assert(sizeof(out) == kExporterBytes);
  if (ssl == nullptr || SSL_is_init_finished(ssl) != 1 ||
      SSL_export_keying_material(ssl, out.data(), out.size(), kExporterLabel.data(),
                                 kExporterLabel.size(), nullptr, 0, 0) != 1) {
    return TlsError("exporter");
  }
  return out;
}

}  // namespace bas::node::p2p
