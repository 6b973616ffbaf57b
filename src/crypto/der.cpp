// Strict DER reading and writing (X.690 §8 basic rules, §10 DER restrictions).
#include "crypto/der.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <chrono>
#include <limits>

namespace vouchsafe::crypto::der {
namespace {

Unexpected malformed(std::size_t offset, std::string_view what) {
  return fail(ErrorCode::malformed_der,
              "malformed DER at offset " + std::to_string(offset) + ": " + std::string(what));
}

std::string tag_text(std::uint8_t tag) {
  static constexpr std::array<char, 16> k_hex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                 '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  return std::string("0x") + k_hex[tag >> 4U] + k_hex[tag & 0xFU];
}

std::size_t length_octets(std::size_t length) {
  std::size_t n = 0;
  for (std::size_t l = length; l != 0; l >>= 8U) ++n;
  return n;
}

// Two decimal digits at text[i], or -1.
int two_digits(std::string_view text, std::size_t i) {
  const char a = text[i];
  const char b = text[i + 1];
  if (a < '0' || a > '9' || b < '0' || b > '9') return -1;
  return (a - '0') * 10 + (b - '0');
}

}  // namespace

std::optional<std::uint8_t> Reader::peek_tag() const {
  if (empty()) return std::nullopt;
  return input_[pos_];
}

Result<Element> Reader::next() {
  const std::size_t start = pos_;
  const std::size_t remaining = input_.size() - pos_;
  if (remaining == 0) return malformed(base_ + start, "unexpected end of input");
  const std::uint8_t tag = input_[pos_];
  // Every field of CMS and X.509 uses low tag numbers; the high-tag form
  // (X.690 §8.1.2.4) would only widen the attack surface.
  if ((tag & 0x1FU) == 0x1FU) return malformed(base_ + start, "high tag numbers are not supported");
  if (remaining < 2) return malformed(base_ + start, "truncated header");
  const std::uint8_t first = input_[pos_ + 1];
  std::size_t header = 2;
  std::size_t length = first;
  if (first == 0x80) {
    // X.690 §10.1: DER uses the definite form only.
    return malformed(base_ + start, "indefinite length (BER, not DER)");
  }
  if (first > 0x80) {
    const std::size_t n = first & 0x7FU;
    if (n > 4) return malformed(base_ + start, "length of more than 4 octets");
    if (remaining < 2 + n) return malformed(base_ + start, "truncated length");
    if (input_[pos_ + 2] == 0) return malformed(base_ + start, "non-minimal length encoding");
    length = 0;
    for (std::size_t i = 0; i < n; ++i) length = (length << 8U) | input_[pos_ + 2 + i];
    // X.690 §10.1: the shortest form; below 128 the short form is required.
    if (length < 0x80) return malformed(base_ + start, "non-minimal length encoding");
    header = 2 + n;
  }
  if (length > remaining - header) {
    return malformed(base_ + start, "length " + std::to_string(length) + " exceeds the " +
                                        std::to_string(remaining - header) + " bytes that remain");
  }
  Element e;
  e.tag = tag;
  e.value = input_.subspan(pos_ + header, length);
  e.encoded = input_.subspan(pos_, header + length);
  e.offset = base_ + pos_ + header;
  pos_ += header + length;
  return e;
}

Result<Element> Reader::expect(std::uint8_t tag, std::string_view what) {
  if (empty()) {
    return malformed(offset(),
                     "expected " + std::string(what) + ", found the end of its container");
  }
  if (input_[pos_] != tag) {
    return malformed(offset(), "expected " + std::string(what) + " (tag " + tag_text(tag) +
                                   "), found tag " + tag_text(input_[pos_]));
  }
  return next();
}

Result<std::optional<Element>> Reader::optional(std::uint8_t tag) {
  if (empty() || input_[pos_] != tag) return std::optional<Element>();
  ASSIGN_OR_RETURN(Element e, next());
  return std::optional<Element>(e);
}

Status Reader::expect_end(std::string_view what) const {
  if (!empty()) {
    return malformed(offset(), "unexpected data after " + std::string(what) + " (tag " +
                                   tag_text(input_[pos_]) + ")");
  }
  return ok();
}

Result<Reader> Reader::enter(const Element& element, std::string_view what) const {
  if (!element.constructed()) {
    return malformed(element.offset, std::string(what) + " is primitive, expected constructed");
  }
  if (depth_ + 1 > max_depth_) {
    return fail(ErrorCode::nesting_too_deep,
                std::string(what) + " at offset " + std::to_string(element.offset) +
                    " is nested more than " + std::to_string(max_depth_) + " levels deep");
  }
  return Reader(element.value, depth_ + 1, max_depth_, element.offset);
}

Result<Element> parse_single(ByteView input, std::uint8_t tag, std::string_view what) {
  Reader r(input);
  ASSIGN_OR_RETURN(Element e, r.expect(tag, what));
  TRY(r.expect_end(what));
  return e;
}

Result<std::int64_t> read_integer(const Element& element) {
  const ByteView v = element.value;
  if (element.tag != k_integer) return malformed(element.offset, "expected an INTEGER");
  if (v.empty()) return malformed(element.offset, "empty INTEGER");
  // X.690 §8.3.2: the first nine bits must not be all zeros or all ones.
  if (v.size() > 1 &&
      ((v[0] == 0x00 && (v[1] & 0x80U) == 0) || (v[0] == 0xFF && (v[1] & 0x80U) != 0))) {
    return malformed(element.offset, "non-minimal INTEGER encoding");
  }
  if (v.size() > 8) return malformed(element.offset, "INTEGER too large");
  std::uint64_t u = (v[0] & 0x80U) != 0 ? std::numeric_limits<std::uint64_t>::max() : 0;
  for (const std::uint8_t b : v) u = (u << 8U) | b;
  return static_cast<std::int64_t>(u);
}

Result<std::string> oid_to_text(ByteView contents) {
  if (contents.empty()) return fail(ErrorCode::malformed_der, "empty OBJECT IDENTIFIER");
  std::string text;
  std::uint64_t arc = 0;
  bool first_arc = true;
  bool at_start = true;
  for (const std::uint8_t b : contents) {
    // X.690 §8.19.2: each subidentifier in the fewest octets.
    if (at_start && b == 0x80) {
      return fail(ErrorCode::malformed_der, "non-minimal OBJECT IDENTIFIER subidentifier");
    }
    if (arc > (std::numeric_limits<std::uint64_t>::max() >> 7U)) {
      return fail(ErrorCode::malformed_der, "OBJECT IDENTIFIER arc too large");
    }
    arc = (arc << 7U) | (b & 0x7FU);
    at_start = (b & 0x80U) == 0;
    if (!at_start) continue;
    if (first_arc) {
      // X.690 §8.19.4: the first two arcs share one subidentifier.
      const std::uint64_t top = arc < 40 ? 0 : (arc < 80 ? 1 : 2);
      text = std::to_string(top) + "." + std::to_string(arc - top * 40);
      first_arc = false;
    } else {
      text += "." + std::to_string(arc);
    }
    arc = 0;
  }
  if (!at_start) return fail(ErrorCode::malformed_der, "truncated OBJECT IDENTIFIER");
  return text;
}

Result<Bytes> oid_from_text(std::string_view dotted) {
  std::vector<std::uint64_t> arcs;
  std::size_t i = 0;
  while (i <= dotted.size()) {
    const std::size_t dot = std::min(dotted.find('.', i), dotted.size());
    const std::string_view part = dotted.substr(i, dot - i);
    if (part.empty() || (part.size() > 1 && part[0] == '0')) {
      return fail(ErrorCode::invalid_value, "invalid OID '" + std::string(dotted) + "'");
    }
    std::uint64_t v = 0;
    for (const char c : part) {
      const auto digit = static_cast<std::uint64_t>(c - '0');
      if (c < '0' || c > '9' || v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
        return fail(ErrorCode::invalid_value, "invalid OID '" + std::string(dotted) + "'");
      }
      v = v * 10 + digit;
    }
    arcs.push_back(v);
    i = dot + 1;
  }
  if (arcs.size() < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40) ||
      arcs[1] > std::numeric_limits<std::uint64_t>::max() - 80) {
    return fail(ErrorCode::invalid_value, "invalid OID '" + std::string(dotted) + "'");
  }
  Bytes out;
  auto put = [&out](std::uint64_t v) {
    std::array<std::uint8_t, 10> tmp{};
    std::size_t n = 0;
    do {
      tmp[n++] = static_cast<std::uint8_t>(v & 0x7FU);
      v >>= 7U;
    } while (v != 0);
    while (n > 0) {
      --n;
      out.push_back(static_cast<std::uint8_t>(tmp[n] | (n > 0 ? 0x80U : 0U)));
    }
  };
  put(arcs[0] * 40 + arcs[1]);
  for (std::size_t k = 2; k < arcs.size(); ++k) put(arcs[k]);
  return out;
}

