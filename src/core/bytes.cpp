// Base64 and hex codecs, strict on input.
#include "core/bytes.h"

#include <array>

namespace vouchsafe {
namespace {

constexpr std::string_view k_std_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view k_url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(ByteView data, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = (data[i] << 16U) | (data[i + 1] << 8U) | data[i + 2];
    out += alphabet[(v >> 18U) & 63U];
    out += alphabet[(v >> 12U) & 63U];
    out += alphabet[(v >> 6U) & 63U];
    out += alphabet[v & 63U];
  }
  const std::size_t rest = data.size() - i;
  if (rest == 1) {
    const std::uint32_t v = data[i] << 16U;
    out += alphabet[(v >> 18U) & 63U];
    out += alphabet[(v >> 12U) & 63U];
    if (pad) out += "==";
  } else if (rest == 2) {
    const std::uint32_t v = (data[i] << 16U) | (data[i + 1] << 8U);
    out += alphabet[(v >> 18U) & 63U];
    out += alphabet[(v >> 12U) & 63U];
    out += alphabet[(v >> 6U) & 63U];
    if (pad) out += '=';
  }
  return out;
}

std::array<std::int8_t, 256> make_table(std::string_view alphabet) {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  }
  return t;
}

Result<Bytes> decode(std::string_view text, std::string_view alphabet, std::string_view what) {
  static const auto std_table = make_table(k_std_alphabet);
  static const auto url_table = make_table(k_url_alphabet);
  const auto& table = alphabet == k_std_alphabet ? std_table : url_table;

  std::size_t len = text.size();
  std::size_t padding = 0;
  while (len > 0 && text[len - 1] == '=' && padding < 2) {
    --len;
    ++padding;
  }
  if (padding > 0 && (len + padding) % 4 != 0) {
    return fail(ErrorCode::malformed_base64, std::string(what) + ": bad padding");
  }
  if (len % 4 == 1) {
    return fail(ErrorCode::malformed_base64, std::string(what) + ": impossible length");
  }
  Bytes out;
  out.reserve(len * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < len; ++i) {
    const auto v = table[static_cast<unsigned char>(text[i])];
    if (v < 0) {
      return fail(ErrorCode::malformed_base64,
                  std::string(what) + ": invalid character at offset " + std::to_string(i));
    }
    acc = (acc << 6U) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((acc >> static_cast<unsigned>(bits)) & 0xFFU));
    }
  }
  // Non-zero unused low bits are tolerated (RFC 4648 §3.5 lets decoders
  // choose): the published examples' placeholder values have them.
  return out;
}

}  // namespace

std::string base64_encode(ByteView data) {
  return encode(data, k_std_alphabet, true);
}
std::string base64url_encode(ByteView data) {
  return encode(data, k_url_alphabet, false);
}
Result<Bytes> base64_decode(std::string_view text) {
  return decode(text, k_std_alphabet, "base64");
}
Result<Bytes> base64url_decode(std::string_view text) {
  return decode(text, k_url_alphabet, "base64url");
}

std::string hex_encode(ByteView data) {
  constexpr std::string_view digits = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (auto b : data) {
    out += digits[b >> 4U];
    out += digits[b & 15U];
  }
  return out;
}

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<Bytes> hex_decode(std::string_view text) {
  Bytes out;
  int high = -1;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ':') continue;
    const int v = hex_digit_value(c);
    if (v < 0) return fail(ErrorCode::invalid_value, "hex: invalid character");
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>((high << 4) | v));
      high = -1;
    }
  }
  if (high >= 0) return fail(ErrorCode::invalid_value, "hex: odd number of digits");
  return out;
}

}  // namespace vouchsafe
