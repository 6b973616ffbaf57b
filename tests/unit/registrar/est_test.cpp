// EST bodies (RFC 7030) as the registrar writes them and the pledge reads
// them, and the registrar's check of a certificate request against the
// CSR attributes it gave (RFC 8995 §5.9.2).
#include "registrar/est.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/keys.h"
#include "pledge/enrollment.h"
#include "registrar/domain_ca.h"

namespace vouchsafe::registrar {
namespace {

using X509ReqPtr = std::unique_ptr<X509_REQ, crypto::Deleter<X509_REQ, X509_REQ_free>>;

const CsrAttributes k_wanted{"WG-T-00000042", crypto::KeyType::p256};

// A request built with OpenSSL directly, as a device that ignores (or
// follows) csrattrs would send it.
Bytes request(EVP_PKEY* key, const std::string& serial, const EVP_MD* md) {
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), key);
  if (!serial.empty()) {
    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "serialNumber", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(serial.c_str()), -1, -1, 0);
  }
  X509_REQ_sign(req.get(), key, md);
  return crypto::to_der(req.get(), i2d_X509_REQ);
}

Bytes body(const Bytes& der) {
  return to_bytes(base64_body(der));
}

TEST(CsrAttributes, ThePledgeReadsWhatTheRegistrarAsks) {
  for (const auto type : {crypto::KeyType::p256, crypto::KeyType::p384}) {
    const auto der = csr_attributes_der({"WG-T-1", type});
    auto read = pledge::parse_csr_attributes(to_bytes(base64_body(der)));
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_TRUE(read->serial_number);
    EXPECT_EQ(read->serial_value, "WG-T-1");
    EXPECT_EQ(read->key_type, type);
    EXPECT_EQ(read->sha384, type == crypto::KeyType::p384);
  }
}

TEST(CsrAttributes, ThePledgeReadsRfc7030sExampleAndIgnoresWhatItDoesNotKnow) {
  // RFC 7030 §4.5.2's example: challengePassword, an id-ecPublicKey key on
  // secp384r1, an extensionRequest for macAddress, ecdsa-with-SHA384.
  const std::string example =
      "MEEGCSqGSIb3DQEJBzASBgcqhkjOPQIBMQcGBSuBBAAiMBYGCSqGSIb3DQEJDjEJ\n"
      "BgcrBgEBAQEWBggqhkjOPQQDAw==";
  auto read = pledge::parse_csr_attributes(as_bytes(example));
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->key_type, crypto::KeyType::p384);
  EXPECT_TRUE(read->sha384);
  EXPECT_FALSE(read->serial_number);
}

TEST(CsrAttributes, ThePledgeRefusesWhatIsNotCsrAttrs) {
  EXPECT_FALSE(pledge::parse_csr_attributes(as_bytes("not base64 !")));
  EXPECT_FALSE(pledge::parse_csr_attributes(as_bytes("BAEA")));      // an OCTET STRING
  EXPECT_FALSE(pledge::parse_csr_attributes(as_bytes("MAMEAQA=")));  // SEQUENCE { OCTET STRING }
}

TEST(EnrollmentRequest, AcceptsARequestThatFollowsTheAttributes) {
  auto key = crypto::generate_key(crypto::KeyType::p256);
  auto checked = check_enrollment_request(
      body(request(key.get(), k_wanted.serial_number, EVP_sha256())), k_wanted);
  ASSERT_TRUE(checked) << checked.refusal().detail;
  EXPECT_EQ(checked->serial_number, k_wanted.serial_number);
  EXPECT_EQ(EVP_PKEY_eq(checked->key.get(), key.get()), 1);
  // Raw DER is taken too.
  EXPECT_TRUE(
      check_enrollment_request(request(key.get(), k_wanted.serial_number, EVP_sha256()), k_wanted));
}

