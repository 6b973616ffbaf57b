// The manufacturer PKI's certificate profiles read back through OpenSSL's
// parser: root, issuing CA and IDevID fields as SPEC.md §5 describes them.
#include "pki/certificate_profiles.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <set>
#include <thread>

#include "crypto/der.h"
#include "crypto/seed_derivation.h"
#include "unit/pki/pki_fixture.h"

namespace vouchsafe::pki {
namespace {

using testing::make_issuer;
using testing::make_manufacturer_pki;
using testing::parse_der;
using testing::sample_profile;

using GeneralNamesPtr =
    std::unique_ptr<GENERAL_NAMES, crypto::Deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;
using BasicConstraintsPtr =
    std::unique_ptr<BASIC_CONSTRAINTS, crypto::Deleter<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free>>;
using AuthorityKeyIdPtr =
    std::unique_ptr<AUTHORITY_KEYID, crypto::Deleter<AUTHORITY_KEYID, AUTHORITY_KEYID_free>>;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, crypto::Deleter<ASN1_OBJECT, ASN1_OBJECT_free>>;

Bytes bytes_of(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  const auto* data = ASN1_STRING_get0_data(s);
  return {data, data + ASN1_STRING_length(s)};
}

std::string oid_text(const ASN1_OBJECT* obj) {
  std::array<char, 128> buf{};
  OBJ_obj2txt(buf.data(), static_cast<int>(buf.size()), obj, 1);
  return buf.data();
}

bool critical(X509* cert, int nid) {
  const int at = X509_get_ext_by_NID(cert, nid, -1);
  return at >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, at)) == 1;
}

// The one subject attribute with this NID: its ASN.1 string type and text.
std::pair<int, std::string> subject_attribute(X509* cert, int nid) {
  X509_NAME* name = X509_get_subject_name(cert);
  const int at = X509_NAME_get_index_by_NID(name, nid, -1);
  if (at < 0) return {-1, ""};
  EXPECT_LT(X509_NAME_get_index_by_NID(name, nid, at), 0) << "attribute repeated";
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  const Bytes text = bytes_of(value);
  return {ASN1_STRING_type(value), std::string(text.begin(), text.end())};
}

Bytes extension_value(X509* cert, const char* dotted) {
  const Asn1ObjectPtr oid(OBJ_txt2obj(dotted, 1));
  const int at = X509_get_ext_by_OBJ(cert, oid.get(), -1);
  if (at < 0) return {};
  return bytes_of(X509_EXTENSION_get_data(X509_get_ext(cert, at)));
}

Bytes device_spki() {
  auto key = crypto::generate_key(crypto::KeyType::p256);
  return crypto::public_key_der(key.get());
}

std::string not_after_text(X509* cert) {
  const ASN1_TIME* t = X509_get0_notAfter(cert);
  const Bytes text = bytes_of(t);
  return std::string(text.begin(), text.end());
}

// ---------------------------------------------------------------------------
// Certificate serial numbers

TEST(CertificateSerial, IsSixteenOctetsPositiveAndMinimal) {
  for (int i = 0; i < 2000; ++i) {
    const Bytes serial = random_certificate_serial();
    ASSERT_EQ(serial.size(), 16U);
    ASSERT_EQ(serial[0] & 0x80U, 0U) << "the INTEGER would be negative";
    ASSERT_NE(serial[0], 0U) << "the INTEGER would be shorter than 16 octets";
  }
}

TEST(CertificateSerial, DiffersEveryTime) {
  std::set<Bytes> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(random_certificate_serial()).second);
}

// ---------------------------------------------------------------------------
// Root and issuing CAs

class RootCertificate : public ::testing::TestWithParam<crypto::KeyType> {};

