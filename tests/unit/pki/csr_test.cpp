// check_csr: a device's PKCS#10 request is accepted only when it parses,
// proves possession of its key, and carries an ECDSA P-256 or P-384 key.
#include <gtest/gtest.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <string>

#include "pki/certificate_profiles.h"
#include "unit/pki/pki_fixture.h"

namespace vouchsafe::pki {
namespace {

using testing::make_csr;

TEST(CheckCsr, AcceptsAP256RequestAndReturnsItsKeyAndSerial) {
  auto key = crypto::generate_key(crypto::KeyType::p256);
  auto checked = check_csr(make_csr(key.get(), "TH-0001"));
  ASSERT_TRUE(checked) << checked.error().message;
  EXPECT_EQ(checked->subject_public_key_info, crypto::public_key_der(key.get()));
  EXPECT_EQ(checked->subject_serial, "TH-0001");
}

TEST(CheckCsr, AcceptsAP384RequestInPemFromTheOpensslCommand) {
  ASSERT_TRUE(testing::executable("/usr/bin/openssl"))
      << "openssl is not installed (scripts/setup)";
  const auto made = testing::run_command(
      "/usr/bin/openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes "
      "-keyout /dev/null -subj '/CN=Thermostat/serialNumber=TH-0384' 2>/dev/null");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  ASSERT_NE(made.output.find("-----BEGIN CERTIFICATE REQUEST-----"), std::string::npos);
  auto checked = check_csr(as_bytes(made.output));
  ASSERT_TRUE(checked) << checked.error().message;
  EXPECT_EQ(checked->subject_serial, "TH-0384");
  auto key = crypto::parse_public_key(checked->subject_public_key_info);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_TRUE(EVP_PKEY_is_a(key->get(), "EC"));
  EXPECT_EQ(EVP_PKEY_get_bits(key->get()), 384);
}

TEST(CheckCsr, ReturnsNoSerialWhenTheSubjectHasNone) {
  auto key = crypto::generate_key(crypto::KeyType::p256);
  std::unique_ptr<X509_REQ, crypto::Deleter<X509_REQ, X509_REQ_free>> req(X509_REQ_new());
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Thermostat"), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key.get());
  ASSERT_GT(X509_REQ_sign(req.get(), key.get(), EVP_sha256()), 0);
  unsigned char* out = nullptr;
  const int len = i2d_X509_REQ(req.get(), &out);
  ASSERT_GT(len, 0);
  const Bytes der(out, out + len);
  OPENSSL_free(out);
  auto checked = check_csr(der);
  ASSERT_TRUE(checked) << checked.error().message;
  EXPECT_EQ(checked->subject_serial, "");
}

TEST(CheckCsr, RejectsARequestWhoseSignatureDoesNotVerify) {
  auto key = crypto::generate_key(crypto::KeyType::p256);
  Bytes csr = make_csr(key.get(), "TH-0001");
  // Change the signed subject, keeping the DER well-formed.
  const std::string cn = "Thermostat";
  auto at = std::search(csr.begin(), csr.end(), cn.begin(), cn.end());
  ASSERT_NE(at, csr.end());
  *at = 'X';
  auto checked = check_csr(csr);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, ErrorCode::bad_signature);
  EXPECT_EQ(checked.error().message,
            "the CSR's signature does not verify (no proof of possession)");
}

TEST(CheckCsr, RejectsARequestSignedByAnotherKey) {
  auto key = crypto::generate_key(crypto::KeyType::p256);
  auto other = crypto::generate_key(crypto::KeyType::p256);
  std::unique_ptr<X509_REQ, crypto::Deleter<X509_REQ, X509_REQ_free>> req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), key.get());
  ASSERT_GT(X509_REQ_sign(req.get(), other.get(), EVP_sha256()), 0);
  unsigned char* out = nullptr;
  const int len = i2d_X509_REQ(req.get(), &out);
  ASSERT_GT(len, 0);
  const Bytes der(out, out + len);
  OPENSSL_free(out);
  EXPECT_EQ(check_csr(der).error().code, ErrorCode::bad_signature);
}

TEST(CheckCsr, RejectsGarbageAsMalformed) {
  EXPECT_EQ(check_csr(as_bytes("this is not a certificate request")).error().code,
            ErrorCode::malformed_der);
  EXPECT_EQ(check_csr({}).error().code, ErrorCode::malformed_der);
  EXPECT_EQ(check_csr(as_bytes("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                               "-----END CERTIFICATE REQUEST-----\n"))
                .error()
                .code,
            ErrorCode::malformed_der);
}

TEST(CheckCsr, RejectsTrailingBytesAfterADerRequest) {
  auto key = crypto::generate_key(crypto::KeyType::p256);
  Bytes csr = make_csr(key.get(), "TH-0001");
  csr.push_back(0x00);
  EXPECT_EQ(check_csr(csr).error().code, ErrorCode::malformed_der);
}

TEST(CheckCsr, RejectsARequestLargerThanSixtyFourKibibytes) {
  const Bytes huge((64U << 10U) + 1, 0x30);
  EXPECT_EQ(check_csr(huge).error().code, ErrorCode::input_too_large);
}

TEST(CheckCsr, RejectsAnRsaKey) {
  crypto::PkeyPtr rsa(EVP_RSA_gen(2048));
  ASSERT_TRUE(rsa);
  auto checked = check_csr(make_csr(rsa.get(), "TH-0001"));
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, ErrorCode::unsupported_algorithm);
  EXPECT_NE(checked.error().message.find("RSA"), std::string::npos) << checked.error().message;
}

TEST(CheckCsr, RejectsEd25519AndP521Keys) {
  auto ed = crypto::generate_key(crypto::KeyType::ed25519);
  EXPECT_EQ(check_csr(make_csr(ed.get(), "TH-0001", nullptr)).error().code,
            ErrorCode::unsupported_algorithm);
  auto p521 = crypto::generate_key(crypto::KeyType::p521);
  EXPECT_EQ(check_csr(make_csr(p521.get(), "TH-0001", EVP_sha512())).error().code,
            ErrorCode::unsupported_algorithm);
}

}  // namespace
}  // namespace vouchsafe::pki