Result<std::time_t> read_time(const Element& element) {
  const std::string_view text = as_text(element.value);
  std::size_t i = 0;
  int year = 0;
  if (element.tag == k_utc_time && text.size() == 13) {
    const int yy = two_digits(text, 0);
    if (yy < 0) return malformed(element.offset, "invalid UTCTime");
    year = yy < 50 ? 2000 + yy : 1900 + yy;  // RFC 5280 §4.1.2.5.1
    i = 2;
  } else if (element.tag == k_generalized_time && text.size() == 15) {
    const int hi = two_digits(text, 0);
    const int lo = two_digits(text, 2);
    if (hi < 0 || lo < 0) return malformed(element.offset, "invalid GeneralizedTime");
    year = hi * 100 + lo;
    i = 4;
  } else {
    return malformed(element.offset, "expected a time as YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ");
  }
  const int month = two_digits(text, i);
  const int day = two_digits(text, i + 2);
  const int hour = two_digits(text, i + 4);
  const int minute = two_digits(text, i + 6);
  const int second = two_digits(text, i + 8);
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year},
                           std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (text[i + 10] != 'Z' || month < 1 || day < 1 || !ymd.ok() || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 59) {
    return malformed(element.offset, "invalid time value");
  }
  const auto t = sys_days{ymd} + hours{hour} + minutes{minute} + seconds{second};
  return static_cast<std::time_t>(t.time_since_epoch().count());
}

