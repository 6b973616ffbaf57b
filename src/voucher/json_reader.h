// A strict RFC 8259 reader for the small JSON documents of vouchers and JWS.
// One pass over the text: nesting bounded, duplicate members refused, strings
// checked as UTF-8 (RFC 3629) and unescaped. A voucher-request is mostly one
// long base64 string, which is copied a run at a time, not a character at a
// time as a general-purpose lexer does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace vouchsafe::voucher {

struct JsonMember;

struct JsonValue {
  enum class Kind { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool boolean = false;
  std::string text;                 // a string's value, or a number's literal as written
  std::vector<JsonValue> items;     // an array's elements
  std::vector<JsonMember> members;  // an object's, in document order

  // The member of an object with this name, or nullptr.
  [[nodiscard]] const JsonValue* find(std::string_view name) const;
  // The value of a number written as a non-negative integer that fits 64
  // bits; nothing for any other value.
  [[nodiscard]] std::optional<std::uint64_t> as_unsigned_integer() const;
};

struct JsonMember {
  std::string name;
  JsonValue value;
};

// "null", "boolean", "number", "string", "array" or "object".
std::string_view json_kind_name(JsonValue::Kind kind);

// The one JSON value the text holds (a UTF-8 byte order mark before it is
// ignored, as RFC 8259 §8.1 allows). Errors: malformed_json,
// nesting_too_deep (more than max_depth arrays and objects inside each
// other), duplicate_member.
Result<JsonValue> read_json(ByteView text, std::size_t max_depth);

}  // namespace vouchsafe::voucher
