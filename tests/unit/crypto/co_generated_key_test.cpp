// Co-generated P-256 keys and ECIES (the enrolling voucher): z = x + y and
// Z = X + Y agree, checked against arithmetic and ECIES written in Python
// with code we did not write; neither x nor y alone signs for Z; a sealed
// value opens only with its key, its associated data and its label.
#include "crypto/co_generated_key.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "crypto/ecies.h"
#include "crypto/keys.h"
#include "crypto/signature.h"
#include "support/test_support.h"

namespace vouchsafe::crypto {
namespace {

const std::string k_interop = vouchsafe::testing::interop_dir();
using vouchsafe::testing::first_line_of;

DerivedKey fresh_parts() {
  auto key = generate_key(KeyType::p256);
  auto parts = p256_key_parts(key.get());
  EXPECT_TRUE(parts) << parts.error().message;
  return std::move(parts).value();
}

TEST(CoGeneratedKey, PointSumsAgreeWithArithmeticWeDidNotWrite) {
  for (int i = 0; i < 4; ++i) {
    const DerivedKey x = fresh_parts();
    const DerivedKey y = fresh_parts();
    auto z = p256_point_add(x.public_point, y.public_point);
    ASSERT_TRUE(z) << z.error().message;
    EXPECT_EQ(first_line_of("/usr/bin/python3 " + k_interop + "p256_add.py " +
                            hex_encode(x.public_point) + " " + hex_encode(y.public_point)),
              hex_encode(*z));
  }
}

TEST(CoGeneratedKey, TheSumOfTheScalarsIsTheKeyOfTheSumOfThePoints) {
  const DerivedKey x = fresh_parts();
  const DerivedKey y = fresh_parts();
  auto z_point = p256_point_add(x.public_point, y.public_point);
  auto z = p256_scalar_add(x.private_scalar.view(), y.private_scalar.view());
  ASSERT_TRUE(z_point && z);
  EXPECT_EQ(*p256_public_point_of(z->view()), *z_point);
}

// A signature by the key with this scalar, checked under the point.
bool signs_for(ByteView scalar, const Bytes& point) {
  DerivedKey parts;
  parts.private_scalar = SecretBytes(scalar);
  parts.public_point = *p256_public_point_of(scalar);
  auto key = derived_key_to_pkey(parts);
  EXPECT_TRUE(key) << key.error().message;
  const Bytes message = to_bytes("a TLS CertificateVerify, say");
  auto sig = sign_bytes(key->get(), SignatureAlgorithm::es256, message);
  EXPECT_TRUE(sig);
  auto under = parse_public_key(p256_spki_from_point(point));
  return verify_bytes(under->get(), SignatureAlgorithm::es256, message, *sig,
                      SignatureEncoding::der)
      .has_value();
}

TEST(CoGeneratedKey, NeitherShareAloneSignsForTheSum) {
  const DerivedKey x = fresh_parts();
  const DerivedKey y = fresh_parts();
  const Bytes z_point = *p256_point_add(x.public_point, y.public_point);
  const auto z = p256_scalar_add(x.private_scalar.view(), y.private_scalar.view());
  EXPECT_TRUE(signs_for(z->view(), z_point));
  EXPECT_FALSE(signs_for(x.private_scalar.view(), z_point));
  EXPECT_FALSE(signs_for(y.private_scalar.view(), z_point));
}

TEST(CoGeneratedKey, RefusesPointsOffTheCurveAndASumAtInfinity) {
  const DerivedKey x = fresh_parts();
  Bytes off = x.public_point;
  off.back() ^= 1U;
  EXPECT_FALSE(p256_point_add(x.public_point, off));
  // -X: the same x-coordinate, the other y.
  Bytes minus = x.public_point;
  const std::string negated = first_line_of(
      "/usr/bin/python3 -c 'import sys; p=0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFF"
      "FFFFFFFFFFFF; y=int(sys.argv[1],16); print((p-y).to_bytes(32,\"big\").hex())' " +
      hex_encode(ByteView(x.public_point).subspan(33)));
  const Bytes neg_y = *hex_decode(negated);
  std::copy(neg_y.begin(), neg_y.end(), minus.begin() + 33);
  const auto infinity = p256_point_add(x.public_point, minus);
  ASSERT_FALSE(infinity);
  EXPECT_NE(infinity.error().message.find("infinity"), std::string::npos);
  EXPECT_FALSE(p256_scalar_add(Bytes(32, 0), x.private_scalar.view()));
}

class Ecies : public ::testing::Test {
 protected:
  PkeyPtr recipient_ = generate_key(KeyType::p256);
  Bytes point_ = *p256_public_point(recipient_.get());
  Bytes secret_ = Bytes(32, 0x5c);
  Bytes aad_ = to_bytes("WG-F1-00000001|Z");
};

TEST_F(Ecies, OpensWithTheKeyTheAssociatedDataAndTheLabel) {
  auto sealed = ecies_seal(point_, secret_, aad_, "label");
  ASSERT_TRUE(sealed) << sealed.error().message;
  EXPECT_EQ(sealed->size(), secret_.size() + k_ecies_overhead);
  auto opened = ecies_open(recipient_.get(), *sealed, aad_, "label");
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(Bytes(opened->view().begin(), opened->view().end()), secret_);
}

TEST_F(Ecies, PythonsCryptographyOpensWhatWeSeal) {
  auto sealed = ecies_seal(point_, secret_, aad_, "vouchsafe interop");
  ASSERT_TRUE(sealed);
  const auto pem_path = std::filesystem::temp_directory_path() /
                        ("vouchsafe-ecies-" + std::to_string(::getpid()) + ".pem");
  {
    auto pem = private_key_pem(recipient_.get(), std::nullopt);
    std::ofstream(pem_path) << *pem;
  }
  EXPECT_EQ(
      first_line_of("/usr/bin/python3 " + k_interop + "ecies_open.py " + pem_path.string() + " " +
                    hex_encode(*sealed) + " " + hex_encode(aad_) + " 'vouchsafe interop'"),
      hex_encode(secret_));
  std::filesystem::remove(pem_path);
}

TEST_F(Ecies, RefusesATamperedValueOtherDataAnotherLabelAndAnotherKey) {
  const Bytes sealed = *ecies_seal(point_, secret_, aad_, "label");
  for (std::size_t at : {std::size_t{1}, std::size_t{70}, std::size_t{80}, sealed.size() - 1}) {
    Bytes tampered = sealed;
    tampered[at] ^= 0x01;
    EXPECT_FALSE(ecies_open(recipient_.get(), tampered, aad_, "label")) << "byte " << at;
  }
  EXPECT_FALSE(ecies_open(recipient_.get(), sealed, to_bytes("WG-F1-00000002|Z"), "label"));
  EXPECT_FALSE(ecies_open(recipient_.get(), sealed, aad_, "another label"));
  auto other = generate_key(KeyType::p256);
  const auto wrong = ecies_open(other.get(), sealed, aad_, "label");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::bad_signature);
  EXPECT_FALSE(ecies_open(recipient_.get(), ByteView(sealed).first(50), aad_, "label"));
}

}  // namespace
}  // namespace vouchsafe::crypto
