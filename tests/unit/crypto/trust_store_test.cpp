// TrustStore::validate: its direct path for a leaf under an anchor decides
// as X509_verify_cert does, which remains the judge of everything else.
#include "crypto/trust_store.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <string>
#include <utility>
#include <vector>

#include "crypto/keys.h"
#include "support/test_support.h"

namespace vouchsafe::crypto {
namespace {

constexpr std::time_t k_day = 86400;

struct CertSpec {
  std::string cn;
  // Extensions in OpenSSL's configuration syntax: {name or OID, value}.
  std::vector<std::pair<std::string, std::string>> extensions;
  std::time_t not_before = 0;
  std::time_t not_after = 0;
};

// A certificate made by OpenSSL, not by the code under test.
X509Ptr make_cert(EVP_PKEY* subject_key, const CertSpec& spec, EVP_PKEY* issuer_key, X509* issuer) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  static long serial = 5000;
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), spec.not_before);
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), spec.not_after);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), subject_key);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [ext_name, value] : spec.extensions) {
    X509_EXTENSION* ext = X509V3_EXT_nconf(nullptr, &ctx, ext_name.c_str(), value.c_str());
    EXPECT_NE(ext, nullptr) << ext_name << " = " << value;
    if (ext == nullptr) continue;
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  const EVP_MD* md = EVP_PKEY_is_a(issuer_key, "ED25519") ? nullptr : EVP_sha256();
  EXPECT_GT(X509_sign(cert.get(), issuer_key, md), 0);
  return cert;
}

// X509_verify_cert's own answer, as TrustStore words it.
Status openssl_verdict(ByteView leaf_der, const std::vector<X509*>& anchors, std::time_t at) {
  auto leaf = parse_certificate_der(leaf_der);
  if (!leaf) return fail(leaf.error());
  X509StorePtr store(X509_STORE_new());
  for (X509* a : anchors) X509_STORE_add_cert(store.get(), a);
  X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN);
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf->get(), nullptr);
  X509_STORE_CTX_set_time(ctx.get(), 0, at);
  if (X509_verify_cert(ctx.get()) == 1) return ok();
  return fail(ErrorCode::untrusted_chain,
              std::string("signer certificate does not chain to a trust anchor: ") +
                  X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
}

class DirectPath : public ::testing::TestWithParam<KeyType> {
 protected:
  void SetUp() override {
    anchor_key_ = generate_key(GetParam());
    leaf_key_ = generate_key(KeyType::p256);
    now_ = std::time(nullptr);
  }

  CertSpec ca_spec(std::vector<std::pair<std::string, std::string>> extensions = {
                       {"basicConstraints", "critical,CA:TRUE"},
                       {"keyUsage", "critical,keyCertSign,cRLSign"},
                       {"subjectKeyIdentifier", "hash"}}) const {
    return {"Anchor CA", std::move(extensions), now_ - 10 * k_day, now_ + 3650 * k_day};
  }
  CertSpec leaf_spec(std::vector<std::pair<std::string, std::string>> extensions = {
                         {"basicConstraints", "critical,CA:FALSE"},
                         {"keyUsage", "critical,digitalSignature"},
                         {"subjectKeyIdentifier", "hash"},
                         {"authorityKeyIdentifier", "keyid:always"}}) const {
    return {"Device 0001", std::move(extensions), now_ - k_day, now_ + 365 * k_day};
  }

  X509Ptr anchor(const CertSpec& spec) const {
    return make_cert(anchor_key_.get(), spec, anchor_key_.get(), nullptr);
  }
  Bytes leaf(X509* issuer, const CertSpec& spec) const {
    return certificate_der(make_cert(leaf_key_.get(), spec, anchor_key_.get(), issuer).get());
  }

