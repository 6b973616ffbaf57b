// COSE_Sign1 envelope: the three cBRSKI examples (draft-ietf-anima-
// constrained-voucher App. C), sign/verify round trips, an independent
// verifier, and every way a message can be refused.
#include "voucher/cose.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/file.h"
#include "crypto/keys.h"
#include "crypto/signature.h"
#include "crypto/signer.h"
#include "support/test_support.h"
#include "voucher/cbor_codec.h"
#include "voucher/detail/cbor_handle.h"

namespace vouchsafe::voucher {
namespace {

using detail::CborWriter;

constexpr const char* k_pvr = "cbrski/C.3-pvr.cose.derived.bin";
constexpr const char* k_rvr = "cbrski/C.4-rvr.cose.derived.bin";
constexpr const char* k_voucher = "cbrski/C.5-voucher.cose.derived.bin";

Bytes hex(std::string_view text) {
  auto bytes = hex_decode(text);
  EXPECT_TRUE(bytes) << text;
  return bytes ? *bytes : Bytes{};
}

crypto::PkeyPtr vector_public_key(const std::string& relative) {
  auto key = crypto::load_public_key(testing::vector_path(relative));
  EXPECT_TRUE(key) << relative;
  return key ? std::move(key).value() : nullptr;
}

TrustPolicy pinned(const std::string& cert) {
  return TrustPolicy::with_pinned_key(vector_public_key(cert));
}

TrustPolicy anchored(const std::string& cert, const std::string& when) {
  TrustPolicy policy = TrustPolicy::with_anchors(testing::vector_certs(cert));
  policy.at = testing::at(when);
  return policy;
}

VerifiedEnvelope verify_ok(ByteView data, const TrustPolicy& policy) {
  auto envelope = verify_cose(data, policy);
  EXPECT_TRUE(envelope) << (envelope ? "" : envelope.error().message);
  return envelope ? std::move(envelope).value() : VerifiedEnvelope{Form::cms, {}, {}, {}, {}};
}

ErrorCode verify_error(ByteView data, const TrustPolicy& policy) {
  auto envelope = verify_cose(data, policy);
  EXPECT_FALSE(envelope) << "verified " << hex_encode(data).substr(0, 64);
  return envelope ? ErrorCode::internal : envelope.error().code;
}

Voucher decoded(ByteView payload) {
  auto v = decode_cbor(payload);
  EXPECT_TRUE(v) << (v ? "" : v.error().message);
  return v ? *v : Voucher{};
}

std::string subject(const crypto::CertificateRef& cert) {
  return crypto::certificate_subject(cert->x509());
}

// ---- The published examples --------------------------------------------

TEST(CoseVectors, PledgeVoucherRequestOfC3VerifiesWithThePledgeKey) {
  const Bytes pvr = testing::read_vector(k_pvr);
  const VerifiedEnvelope envelope =
      verify_ok(pvr, pinned("cbrski/C.2.1-pledge-idevid.cert.derived.pem"));
  EXPECT_EQ(envelope.form, Form::cose);
  EXPECT_TRUE(envelope.signer_chain.empty()) << "the PVR carries no certificate";
  EXPECT_TRUE(envelope.embedded_certificates.empty());
  const Voucher v = decoded(envelope.payload);
  EXPECT_EQ(v.kind, ArtifactKind::voucher_request);
  EXPECT_EQ(v.assertion, Assertion::proximity);
  EXPECT_EQ(v.nonce, hex("23BFBBC9C2BCF213"));
  EXPECT_EQ(v.serial_number, "JADA123456789");
  const auto registrar = vector_public_key("cbrski/C.2.2-registrar.cert.derived.pem");
  EXPECT_EQ(v.proximity_registrar_pubk, crypto::public_key_der(registrar.get()));
}

TEST(CoseVectors, RegistrarVoucherRequestOfC4VerifiesToTheDomainCa) {
  const Bytes rvr = testing::read_vector(k_rvr);
  const VerifiedEnvelope envelope =
      verify_ok(rvr, anchored("cbrski/C.2.3-domain-ca.cert.derived.pem", "2023-06-01T00:00:00Z"));
  ASSERT_EQ(envelope.embedded_certificates.size(), 2U);
  ASSERT_EQ(envelope.signer_chain.size(), 2U);
  EXPECT_NE(subject(envelope.signer_chain.front()).find("Commercial Buildings Registrar"),
            std::string::npos);
  EXPECT_EQ(envelope.signer_chain.front(), envelope.embedded_certificates.front());
  EXPECT_NE(subject(envelope.signer_chain.back()).find("Custom-ER Global CA"), std::string::npos);
  const Voucher v = decoded(envelope.payload);
  EXPECT_EQ(v.kind, ArtifactKind::voucher_request);
  EXPECT_EQ(v.assertion, Assertion::proximity);
  EXPECT_EQ(format_date_time(*v.created_on), "2022-12-06T20:04:15.754Z");
  EXPECT_EQ(v.nonce, hex("23BFBBC9C2BCF213"));
  EXPECT_EQ(v.idevid_issuer, hex("041830168014CB8D98CA74C51B58DDE7ACEF869A9443A8D666A6"));
  EXPECT_EQ(v.serial_number, "JADA123456789");
  EXPECT_EQ(v.prior_signed_voucher_request, testing::read_vector(k_pvr));
}

TEST(CoseVectors, RegistrarVoucherRequestOfC4IsRefusedOnceItsCertificateExpired) {
  // x5bag[0] is valid until 2025-12-05.
  EXPECT_EQ(
      verify_error(testing::read_vector(k_rvr),
                   anchored("cbrski/C.2.3-domain-ca.cert.derived.pem", "2026-01-01T00:00:00Z")),
      ErrorCode::untrusted_chain);
}

TEST(CoseVectors, VoucherOfC5VerifiesWithThePinnedMasaCaKey) {
  const VerifiedEnvelope envelope =
      verify_ok(testing::read_vector(k_voucher), pinned("cbrski/C.2.4-masa-ca.cert.derived.pem"));
  EXPECT_TRUE(envelope.embedded_certificates.empty());
  const Voucher v = decoded(envelope.payload);
  EXPECT_EQ(v.kind, ArtifactKind::voucher);
  EXPECT_EQ(v.assertion, Assertion::proximity);
  EXPECT_EQ(format_date_time(*v.created_on), "2022-12-06T20:23:30.708Z");
  EXPECT_EQ(v.domain_cert_revocation_checks, false);
  EXPECT_EQ(v.nonce, hex("57EED786AD404907"));
  EXPECT_EQ(v.serial_number, "JADA123456789");
  // The pinned certificate is the re-issued domain CA the RVR sent as x5bag[1].
  const auto rvr =
      verify_ok(testing::read_vector(k_rvr),
                anchored("cbrski/C.2.3-domain-ca.cert.derived.pem", "2023-06-01T00:00:00Z"));
  ASSERT_EQ(rvr.embedded_certificates.size(), 2U);
  EXPECT_EQ(v.pinned_domain_cert, rvr.embedded_certificates[1]->der);
  // ...which has the same key as the domain CA of C.2.3.
  auto pinned_cert = crypto::parse_certificate_der(*v.pinned_domain_cert);
  ASSERT_TRUE(pinned_cert);
  const auto domain_ca = vector_public_key("cbrski/C.2.3-domain-ca.cert.derived.pem");
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(pinned_cert->get()), domain_ca.get()), 1);
}

