// The strict DER reader and the writer, edge cases first.
#include "crypto/der.h"

#include <gtest/gtest.h>

namespace vouchsafe::crypto::der {
namespace {

Bytes hex(std::string_view text) {
  return *hex_decode(text);
}

ErrorCode first_error(const Bytes& input) {
  Reader r(input);
  auto e = r.next();
  return e ? ErrorCode::internal : e.error().code;
}

TEST(DerReader, ReadsAShortFormElement) {
  const Bytes input = hex("04 03 61 62 63");
  Reader r(input);
  auto e = r.next();
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->tag, k_octet_string);
  EXPECT_EQ(as_text(e->value), "abc");
  EXPECT_EQ(e->encoded.size(), 5U);
  EXPECT_EQ(e->offset, 2U);
  EXPECT_TRUE(r.empty());
}

TEST(DerReader, ReadsLongFormLengths) {
  Bytes input = hex("04 81 80");
  input.resize(3 + 0x80, 'x');
  auto e = parse_single(input, k_octet_string, "value");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->value.size(), 0x80U);

  Bytes two = hex("30 82 01 00");
  two.resize(4 + 0x100, 0);
  // 0x100 zero bytes are 128 elements "00 00": contents are not parsed here.
  auto seq = parse_single(two, k_sequence, "sequence");
  ASSERT_TRUE(seq) << seq.error().message;
  EXPECT_EQ(seq->value.size(), 0x100U);
}

TEST(DerReader, RejectsNonMinimalLengths) {
  EXPECT_EQ(first_error(hex("04 81 03 61 62 63")), ErrorCode::malformed_der);     // fits short form
  EXPECT_EQ(first_error(hex("04 82 00 03 61 62 63")), ErrorCode::malformed_der);  // leading zero
  Bytes padded = hex("04 82 00 80");
  padded.resize(4 + 0x80, 'x');
  EXPECT_EQ(first_error(padded), ErrorCode::malformed_der);
}

TEST(DerReader, RejectsIndefiniteLength) {
  const Bytes input = hex("30 80 04 01 61 00 00");
  Reader r(input);
  auto e = r.next();
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::malformed_der);
  EXPECT_NE(e.error().message.find("indefinite"), std::string::npos);
}

TEST(DerReader, RejectsLengthsBeyondTheInput) {
  EXPECT_EQ(first_error(hex("04 05 61 62 63")), ErrorCode::malformed_der);
  EXPECT_EQ(first_error(hex("04 84 7F FF FF FF 00")), ErrorCode::malformed_der);
  EXPECT_EQ(first_error(hex("04 85 01 00 00 00 00")), ErrorCode::malformed_der);  // > 4 octets
  EXPECT_EQ(first_error(hex("04 FF")), ErrorCode::malformed_der);
}

TEST(DerReader, RejectsEveryTruncationOfAValidElement) {
  const Bytes input = hex("30 0A 06 03 2B 65 70 04 03 61 62 63");
  ASSERT_TRUE(parse_single(input, k_sequence, "sequence"));
  for (std::size_t n = 0; n < input.size(); ++n) {
    const Bytes prefix(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(n));
    auto e = parse_single(prefix, k_sequence, "sequence");
    ASSERT_FALSE(e) << "prefix of " << n << " bytes was accepted";
    EXPECT_EQ(e.error().code, ErrorCode::malformed_der);
  }
}

TEST(DerReader, RejectsHighTagNumbers) {
  EXPECT_EQ(first_error(hex("1F 81 00 00")), ErrorCode::malformed_der);
}

TEST(DerReader, RejectsTrailingData) {
  auto e = parse_single(hex("05 00 00"), k_null, "NULL");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::malformed_der);
}

TEST(DerReader, NamesTheExpectedTagAndTheOffset) {
  const Bytes input = hex("30 03 02 01 05");
  Reader r(input);
  auto seq = r.next();
  ASSERT_TRUE(seq);
  auto inner = r.enter(*seq, "outer");
  ASSERT_TRUE(inner);
  auto e = inner->expect(k_oid, "algorithm");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("offset 2"), std::string::npos) << e.error().message;
  EXPECT_NE(e.error().message.find("algorithm"), std::string::npos) << e.error().message;
}

TEST(DerReader, LimitsNestingDepth) {
  // 40 nested SEQUENCEs around NULL.
  Bytes input = hex("05 00");
  for (int i = 0; i < 40; ++i) {
    Bytes outer;
    append_header(outer, k_sequence, input.size());
    outer.insert(outer.end(), input.begin(), input.end());
    input = std::move(outer);
  }
  Reader r(input, 8);
  Element e = *r.next();
  Result<Reader> level = r.enter(e, "level");
  int depth = 0;
  while (level) {
    ++depth;
    e = *level->next();
    if (!e.constructed()) break;
    level = level->enter(e, "level");
  }
  ASSERT_FALSE(level);
  EXPECT_EQ(level.error().code, ErrorCode::nesting_too_deep);
  EXPECT_EQ(depth, 8);
}