TEST_P(RootCertificate, IsASelfSignedCaThatNeverExpires) {
  auto key = crypto::generate_key(GetParam());
  auto root = make_root_certificate(key.get(), {"Example Devices Ltd", "Example Root CA"});
  ASSERT_TRUE(root) << root.error().message;
  X509* cert = root->get();
  EXPECT_EQ(X509_get_version(cert), X509_VERSION_3);
  EXPECT_EQ(X509_verify(cert, key.get()), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)), 0);
  EXPECT_EQ(subject_attribute(cert, NID_commonName).second, "Example Root CA");
  EXPECT_EQ(subject_attribute(cert, NID_organizationName).second, "Example Devices Ltd");
  EXPECT_EQ(X509_check_ca(cert), 1);
  EXPECT_TRUE(critical(cert, NID_basic_constraints));
  EXPECT_TRUE(critical(cert, NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(cert),
            static_cast<std::uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  ASSERT_NE(X509_get0_subject_key_id(cert), nullptr);
  ASSERT_NE(X509_get0_authority_key_id(cert), nullptr);
  EXPECT_EQ(bytes_of(X509_get0_subject_key_id(cert)), bytes_of(X509_get0_authority_key_id(cert)));
  EXPECT_EQ(ASN1_STRING_type(X509_get0_notAfter(cert)), V_ASN1_GENERALIZEDTIME);
  EXPECT_EQ(not_after_text(cert), "99991231235959Z");
  EXPECT_EQ(X509_get_signature_nid(cert),
            GetParam() == crypto::KeyType::p384 ? NID_ecdsa_with_SHA384 : NID_ecdsa_with_SHA256);
}

INSTANTIATE_TEST_SUITE_P(EcdsaCurves, RootCertificate,
                         ::testing::Values(crypto::KeyType::p256, crypto::KeyType::p384));

TEST(RootCertificateArguments, RefuseAKeyOutsideTheEcdsaProfile) {
  auto key = crypto::generate_key(crypto::KeyType::ed25519);
  auto root = make_root_certificate(key.get(), {"Example", "Root"});
  ASSERT_FALSE(root);
  EXPECT_EQ(root.error().code, ErrorCode::unsupported_algorithm);
}

TEST(RootCertificateArguments, RefuseAnEmptyCommonName) {
  auto key = crypto::generate_key(crypto::KeyType::p256);
  auto root = make_root_certificate(key.get(), {"Example", ""});
  ASSERT_FALSE(root);
  EXPECT_EQ(root.error().code, ErrorCode::invalid_value);
}

TEST(IssuingCaCertificate, IsACaOfPathLengthZeroSignedByTheRoot) {
  auto pki = make_manufacturer_pki();
  X509* cert = pki.issuing.get();
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_verify(cert, pki.root_key.get()), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(pki.root.get())), 0);
  EXPECT_EQ(X509_check_ca(cert), 1);
  EXPECT_EQ(X509_get_pathlen(cert), 0);
  EXPECT_TRUE(critical(cert, NID_basic_constraints));
  EXPECT_TRUE(critical(cert, NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(cert), static_cast<std::uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  ASSERT_NE(X509_get0_subject_key_id(cert), nullptr);
  EXPECT_EQ(bytes_of(X509_get0_authority_key_id(cert)),
            bytes_of(X509_get0_subject_key_id(pki.root.get())));
  EXPECT_EQ(ASN1_STRING_type(X509_get0_notAfter(cert)), V_ASN1_GENERALIZEDTIME);
  EXPECT_EQ(not_after_text(cert), "99991231235959Z");
  // Signed by the P-384 root, so with SHA-384.
  EXPECT_EQ(X509_get_signature_nid(cert), NID_ecdsa_with_SHA384);
}

TEST(IssuingCaCertificate, IsRefusedWhenTheRootKeyIsNotTheRootCertificates) {
  auto pki = make_manufacturer_pki();
  auto other = crypto::generate_key(crypto::KeyType::p384);
  auto key = crypto::generate_key(crypto::KeyType::p256);
  auto issuing =
      make_issuing_ca_certificate(key.get(), {"Example", "Issuing"}, pki.root.get(), other.get());
  ASSERT_FALSE(issuing);
  EXPECT_EQ(issuing.error().code, ErrorCode::bad_key);
}

// ---------------------------------------------------------------------------
// IDevIDs

TEST(IdevidIssuer, IssuesACertificateWithEveryProfileField) {
  auto pki = make_manufacturer_pki();
  auto issuer = make_issuer(pki);
  ASSERT_TRUE(issuer);
  auto device_key = crypto::generate_key(crypto::KeyType::p256);
  const Bytes spki = crypto::public_key_der(device_key.get());
  auto der = issuer->issue("SN-0001", spki, 1700000000);
  ASSERT_TRUE(der) << der.error().message;
  auto cert = parse_der(*der);
  ASSERT_TRUE(cert);
  X509* c = cert.get();

  EXPECT_EQ(X509_get_version(c), X509_VERSION_3);
  EXPECT_EQ(X509_verify(c, pki.issuing_key.get()), 1);
  EXPECT_EQ(X509_get_signature_nid(c), NID_ecdsa_with_SHA256);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(c), device_key.get()), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(pki.issuing.get())), 0);

  // Subject: O, OU, CN with the serial, serialNumber as a PrintableString.
  EXPECT_EQ(
      subject_attribute(c, NID_organizationName),
      std::make_pair(static_cast<int>(V_ASN1_UTF8STRING), std::string("Example Devices Ltd")));
  EXPECT_EQ(subject_attribute(c, NID_organizationalUnitName).second, "Thermostats");
  EXPECT_EQ(subject_attribute(c, NID_commonName).second, "Thermostat SN-0001");
  EXPECT_EQ(subject_attribute(c, NID_serialNumber),
            std::make_pair(static_cast<int>(V_ASN1_PRINTABLESTRING), std::string("SN-0001")));

  // Validity: from the given time to 99991231235959Z as GeneralizedTime.
  EXPECT_EQ(ASN1_STRING_type(X509_get0_notBefore(c)), V_ASN1_UTCTIME);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notBefore(c), 1700000000), 0);
  EXPECT_EQ(ASN1_STRING_type(X509_get0_notAfter(c)), V_ASN1_GENERALIZEDTIME);
  EXPECT_EQ(not_after_text(c), "99991231235959Z");

  // Certificate serial: 16 octets, positive.
  const ASN1_INTEGER* serial = X509_get0_serialNumber(c);
  EXPECT_EQ(ASN1_STRING_type(serial), V_ASN1_INTEGER);
  EXPECT_EQ(ASN1_STRING_length(serial), 16);

  // CA:FALSE, critical; keyUsage digitalSignature + keyEncipherment, critical.
  EXPECT_EQ(X509_check_ca(c), 0);
  EXPECT_TRUE(critical(c, NID_basic_constraints));
  BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(c, NID_basic_constraints, nullptr, nullptr)));
  ASSERT_TRUE(bc);
  EXPECT_EQ(bc->ca, 0);
  EXPECT_TRUE(critical(c, NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(c),
            static_cast<std::uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));

  // SKI by RFC 5280 §4.2.1.2 method (1); AKI = the issuing CA's SKI.
  const unsigned char* key_bits = nullptr;
  int key_bits_length = 0;
  X509_PUBKEY_get0_param(nullptr, &key_bits, &key_bits_length, nullptr, X509_get_X509_PUBKEY(c));
  Bytes expected_ski(SHA_DIGEST_LENGTH);
  SHA1(key_bits, static_cast<std::size_t>(key_bits_length), expected_ski.data());
  EXPECT_EQ(bytes_of(X509_get0_subject_key_id(c)), expected_ski);
  EXPECT_FALSE(critical(c, NID_subject_key_identifier));
  EXPECT_EQ(bytes_of(X509_get0_authority_key_id(c)),
            bytes_of(X509_get0_subject_key_id(pki.issuing.get())));

  // SAN: one otherName hardwareModuleName { hwType, hwSerialNum }.
  EXPECT_FALSE(critical(c, NID_subject_alt_name));
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(c, NID_subject_alt_name, nullptr, nullptr)));
  ASSERT_TRUE(names);
  ASSERT_EQ(sk_GENERAL_NAME_num(names.get()), 1);
  const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), 0);
  ASSERT_EQ(name->type, GEN_OTHERNAME);
  EXPECT_EQ(oid_text(name->d.otherName->type_id), "1.3.6.1.5.5.7.8.4");
  const ASN1_TYPE* value = name->d.otherName->value;
  ASSERT_EQ(value->type, V_ASN1_SEQUENCE);
  const Bytes hw = bytes_of(value->value.sequence);
  crypto::der::Reader top(hw);
  auto seq = top.expect(crypto::der::k_sequence, "HardwareModuleName");
  ASSERT_TRUE(seq);
  auto fields = top.enter(*seq, "HardwareModuleName");
  ASSERT_TRUE(fields);
  auto hw_type = fields->expect(crypto::der::k_oid, "hwType");
  auto hw_serial = fields->expect(crypto::der::k_octet_string, "hwSerialNum");
  ASSERT_TRUE(hw_type && hw_serial);
  EXPECT_EQ(*crypto::der::oid_to_text(hw_type->value), "1.3.6.1.4.1.32473.1.1");
  EXPECT_EQ(as_text(hw_serial->value), "SN-0001");
  EXPECT_TRUE(fields->expect_end("HardwareModuleName"));

  // id-pe-masa-url: non-critical IA5String of the authority.
  const Bytes masa = extension_value(c, "1.3.6.1.5.5.7.1.32");
  const std::string url = "masa.example.com:8443";
  Bytes expected_masa = {crypto::der::k_ia5_string, static_cast<std::uint8_t>(url.size())};
  expected_masa.insert(expected_masa.end(), url.begin(), url.end());
  EXPECT_EQ(masa, expected_masa);
  const Asn1ObjectPtr masa_oid(OBJ_txt2obj("1.3.6.1.5.5.7.1.32", 1));
  EXPECT_EQ(
      X509_EXTENSION_get_critical(X509_get_ext(c, X509_get_ext_by_OBJ(c, masa_oid.get(), -1))), 0);

  EXPECT_EQ(X509_get_ext_count(c), 6);
}