TEST(CoseVectors, ExamplesAreRefusedWithTheWrongKey) {
  EXPECT_EQ(verify_error(testing::read_vector(k_voucher),
                         pinned("cbrski/C.2.1-pledge-idevid.cert.derived.pem")),
            ErrorCode::bad_signature);
  EXPECT_EQ(
      verify_error(testing::read_vector(k_pvr), pinned("cbrski/C.2.4-masa-ca.cert.derived.pem")),
      ErrorCode::bad_signature);
  // The PVR names no signer, so anchors alone cannot identify one.
  EXPECT_EQ(verify_error(testing::read_vector(k_pvr),
                         anchored("cbrski/C.2.4-masa-ca.cert.derived.pem", "2023-06-01T00:00:00Z")),
            ErrorCode::unknown_signer);
}

// ---- Our own messages ----------------------------------------------------

struct Signing {
  testing::TestPki pki;
  std::unique_ptr<crypto::SoftwareSigner> signer;
  SigningIdentity identity;

  explicit Signing(crypto::KeyType type) : pki(testing::make_test_pki(type)) {
    auto created = crypto::SoftwareSigner::create(crypto::share(pki.signer_key.get()));
    EXPECT_TRUE(created);
    signer = std::move(created).value();
    identity.signer = signer.get();
    identity.chain.push_back(crypto::make_certificate_ref(crypto::share(pki.signer.get())));
  }
  [[nodiscard]] TrustPolicy anchors() const {
    std::vector<crypto::X509Ptr> roots;
    roots.push_back(crypto::share(pki.root.get()));
    return TrustPolicy::with_anchors(std::move(roots));
  }
  [[nodiscard]] TrustPolicy pinned_key() const {
    return TrustPolicy::with_pinned_key(crypto::share(pki.signer_key.get()));
  }
};

