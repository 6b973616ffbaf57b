// Key references: RFC 7512 pkcs11: URIs and file paths.
#include "crypto/key_reference.h"

#include <gtest/gtest.h>

namespace vouchsafe::crypto {
namespace {

TEST(KeyReference, APathIsAFileKey) {
  auto ref = parse_key_reference("/srv/vouchsafe/keys/root-ca.key.pem");
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_FALSE(ref->on_token());
  EXPECT_EQ(ref->text(), "/srv/vouchsafe/keys/root-ca.key.pem");
}

TEST(KeyReference, ParsesTheRfc7512Example) {
  // RFC 7512 §3: percent-encoded id and a query with module-path.
  auto ref = parse_key_reference(
      "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;object=my%20key;id=%01%02%FF;"
      "type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/pin");
  ASSERT_TRUE(ref) << ref.error().message;
  ASSERT_TRUE(ref->on_token());
  EXPECT_EQ(ref->uri.token, "The Software PKCS#11 Softtoken");
  EXPECT_EQ(ref->uri.object, "my key");
  EXPECT_EQ(ref->uri.id, (Bytes{0x01, 0x02, 0xFF}));
  EXPECT_EQ(ref->uri.type, "private");
  EXPECT_EQ(ref->uri.module_path, "/usr/lib/softhsm/libsofthsm2.so");
  EXPECT_EQ(ref->uri.pin_source, "file:/etc/pin");
}

TEST(KeyReference, FormattingRoundTrips) {
  Pkcs11Uri uri;
  uri.token = "vouchsafe 1;?&%";
  uri.object = "masa-signing";
  uri.id = Bytes{0x00, 0xAB};
  uri.module_path = "/usr/lib/softhsm/libsofthsm2.so";
  uri.pin_source = "file:/run/pin file";
  const auto text = format_pkcs11_uri(uri);
  EXPECT_EQ(text.find(' '), std::string::npos) << text;
  auto back = parse_pkcs11_uri(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, uri) << text;
}

TEST(KeyReference, RefusesAPinInTheUri) {
  auto ref = parse_key_reference("pkcs11:token=t;object=k?pin-value=1234");
  ASSERT_FALSE(ref);
  EXPECT_NE(ref.error().message.find("pin-source"), std::string::npos);
  EXPECT_EQ(ref.error().message.find("1234"), std::string::npos) << "the PIN is never echoed";
}

TEST(KeyReference, RefusesMalformedUris) {
  for (const char* bad : {"pkcs11:token=a;token=b", "pkcs11:tokn=a", "pkcs11:token=%4",
                          "pkcs11:token=%zz", "pkcs11:token", "pkcs11:token=a?modul-path=/x",
                          "pkcs11:token=a b", "pkcs11:token=a#frag", "pkcs11:type=secret"}) {
    auto ref = parse_key_reference(bad);
    EXPECT_FALSE(ref) << bad;
    if (!ref) {
      EXPECT_EQ(ref.error().code, ErrorCode::usage) << bad;
    }
  }
}

TEST(KeyReference, BoundsItsLength) {
  EXPECT_FALSE(parse_key_reference("pkcs11:token=" + std::string(5000, 'a')));
  EXPECT_FALSE(parse_key_reference(std::string(5000, 'a')));
  EXPECT_FALSE(parse_key_reference(""));
}

// Written back, an id is percent-encoded byte by byte (three characters
// each): a URI that fits only in its compact form is refused as read, not
// stored and then unreadable (found by fuzz_pkcs11_uri).
TEST(KeyReference, WhatItAcceptsItCanReadBackInCanonicalForm) {
  // About 2,000 characters as written here, over 6,000 written back.
  auto compact = parse_key_reference("pkcs11:token=t;id=" + std::string(1000, 'a') +
                                     ";object=" + std::string(1000, '/'));
  ASSERT_FALSE(compact);
  EXPECT_NE(compact.error().message.find("canonical form"), std::string::npos)
      << compact.error().message;
  auto fits = parse_key_reference("pkcs11:token=t;id=" + std::string(1000, 'a'));
  ASSERT_TRUE(fits) << fits.error().message;
  auto again = parse_key_reference(fits->text());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, *fits);
}

TEST(KeyReference, AKeyStoreNamesATokenNotAKey) {
  EXPECT_TRUE(parse_key_store("pkcs11:token=vouchsafe?module-path=/m.so"));
  EXPECT_FALSE(parse_key_store("pkcs11:token=vouchsafe;object=root?module-path=/m.so"));
}

}  // namespace
}  // namespace vouchsafe::crypto