TEST(EnrollmentRequest, RefusesARequestThatIgnoresTheAttributes) {
  auto p256 = crypto::generate_key(crypto::KeyType::p256);
  auto p384 = crypto::generate_key(crypto::KeyType::p384);
  struct Case {
    std::string what;
    Bytes der;
    std::string says;
  };
  const std::vector<Case> cases{
      {"no serialNumber", request(p256.get(), "", EVP_sha256()), "no serialNumber"},
      {"another serialNumber", request(p256.get(), "WG-T-00000043", EVP_sha256()), "WG-T-00000043"},
      {"another curve", request(p384.get(), k_wanted.serial_number, EVP_sha256()), "P-256"},
      {"another digest", request(p256.get(), k_wanted.serial_number, EVP_sha384()),
       "ecdsa-with-SHA256"},
  };
  for (const auto& c : cases) {
    auto refused = check_enrollment_request(body(c.der), k_wanted);
    ASSERT_FALSE(refused) << c.what;
    EXPECT_EQ(refused.refusal().error, RegistrarError::csr_mismatch) << c.what;
    EXPECT_NE(refused.refusal().detail.find(c.says), std::string::npos)
        << c.what << ": " << refused.refusal().detail;
  }
}

TEST(EnrollmentRequest, RefusesWhatIsNotAProvenRequest) {
  auto key = crypto::generate_key(crypto::KeyType::p256);
  Bytes der = request(key.get(), k_wanted.serial_number, EVP_sha256());
  der[der.size() - 5] ^= 0x01U;  // inside the signature: no proof of possession
  for (const Bytes& bad : {der, to_bytes("@@@"), Bytes{0x30, 0x00}}) {
    auto refused = check_enrollment_request(body(bad), k_wanted);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.refusal().error, RegistrarError::csr_malformed);
  }
  const Bytes huge(k_max_csr_bytes + 1, 0x30);
  auto too_large = check_enrollment_request(huge, k_wanted);
  ASSERT_FALSE(too_large);
  EXPECT_EQ(too_large.refusal().error, RegistrarError::request_too_large);
}

TEST(CertsOnly, ThePledgeReadsTheCertificatesBackInOrder) {
  auto key = crypto::generate_key(crypto::KeyType::p256);
  auto ca = std::move(make_domain_ca_certificate(key.get(), "Owner")).value();
  auto other_key = crypto::generate_key(crypto::KeyType::p256);
  auto other = std::move(make_domain_ca_certificate(other_key.get(), "Other")).value();
  auto der = certs_only_der({ca.get(), other.get()});
  ASSERT_TRUE(der);
  auto read = pledge::parse_certs_only(to_bytes(base64_body(*der)));
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->size(), 2U);
  EXPECT_EQ(X509_cmp((*read)[0].get(), ca.get()), 0);
  EXPECT_EQ(X509_cmp((*read)[1].get(), other.get()), 0);
  EXPECT_FALSE(pledge::parse_certs_only(as_bytes("MAA=")));
}

TEST(DomainCa, IssuesAnLdevidWithTheDevicesSerialNumberWithinItsOwnValidity) {
  auto ca_key = crypto::generate_key(crypto::KeyType::p256);
  auto ca_cert = std::move(make_domain_ca_certificate(ca_key.get(), "Owner")).value();
  auto ca = std::move(DomainCa::create(crypto::share(ca_cert.get()), crypto::share(ca_key.get())))
                .value();
  auto device_key = crypto::generate_key(crypto::KeyType::p256);
  LdevidProfile profile{"Owner", std::chrono::hours(24)};
  const std::time_t now = std::time(nullptr);
  auto ldevid = ca->issue_ldevid(device_key.get(), "WG-T-7", profile, now);
  ASSERT_TRUE(ldevid) << ldevid.error().message;
  EXPECT_EQ(X509_check_issued(ca_cert.get(), ldevid->get()), X509_V_OK);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notAfter(ldevid->get()), now + 86400), 0);
  const X509_NAME* subject = X509_get_subject_name(ldevid->get());
  const int at = X509_NAME_get_index_by_NID(subject, NID_serialNumber, -1);
  ASSERT_GE(at, 0);
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
  EXPECT_EQ(ASN1_STRING_type(value), V_ASN1_PRINTABLESTRING);
  // A key that is not the CA's is refused when the CA is made.
  EXPECT_FALSE(DomainCa::create(crypto::share(ca_cert.get()), crypto::share(device_key.get())));
  EXPECT_FALSE(ca->issue_ldevid(device_key.get(), "bad\nserial", profile, now));
}

}  // namespace
}  // namespace vouchsafe::registrar