Voucher sample_voucher() {
  Voucher v;
  v.kind = ArtifactKind::voucher;
  v.assertion = Assertion::proximity;
  v.created_on = *parse_date_time("2025-03-01T10:00:00Z");
  v.nonce = hex("0011223344556677");
  v.serial_number = "JADA123456789";
  v.pinned_domain_cert = hex("3082010A");
  v.domain_cert_revocation_checks = false;
  return v;
}

Bytes sign(const Signing& s, ByteView payload, const CoseSignOptions& options = {}) {
  auto signed_message = sign_cose(payload, s.identity, options);
  EXPECT_TRUE(signed_message) << (signed_message ? "" : signed_message.error().message);
  return signed_message ? *signed_message : Bytes{};
}

TEST(CoseSign1, SignsAndVerifiesWithP256ToAnAnchor) {
  Signing s(crypto::KeyType::p256);
  const Voucher v = sample_voucher();
  const Bytes message = sign(s, encode_cbor(v));
  // tag 18, [h'A10126' ({1: -7}), {32: cert}, ...]
  EXPECT_EQ(hex_encode(ByteView(message).first(8)), "d28443a10126a118");
  const VerifiedEnvelope envelope = verify_ok(message, s.anchors());
  EXPECT_EQ(decoded(envelope.payload), v);
  ASSERT_EQ(envelope.signer_chain.size(), 2U);
  EXPECT_EQ(envelope.signer_chain[0]->der, s.identity.chain[0]->der);
  EXPECT_EQ(envelope.embedded_certificates.size(), 1U);
  // And with the pinned key, as a pledge checks it.
  EXPECT_EQ(decoded(verify_ok(message, s.pinned_key()).payload), v);
}

TEST(CoseSign1, SignsAndVerifiesWithEd25519) {
  Signing s(crypto::KeyType::ed25519);
  const Voucher v = sample_voucher();
  const Bytes message = sign(s, encode_cbor(v));
  EXPECT_EQ(hex_encode(ByteView(message).first(6)), "d28443a10127") << "alg -8 (EdDSA)";
  EXPECT_EQ(decoded(verify_ok(message, s.anchors()).payload), v);
  EXPECT_EQ(decoded(verify_ok(message, s.pinned_key()).payload), v);
}

TEST(CoseSign1, SignsWithP384AsEs384) {
  Signing s(crypto::KeyType::p384);
  const Bytes message = sign(s, encode_cbor(sample_voucher()));
  EXPECT_EQ(hex_encode(ByteView(message).first(7)), "d28444a1013822") << "alg -35 (ES384)";
  EXPECT_TRUE(verify_cose(message, s.anchors()));
}

