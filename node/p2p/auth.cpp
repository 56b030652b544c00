#include "node/p2p/auth.h"

#include "crypto/encoding.h"

namespace bas::node::p2p {

std::string AuthBytes(const crypto::Hash32& exporter, std::string_view chain_id, TlsRole role,
                      const PeerKey& node_key) {
  std::string out;
  out.reserve(exporter.size() + 4 + chain_id.size() + 1 + node_key.size());
  out.append(crypto::AsStringView(exporter));
  const auto n = static_cast<uint32_t>(chain_id.size());
  out.push_back(static_cast<char>((n >> 24) & 0xff));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.append(chain_id);
  out.push_back(static_cast<char>(role));
  out.append(crypto::AsStringView(node_key));
  return out;
}

bas::v1::P2pHello MakeHello(const crypto::KeyPair& key, std::string_view chain_id,
                            const crypto::Hash32& exporter, TlsRole role) {
  const crypto::Hash32 digest =
      crypto::TaggedHash(kAuthTag, AuthBytes(exporter, chain_id, role, key.public_key()));
  bas::v1::P2pHello hello;
  hello.set_version(kProtocolVersion);
  hello.set_chain_id(std::string(chain_id));
  hello.set_node_key(crypto::HashBytes(key.public_key()));
  const crypto::Signature sig = key.Sign(digest);
  hello.set_signature(std::string(reinterpret_cast<const char*>(sig.data()), sig.size()));
  return hello;
}

Result<PeerKey> VerifyHello(const bas::v1::P2pHello& hello, std::string_view chain_id,
                            const crypto::Hash32& exporter, TlsRole peer_role) {
  if (hello.version() != kProtocolVersion) {
    return Error{"P2P_BAD_HELLO", "protocol version " + std::to_string(hello.version()) +
                                      ", expected " + std::to_string(kProtocolVersion)};
  }
  if (hello.chain_id().size() > kMaxChainIdBytes) {
    return Error{"P2P_BAD_HELLO",
                 "the chain id is over " + std::to_string(kMaxChainIdBytes) + " bytes"};
  }
  if (hello.chain_id() != chain_id) {
    return Error{"P2P_WRONG_CHAIN", "the peer is on chain '" + hello.chain_id() + "', not '" +
                                        std::string(chain_id) + "'"};
  }
  crypto::Signature sig{};
  if (hello.node_key().size() != 32 || hello.signature().size() != sig.size()) {
    return Error{"P2P_BAD_HELLO", "the node key must be 32 bytes and the signature 64"};
  }
  const PeerKey key = crypto::ToHash(hello.node_key());
  if (!crypto::IsValidPublicKey(key)) {
    return Error{"P2P_BAD_HELLO", "the node key is not a valid x-only public key"};
  }
  std::copy(hello.signature().begin(), hello.signature().end(), sig.begin());
  const crypto::Hash32 digest =
      crypto::TaggedHash(kAuthTag, AuthBytes(exporter, chain_id, peer_role, key));
  if (!crypto::Verify(key, digest, sig)) {
    return Error{"P2P_BAD_SIGNATURE",
                 "the hello of " + ShortKey(key) + " is not signed over this session's auth bytes"};
  }
  return key;
}

std::string ShortKey(const PeerKey& key) {
  return crypto::HexEncode(crypto::ByteSpan(key.data(), 8));
}

}  // namespace bas::node::p2p