void append_header(Bytes& out, std::uint8_t tag, std::size_t length) {
  out.push_back(tag);
  if (length < 0x80) {
    out.push_back(static_cast<std::uint8_t>(length));
    return;
  }
  const std::size_t n = length_octets(length);
  out.push_back(static_cast<std::uint8_t>(0x80U | n));
  for (std::size_t i = n; i > 0; --i) {
    out.push_back(static_cast<std::uint8_t>(length >> (8U * (i - 1))));
  }
}

Writer& Writer::add(std::uint8_t tag, ByteView value) {
  append_header(out_, tag, value.size());
  out_.insert(out_.end(), value.begin(), value.end());
  return *this;
}

Writer& Writer::add_encoded(ByteView encoded) {
  out_.insert(out_.end(), encoded.begin(), encoded.end());
  return *this;
}

Writer& Writer::add_integer(std::int64_t value) {
  std::array<std::uint8_t, 8> be{};
  const auto u = static_cast<std::uint64_t>(value);
  for (std::size_t i = 0; i < 8; ++i) be[i] = static_cast<std::uint8_t>(u >> (8U * (7 - i)));
  // X.690 §8.3.2: drop leading octets that only repeat the sign.
  std::size_t start = 0;
  while (start < 7 && ((be[start] == 0x00 && (be[start + 1] & 0x80U) == 0) ||
                       (be[start] == 0xFF && (be[start + 1] & 0x80U) != 0))) {
    ++start;
  }
  return add(k_integer, ByteView(be).subspan(start));
}

Writer& Writer::add_unsigned_integer(ByteView magnitude) {
  while (!magnitude.empty() && magnitude[0] == 0) magnitude = magnitude.subspan(1);
  const bool pad = magnitude.empty() || (magnitude[0] & 0x80U) != 0;
  append_header(out_, k_integer, magnitude.size() + (pad ? 1 : 0));
  if (pad) out_.push_back(0x00);
  out_.insert(out_.end(), magnitude.begin(), magnitude.end());
  return *this;
}