TEST(CoseSign1, PutsTheWholeChainInAnX5bagArray) {
  Signing s(crypto::KeyType::p256);
  s.identity.chain.push_back(crypto::make_certificate_ref(crypto::share(s.pki.root.get())));
  const Bytes message = sign(s, encode_cbor(sample_voucher()));
  // {32: [cert, cert]}
  EXPECT_EQ(hex_encode(ByteView(message).subspan(6, 4)), "a1182082");
  const VerifiedEnvelope envelope = verify_ok(message, s.anchors());
  EXPECT_EQ(envelope.embedded_certificates.size(), 2U);
  EXPECT_EQ(envelope.signer_chain.size(), 2U);
}

TEST(CoseSign1, CarriesAKidInTheProtectedHeader) {
  Signing s(crypto::KeyType::p256);
  CoseSignOptions options;
  options.kid = hex("0102");
  const Bytes message = sign(s, encode_cbor(sample_voucher()), options);
  // h'A2012604420102' = {1: -7, 4: h'0102'}
  EXPECT_EQ(hex_encode(ByteView(message).first(10)), "d28447a2012604420102");
  EXPECT_TRUE(verify_cose(message, s.anchors()));
}

TEST(CoseSign1, OmitsTheX5bagWhenAskedAndThenNeedsAPinnedKey) {
  Signing s(crypto::KeyType::p256);
  CoseSignOptions options;
  options.include_x5bag = false;
  const Bytes message = sign(s, encode_cbor(sample_voucher()), options);
  EXPECT_EQ(hex_encode(ByteView(message).first(7)), "d28443a10126a0");
  const VerifiedEnvelope envelope = verify_ok(message, s.pinned_key());
  EXPECT_TRUE(envelope.signer_chain.empty());
  EXPECT_EQ(verify_error(message, s.anchors()), ErrorCode::unknown_signer);
}

TEST(CoseSign1, AcceptsAnUntaggedMessage) {
  Signing s(crypto::KeyType::p256);
  const Bytes message = sign(s, encode_cbor(sample_voucher()));
  EXPECT_TRUE(verify_cose(ByteView(message).subspan(1), s.anchors()));
  // The tag in a longer head (0xD8 0x12) is still tag 18.
  Bytes long_tag = {0xD8, 0x12};
  long_tag.insert(long_tag.end(), message.begin() + 1, message.end());
  EXPECT_TRUE(verify_cose(long_tag, s.anchors()));
}

TEST(CoseSign1, InspectionChecksTheSignatureAgainstTheEmbeddedCertificate) {
  Signing s(crypto::KeyType::p256);
  Bytes message = sign(s, encode_cbor(sample_voucher()));
  const VerifiedEnvelope envelope = verify_ok(message, TrustPolicy::for_inspection());
  ASSERT_EQ(envelope.signer_chain.size(), 1U);
  EXPECT_EQ(envelope.signer_chain[0]->der, s.identity.chain[0]->der);
  message.back() ^= 0x01U;
  EXPECT_EQ(verify_error(message, TrustPolicy::for_inspection()), ErrorCode::bad_signature);
}

TEST(CoseSign1, SigningWithoutASignerIsAUsageError) {
  auto result = sign_cose(encode_cbor(sample_voucher()), SigningIdentity{});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::usage);
}

// ---- An implementation we did not write ---------------------------------

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cose_test_XXXXXX").string();
    path_ = mkdtemp(pattern.data()) != nullptr ? pattern : "";
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string write(const std::string& name, ByteView data) const {
    const std::string file = path_ + "/" + name;
    EXPECT_TRUE(write_file_atomic(file, data));
    return file;
  }

 private:
  std::string path_;
};

int run_python_verifier(const std::string& message, const std::string& key) {
  const std::string command = "/usr/bin/python3 " + std::string(VOUCHSAFE_SOURCE_DIR) +
                              "/tests/interop/verify_cose.py '" + message + "' '" + key +
                              "' > /dev/null 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(CoseInterop, OurMessagesVerifyWithAnIndependentPythonVerifier) {
  TempDir dir;
  for (const auto type : {crypto::KeyType::p256, crypto::KeyType::ed25519, crypto::KeyType::p384}) {
    Signing s(type);
    const Bytes message = sign(s, encode_cbor(sample_voucher()));
    const std::string cert =
        dir.write("signer.pem", as_bytes(crypto::certificate_pem(s.pki.signer.get())));
    EXPECT_EQ(run_python_verifier(dir.write("voucher.cose", message), cert), 0);

    // The checker does check: a flipped signature bit is refused.
    Bytes tampered = message;
    tampered.back() ^= 0x01U;
    EXPECT_EQ(run_python_verifier(dir.write("tampered.cose", tampered), cert), 1);
  }
}

