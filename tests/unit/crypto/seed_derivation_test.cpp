// Seed and DICE key derivation: deterministic, firmware-bound, and the same
// as an independent implementation of docs/seed-derivation.md.
#include "crypto/seed_derivation.h"

#include <gtest/gtest.h>

#include "crypto/keys.h"
#include "crypto/signature.h"
#include "support/test_support.h"

namespace vouchsafe::crypto {
namespace {

Bytes seed_of(std::uint8_t fill) {
  return Bytes(32, fill);
}

std::string python_point(const std::string& seed_hex, const std::string& firmware_hex = "") {
  return vouchsafe::testing::first_line_of("/usr/bin/python3 " + vouchsafe::testing::interop_dir() +
                                           "derive_seed_key.py " + seed_hex + " " + firmware_hex);
}

TEST(SeedDerivation, GivesTheSameKeyForTheSameSeed) {
  auto a = derive_p256_key(seed_of(1));
  auto b = derive_p256_key(seed_of(1));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->public_point, b->public_point);
  EXPECT_EQ(a->public_point.size(), 65U);
  EXPECT_EQ(a->public_point[0], 0x04);
}

TEST(SeedDerivation, GivesAnotherKeyForAnotherSeed) {
  EXPECT_NE(derive_p256_key(seed_of(1))->public_point, derive_p256_key(seed_of(2))->public_point);
}

TEST(SeedDerivation, MatchesAnIndependentPythonImplementation) {
  const Bytes seed =
      *hex_decode("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  auto key = derive_p256_key(seed);
  ASSERT_TRUE(key);
  EXPECT_EQ(hex_encode(key->public_point), python_point(hex_encode(seed)));
}

TEST(SeedDerivation, RejectsSeedsThatAreNot256Bits) {
  EXPECT_EQ(derive_p256_key(Bytes(31, 1)).error().code, ErrorCode::invalid_value);
  EXPECT_FALSE(derive_p256_key(Bytes(33, 1)));
}

TEST(SeedDerivation, DeviceSideKeySignsWhatTheFactoryCertifies) {
  auto factory = derive_p256_key(seed_of(9));
  auto device = derive_p256_key(seed_of(9));
  ASSERT_TRUE(factory && device);
  auto pkey = derived_key_to_pkey(*device);
  ASSERT_TRUE(pkey) << pkey.error().message;
  EXPECT_EQ(public_key_der(pkey->get()), p256_spki_from_point(factory->public_point));
  auto sig = sign_bytes(pkey->get(), SignatureAlgorithm::es256, as_bytes("hello"));
  ASSERT_TRUE(sig);
  auto spki = p256_spki_from_point(factory->public_point);
  auto pub = parse_public_key(spki);
  ASSERT_TRUE(pub);
  EXPECT_TRUE(verify_bytes(pub->get(), SignatureAlgorithm::es256, as_bytes("hello"), *sig,
                           SignatureEncoding::der));
}

TEST(DiceDerivation, AnotherFirmwareGivesAnotherKey) {
  const Bytes fw1 = sha256(as_bytes("firmware 1.0"));
  const Bytes fw2 = sha256(as_bytes("firmware 1.1"));
  auto k1 = derive_p256_key(dice_cdi(seed_of(3), fw1)->view());
  auto k1_again = derive_p256_key(dice_cdi(seed_of(3), fw1)->view());
  auto k2 = derive_p256_key(dice_cdi(seed_of(3), fw2)->view());
  ASSERT_TRUE(k1 && k1_again && k2);
  EXPECT_EQ(k1->public_point, k1_again->public_point);
  EXPECT_NE(k1->public_point, k2->public_point);
  EXPECT_NE(k1->public_point, derive_p256_key(seed_of(3))->public_point);
}

TEST(DiceDerivation, MatchesAnIndependentPythonImplementation) {
  const Bytes seed = seed_of(0x42);
  const Bytes fw = sha256(as_bytes("firmware image"));
  auto key = derive_p256_key(dice_cdi(seed, fw)->view());
  ASSERT_TRUE(key);
  EXPECT_EQ(hex_encode(key->public_point), python_point(hex_encode(seed), hex_encode(fw)));
}

}  // namespace
}  // namespace vouchsafe::crypto