TEST(IdevidIssuer, SignsWithEcdsaSha384WithoutParametersForAP384IssuingCa) {
  auto pki = make_manufacturer_pki(crypto::KeyType::p384, crypto::KeyType::p384);
  auto issuer = make_issuer(pki);
  ASSERT_TRUE(issuer);
  auto der = issuer->issue("SN-0002", device_spki(), 1700000000);
  ASSERT_TRUE(der) << der.error().message;
  auto cert = parse_der(*der);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA384);
  const X509_ALGOR* alg = nullptr;
  X509_get0_signature(nullptr, &alg, cert.get());
  int parameter_type = 0;
  X509_ALGOR_get0(nullptr, &parameter_type, nullptr, alg);
  EXPECT_EQ(parameter_type, V_ASN1_UNDEF) << "RFC 5758 §3.2: parameters MUST be absent";
  EXPECT_EQ(X509_verify(cert.get(), pki.issuing_key.get()), 1);
}

TEST(IdevidIssuer, LeavesOutEmptySubjectAttributesAndTheMasaUrl) {
  auto pki = make_manufacturer_pki();
  IdevidProfile profile;
  profile.hw_type_oid = "1.3.6.1.4.1.32473.1.2";
  auto issuer = make_issuer(pki, profile);
  ASSERT_TRUE(issuer);
  auto der = issuer->issue("SN-0003", device_spki(), 1700000000);
  ASSERT_TRUE(der) << der.error().message;
  auto cert = parse_der(*der);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(cert.get())), 1);
  EXPECT_EQ(subject_attribute(cert.get(), NID_serialNumber).second, "SN-0003");
  EXPECT_TRUE(extension_value(cert.get(), "1.3.6.1.5.5.7.1.32").empty());
  EXPECT_EQ(X509_get_ext_count(cert.get()), 5);
  EXPECT_EQ(X509_verify(cert.get(), pki.issuing_key.get()), 1);
}