TEST(CoseInterop, ThePythonVerifierAcceptsThePublishedVoucher) {
  EXPECT_EQ(run_python_verifier(testing::vector_path(k_voucher),
                                testing::vector_path("cbrski/C.2.4-masa-ca.cert.derived.pem")),
            0);
}

// ---- Refusals ------------------------------------------------------------

// A COSE_Sign1 with chosen headers, correctly signed by key with ES256, so
// that the only defect is the one a test puts in.
Bytes build_sign1(ByteView protected_header, ByteView unprotected, EVP_PKEY* key,
                  ByteView payload = as_bytes("payload")) {
  Bytes to_be_signed;
  CborWriter s(to_be_signed);
  s.array(4);
  s.text_string("Signature1");
  s.byte_string(protected_header);
  s.byte_string({});
  s.byte_string(payload);
  auto der = crypto::sign_bytes(key, crypto::SignatureAlgorithm::es256, to_be_signed);
  EXPECT_TRUE(der);
  auto raw = crypto::ecdsa_der_to_raw(*der, 32);
  EXPECT_TRUE(raw);
  Bytes out;
  CborWriter w(out);
  w.tag(18);
  w.array(4);
  w.byte_string(protected_header);
  w.raw(unprotected);
  w.byte_string(payload);
  w.byte_string(*raw);
  return out;
}

TEST(CoseRejects, ATamperedPayload) {
  Signing s(crypto::KeyType::p256);
  const Bytes payload = encode_cbor(sample_voucher());
  Bytes message = sign(s, payload);
  const auto at = std::search(message.begin(), message.end(), payload.begin(), payload.end());
  ASSERT_NE(at, message.end());
  *(at + static_cast<std::ptrdiff_t>(payload.size()) - 1) ^= 0x01U;  // last serial-number byte
  EXPECT_EQ(verify_error(message, s.pinned_key()), ErrorCode::bad_signature);
  EXPECT_EQ(verify_error(message, s.anchors()), ErrorCode::bad_signature);
}

TEST(CoseRejects, ASignatureByAnotherKey) {
  Signing s(crypto::KeyType::p256);
  Signing other(crypto::KeyType::p256);
  const Bytes message = sign(s, encode_cbor(sample_voucher()));
  EXPECT_EQ(verify_error(message, other.pinned_key()), ErrorCode::bad_signature);
  // An x5bag whose certificate is not the signer's.
  SigningIdentity mismatched{s.signer.get(), other.identity.chain};
  auto lying = sign_cose(encode_cbor(sample_voucher()), mismatched);
  ASSERT_TRUE(lying);
  EXPECT_EQ(verify_error(*lying, other.anchors()), ErrorCode::bad_signature);
}

TEST(CoseRejects, AChainToAnotherAnchor) {
  Signing s(crypto::KeyType::p256);
  Signing other(crypto::KeyType::p256);
  EXPECT_EQ(verify_error(sign(s, encode_cbor(sample_voucher())), other.anchors()),
            ErrorCode::untrusted_chain);
}

