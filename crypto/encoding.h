// Hex and base64 (RFC 4648, with padding) codecs. Decoders reject malformed input with
// code "MALFORMED_HEX" / "MALFORMED_BASE64" rather than guessing. Pure; thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/hash.h"
#include "crypto/result.h"

namespace bas::crypto {

std::string HexEncode(ByteSpan data);  // lowercase
inline std::string HexEncode(std::string_view data) { return HexEncode(AsBytes(data)); }
// Accepts upper and lower case; rejects odd length and non-hex characters.
Result<std::vector<uint8_t>> HexDecode(std::string_view hex);
// Decodes exactly N bytes; "MALFORMED_HEX" when the length differs.
template <size_t N>
Result<std::array<uint8_t, N>> HexDecodeFixed(std::string_view hex) {
  auto bytes = HexDecode(hex);
  if (!bytes.ok()) return bytes.error();
  if (bytes->size() != N) {
    return Error{"MALFORMED_HEX",
                 "expected " + std::to_string(N) + " bytes, got " + std::to_string(bytes->size())};
  }
  std::array<uint8_t, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

std::string Base64Encode(ByteSpan data);
// Requires canonical padded base64; rejects bad characters, bad padding and non-zero pad bits.
Result<std::vector<uint8_t>> Base64Decode(std::string_view text);

}  // namespace bas::crypto
