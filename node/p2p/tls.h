// The TLS side of a P2P connection (docs/p2p.md, "TLS"): TLS 1.3 only, an ephemeral
// self-signed Ed25519 certificate made at startup, and the RFC 5705 exporter value that the
// hello signs. Certificates are not verified: a node's identity is its node key, proven by the
// hello (auth.h), not its certificate.
#pragma once

#include <memory>

#include <boost/asio/ssl.hpp>

#include "crypto/hash.h"
#include "crypto/result.h"

namespace bas::node::p2p {

// A context for both roles: TLS 1.3 as minimum and maximum version, a fresh Ed25519 key and a
// self-signed certificate for it (valid one day back to ten years on), no peer verification.
// Errors: "P2P_TLS_SETUP_FAILED" with OpenSSL's reason. Thread-safe (each call is independent);
// the context may be shared by the streams of one io_context.
Result<std::unique_ptr<boost::asio::ssl::context>> MakeTlsContext();

// The kExporterBytes exporter value of a finished TLS session (label kExporterLabel, no
// context). Errors: "P2P_TLS_SETUP_FAILED" when the handshake has not finished or OpenSSL fails.
Result<crypto::Hash32> ExportAuthValue(SSL* ssl);

}  // namespace bas::node::p2p