TEST(CoseRejects, AKeyThatCannotMakeTheNamedAlgorithm) {
  // The header says ES384, the signature is a P-256 one (in 96 bytes).
  class Es384Claimant final : public crypto::Signer {
   public:
    explicit Es384Claimant(EVP_PKEY* key) : key_(key) {}
    [[nodiscard]] crypto::SignatureAlgorithm algorithm() const override {
      return crypto::SignatureAlgorithm::es384;
    }
    [[nodiscard]] EVP_PKEY* public_key() const override { return key_; }
    [[nodiscard]] Result<Bytes> sign(ByteView data) const override {
      return crypto::sign_bytes(key_, crypto::SignatureAlgorithm::es384, data);
    }

   private:
    EVP_PKEY* key_;
  };
  Signing s(crypto::KeyType::p256);
  const Es384Claimant claimant(s.pki.signer_key.get());
  auto message = sign_cose(as_bytes("payload"), SigningIdentity{&claimant, s.identity.chain});
  ASSERT_TRUE(message);
  EXPECT_EQ(verify_error(*message, s.pinned_key()), ErrorCode::bad_signature);
  EXPECT_EQ(verify_error(*message, s.anchors()), ErrorCode::bad_signature);
}

TEST(CoseRejects, AWrongTag) {
  Signing s(crypto::KeyType::p256);
  Bytes message = sign(s, encode_cbor(sample_voucher()));
  message[0] = 0xD1;  // COSE_Mac0
  EXPECT_EQ(verify_error(message, s.pinned_key()), ErrorCode::malformed_cbor);
  // COSE_Sign (98) in a two-byte head.
  Bytes sign_tag = {0xD8, 0x62};
  sign_tag.insert(sign_tag.end(), message.begin() + 1, message.end());
  EXPECT_EQ(verify_error(sign_tag, s.pinned_key()), ErrorCode::malformed_cbor);
  // Tag 18 twice.
  Bytes twice = {0xD2};
  message[0] = 0xD2;
  twice.insert(twice.end(), message.begin(), message.end());
  EXPECT_EQ(verify_error(twice, s.pinned_key()), ErrorCode::malformed_cbor);
}

TEST(CoseRejects, EveryTruncationOfAPublishedMessage) {
  const Bytes voucher = testing::read_vector(k_voucher);
  const TrustPolicy policy = pinned("cbrski/C.2.4-masa-ca.cert.derived.pem");
  for (std::size_t n = 0; n < voucher.size(); ++n) {
    ASSERT_EQ(verify_error(ByteView(voucher).first(n), policy), ErrorCode::malformed_cbor) << n;
  }
  Bytes trailing = voucher;
  trailing.push_back(0x00);
  EXPECT_EQ(verify_error(trailing, policy), ErrorCode::malformed_cbor);
}

TEST(CoseRejects, MessagesThatAreNotAFourElementArray) {
  Signing s(crypto::KeyType::p256);
  const TrustPolicy policy = s.pinned_key();
  EXPECT_EQ(verify_error(hex("D28343A10126A040"), policy), ErrorCode::malformed_cbor);
  EXPECT_EQ(verify_error(hex("D2A0"), policy), ErrorCode::malformed_cbor);
  // A detached payload (nil), an unprotected header that is not a map, a
  // protected header that is a map instead of a bstr.
  EXPECT_EQ(verify_error(hex("D28443A10126A0F64100"), policy), ErrorCode::malformed_cbor);
  EXPECT_EQ(verify_error(hex("D28443A1012680410041 00"), policy), ErrorCode::malformed_cbor);
  EXPECT_EQ(verify_error(hex("D284A10126A041004100"), policy), ErrorCode::malformed_cbor);
  // A protected bstr that does not hold a map.
  EXPECT_EQ(verify_error(build_sign1(hex("80"), hex("A0"), s.pki.signer_key.get()), policy),
            ErrorCode::malformed_cbor);
}

TEST(CoseRejects, APayloadThatIsABareMapSaysSoRatherThanDetached) {
  // An early cBRSKI draft's voucher-request: the SID map itself where the
  // byte string belongs. A nil payload is the detached case.
  Signing s(crypto::KeyType::p256);
  const auto bare = verify_cose(hex("D28443A10126A0A11909C5A10102"
                                    "4100"),
                                s.pinned_key());
  ASSERT_FALSE(bare);
  EXPECT_NE(bare.error().message.find("bare CBOR map"), std::string::npos) << bare.error().message;
  EXPECT_EQ(bare.error().message.find("detached"), std::string::npos) << bare.error().message;
  const auto detached = verify_cose(hex("D28443A10126A0F64100"), s.pinned_key());
  ASSERT_FALSE(detached);
  EXPECT_NE(detached.error().message.find("detached"), std::string::npos);
}