TEST(DerReader, RefusesToEnterAPrimitiveElement) {
  const Bytes input = hex("04 01 00");
  Reader r(input);
  auto e = r.next();
  ASSERT_TRUE(e);
  auto inner = r.enter(*e, "octets");
  ASSERT_FALSE(inner);
  EXPECT_EQ(inner.error().code, ErrorCode::malformed_der);
}

TEST(DerReader, OptionalSkipsOtherTags) {
  const Bytes input = hex("A0 00 02 01 01");
  Reader r(input);
  auto absent = r.optional(context(1, true));
  ASSERT_TRUE(absent);
  EXPECT_FALSE(absent->has_value());
  auto present = r.optional(context(0, true));
  ASSERT_TRUE(present);
  EXPECT_TRUE(present->has_value());
  EXPECT_EQ(*r.peek_tag(), k_integer);
}

TEST(DerIntegers, ReadMinimalValuesOnly) {
  auto read = [](std::string_view text) {
    return read_integer(*parse_single(hex(text), k_integer, "i"));
  };
  EXPECT_EQ(*read("02 01 00"), 0);
  EXPECT_EQ(*read("02 01 7F"), 127);
  EXPECT_EQ(*read("02 02 00 80"), 128);
  EXPECT_EQ(*read("02 01 80"), -128);
  EXPECT_EQ(*read("02 02 FF 7F"), -129);
  EXPECT_FALSE(read("02 02 00 01"));
  EXPECT_FALSE(read("02 02 FF 80"));
  EXPECT_FALSE(read("02 00"));
  EXPECT_FALSE(read("02 09 01 00 00 00 00 00 00 00 00"));
}

TEST(DerIntegers, AreWrittenMinimally) {
  auto enc = [](std::int64_t v) { return hex_encode(Writer().add_integer(v).bytes()); };
  EXPECT_EQ(enc(0), "020100");
  EXPECT_EQ(enc(3), "020103");
  EXPECT_EQ(enc(128), "02020080");
  EXPECT_EQ(enc(-1), "0201ff");
  EXPECT_EQ(enc(-129), "0202ff7f");
  EXPECT_EQ(enc(INT64_MIN), "02088000000000000000");
  for (const std::int64_t v : {0L, 1L, 127L, 128L, 255L, 256L, -128L, -129L, 65535L, 1L << 40}) {
    EXPECT_EQ(*read_integer(*parse_single(Writer().add_integer(v).bytes(), k_integer, "i")), v);
  }
}

TEST(DerIntegers, UnsignedMagnitudesGetASignOctetWhenNeeded) {
  EXPECT_EQ(hex_encode(Writer().add_unsigned_integer(hex("0B870A31")).bytes()), "02040b870a31");
  EXPECT_EQ(hex_encode(Writer().add_unsigned_integer(hex("00 00 80")).bytes()), "02020080");
  EXPECT_EQ(hex_encode(Writer().add_unsigned_integer({}).bytes()), "020100");
}

TEST(DerOids, AreEncodedFromDottedText) {
  EXPECT_EQ(hex_encode(*oid_from_text("1.2.840.113549.1.9.16.1.40")), "2a864886f70d0109100128");
  EXPECT_EQ(hex_encode(*oid_from_text("1.2.840.113549.1.7.2")), "2a864886f70d010702");
  EXPECT_EQ(hex_encode(*oid_from_text("2.16.840.1.101.3.4.2.1")), "608648016503040201");
  EXPECT_EQ(hex_encode(*oid_from_text("1.3.101.112")), "2b6570");
  EXPECT_EQ(hex_encode(*oid_from_text("1.3.6.1.5.5.7.1.32")), "2b06010505070120");
  EXPECT_EQ(hex_encode(*oid_from_text("2.999.3")), "883703");  // X.690 §8.19.5 example
}

TEST(DerOids, RoundTripThroughDottedText) {
  for (const char* text : {"1.2.840.10045.4.3.2", "0.9.2342.19200300.100.1.25", "2.5.4.5",
                           "2.999.18446744073709551615", "1.3.6.1.4.1.46930.1"}) {
    auto oid = oid_from_text(text);
    ASSERT_TRUE(oid) << text;
    EXPECT_EQ(*oid_to_text(*oid), text);
  }
}

TEST(DerOids, RejectInvalidText) {
  for (const char* text : {"", "1", "3.1", "1.40", "1..2", "1.2.", "1.02", "1.2.x", "-1.2"}) {
    auto oid = oid_from_text(text);
    ASSERT_FALSE(oid) << text;
    EXPECT_EQ(oid.error().code, ErrorCode::invalid_value);
  }
}