Writer& Writer::add_boolean(bool value) {
  const std::uint8_t v = value ? 0xFF : 0x00;  // X.690 §11.1
  return add(k_boolean, ByteView(&v, 1));
}

Writer& Writer::add_null() {
  return add(k_null, {});
}

Writer& Writer::add_oid(ByteView contents) {
  return add(k_oid, contents);
}

Writer& Writer::add_octet_string(ByteView value) {
  return add(k_octet_string, value);
}

namespace {

struct Civil {
  int year;
  unsigned month, day, hour, minute, second;
};

Civil civil_from(std::time_t when) {
  using namespace std::chrono;
  const sys_seconds t{seconds{when}};
  const sys_days d = floor<days>(t);
  const year_month_day ymd{d};
  const hh_mm_ss<seconds> hms{t - d};
  return {static_cast<int>(ymd.year()),
          static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day()),
          static_cast<unsigned>(hms.hours().count()),
          static_cast<unsigned>(hms.minutes().count()),
          static_cast<unsigned>(hms.seconds().count())};
}

void put2(std::string& s, unsigned v) {
  s += static_cast<char>('0' + (v / 10) % 10);
  s += static_cast<char>('0' + v % 10);
}

// MMDDHHMMSSZ, shared by UTCTime and GeneralizedTime (RFC 5280 §4.1.2.5).
void put_month_to_second(std::string& s, const Civil& c) {
  put2(s, c.month);
  put2(s, c.day);
  put2(s, c.hour);
  put2(s, c.minute);
  put2(s, c.second);
  s += 'Z';
}

}  // namespace

Writer& Writer::add_time(std::time_t when) {
  const Civil c = civil_from(when);
  if (c.year < 1950 || c.year > 2049) return add_generalized_time(when);
  std::string s;
  put2(s, static_cast<unsigned>(c.year % 100));
  put_month_to_second(s, c);
  return add(k_utc_time, as_bytes(s));
}

Writer& Writer::add_generalized_time(std::time_t when) {
  const Civil c = civil_from(when);
  const auto year = static_cast<unsigned>(std::clamp(c.year, 0, 9999));
  std::string s;
  put2(s, year / 100);
  put2(s, year % 100);
  put_month_to_second(s, c);
  return add(k_generalized_time, as_bytes(s));
}

std::size_t Writer::open(std::uint8_t tag) {
  out_.push_back(tag);
  out_.push_back(0);  // length placeholder, fixed by close()
  return out_.size() - 1;
}

void Writer::close(std::size_t mark) {
  assert(mark < out_.size());
  const std::size_t length = out_.size() - mark - 1;
  if (length < 0x80) {
    out_[mark] = static_cast<std::uint8_t>(length);
    return;
  }
  const std::size_t n = length_octets(length);
  out_.insert(out_.begin() + static_cast<std::ptrdiff_t>(mark + 1), n, 0);
  out_[mark] = static_cast<std::uint8_t>(0x80U | n);
  for (std::size_t i = 0; i < n; ++i) {
    out_[mark + 1 + i] = static_cast<std::uint8_t>(length >> (8U * (n - 1 - i)));
  }
}

void Writer::close_sorted(std::size_t mark) {
  close(mark);
  const std::size_t header = (out_[mark] & 0x80U) != 0 ? 1 + (out_[mark] & 0x7FU) : 1;
  const std::size_t start = mark + header;
  Reader r(ByteView(out_).subspan(start));
  std::vector<ByteView> parts;
  while (!r.empty()) {
    auto e = r.next();
    // Only reachable if add_encoded() was given bytes that are not DER.
    assert(e.has_value());
    if (!e) return;
    parts.push_back(e->encoded);
  }
  auto less = [](ByteView a, ByteView b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  };
  if (std::is_sorted(parts.begin(), parts.end(), less)) return;
  std::sort(parts.begin(), parts.end(), less);
  Bytes sorted;
  sorted.reserve(out_.size() - start);
  for (const ByteView p : parts) sorted.insert(sorted.end(), p.begin(), p.end());
  std::copy(sorted.begin(), sorted.end(), out_.begin() + static_cast<std::ptrdiff_t>(start));
}

}  // namespace vouchsafe::crypto::der