  // validate() on a freshly read leaf, checked against X509_verify_cert;
  // returns validate()'s answer.
  Result<std::vector<CertificateRef>> check_agrees(const Bytes& leaf_der, X509* anchor_cert,
                                                   std::time_t at) const {
    CertificateCache cache;
    auto ref = cache.decode(leaf_der);
    EXPECT_TRUE(ref) << ref.error().message;
    if (!ref) return fail(ref.error());
    TrustStore store([&] {
      std::vector<X509Ptr> anchors;
      anchors.push_back(share(anchor_cert));
      return anchors;
    }());
    auto got = store.validate(*ref, {}, at);
    const Status want = openssl_verdict(leaf_der, {anchor_cert}, at);
    EXPECT_EQ(got.has_value(), want.has_value());
    if (!got && !want) {
      EXPECT_EQ(got.error().code, want.error().code);
      EXPECT_EQ(got.error().message, want.error().message);
    }
    return got;
  }

  PkeyPtr anchor_key_;
  PkeyPtr leaf_key_;
  std::time_t now_ = 0;
};

TEST_P(DirectPath, AcceptsALeafUnderItsAnchorWithoutDecodingIt) {
  const X509Ptr ca = anchor(ca_spec());
  const Bytes der = leaf(ca.get(), leaf_spec());
  CertificateCache cache;
  auto ref = cache.decode(der);
  ASSERT_TRUE(ref) << ref.error().message;
  std::vector<X509Ptr> anchors;
  anchors.push_back(share(ca.get()));
  const TrustStore store(std::move(anchors));
  const auto decodes = x509_decode_count();
  auto chain = store.validate(*ref, {}, now_);
  ASSERT_TRUE(chain) << chain.error().message;
  EXPECT_EQ(x509_decode_count(), decodes);  // no d2i_X509 for the leaf
  ASSERT_EQ(chain->size(), 2U);
  EXPECT_EQ(chain->front(), *ref);
  EXPECT_EQ(X509_cmp(chain->back()->x509(), ca.get()), 0);
  EXPECT_TRUE(openssl_verdict(der, {ca.get()}, now_));
}

TEST_P(DirectPath, RefusesATamperedSignatureOrTbs) {
  const X509Ptr ca = anchor(ca_spec());
  Bytes der = leaf(ca.get(), leaf_spec());
  Bytes bad_signature = der;
  bad_signature.back() ^= 0x01;
  auto got = check_agrees(bad_signature, ca.get(), now_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::untrusted_chain);

  // A byte of the subject's CN, inside the TBS.
  const std::string cn = "Device 0001";
  auto at = std::search(der.begin(), der.end(), cn.begin(), cn.end());
  ASSERT_NE(at, der.end());
  *(at + 7) = '9';
  got = check_agrees(der, ca.get(), now_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::untrusted_chain);
}

TEST_P(DirectPath, RefusesOutsideTheValidityWindow) {
  const X509Ptr ca = anchor(ca_spec());
  const Bytes der = leaf(ca.get(), leaf_spec());
  auto expired = check_agrees(der, ca.get(), now_ + 400 * k_day);
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos);
  auto early = check_agrees(der, ca.get(), now_ - 2 * k_day);
  ASSERT_FALSE(early);
  EXPECT_NE(early.error().message.find("not yet valid"), std::string::npos);
  // notBefore itself is inside the window; notAfter is not (X509_cmp_time).
  EXPECT_TRUE(check_agrees(der, ca.get(), now_ - k_day));
  EXPECT_FALSE(check_agrees(der, ca.get(), now_ + 365 * k_day));
}

// A leaf on record (one we issued) is not verified again, and nothing else
// is waived: a tampered copy that is not the recorded one is still refused,
// and the recorded one outside its validity window too.
TEST_P(DirectPath, ARecordedLeafSkipsOnlyItsOwnSignatureCheck) {
  const X509Ptr ca = anchor(ca_spec());
  const Bytes der = leaf(ca.get(), leaf_spec());
  Bytes recorded = der;
  recorded.back() ^= 0x01;  // a signature check would refuse it
  CertificateCache cache;
  auto ref = cache.decode(recorded);
  ASSERT_TRUE(ref) << ref.error().message;
  std::vector<X509Ptr> anchors;
  anchors.push_back(share(ca.get()));
  const TrustStore store(std::move(anchors));
  EXPECT_FALSE(store.validate(*ref, {}, now_, der)) << "another certificate is on record";
  EXPECT_FALSE(store.validate(*ref, {}, now_ + 400 * k_day, recorded)) << "expired";
  auto chain = store.validate(*ref, {}, now_, recorded);
  ASSERT_TRUE(chain) << chain.error().message;
  ASSERT_EQ(chain->size(), 2U);
  EXPECT_EQ(X509_cmp(chain->back()->x509(), ca.get()), 0);
  EXPECT_FALSE(store.validate(*ref, {}, now_)) << "the record's word is not cached for others";
}

