// Certificates read by our DER reader: the lazily decoded X509, the public
// key built without OpenSSL's decoder, and the IDevID field readers, each
// checked against OpenSSL's reading of the same certificate.
#include "crypto/certificate_cache.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "crypto/keys.h"
#include "pki/certificate_fields.h"
#include "support/test_support.h"
#include "unit/pki/pki_fixture.h"

namespace vouchsafe::crypto {
namespace {

constexpr const char* k_vector_idevid =
    "rfc8995/C.2.1-pledge-voucher-request_vr_00-D0-E5-F2-00-02.derived.embedded-certs.pem";

TEST(CertificateCache, ReadsTheFieldsOpenSslReads) {
  const auto pki = testing::make_test_pki(KeyType::p384);
  const Bytes der = certificate_der(pki.signer.get());
  CertificateCache cache;
  auto ref = cache.decode(der);
  ASSERT_TRUE(ref) << ref.error().message;
  const DecodedCertificate& c = **ref;
  EXPECT_EQ(c.version, 2);
  EXPECT_EQ(c.spki_der, public_key_der(X509_get0_pubkey(pki.signer.get())));
  EXPECT_EQ(EVP_PKEY_eq(c.public_key.get(), X509_get0_pubkey(pki.signer.get())), 1);
  EXPECT_EQ(Bytes(c.issuer.begin(), c.issuer.end()),
            to_der(X509_get_issuer_name(pki.signer.get()), i2d_X509_NAME));
  EXPECT_EQ(Bytes(c.subject.begin(), c.subject.end()),
            to_der(X509_get_subject_name(pki.signer.get()), i2d_X509_NAME));
  // Equal times compare as "earlier" (X509_cmp_time); one second before, later.
  std::time_t not_before = c.not_before;
  EXPECT_EQ(X509_cmp_time(X509_get0_notBefore(pki.signer.get()), &not_before), -1);
  not_before -= 1;
  EXPECT_EQ(X509_cmp_time(X509_get0_notBefore(pki.signer.get()), &not_before), 1);
  EXPECT_EQ(c.extensions.size(), 4U);
  const ByteView ski = subject_key_identifier(c);
  const ASN1_OCTET_STRING* expected = X509_get0_subject_key_id(pki.signer.get());
  ASSERT_NE(expected, nullptr);
  EXPECT_EQ(Bytes(ski.begin(), ski.end()),
            Bytes(ASN1_STRING_get0_data(expected),
                  ASN1_STRING_get0_data(expected) + ASN1_STRING_length(expected)));
}

TEST(CertificateCache, BuildsKeysOfEveryCurveAndEd25519) {
  for (const KeyType type : {KeyType::p256, KeyType::p384, KeyType::p521, KeyType::ed25519}) {
    const PkeyPtr key = generate_key(type);
    const X509Ptr cert = testing::make_certificate(key.get(), "Key", key.get(), nullptr, true);
    auto ref = CertificateCache().decode(certificate_der(cert.get()));
    ASSERT_TRUE(ref) << ref.error().message;
    EXPECT_EQ(EVP_PKEY_eq((*ref)->public_key.get(), key.get()), 1);
    EXPECT_EQ((*ref)->spki_der, public_key_der(key.get()));
  }
}

// The keys are built from the SPKI's point: one that is not on the curve
// must not become a key (invalid-curve attacks on ECDSA and ECDH).
TEST(CertificateCache, RefusesAPublicKeyOffTheCurve) {
  const PkeyPtr key = generate_key(KeyType::p256);
  const X509Ptr cert = testing::make_certificate(key.get(), "Key", key.get(), nullptr, true);
  Bytes der = certificate_der(cert.get());
  const Bytes point = public_key_der(key.get());  // the SPKI; the point is its last 65 bytes
  const auto at = std::search(der.begin(), der.end(), point.end() - 65, point.end());
  ASSERT_NE(at, der.end());
  *(at + 64) ^= 0x01;  // the last byte of y
  auto ref = CertificateCache().decode(der);
  ASSERT_FALSE(ref);
  EXPECT_EQ(ref.error().code, ErrorCode::bad_key);
  *(at + 64) ^= 0x01;
  EXPECT_TRUE(CertificateCache().decode(der)) << "the unaltered certificate decodes";
}

TEST(CertificateCache, RefusesWhatIsNotADerCertificate) {
  const auto pki = testing::make_test_pki();
  Bytes der = certificate_der(pki.signer.get());
  der.push_back(0x00);
  auto trailing = CertificateCache().decode(der);
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().code, ErrorCode::malformed_der);
  der.resize(der.size() - 10);
  auto truncated = CertificateCache().decode(der);
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().code, ErrorCode::malformed_der);
  EXPECT_NE(truncated.error().message.find("not a DER certificate"), std::string::npos);
}

