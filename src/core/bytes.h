// Byte strings and their text encodings (base64, base64url, hex).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace vouchsafe {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_text(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes to_bytes(std::string_view s) {
  auto v = as_bytes(s);
  return {v.begin(), v.end()};
}

// RFC 4648 §4 with padding.
std::string base64_encode(ByteView data);
// RFC 4648 §5 without padding (JOSE).
std::string base64url_encode(ByteView data);
// Strict decoders: reject characters outside the alphabet and bad padding.
// base64_decode accepts missing padding; whitespace is not accepted.
Result<Bytes> base64_decode(std::string_view text);
Result<Bytes> base64url_decode(std::string_view text);

std::string hex_encode(ByteView data);
// Accepts upper and lower case, and ignores whitespace and ':' separators.
Result<Bytes> hex_decode(std::string_view text);
// 0..15 for a hex digit of either case, -1 for anything else.
int hex_digit_value(char c);

}  // namespace vouchsafe
