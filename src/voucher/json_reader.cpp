// Strict JSON reading (RFC 8259) for voucher documents.
#include "voucher/json_reader.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace vouchsafe::voucher {
namespace {

class Reader {
 public:
  Reader(ByteView text, std::size_t max_depth)
      : begin_(text.data()),
        p_(text.data()),
        end_(text.data() + text.size()),
        max_depth_(max_depth) {}

  Status document(JsonValue& out) {
    if (end_ - p_ >= 3 && p_[0] == 0xEF && p_[1] == 0xBB && p_[2] == 0xBF) p_ += 3;
    TRY(value(out, 0));
    skip_space();
    if (p_ != end_) return malformed("text after the JSON value");
    return ok();
  }

 private:
  Status value(JsonValue& out, std::size_t depth) {
    skip_space();
    if (p_ == end_) return malformed("the text ends where a value should start");
    switch (*p_) {
      case '{':
        return object(out, depth + 1);
      case '[':
        return array(out, depth + 1);
      case '"':
        out.kind = JsonValue::Kind::string;
        ++p_;
        return string(out.text);
      case 't':
        out.kind = JsonValue::Kind::boolean;
        out.boolean = true;
        return literal("true");
      case 'f':
        out.kind = JsonValue::Kind::boolean;
        return literal("false");
      case 'n':
        return literal("null");
      default:
        out.kind = JsonValue::Kind::number;
        return number(out.text);
    }
  }

  Status object(JsonValue& out, std::size_t depth) {
    TRY(enter(depth));
    out.kind = JsonValue::Kind::object;
    ++p_;
    skip_space();
    if (at('}')) {
      ++p_;
      return ok();
    }
    while (true) {
      skip_space();
      if (!at('"')) return malformed("an object member's name must be a string");
      ++p_;
      auto& member = out.members.emplace_back();
      TRY(string(member.name));
      skip_space();
      if (!at(':')) return malformed("':' must follow a member's name");
      ++p_;
      TRY(value(member.value, depth));
      skip_space();
      if (at(',')) {
        ++p_;
        continue;
      }
      if (at('}')) {
        ++p_;
        return unique_names(out.members);
      }
      return malformed("',' or '}' must follow an object member");
    }
  }

  Status array(JsonValue& out, std::size_t depth) {
    TRY(enter(depth));
    out.kind = JsonValue::Kind::array;
    ++p_;
    skip_space();
    if (at(']')) {
      ++p_;
      return ok();
    }
    while (true) {
      TRY(value(out.items.emplace_back(), depth));
      skip_space();
      if (at(',')) {
        ++p_;
        continue;
      }
      if (at(']')) {
        ++p_;
        return ok();
      }
      return malformed("',' or ']' must follow an array element");
    }
  }

  // After the opening quote; runs of plain ASCII are copied whole.
  Status string(std::string& out) {
    while (true) {
      const std::uint8_t* run = p_;
      while (p_ != end_ && *p_ >= 0x20 && *p_ < 0x80 && *p_ != '"' && *p_ != '\\') ++p_;
      out.append(run, p_);
      if (p_ == end_) return malformed("a string is not terminated");
      if (*p_ == '"') {
        ++p_;
        return ok();
      }
      if (*p_ == '\\') {
        TRY(escape(out));
      } else if (*p_ < 0x20) {
        return malformed("a control character in a string must be escaped");
      } else {
        TRY(utf8_sequence(out));
      }
    }
  }

  Status escape(std::string& out) {
    ++p_;
    if (p_ == end_) return malformed("a string is not terminated");
    const std::uint8_t c = *p_++;
    switch (c) {
      case '"':
      case '\\':
      case '/':
        out += static_cast<char>(c);
        return ok();
      case 'b':
        out += '\b';
        return ok();
      case 'f':
        out += '\f';
        return ok();
      case 'n':
        out += '\n';
        return ok();
      case 'r':
        out += '\r';
        return ok();
      case 't':
        out += '\t';
        return ok();
      case 'u':
        break;
      default:
        return malformed("an unknown escape in a string");
    }
    ASSIGN_OR_RETURN(std::uint32_t code, hex4());
    if (code >= 0xDC00 && code <= 0xDFFF) return malformed("a \\u escape of a lone low surrogate");
    if (code >= 0xD800 && code <= 0xDBFF) {
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
        return malformed("a \\u escape of a high surrogate without its low surrogate");
      }
      p_ += 2;
      ASSIGN_OR_RETURN(const std::uint32_t low, hex4());
      if (low < 0xDC00 || low > 0xDFFF) {
        return malformed("a \\u escape of a high surrogate without its low surrogate");
      }
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, code);
    return ok();
  }

  Result<std::uint32_t> hex4() {
    if (end_ - p_ < 4) return malformed("a \\u escape needs four hex digits");
    std::uint32_t code = 0;
    for (int i = 0; i < 4; ++i) {
      const int digit = hex_digit_value(static_cast<char>(*p_++));
      if (digit < 0) return malformed("a \\u escape needs four hex digits");
      code = (code << 4) | static_cast<std::uint32_t>(digit);
    }
    return code;
  }

  static void append_utf8(std::string& out, std::uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  // RFC 3629 §4: no overlong forms, no surrogates, nothing past U+10FFFF.
  Status utf8_sequence(std::string& out) {
    const std::uint8_t lead = *p_;
    std::ptrdiff_t length = 0;
    std::uint32_t code = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
      code = lead & 0x1FU;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      code = lead & 0x0FU;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      code = lead & 0x07U;
    } else {
      return malformed("a string is not valid UTF-8");
    }
    if (end_ - p_ < length) return malformed("a string is not valid UTF-8");
    for (std::ptrdiff_t i = 1; i < length; ++i) {
      if ((p_[i] & 0xC0) != 0x80) return malformed("a string is not valid UTF-8");
      code = (code << 6) | (p_[i] & 0x3FU);
    }
    if ((length == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) ||
        (length == 4 && (code < 0x10000 || code > 0x10FFFF))) {
      return malformed("a string is not valid UTF-8");
    }
    out.append(p_, p_ + length);
    p_ += length;
    return ok();
  }