TEST(DerOids, RejectNonMinimalOrTruncatedContents) {
  EXPECT_FALSE(oid_to_text({}));
  EXPECT_FALSE(oid_to_text(hex("2a 80 01")));  // leading 0x80 in a subidentifier
  EXPECT_FALSE(oid_to_text(hex("2a 86")));     // last octet has the continuation bit
  EXPECT_FALSE(oid_to_text(hex("2a ff ff ff ff ff ff ff ff ff ff 7f")));  // > 64 bits
}

TEST(DerTimes, UseUtcTimeUntil2049AndGeneralizedTimeAfter) {
  // 2021-04-13T21:43:24Z, the signingTime of RFC 8995 C.2.3.
  const Bytes early = Writer().add_time(1618350204).bytes();
  EXPECT_EQ(early[0], k_utc_time);
  EXPECT_EQ(as_text(ByteView(early).subspan(2)), "210413214324Z");
  const Bytes late = Writer().add_time(2524608000).bytes();  // 2050-01-01T00:00:00Z
  EXPECT_EQ(late[0], k_generalized_time);
  EXPECT_EQ(as_text(ByteView(late).subspan(2)), "20500101000000Z");
  const Bytes forever = Writer().add_generalized_time(253402300799).bytes();
  EXPECT_EQ(as_text(ByteView(forever).subspan(2)), "99991231235959Z");
}

TEST(DerTimes, ReadBackWhatIsWritten) {
  for (const std::time_t t : {0L, 1618350204L, 2524607999L, 2524608000L, 253402300799L}) {
    const Bytes enc = Writer().add_time(t).bytes();
    auto e = parse_single(enc, enc[0], "time");
    ASSERT_TRUE(e);
    EXPECT_EQ(*read_time(*e), t);
  }
}

TEST(DerTimes, RejectValuesOutsideTheDerProfile) {
  auto read = [](std::uint8_t tag, std::string_view text) {
    Bytes enc;
    append_header(enc, tag, text.size());
    enc.insert(enc.end(), text.begin(), text.end());
    return read_time(*parse_single(enc, tag, "time"));
  };
  EXPECT_TRUE(read(k_utc_time, "490101000000Z"));
  EXPECT_FALSE(read(k_utc_time, "2101010000Z"));        // no seconds
  EXPECT_FALSE(read(k_utc_time, "210101000000+0100"));  // offset
  EXPECT_FALSE(read(k_utc_time, "210230000000Z"));      // 30 February
  EXPECT_FALSE(read(k_utc_time, "211301000000Z"));
  EXPECT_FALSE(read(k_utc_time, "210101240000Z"));
  EXPECT_FALSE(read(k_generalized_time, "20210101000000.5Z"));
  EXPECT_FALSE(read(k_octet_string, "210101000000Z"));
}

TEST(DerWriter, WritesNestedElementsWithLongLengths) {
  Writer w;
  const std::size_t outer = w.open(k_sequence);
  w.add_oid(*oid_from_text("1.3.101.112"));
  const std::size_t inner = w.open(context(0, true));
  w.add_octet_string(Bytes(300, 'v'));
  w.close(inner);
  w.add_null().add_boolean(true);
  w.close(outer);
  const Bytes out = w.take();

  auto seq = parse_single(out, k_sequence, "outer");
  ASSERT_TRUE(seq) << seq.error().message;
  Reader top(out);
  Reader r = *top.enter(*top.next(), "outer");
  EXPECT_EQ(*oid_to_text(r.expect(k_oid, "oid")->value), "1.3.101.112");
  Reader c = *r.enter(*r.expect(context(0, true), "[0]"), "[0]");
  EXPECT_EQ(c.expect(k_octet_string, "octets")->value.size(), 300U);
  EXPECT_TRUE(c.empty());
  EXPECT_TRUE(r.expect(k_null, "null"));
  EXPECT_EQ(hex_encode(r.expect(k_boolean, "bool")->value), "ff");
  EXPECT_TRUE(r.expect_end("outer"));
  EXPECT_EQ(hex_encode(ByteView(out).first(4)), "3082013e");
}

TEST(DerWriter, SortsSetOfComponentsByEncoding) {
  Writer w;
  w.set_of([](Writer& set) {
    set.add_octet_string(to_bytes("b"));
    set.add_integer(5);
    set.add_octet_string(to_bytes("a"));
    set.add_octet_string(to_bytes("ab"));
  });
  EXPECT_EQ(hex_encode(w.bytes()), "310d02010504016104016204026162");
}

TEST(DerWriter, SortsLongSets) {
  Writer w;
  w.set_of([](Writer& set) {
    for (int i = 60; i > 0; --i) set.add_integer(i);
  });
  Reader top(w.bytes());
  Reader r = *top.enter(*top.next(), "set");
  std::int64_t last = 0;
  while (!r.empty()) {
    const std::int64_t v = *read_integer(*r.next());
    EXPECT_GT(v, last);
    last = v;
  }
  EXPECT_EQ(last, 60);
}

}  // namespace
}  // namespace vouchsafe::crypto::der