TEST(IdevidIssuer, CertifiesASeedDerivedKeyFromItsPointAlone) {
  auto pki = make_manufacturer_pki();
  auto issuer = make_issuer(pki);
  ASSERT_TRUE(issuer);
  auto derived = crypto::derive_p256_key(Bytes(crypto::k_seed_size, 0x5A));
  ASSERT_TRUE(derived);
  auto der =
      issuer->issue("SN-SEED-1", crypto::p256_spki_from_point(derived->public_point), 1700000000);
  ASSERT_TRUE(der) << der.error().message;
  auto cert = parse_der(*der);
  ASSERT_TRUE(cert);
  auto device_key = crypto::derived_key_to_pkey(*derived);
  ASSERT_TRUE(device_key);
  EXPECT_EQ(X509_check_private_key(cert.get(), device_key->get()), 1);
}

TEST(IdevidIssuer, GivesTwoIssuesWithTheSameInputsDifferentCertificateSerials) {
  auto pki = make_manufacturer_pki();
  auto issuer = make_issuer(pki);
  ASSERT_TRUE(issuer);
  const Bytes spki = device_spki();
  auto a = issuer->issue("SN-0004", spki, 1700000000);
  auto b = issuer->issue("SN-0004", spki, 1700000000);
  ASSERT_TRUE(a && b);
  auto ca = parse_der(*a);
  auto cb = parse_der(*b);
  ASSERT_TRUE(ca && cb);
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(ca.get()), X509_get0_serialNumber(cb.get())),
            0);
}