  // -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?, kept as written.
  Status number(std::string& out) {
    const std::uint8_t* start = p_;
    if (at('-')) ++p_;
    if (at('0')) {
      ++p_;
    } else if (digit()) {
      while (digit()) ++p_;
    } else {
      return malformed(p_ == start ? "not a JSON value" : "a '-' must be followed by digits");
    }
    if (at('.')) {
      ++p_;
      if (!digit()) return malformed("a decimal point must be followed by digits");
      while (digit()) ++p_;
    }
    if (at('e') || at('E')) {
      ++p_;
      if (at('+') || at('-')) ++p_;
      if (!digit()) return malformed("an exponent must have digits");
      while (digit()) ++p_;
    }
    out.assign(start, p_);
    if (too_large_for_a_double(out)) return malformed("a number too large for a double");
    return ok();
  }

  // Beyond what a double holds (as nlohmann refuses it); a number too
  // small for one is read as zero.
  static bool too_large_for_a_double(const std::string& literal) {
    double value = 0;
    const char* end = literal.data() + literal.size();
    if (std::from_chars(literal.data(), end, value).ec != std::errc::result_out_of_range) {
      return false;
    }
    // Out of range: overflow when the first significant digit stands at a
    // non-negative power of ten.
    const std::size_t exponent_at = literal.find_first_of("eE");
    const std::string_view mantissa = std::string_view(literal).substr(0, exponent_at);
    long power = 0;
    if (exponent_at != std::string::npos) {
      std::from_chars(literal.data() + exponent_at + (literal[exponent_at + 1] == '+' ? 2 : 1), end,
                      power);
    }
    const std::size_t point = std::min(mantissa.find('.'), mantissa.size());
    const std::size_t first = mantissa.find_first_of("123456789");
    if (first == std::string_view::npos) return false;
    const long position =
        first < point ? static_cast<long>(point - first - 1) : -static_cast<long>(first - point);
    return power + position >= 0;
  }

  Status literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        !std::equal(word.begin(), word.end(), p_)) {
      return malformed("not a JSON value");
    }
    p_ += word.size();
    return ok();
  }

  // Sorting costs more than comparing every pair for the few members a
  // voucher has; a large object is sorted, to stay O(n log n).
  static Status unique_names(const std::vector<JsonMember>& members) {
    constexpr std::size_t k_pairwise_up_to = 16;
    const std::string* duplicate = nullptr;
    if (members.size() <= k_pairwise_up_to) {
      for (std::size_t i = 0; i < members.size() && duplicate == nullptr; ++i) {
        for (std::size_t j = i + 1; j < members.size(); ++j) {
          if (members[i].name == members[j].name) {
            duplicate = &members[i].name;
            break;
          }
        }
      }
    } else {
      std::vector<const std::string*> names;
      names.reserve(members.size());
      for (const auto& m : members) names.push_back(&m.name);
      std::sort(names.begin(), names.end(), [](const auto* a, const auto* b) { return *a < *b; });
      const auto same = std::adjacent_find(names.begin(), names.end(),
                                           [](const auto* a, const auto* b) { return *a == *b; });
      if (same != names.end()) duplicate = *same;
    }
    if (duplicate == nullptr) return ok();
    return fail(ErrorCode::duplicate_member,
                "duplicate JSON member '" + duplicate->substr(0, 64) + "'");
  }

  [[nodiscard]] Status enter(std::size_t depth) const {
    if (depth <= max_depth_) return ok();
    return fail(ErrorCode::nesting_too_deep,
                "JSON nested deeper than " + std::to_string(max_depth_) + " levels");
  }

  void skip_space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  [[nodiscard]] bool at(char c) const { return p_ != end_ && *p_ == static_cast<std::uint8_t>(c); }
  [[nodiscard]] bool digit() const { return p_ != end_ && *p_ >= '0' && *p_ <= '9'; }

  [[nodiscard]] Unexpected malformed(std::string_view what) const {
    return fail(ErrorCode::malformed_json, "not valid JSON: " + std::string(what) + " (byte " +
                                               std::to_string(p_ - begin_) + ")");
  }

  const std::uint8_t* begin_;
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  std::size_t max_depth_;
};

}  // namespace

const JsonValue* JsonValue::find(std::string_view name) const {
  for (const auto& [key, value] : members) {
    if (key == name) return &value;
  }
  return nullptr;
}

std::optional<std::uint64_t> JsonValue::as_unsigned_integer() const {
  if (kind != Kind::number || text.empty() || text[0] == '-' ||
      text.find_first_of(".eE") != std::string::npos) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::string_view json_kind_name(JsonValue::Kind kind) {
  switch (kind) {
    case JsonValue::Kind::null:
      return "null";
    case JsonValue::Kind::boolean:
      return "boolean";
    case JsonValue::Kind::number:
      return "number";
    case JsonValue::Kind::string:
      return "string";
    case JsonValue::Kind::array:
      return "array";
    case JsonValue::Kind::object:
      return "object";
  }
  return "value";
}

Result<JsonValue> read_json(ByteView text, std::size_t max_depth) {
  JsonValue out;
  TRY(Reader(text, max_depth).document(out));
  return out;
}

}  // namespace vouchsafe::voucher