TEST_P(DirectPath, RefusesALeafOfAnotherIssuer) {
  const X509Ptr ca = anchor(ca_spec());
  CertSpec other = ca_spec();
  other.cn = "Other CA";
  const X509Ptr other_ca = anchor(other);
  const Bytes der = leaf(other_ca.get(), leaf_spec());
  auto got = check_agrees(der, ca.get(), now_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::untrusted_chain);
}

TEST_P(DirectPath, RefusesAnAnchorThatIsNotACa) {
  const X509Ptr not_ca = anchor(ca_spec({{"basicConstraints", "critical,CA:FALSE"},
                                         {"keyUsage", "critical,keyCertSign"},
                                         {"subjectKeyIdentifier", "hash"}}));
  EXPECT_FALSE(check_agrees(leaf(not_ca.get(), leaf_spec()), not_ca.get(), now_));
  // Without basicConstraints, keyCertSign alone makes a CA for OpenSSL
  // (X509_check_ca returns 4): the direct path leaves it to OpenSSL.
  const X509Ptr no_bc =
      anchor(ca_spec({{"keyUsage", "critical,keyCertSign"}, {"subjectKeyIdentifier", "hash"}}));
  (void)check_agrees(leaf(no_bc.get(), leaf_spec()), no_bc.get(), now_);
}

TEST_P(DirectPath, RefusesAnAnchorWithoutKeyCertSign) {
  const X509Ptr ca = anchor(ca_spec({{"basicConstraints", "critical,CA:TRUE"},
                                     {"keyUsage", "critical,digitalSignature,cRLSign"},
                                     {"subjectKeyIdentifier", "hash"}}));
  EXPECT_FALSE(check_agrees(leaf(ca.get(), leaf_spec()), ca.get(), now_));
}

TEST_P(DirectPath, LeavesAnUnknownCriticalExtensionToOpenSsl) {
  const X509Ptr ca = anchor(ca_spec());
  auto spec = leaf_spec();
  spec.extensions.emplace_back("1.3.6.1.4.1.32473.99", "critical,DER:05:00");
  EXPECT_FALSE(check_agrees(leaf(ca.get(), spec), ca.get(), now_));
  // Not critical: both accept it.
  spec = leaf_spec();
  spec.extensions.emplace_back("1.3.6.1.4.1.32473.99", "DER:05:00");
  EXPECT_TRUE(check_agrees(leaf(ca.get(), spec), ca.get(), now_));
}

TEST_P(DirectPath, AgreesOnLeavesWithAltNamesAndExtendedKeyUsage) {
  const X509Ptr ca = anchor(ca_spec());
  auto spec = leaf_spec();
  spec.extensions.emplace_back("subjectAltName", "critical,DNS:device.example,IP:192.0.2.1");
  spec.extensions.emplace_back("extendedKeyUsage", "critical,clientAuth");
  EXPECT_TRUE(check_agrees(leaf(ca.get(), spec), ca.get(), now_));
  // An AKI naming another key: OpenSSL does not take the anchor as issuer.
  spec = leaf_spec({{"authorityKeyIdentifier", "keyid:always"}});
  const X509Ptr ca2 = anchor(
      ca_spec({{"basicConstraints", "critical,CA:TRUE"}, {"subjectKeyIdentifier", "0102030405"}}));
  EXPECT_FALSE(check_agrees(leaf(ca.get(), spec), ca2.get(), now_));
}

INSTANTIATE_TEST_SUITE_P(AnchorKeys, DirectPath,
                         ::testing::Values(KeyType::p256, KeyType::p384, KeyType::ed25519),
                         testing::key_type_name);

}  // namespace
}  // namespace vouchsafe::crypto
