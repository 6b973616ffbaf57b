// A minimal strict DER (X.690 §10) reader and writer: enough for CMS
// SignedData and X.509 extensions, with every length checked against the
// input that remains and a fixed bound on nesting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/bytes.h"
#include "core/result.h"

namespace vouchsafe::crypto::der {

// Identifier octets of the universal types we use (X.680 §8.6), with the
// constructed bit already set for SEQUENCE and SET.
inline constexpr std::uint8_t k_boolean = 0x01;
inline constexpr std::uint8_t k_integer = 0x02;
inline constexpr std::uint8_t k_bit_string = 0x03;
inline constexpr std::uint8_t k_octet_string = 0x04;
inline constexpr std::uint8_t k_null = 0x05;
inline constexpr std::uint8_t k_oid = 0x06;
inline constexpr std::uint8_t k_utf8_string = 0x0C;
inline constexpr std::uint8_t k_printable_string = 0x13;
inline constexpr std::uint8_t k_ia5_string = 0x16;
inline constexpr std::uint8_t k_utc_time = 0x17;
inline constexpr std::uint8_t k_generalized_time = 0x18;
inline constexpr std::uint8_t k_sequence = 0x30;
inline constexpr std::uint8_t k_set = 0x31;
inline constexpr std::uint8_t k_constructed_bit = 0x20;

// Context-specific tag [n] (n < 31), e.g. context(0, true) == 0xA0.
constexpr std::uint8_t context(unsigned n, bool constructed) {
  return static_cast<std::uint8_t>(0x80U | (constructed ? k_constructed_bit : 0U) | (n & 0x1FU));
}

// Nesting allowed by default: CMS SignedData needs 8, a certificate about 10.
inline constexpr int k_default_max_depth = 32;

// One TLV. `value` is the contents octets, `encoded` the whole element; both
// view the reader's input.
struct Element {
  std::uint8_t tag = 0;
  ByteView value;
  ByteView encoded;
  std::size_t offset = 0;  // of the contents in the outermost input
  [[nodiscard]] bool constructed() const { return (tag & k_constructed_bit) != 0; }
};

// Reads consecutive elements from a byte range, which it views and does not
// own: keep the input alive while the reader and its elements are used. It
// never recurses: nesting is walked by the caller through enter(), which
// counts depth. Every error is ErrorCode::malformed_der (or
// nesting_too_deep) with the offending offset.
class Reader {
 public:
  explicit Reader(ByteView input, int max_depth = k_default_max_depth)
      : Reader(input, 0, max_depth, 0) {}
  // A temporary buffer would be gone before the first read.
  explicit Reader(Bytes&& input, int max_depth = k_default_max_depth) = delete;

  [[nodiscard]] bool empty() const { return pos_ == input_.size(); }
  // The identifier octet of the next element, if any.
  [[nodiscard]] std::optional<std::uint8_t> peek_tag() const;

  // The next element, whatever its tag.
  Result<Element> next();
  // The next element, which must carry `tag`; `what` names it in errors.
  Result<Element> expect(std::uint8_t tag, std::string_view what);
  // The next element if it carries `tag` (OPTIONAL fields), else nothing.
  Result<std::optional<Element>> optional(std::uint8_t tag);
  // Fails unless every byte was consumed (no trailing data).
  [[nodiscard]] Status expect_end(std::string_view what) const;

  // A reader over the contents of a constructed element, one level deeper.
  [[nodiscard]] Result<Reader> enter(const Element& element, std::string_view what) const;

  // Offset of the next element in the outermost input, for messages.
  [[nodiscard]] std::size_t offset() const { return base_ + pos_; }

 private:
  Reader(ByteView input, int depth, int max_depth, std::size_t base)
      : input_(input), depth_(depth), max_depth_(max_depth), base_(base) {}

  ByteView input_;
  std::size_t pos_ = 0;
  int depth_;
  int max_depth_;
  std::size_t base_;
};

// Reads the contents of one whole element that must fill `input` exactly.
Result<Element> parse_single(ByteView input, std::uint8_t tag, std::string_view what);

// INTEGER contents that must be minimal (X.690 §8.3.2) and fit an int64.
Result<std::int64_t> read_integer(const Element& element);
// OBJECT IDENTIFIER contents in dotted text ("1.2.840.113549.1.7.2").
Result<std::string> oid_to_text(ByteView contents);
// UTCTime or GeneralizedTime in the DER profile of RFC 5280 §4.1.2.5
// (seconds present, "Z", no fraction) as Unix time.
Result<std::time_t> read_time(const Element& element);

// OBJECT IDENTIFIER contents from dotted text; invalid_value if malformed.
Result<Bytes> oid_from_text(std::string_view dotted);

// Appends the identifier and length octets of an element of `length` bytes.
void append_header(Bytes& out, std::uint8_t tag, std::size_t length);

// Builds DER into one buffer. Constructed elements are opened and closed in
// LIFO order; close() writes the final length, shifting the contents when
// the length needs the long form. add_* methods return *this to chain.
class Writer {
 public:
  Writer() = default;
  explicit Writer(std::size_t reserve) { out_.reserve(reserve); }

  // A primitive element with these contents.
  Writer& add(std::uint8_t tag, ByteView value);
  // Element(s) already encoded elsewhere, copied as they are.
  Writer& add_encoded(ByteView encoded);
  Writer& add_integer(std::int64_t value);
  // A non-negative INTEGER from big-endian magnitude bytes (serial numbers).
  Writer& add_unsigned_integer(ByteView magnitude);
  Writer& add_boolean(bool value);
  Writer& add_null();
  Writer& add_oid(ByteView contents);
  Writer& add_octet_string(ByteView value);
  // RFC 5280 §4.1.2.5 / RFC 5652 §11.3: UTCTime for 1950..2049, else
  // GeneralizedTime.
  Writer& add_time(std::time_t when);
  Writer& add_generalized_time(std::time_t when);

  // Starts a constructed element; returns the mark to close it with.
  std::size_t open(std::uint8_t tag);
  void close(std::size_t mark);
  // Closes a SET OF, sorting its components by their encodings as DER
  // requires (X.690 §11.6).
  void close_sorted(std::size_t mark);

  // body(Writer&) writes the contents of a constructed element.
  template <typename Body>
  Writer& constructed(std::uint8_t tag, Body&& body) {
    const std::size_t mark = open(tag);
    body(*this);
    close(mark);
    return *this;
  }
  template <typename Body>
  Writer& sequence(Body&& body) {
    return constructed(k_sequence, std::forward<Body>(body));
  }
  template <typename Body>
  Writer& set_of(Body&& body) {
    const std::size_t mark = open(k_set);
    body(*this);
    close_sorted(mark);
    return *this;
  }

  [[nodiscard]] const Bytes& bytes() const { return out_; }
  [[nodiscard]] std::size_t size() const { return out_.size(); }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

}  // namespace vouchsafe::crypto::der