TEST(IdevidIssuer, IssuesFromManyThreadsAtOnce) {
  auto pki = make_manufacturer_pki();
  auto issuer = make_issuer(pki);
  ASSERT_TRUE(issuer);
  const Bytes spki = device_spki();
  constexpr int k_threads = 4;
  constexpr int k_each = 50;
  std::vector<std::vector<Bytes>> issued(k_threads);
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < k_each; ++i) {
        auto der =
            issuer->issue("SN-T" + std::to_string(t) + "-" + std::to_string(i), spki, 1700000000);
        if (der) issued[t].push_back(std::move(der).value());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& batch : issued) {
    ASSERT_EQ(batch.size(), static_cast<std::size_t>(k_each));
    for (const auto& der : batch) {
      auto cert = parse_der(der);
      ASSERT_TRUE(cert);
      EXPECT_EQ(X509_verify(cert.get(), pki.issuing_key.get()), 1);
    }
  }
}

TEST(IdevidIssuer, RejectsASerialThatIsNotAPrintableString) {
  auto pki = make_manufacturer_pki();
  auto issuer = make_issuer(pki);
  ASSERT_TRUE(issuer);
  auto der = issuer->issue("SN_0001", device_spki(), 1700000000);
  ASSERT_FALSE(der);
  EXPECT_EQ(der.error().code, ErrorCode::invalid_value);
  EXPECT_NE(der.error().message.find("'_'"), std::string::npos) << der.error().message;
}

TEST(IdevidIssuer, RejectsAPublicKeyThatIsNotASubjectPublicKeyInfo) {
  auto pki = make_manufacturer_pki();
  auto issuer = make_issuer(pki);
  ASSERT_TRUE(issuer);
  const Bytes not_a_sequence = {0x04, 0x02, 0x01, 0x02};
  EXPECT_EQ(issuer->issue("SN-1", not_a_sequence, 1700000000).error().code,
            ErrorCode::malformed_der);
  Bytes trailing = device_spki();
  trailing.push_back(0x00);
  EXPECT_EQ(issuer->issue("SN-1", trailing, 1700000000).error().code, ErrorCode::malformed_der);
  EXPECT_EQ(issuer->issue("SN-1", {}, 1700000000).error().code, ErrorCode::malformed_der);
}

TEST(IdevidIssuer, RejectsACommonNameThatWouldPassSixtyFourCharacters) {
  auto pki = make_manufacturer_pki();
  IdevidProfile profile = sample_profile();
  profile.common_name = std::string(50, 'x') + "{serial}";
  auto issuer = make_issuer(pki, profile);
  ASSERT_TRUE(issuer);
  EXPECT_TRUE(issuer->issue(std::string(14, 'A'), device_spki(), 1700000000));
  EXPECT_EQ(issuer->issue(std::string(15, 'A'), device_spki(), 1700000000).error().code,
            ErrorCode::invalid_value);
}

TEST(IdevidIssuerCreation, RejectsAHwTypeThatIsNotAnOid) {
  auto pki = make_manufacturer_pki();
  for (const char* bad : {"", "1.3.6.x", "3.1", "1", "1..2", "1.3.6.1.4.1.32473.01"}) {
    IdevidProfile profile = sample_profile();
    profile.hw_type_oid = bad;
    auto issuer = IdevidIssuer::create(profile, pki.issuing.get(), pki.issuing_signer);
    ASSERT_FALSE(issuer) << bad;
    EXPECT_EQ(issuer.error().code, ErrorCode::invalid_value) << bad;
  }
}