// Found by fuzz_cose: libcbor's cbor_is_null asserts (aborting the MASA)
// when the payload is a float rather than a byte string or nil.
TEST(CoseRejects, APayloadThatIsAFloat) {
  Signing s(crypto::KeyType::p256);
  EXPECT_EQ(verify_error(hex("D28443A10126A0FA3F8000004100"), s.pinned_key()),
            ErrorCode::malformed_cbor);
}

TEST(CoseRejects, AlgorithmsWeDoNotSupport) {
  Signing s(crypto::KeyType::p256);
  EVP_PKEY* key = s.pki.signer_key.get();
  const TrustPolicy policy = s.pinned_key();
  // PS256 (-37), alg as text, no alg, alg only in the unprotected header.
  EXPECT_EQ(verify_error(build_sign1(hex("A1013824"), hex("A0"), key), policy),
            ErrorCode::unsupported_algorithm);
  EXPECT_EQ(verify_error(build_sign1(hex("A1016545533235 36"), hex("A0"), key), policy),
            ErrorCode::unsupported_algorithm);
  EXPECT_EQ(verify_error(build_sign1({}, hex("A0"), key), policy),
            ErrorCode::unsupported_algorithm);
  EXPECT_EQ(verify_error(build_sign1({}, hex("A10126"), key), policy),
            ErrorCode::unsupported_algorithm);
  // A critical header parameter we do not understand (label 99).
  EXPECT_EQ(verify_error(build_sign1(hex("A301260281186318630A"), hex("A0"), key), policy),
            ErrorCode::unsupported_algorithm);
  // The control: the same builder with {1: -7} verifies.
  EXPECT_TRUE(verify_cose(build_sign1(hex("A10126"), hex("A0"), key), policy));
}

TEST(CoseRejects, AHeaderLabelGivenTwice) {
  Signing s(crypto::KeyType::p256);
  EVP_PKEY* key = s.pki.signer_key.get();
  // kid in both buckets (RFC 9052 §3), and twice in one map.
  EXPECT_EQ(verify_error(build_sign1(hex("A201260441AA"), hex("A10441AA"), key), s.pinned_key()),
            ErrorCode::duplicate_member);
  EXPECT_EQ(verify_error(build_sign1(hex("A10126"), hex("A20441AA0441BB"), key), s.pinned_key()),
            ErrorCode::duplicate_member);
}

TEST(CoseRejects, DeepNestingInAHeader) {
  Signing s(crypto::KeyType::p256);
  Bytes unprotected = hex("A11863");  // {99: [[[[...]]]]}
  for (int i = 0; i < 30; ++i) unprotected.push_back(0x81);
  unprotected.push_back(0x00);
  EXPECT_EQ(
      verify_error(build_sign1(hex("A10126"), unprotected, s.pki.signer_key.get()), s.pinned_key()),
      ErrorCode::nesting_too_deep);
}

TEST(CoseRejects, CertificatesThatAreNotCertificates) {
  Signing s(crypto::KeyType::p256);
  EVP_PKEY* key = s.pki.signer_key.get();
  EXPECT_FALSE(verify_cose(build_sign1(hex("A10126"), hex("A118204300FF00"), key), s.anchors()));
  EXPECT_EQ(verify_error(build_sign1(hex("A10126"), hex("A1182001"), key), s.anchors()),
            ErrorCode::malformed_cbor);
  EXPECT_EQ(verify_error(build_sign1(hex("A10126"), hex("A118218101"), key), s.anchors()),
            ErrorCode::malformed_cbor);
}

TEST(CoseRejects, InputLargerThanThePolicyAllows) {
  Signing s(crypto::KeyType::p256);
  TrustPolicy policy = s.pinned_key();
  policy.max_input = 64;
  EXPECT_EQ(verify_error(sign(s, encode_cbor(sample_voucher())), policy),
            ErrorCode::input_too_large);
}

}  // namespace
}  // namespace vouchsafe::voucher