TEST(CertificateCache, DecodesTheX509OnceForAllThreads) {
  const auto pki = testing::make_test_pki();
  auto ref = CertificateCache().decode(certificate_der(pki.signer.get()));
  ASSERT_TRUE(ref) << ref.error().message;
  const CertificateRef shared = *ref;
  const auto before = x509_decode_count();
  std::atomic<bool> go{false};
  std::vector<X509*> seen(8, nullptr);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      seen[i] = shared->x509();
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(x509_decode_count(), before + 1);
  for (X509* x : seen) {
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x, seen.front());
  }
  EXPECT_EQ(X509_cmp(seen.front(), pki.signer.get()), 0);
}

TEST(CertificateFields, ReadOurIdevidsAsTheX509ReadersDo) {
  const auto pki = pki::testing::make_manufacturer_pki();
  const auto issuer = pki::testing::make_issuer(pki);
  ASSERT_NE(issuer, nullptr);
  const PkeyPtr device_key = generate_key(KeyType::p256);
  auto der = issuer->issue("TH-0001-42", public_key_der(device_key.get()), std::time(nullptr));
  ASSERT_TRUE(der) << der.error().message;
  auto ref = CertificateCache().decode(*der);
  ASSERT_TRUE(ref) << ref.error().message;
  const auto decodes = x509_decode_count();
  auto serial = pki::device_serial_of(**ref);
  auto aki = pki::idevid_issuer_of(**ref);
  EXPECT_EQ(x509_decode_count(), decodes);  // read without OpenSSL's decode
  ASSERT_TRUE(serial) << serial.error().message;
  EXPECT_EQ(*serial, "TH-0001-42");
  ASSERT_TRUE(aki) << aki.error().message;
  EXPECT_EQ(*serial, *pki::device_serial_of((*ref)->x509()));
  EXPECT_EQ(*aki, *pki::idevid_issuer_of((*ref)->x509()));
}

TEST(CertificateFields, ReadTheRfc8995IdevidAsTheX509ReadersDo) {
  auto certs = testing::vector_certs(k_vector_idevid);
  ASSERT_FALSE(certs.empty());
  auto ref = CertificateCache().decode(certificate_der(certs.front().get()));
  ASSERT_TRUE(ref) << ref.error().message;
  auto serial = pki::device_serial_of(**ref);
  ASSERT_TRUE(serial) << serial.error().message;
  EXPECT_EQ(*serial, "00-D0-E5-F2-00-02");
  EXPECT_EQ(*serial, *pki::device_serial_of(certs.front().get()));
  // No AKI in Appendix C's IDevID: both readers say so.
  auto aki = pki::idevid_issuer_of(**ref);
  ASSERT_FALSE(aki);
  EXPECT_EQ(aki.error().code, pki::idevid_issuer_of(certs.front().get()).error().code);
}

TEST(CertificateFields, RefuseAnIdevidWithoutSerialNumber) {
  const auto pki = testing::make_test_pki();
  auto ref = CertificateCache().decode(certificate_der(pki.signer.get()));
  ASSERT_TRUE(ref) << ref.error().message;
  auto serial = pki::device_serial_of(**ref);
  ASSERT_FALSE(serial);
  EXPECT_EQ(serial.error().code, pki::device_serial_of(pki.signer.get()).error().code);
}

}  // namespace
}  // namespace vouchsafe::crypto