TEST(IdevidIssuerCreation, RejectsAMasaUrlWithASchemeOrPath) {
  auto pki = make_manufacturer_pki();
  for (const char* bad : {"https://masa.example.com", "masa.example.com/brski", "masa example"}) {
    IdevidProfile profile = sample_profile();
    profile.masa_url = bad;
    auto issuer = IdevidIssuer::create(profile, pki.issuing.get(), pki.issuing_signer);
    ASSERT_FALSE(issuer) << bad;
    EXPECT_EQ(issuer.error().code, ErrorCode::invalid_value) << bad;
  }
}

TEST(IdevidIssuerCreation, RejectsSubjectAttributesThatAreNotUtf8) {
  auto pki = make_manufacturer_pki();
  IdevidProfile profile = sample_profile();
  profile.organization = "Bad \xC3";
  auto issuer = IdevidIssuer::create(profile, pki.issuing.get(), pki.issuing_signer);
  ASSERT_FALSE(issuer);
  EXPECT_EQ(issuer.error().code, ErrorCode::invalid_value);
}

TEST(IdevidIssuerCreation, RejectsASignerThatIsNotTheIssuingCasKey) {
  auto pki = make_manufacturer_pki();
  auto other = crypto::SoftwareSigner::create(crypto::generate_key(crypto::KeyType::p256));
  ASSERT_TRUE(other);
  auto issuer = IdevidIssuer::create(sample_profile(), pki.issuing.get(), std::move(other).value());
  ASSERT_FALSE(issuer);
  EXPECT_EQ(issuer.error().code, ErrorCode::bad_key);
}

TEST(IdevidIssuerCreation, RejectsAnEndEntityCertificateAsTheIssuer) {
  auto pki = make_manufacturer_pki();
  auto issuer = make_issuer(pki);
  ASSERT_TRUE(issuer);
  auto device_key = crypto::generate_key(crypto::KeyType::p256);
  auto der = issuer->issue("SN-5", crypto::public_key_der(device_key.get()), 1700000000);
  ASSERT_TRUE(der);
  auto device_cert = parse_der(*der);
  auto device_signer = crypto::SoftwareSigner::create(std::move(device_key));
  ASSERT_TRUE(device_cert && device_signer);
  auto bad =
      IdevidIssuer::create(sample_profile(), device_cert.get(), std::move(device_signer).value());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_value);
}

// ---------------------------------------------------------------------------
// Device serial numbers

TEST(DeviceSerial, AcceptsEveryPrintableStringCharacter) {
  EXPECT_TRUE(check_device_serial("ABCXYZ abcxyz 0189 '()+,-./:=?"));
  EXPECT_TRUE(check_device_serial("7"));
  EXPECT_TRUE(check_device_serial(std::string(64, 'S')));
}

TEST(DeviceSerial, RejectsAnUnderscore) {
  auto status = check_device_serial("SN_1");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::invalid_value);
  EXPECT_NE(status.error().message.find("position 3"), std::string::npos) << status.error().message;
}

TEST(DeviceSerial, RejectsAnAtSign) {
  EXPECT_EQ(check_device_serial("sn@factory").error().code, ErrorCode::invalid_value);
}

TEST(DeviceSerial, RejectsControlAndNonAsciiBytes) {
  EXPECT_EQ(check_device_serial("SN\n1").error().code, ErrorCode::invalid_value);
  EXPECT_EQ(check_device_serial("SN\xC3\xA9").error().code, ErrorCode::invalid_value);
}

TEST(DeviceSerial, RejectsAnEmptySerial) {
  EXPECT_EQ(check_device_serial("").error().code, ErrorCode::invalid_value);
}

TEST(DeviceSerial, RejectsSixtyFiveCharacters) {
  EXPECT_EQ(check_device_serial(std::string(65, 'S')).error().code, ErrorCode::invalid_value);
}

}  // namespace
}  // namespace vouchsafe::pki
