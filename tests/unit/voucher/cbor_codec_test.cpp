// SID-keyed CBOR codec: the cBRSKI payloads (draft-ietf-anima-constrained-
// voucher App. C), round trips, mixed keys, and strictness.
#include "voucher/cbor_codec.h"

#include <gtest/gtest.h>

#include "crypto/keys.h"
#include "support/test_support.h"
#include "voucher/detail/cbor_handle.h"

namespace vouchsafe::voucher {
namespace {

using detail::CborWriter;

Bytes hex(std::string_view text) {
  auto bytes = hex_decode(text);
  EXPECT_TRUE(bytes) << text;
  return bytes ? *bytes : Bytes{};
}

// The index-th h'...' byte string of a published CBOR diagnostic file.
Bytes diag_bstr(const std::string& path, std::size_t index) {
  const Bytes raw = testing::read_vector(path);
  const std::string text(raw.begin(), raw.end());
  std::size_t pos = 0;
  for (std::size_t i = 0;; ++i) {
    pos = text.find("h'", pos);
    if (pos == std::string::npos) {
      ADD_FAILURE() << path << " has no byte string #" << index;
      return {};
    }
    const std::size_t end = text.find('\'', pos + 2);
    if (i == index) return hex(std::string_view(text).substr(pos + 2, end - pos - 2));
    pos = end + 1;
  }
}

Voucher decode_ok(ByteView data) {
  auto v = decode_cbor(data);
  EXPECT_TRUE(v) << (v ? "" : v.error().message);
  return v ? *v : Voucher{};
}

ErrorCode decode_error(ByteView data, const CborLimits& limits = {}) {
  auto v = decode_cbor(data, limits);
  EXPECT_FALSE(v) << "decoded " << hex_encode(data);
  return v ? ErrorCode::internal : v.error().code;
}

DateTime date(std::string_view text) {
  auto d = parse_date_time(text);
  EXPECT_TRUE(d) << text;
  return d ? *d : DateTime{};
}

// A voucher body {sid: {entries...}} written by hand, for malformed inputs.
template <typename F>
Bytes body(std::uint64_t container, std::size_t entries, F&& write_entries) {
  Bytes out;
  CborWriter w(out);
  w.map(1);
  w.unsigned_int(container);
  w.map(entries);
  write_entries(w);
  return out;
}

const Bytes k_nonce = {0x23, 0xBF, 0xBB, 0xC9, 0xC2, 0xBC, 0xF2, 0x13};

TEST(CborCodec, DecodesThePledgeVoucherRequestOfC3) {
  const Voucher v = decode_ok(diag_bstr("cbrski/C.3-pvr.cose.diag", 1));
  EXPECT_EQ(v.kind, ArtifactKind::voucher_request);
  EXPECT_EQ(v.assertion, Assertion::proximity);
  EXPECT_EQ(v.nonce, hex("23BFBBC9C2BCF213"));
  EXPECT_EQ(v.serial_number, "JADA123456789");
  // SID 2513: the registrar's SubjectPublicKeyInfo, as the .payload.diag shows.
  auto registrar =
      crypto::load_public_key(testing::vector_path("cbrski/C.2.2-registrar.cert.derived.pem"));
  ASSERT_TRUE(registrar);
  EXPECT_EQ(v.proximity_registrar_pubk, crypto::public_key_der(registrar->get()));
  EXPECT_EQ(v.proximity_registrar_pubk, diag_bstr("cbrski/C.3-pvr.payload.diag", 1));
  EXPECT_FALSE(v.created_on);
  EXPECT_FALSE(v.proximity_registrar_cert);
}

TEST(CborCodec, DecodesTheRegistrarVoucherRequestOfC4) {
  const Voucher v = decode_ok(diag_bstr("cbrski/C.4-rvr.cose.diag", 3));
  EXPECT_EQ(v.kind, ArtifactKind::voucher_request);
  EXPECT_EQ(v.assertion, Assertion::proximity);
  EXPECT_EQ(v.created_on, date("2022-12-06T20:04:15.754Z"));
  EXPECT_EQ(v.idevid_issuer, hex("041830168014CB8D98CA74C51B58DDE7ACEF869A9443A8D666A6"));
  EXPECT_EQ(v.nonce, k_nonce);
  EXPECT_EQ(v.serial_number, "JADA123456789");
  // SID 2510 carries the whole signed PVR of C.3, byte for byte.
  EXPECT_EQ(v.prior_signed_voucher_request,
            testing::read_vector("cbrski/C.3-pvr.cose.derived.bin"));
}

TEST(CborCodec, DecodesTheVoucherOfC5) {
  const Voucher v = decode_ok(diag_bstr("cbrski/C.5-voucher.cose.diag", 1));
  EXPECT_EQ(v.kind, ArtifactKind::voucher);
  EXPECT_EQ(v.assertion, Assertion::proximity);
  EXPECT_EQ(v.created_on, date("2022-12-06T20:23:30.708Z"));
  EXPECT_EQ(v.domain_cert_revocation_checks, false);
  EXPECT_EQ(v.nonce, hex("57EED786AD404907"));
  EXPECT_EQ(v.serial_number, "JADA123456789");
  EXPECT_EQ(v.pinned_domain_cert, diag_bstr("cbrski/C.5-voucher.payload.diag", 1));
  // README: the pinned certificate is the domain CA sent as x5bag[1] in C.4.
  EXPECT_EQ(v.pinned_domain_cert, diag_bstr("cbrski/C.4-rvr.cose.diag", 2));
  EXPECT_FALSE(v.expires_on);
}

TEST(CborCodec, ReencodesThePublishedPayloadsByteForByte) {
  // The drafts' examples are deterministic CBOR, as encode_cbor writes it.
  for (const auto& [file, index] :
       {std::pair{"cbrski/C.3-pvr.cose.diag", 1}, std::pair{"cbrski/C.4-rvr.cose.diag", 3},
        std::pair{"cbrski/C.5-voucher.cose.diag", 1}}) {
    const Bytes published = diag_bstr(file, index);
    EXPECT_EQ(hex_encode(encode_cbor(decode_ok(published))), hex_encode(published)) << file;
  }
}

Voucher full_voucher() {
  Voucher v;
  v.kind = ArtifactKind::voucher;
  v.created_on = date("2024-02-29T23:59:59.5+05:30");
  v.assertion = Assertion::agent_proximity;
  v.serial_number = "JADA123456789";
  v.idevid_issuer = hex("0418301680141234");
  v.pinned_domain_cert = hex("308201020304");
  v.domain_cert_revocation_checks = true;
  v.last_renewal_date = date("2030-01-01T00:00:00Z");
  v.pinned_domain_pubk = hex("3059301306072A8648CE3D0201");
  v.pinned_domain_pubk_sha256 = Bytes(32, 0xAB);
  v.est_domain = "est.example.com:8443";
  v.additional_configuration_url = "https://config.example.com/ü";
  v.extensions = std::vector<ExtensionName>{std::uint64_t{2700}, std::string("example-ext")};
  v.manufacturer_proprietary = hex("00FF00");
  return v;
}

TEST(CborCodec, RoundTripsAVoucherWithEveryLeafSet) {
  Voucher nonced = full_voucher();
  nonced.nonce = hex("0102030405060708090A");
  EXPECT_EQ(decode_ok(encode_cbor(nonced)), nonced);

  // expires-on excludes nonce in a voucher (RFC 8366 §5.3): the other half.
  Voucher nonceless = full_voucher();
  nonceless.expires_on = date("2031-06-30T12:00:00-07:00");
  const Bytes encoded = encode_cbor(nonceless);
  EXPECT_EQ(decode_ok(encoded), nonceless);
  EXPECT_EQ(encode_cbor(nonceless), encoded) << "encoding is deterministic";
  // {2451: {1: 3, 2: ...}}: container SID 2451, 14 leaves, ascending keys.
  EXPECT_EQ(hex_encode(ByteView(encoded).first(7)), "a1190993ae0103");
}

EnrollingExtension sample_enrolling() {
  return EnrollingExtension{hex("3059301306072A8648CE3D0201"), hex("04AABBCC"), hex("30820102")};
}

TEST(CborCodec, TheEnrollingExtensionTravelsUnderItsAbsoluteSidAndIsListed) {
  Voucher v = full_voucher();
  v.expires_on.reset();
  v.nonce = hex("0102030405060708");
  v.extensions.reset();
  v.enrolling = sample_enrolling();
  const Bytes encoded = encode_cbor(v);
  auto back = decode_cbor(encoded);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->enrolling, v.enrolling);
  // Listed in `extensions` by its SID, and keyed by tag 47(61001) (RFC 9254).
  ASSERT_TRUE(back->extensions);
  EXPECT_EQ(back->extensions->back(), ExtensionName{k_enrolling_sid});
  const Bytes key = hex("D82F19EE49");  // 47(61001)
  EXPECT_NE(std::search(encoded.begin(), encoded.end(), key.begin(), key.end()), encoded.end());
  // Keyed by its delta from the voucher container (61001 - 2451), as a
  // delta encoder writes it: {2451: {11: "A", 58550: {1: h'01', 2: h'02', 3: h'03'}}}.
  auto delta_spelled = decode_cbor(hex("A1190993A20B614119E4B6A3014101024102034103"));
  ASSERT_TRUE(delta_spelled) << delta_spelled.error().message;
  EXPECT_EQ(delta_spelled->enrolling, (EnrollingExtension{hex("01"), hex("02"), hex("03")}));
}

TEST(CborCodec, RefusesAnUnknownKeyInTheEnrollingContainerAndAnUnlistedExtension) {
  // {2451: {11: "A", 47(61001): {9: h''}}}
  EXPECT_EQ(decode_cbor(hex("A1190993A20B6141D82F1A0000EE49A10940")).error().code,
            ErrorCode::unknown_leaf);
  // {2451: {11: "A", 47(305823299950): {1: "x"}}}, not listed in extensions.
  EXPECT_EQ(decode_cbor(hex("A1190993A20B6141D82F1B000000473436A56EA1016178")).error().code,
            ErrorCode::unknown_leaf);
  // The same listed (8366bis example 4's shape): accepted, its content unread.
  auto listed =
      decode_cbor(hex("A1190993A30B61410F811B000000473436A56ED82F1B000000473436A56EA1016178"));
  EXPECT_TRUE(listed) << listed.error().message;
}

TEST(CborCodec, RoundTripsAVoucherRequestWithEveryLeafSet) {
  Voucher v = full_voucher();
  v.kind = ArtifactKind::voucher_request;
  v.nonce = k_nonce;
  v.expires_on = date("2031-06-30T12:00:00Z");  // allowed together in a request
  v.prior_signed_voucher_request = hex("D28443A10126A0");
  v.proximity_registrar_cert = hex("3082AAAA");
  v.proximity_registrar_pubk = hex("3059BBBB");
  v.proximity_registrar_pubk_sha256 = Bytes(32, 0x11);
  v.agent_signed_data = hex("7B7D");
  v.agent_provided_proximity_registrar_cert = hex("3082CCCC");
  v.agent_sign_cert = std::vector<Bytes>{hex("3082DDDD"), hex("3082EEEE")};
  const Bytes encoded = encode_cbor(v);
  EXPECT_EQ(decode_ok(encoded), v);
  EXPECT_EQ(hex_encode(ByteView(encoded).first(4)), "a11909c5");
  // Every one of the 22 leaves of ietf-voucher-request, in one map.
  EXPECT_EQ(encoded[4], 0xB6);
}

TEST(CborCodec, AcceptsLeafNamesMixedWithSidDeltas) {
  // s9.1.2 writes the RVR with string keys; SID and name keys may be mixed.
  const Bytes mixed = [] {
    Bytes out;
    CborWriter w(out);
    w.map(1);
    w.text_string("ietf-voucher-request:voucher");
    w.map(5);
    w.text_string("assertion");
    w.text_string("proximity");  // the enum's name, not its value
    w.unsigned_int(2);
    w.text_string("2022-12-05T19:19:19.536Z");
    w.text_string("nonce");
    w.byte_string(k_nonce);
    w.unsigned_int(13);
    w.text_string("JADA123456789");
    w.text_string("agent-sign-cert");
    w.byte_string(hex("3082"));  // a lone certificate rather than a list
    return out;
  }();
  const Voucher v = decode_ok(mixed);
  EXPECT_EQ(v.kind, ArtifactKind::voucher_request);
  EXPECT_EQ(v.assertion, Assertion::proximity);
  EXPECT_EQ(v.created_on, date("2022-12-05T19:19:19.536Z"));
  EXPECT_EQ(v.nonce, k_nonce);
  EXPECT_EQ(v.serial_number, "JADA123456789");
  EXPECT_EQ(v.agent_sign_cert, std::vector<Bytes>{hex("3082")});

  const Bytes sid_top_name_inner = body(2451, 2, [](CborWriter& w) {
    w.text_string("serial-number");
    w.text_string("X1");
    w.unsigned_int(1);
    w.unsigned_int(0);
  });
  const Voucher voucher = decode_ok(sid_top_name_inner);
  EXPECT_EQ(voucher.kind, ArtifactKind::voucher);
  EXPECT_EQ(voucher.assertion, Assertion::verified);
}

TEST(CborCodec, RejectsALeafGivenTwice) {
  EXPECT_EQ(decode_error(body(2451, 2,
                              [](CborWriter& w) {
                                w.unsigned_int(11);
                                w.text_string("A");
                                w.unsigned_int(11);
                                w.text_string("B");
                              })),
            ErrorCode::duplicate_member);
  // The same leaf by SID delta and by name is still the same leaf.
  EXPECT_EQ(decode_error(body(2451, 2,
                              [](CborWriter& w) {
                                w.unsigned_int(11);
                                w.text_string("A");
                                w.text_string("serial-number");
                                w.text_string("A");
                              })),
            ErrorCode::duplicate_member);
}

TEST(CborCodec, RejectsUnknownKeys) {
  auto with_key = [](std::uint64_t container, auto write_key) {
    return body(container, 2, [&](CborWriter& w) {
      w.unsigned_int(11);
      w.text_string("A");
      write_key(w);
      w.unsigned_int(0);
    });
  };
  EXPECT_EQ(decode_error(with_key(2451, [](CborWriter& w) { w.unsigned_int(99); })),
            ErrorCode::unknown_leaf);
  EXPECT_EQ(decode_error(with_key(2451, [](CborWriter& w) { w.text_string("bogus"); })),
            ErrorCode::unknown_leaf);
  EXPECT_EQ(decode_error(with_key(2451, [](CborWriter& w) { w.integer(-3); })),
            ErrorCode::unknown_leaf);
  // A request-only leaf has no place in a voucher, by name or otherwise.
  EXPECT_EQ(decode_error(with_key(
                2451, [](CborWriter& w) { w.text_string("prior-signed-voucher-request"); })),
            ErrorCode::unknown_leaf);
  // 8366bis example 4 uses 17 for extensions; the SID table says 15.
  EXPECT_EQ(decode_error(with_key(2451, [](CborWriter& w) { w.unsigned_int(17); })),
            ErrorCode::unknown_leaf);
  // Unknown container SID, and the -29 misspelling of the request module.
  EXPECT_EQ(decode_error(hex("A1190994A10B6141")), ErrorCode::unknown_leaf);
  Bytes misspelt;
  CborWriter w(misspelt);
  w.map(1);
  w.text_string("ietf-request-voucher:voucher");
  w.map(0);
  EXPECT_EQ(decode_error(misspelt), ErrorCode::unknown_leaf);
}

TEST(CborCodec, RejectsLeavesOfTheWrongType) {
  auto with_leaf = [](std::uint64_t delta, auto write_value) {
    return body(2451, 2, [&](CborWriter& w) {
      w.unsigned_int(delta);
      write_value(w);
      if (delta != 11) {
        w.unsigned_int(11);
        w.text_string("A");
      } else {
        w.unsigned_int(1);
        w.unsigned_int(1);
      }
    });
  };
  // serial-number as an integer, assertion as bytes, a boolean as 1, a
  // nonce as text, a date as an integer, extensions as a map, a key as bytes.
  EXPECT_EQ(decode_error(with_leaf(11, [](CborWriter& w) { w.unsigned_int(5); })),
            ErrorCode::wrong_type);
  EXPECT_EQ(decode_error(with_leaf(1, [](CborWriter& w) { w.byte_string(hex("02")); })),
            ErrorCode::wrong_type);
  EXPECT_EQ(decode_error(with_leaf(3, [](CborWriter& w) { w.unsigned_int(1); })),
            ErrorCode::wrong_type);
  EXPECT_EQ(decode_error(with_leaf(7, [](CborWriter& w) { w.text_string("0123456789"); })),
            ErrorCode::wrong_type);
  EXPECT_EQ(decode_error(with_leaf(2, [](CborWriter& w) { w.unsigned_int(1700000000); })),
            ErrorCode::wrong_type);
  EXPECT_EQ(decode_error(with_leaf(15, [](CborWriter& w) { w.map(0); })), ErrorCode::wrong_type);
  EXPECT_EQ(decode_error(with_leaf(15,
                                   [](CborWriter& w) {
                                     w.array(1);
                                     w.boolean(true);
                                   })),
            ErrorCode::wrong_type);
  EXPECT_EQ(decode_error(body(2451, 1,
                              [](CborWriter& w) {
                                w.byte_string(hex("0B"));
                                w.text_string("A");
                              })),
            ErrorCode::wrong_type);
  // Values of the right type but outside their range.
  EXPECT_EQ(decode_error(with_leaf(1, [](CborWriter& w) { w.unsigned_int(4); })),
            ErrorCode::invalid_value);
  EXPECT_EQ(
      decode_error(with_leaf(2, [](CborWriter& w) { w.text_string("2022-13-01T00:00:00Z"); })),
      ErrorCode::invalid_date);
  // Text that is not UTF-8 is not valid CBOR (RFC 8949 §3.1); libcbor says so.
  EXPECT_EQ(decode_error(with_leaf(11, [](CborWriter& w) { w.text_string("\xC3\x28"); })),
            ErrorCode::malformed_cbor);
  // The top level: not a map, two keys, a container that is not a map.
  EXPECT_EQ(decode_error(hex("80")), ErrorCode::wrong_type);
  EXPECT_EQ(decode_error(hex("A2190993A0190994A0")), ErrorCode::wrong_type);
  EXPECT_EQ(decode_error(hex("A119099380")), ErrorCode::wrong_type);
}

TEST(CborCodec, RejectsANonceWithExpiresOnInAVoucher) {
  Voucher v = full_voucher();
  v.nonce = k_nonce;
  v.expires_on = date("2031-06-30T12:00:00Z");
  EXPECT_EQ(decode_error(encode_cbor(v)), ErrorCode::nonce_with_expiry);
}

TEST(CborCodec, RejectsAVoucherWithoutSerialNumber) {
  EXPECT_EQ(decode_error(hex("A1190993A10102")), ErrorCode::missing_leaf);
}

TEST(CborCodec, RejectsNestingDeeperThanTheLimit) {
  // extensions holding arrays twenty deep.
  const Bytes deep = body(2451, 2, [](CborWriter& w) {
    w.unsigned_int(11);
    w.text_string("A");
    w.unsigned_int(15);
    for (int i = 0; i < 20; ++i) w.array(1);
    w.unsigned_int(0);
  });
  EXPECT_EQ(decode_error(deep), ErrorCode::nesting_too_deep);
  // Tags count as levels too.
  Bytes tags = hex("A1190993A10B");
  for (int i = 0; i < 40; ++i) tags.insert(tags.end(), {0xD8, 0x64});
  tags.insert(tags.end(), {0x61, 0x41});
  EXPECT_EQ(decode_error(tags), ErrorCode::nesting_too_deep);
  // The limit is the caller's: {2451: {15: []}} is three levels.
  const Bytes three = hex("A1190993A20B61410F80");
  EXPECT_TRUE(decode_cbor(three, CborLimits{3}));
  EXPECT_EQ(decode_error(three, CborLimits{2}), ErrorCode::nesting_too_deep);
}

TEST(CborCodec, RejectsEveryTruncationOfAValidEncoding) {
  const Bytes full = diag_bstr("cbrski/C.4-rvr.cose.diag", 3);
  for (std::size_t n = 0; n < full.size(); ++n) {
    ASSERT_EQ(decode_error(ByteView(full).first(n)), ErrorCode::malformed_cbor) << n;
  }
}

TEST(CborCodec, RejectsMalformedAndNonDeterministicFraming) {
  // Trailing bytes after the item.
  EXPECT_EQ(decode_error(hex("A1190993A10B614100")), ErrorCode::malformed_cbor);
  // Indefinite-length map, array, byte string and text string.
  EXPECT_EQ(decode_error(hex("A1190993BF0B6141FF")), ErrorCode::malformed_cbor);
  EXPECT_EQ(decode_error(hex("A1190993A20B61410F9F00FF")), ErrorCode::malformed_cbor);
  EXPECT_EQ(decode_error(hex("A1190993A20B614107 5F44010203044401020304FF")),
            ErrorCode::malformed_cbor);
  EXPECT_EQ(decode_error(hex("A1190993A10B7F6141FF")), ErrorCode::malformed_cbor);
  // An array claiming 2^32 elements in ten bytes, a byte string claiming
  // 2^63 bytes: refused before anything is allocated.
  EXPECT_EQ(decode_error(hex("A1190993A10F9B0000000100000000")), ErrorCode::malformed_cbor);
  EXPECT_EQ(decode_error(hex("A1190993A1075B8000000000000000")), ErrorCode::malformed_cbor);
  // Reserved additional information, a lone break, and nothing at all.
  EXPECT_EQ(decode_error(hex("1C")), ErrorCode::malformed_cbor);
  EXPECT_EQ(decode_error(hex("FF")), ErrorCode::malformed_cbor);
  EXPECT_EQ(decode_error({}), ErrorCode::malformed_cbor);
}

TEST(CborCodec, RefusesMoreItemsThanAVoucherCouldHold) {
  Bytes many = hex("A1190993A20B61410F");
  CborWriter w(many);
  w.array(20000);
  for (int i = 0; i < 20000; ++i) w.unsigned_int(0);
  EXPECT_EQ(decode_error(many), ErrorCode::input_too_large);
}

TEST(CborCodec, WritesNameKeysForLeavesTheModuleLacks) {
  // validate() refuses such a voucher; encoding still loses nothing.
  Voucher v;
  v.serial_number = "A";
  v.proximity_registrar_cert = hex("3082");
  const Bytes encoded = encode_cbor(v);
  EXPECT_EQ(decode_error(encoded), ErrorCode::unknown_leaf);
  EXPECT_NE(std::string(encoded.begin(), encoded.end()).find("proximity-registrar-cert"),
            std::string::npos);
}

}  // namespace
}  // namespace vouchsafe::voucher
