// Peer authentication (docs/p2p.md, "Authentication"). After the TLS 1.3 handshake each side
// sends a P2pHello signed with its node key over the TLS exporter value of the session, the
// chain id, its own TLS role and its own key. The exporter ties the signature to this one TLS
// session (a relay in the middle sees two sessions with two different values), the role byte
// stops a peer from reflecting our own hello back to us, and the chain id keeps a key's proof
// for one chain from counting on another. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bas/v1/p2p.pb.h"
#include "crypto/hash.h"
#include "crypto/result.h"
#include "crypto/schnorr.h"

namespace bas::node::p2p {

// A node's identity on the network: its BIP340 x-only node key.
using PeerKey = crypto::PublicKey;

inline constexpr uint32_t kProtocolVersion = 1;
// RFC 5705 / RFC 8446 section 7.5 exporter label; 32 bytes are exported, with no context.
inline constexpr std::string_view kExporterLabel = "EXPORTER-bas-p2p-auth-v1";
inline constexpr size_t kExporterBytes = 32;
// The BIP340 tag of the hash a hello signs.
inline constexpr std::string_view kAuthTag = "bas/p2p-auth";
// Longest chain id a hello may carry.
inline constexpr size_t kMaxChainIdBytes = 128;

// The TLS role of the side that signs (who opened the TCP connection is the client).
enum class TlsRole : uint8_t { kClient = 0x01, kServer = 0x02 };

// The canonical auth bytes: exporter (32) || u32 big-endian length of chain_id || chain_id ||
// role (1 byte) || node_key (32).
std::string AuthBytes(const crypto::Hash32& exporter, std::string_view chain_id, TlsRole role,
                      const PeerKey& node_key);

// The hello of key, signing as role, on the session whose exporter value is given.
bas::v1::P2pHello MakeHello(const crypto::KeyPair& key, std::string_view chain_id,
                            const crypto::Hash32& exporter, TlsRole role);

// Checks the hello the peer sent on this session, the peer being in peer_role (the opposite of
// ours). Returns the peer's key. Errors: "P2P_BAD_HELLO" (wrong version, key not 32 bytes or not
// on the curve, signature not 64 bytes, chain id too long), "P2P_WRONG_CHAIN" (another chain id),
// "P2P_BAD_SIGNATURE" (the signature is not over these auth bytes: another session, chain, role
// or key). Says nothing about whether the key is allowed or is our own: the caller decides.
Result<PeerKey> VerifyHello(const bas::v1::P2pHello& hello, std::string_view chain_id,
                            const crypto::Hash32& exporter, TlsRole peer_role);

// The first 8 bytes of key in hex, for logs.
std::string ShortKey(const PeerKey& key);

}  // namespace bas::node::p2p
