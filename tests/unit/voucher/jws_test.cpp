// JWS envelope: the published JWS vouchers verify, our own output verifies
// here and in an independent Python verifier, and each malformation is
// refused with the code an operator would look for.
#include "voucher/jws.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/file.h"
#include "crypto/keys.h"
#include "crypto/signature.h"
#include "crypto/signer.h"
#include "support/test_support.h"
#include "voucher/json_codec.h"

namespace vouchsafe::voucher {
namespace {

using nlohmann::json;

std::string text(ByteView b) {
  return std::string(as_text(b));
}

// The last certificate of a key-and-chain PEM file is its trust anchor.
TrustPolicy anchored_by_last_cert(const std::string& pem, const std::string& at_iso) {
  auto certs = testing::vector_certs(pem);
  std::vector<crypto::X509Ptr> anchor;
  if (!certs.empty()) anchor.push_back(std::move(certs.back()));
  TrustPolicy policy = TrustPolicy::with_anchors(std::move(anchor));
  policy.at = testing::at(at_iso);
  return policy;
}

Bytes certificate_der_of_last(const std::string& pem) {
  auto certs = testing::vector_certs(pem);
  return certs.empty() ? Bytes{} : crypto::certificate_der(certs.back().get());
}

json protected_header(ByteView jws, std::size_t index = 0) {
  const json doc = json::parse(jws.begin(), jws.end());
  const auto encoded = doc.at("signatures").at(index).at("protected").get<std::string>();
  auto decoded = base64url_decode(encoded);
  EXPECT_TRUE(decoded);
  return decoded ? json::parse(decoded->begin(), decoded->end()) : json{};
}

// The public key of x5c[0] of a signature, as a device would have it pinned.
TrustPolicy pinned_to_x5c0(ByteView jws, std::size_t index = 0) {
  const auto x5c0 = protected_header(jws, index).at("x5c").at(0).get<std::string>();
  auto der = base64_decode(x5c0);
  EXPECT_TRUE(der);
  auto cert = crypto::parse_certificate_der(der ? *der : Bytes{});
  EXPECT_TRUE(cert);
  return TrustPolicy::with_pinned_key(crypto::PkeyPtr(X509_get_pubkey(cert->get())));
}

std::string subject_of(const crypto::CertificateRef& cert) {
  return crypto::certificate_subject(cert->x509());
}

// ---------------------------------------------------------------------------
// Published vectors

constexpr const char* k_pledge_chain = "jws-voucher/s8.1-pledge-idevid-key-and-chain.pem";
constexpr const char* k_registrar_chain = "jws-voucher/s8.2-registrar-key-and-chain.pem";
constexpr const char* k_masa_chain = "jws-voucher/s8.3-masa-key-and-chain.pem";
constexpr const char* k_inside_2025 = "2025-06-01T00:00:00Z";

TEST(JwsVectors, PledgeVoucherRequestOfTheJwsDraftVerifiesToTheManufacturerCa) {
  const Bytes jws = testing::read_vector("jws-voucher/s8-jws-pvr.json");
  auto verified = verify_jws(jws, anchored_by_last_cert(k_pledge_chain, k_inside_2025));
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->form, Form::jws);
  EXPECT_EQ(verified->payload, testing::read_vector("jws-voucher/s8-jws-pvr.derived.payload.json"));
  ASSERT_EQ(verified->signer_chain.size(), 2U);
  EXPECT_NE(subject_of(verified->signer_chain[0]).find("CN=ABC3.E75-100A"), std::string::npos);
  EXPECT_NE(subject_of(verified->signer_chain[1]).find("CN=ManufacturerCA"), std::string::npos);
  EXPECT_EQ(verified->embedded_certificates.size(), 1U);

  auto pvr = decode_json(verified->payload);
  ASSERT_TRUE(pvr) << pvr.error().message;
  EXPECT_EQ(pvr->kind, ArtifactKind::voucher_request);
  EXPECT_EQ(pvr->serial_number, "kit-987654321");
  EXPECT_EQ(pvr->nonce, base64_decode("TauvK+Y/cc2RfIFvpZzfKQ==").value());
  EXPECT_FALSE(pvr->assertion.has_value());  // the draft's PVR has none
  EXPECT_TRUE(pvr->proximity_registrar_cert.has_value());
}

TEST(JwsVectors, RegistrarVoucherRequestVerifiesToMySiteCaAndCarriesThePvr) {
  const Bytes jws = testing::read_vector("jws-voucher/s8-jws-rvr.json");
  auto verified = verify_jws(jws, anchored_by_last_cert(k_registrar_chain, k_inside_2025));
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->payload, testing::read_vector("jws-voucher/s8-jws-rvr.derived.payload.json"));
  ASSERT_EQ(verified->signer_chain.size(), 2U);
  EXPECT_NE(subject_of(verified->signer_chain[1]).find("CN=MySiteCA"), std::string::npos);

  auto rvr = decode_json(verified->payload);
  ASSERT_TRUE(rvr) << rvr.error().message;
  EXPECT_EQ(rvr->serial_number, "kit-987654321");
  ASSERT_TRUE(rvr->prior_signed_voucher_request.has_value());
  // The prior-signed-voucher-request is the PVR's JWS text (compact; the
  // published file is the same JSON pretty-printed).
  const Bytes& prior = *rvr->prior_signed_voucher_request;
  const Bytes published = testing::read_vector("jws-voucher/s8-jws-pvr.json");
  EXPECT_EQ(json::parse(prior.begin(), prior.end()),
            json::parse(published.begin(), published.end()));
  // A MASA verifies it in turn, against the manufacturer's CA.
  auto inner = verify_jws(prior, anchored_by_last_cert(k_pledge_chain, k_inside_2025));
  ASSERT_TRUE(inner) << inner.error().message;
  EXPECT_EQ(inner->payload, testing::read_vector("jws-voucher/s8-jws-pvr.derived.payload.json"));
}

TEST(JwsVectors, VoucherOfTheJwsDraftVerifiesAndPinsMySiteCa) {
  const Bytes jws = testing::read_vector("jws-voucher/s8-jws-voucher.json");
  auto verified = verify_jws(jws, anchored_by_last_cert(k_masa_chain, k_inside_2025));
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->payload,
            testing::read_vector("jws-voucher/s8-jws-voucher.derived.payload.json"));
  ASSERT_FALSE(verified->signer_chain.empty());
  EXPECT_NE(subject_of(verified->signer_chain[0]).find("CN=Manufacturer Voucher Signing Key"),
            std::string::npos);

  auto voucher = decode_json(verified->payload);
  ASSERT_TRUE(voucher) << voucher.error().message;
  EXPECT_EQ(voucher->kind, ArtifactKind::voucher);
  EXPECT_EQ(voucher->assertion, Assertion::logged);
  EXPECT_EQ(voucher->serial_number, "kit-987654321");
  EXPECT_EQ(voucher->pinned_domain_cert, certificate_der_of_last(k_registrar_chain));
}

TEST(JwsVectors, Rfc8366bisJwsVoucherVerifiesToTheRfc8995VendorCa) {
  const Bytes jws = testing::read_vector("rfc8366bis/A-jws-voucher.json");
  TrustPolicy policy =
      TrustPolicy::with_anchors(testing::vector_certs("rfc8995/C.1.1-vendor-ca.cert.pem"));
  policy.at = testing::at("2022-01-01T00:00:00Z");  // the CA expired in 2023
  auto verified = verify_jws(jws, policy);
  ASSERT_TRUE(verified) << verified.error().message;
  ASSERT_EQ(verified->signer_chain.size(), 2U);
  EXPECT_NE(subject_of(verified->signer_chain[0]).find("highway-test.example.com MASA"),
            std::string::npos);

  auto voucher = decode_json(verified->payload);
  ASSERT_TRUE(voucher) << voucher.error().message;
  EXPECT_EQ(voucher->serial_number, "caffe-98745");
  EXPECT_EQ(voucher->assertion, Assertion::proximity);
  EXPECT_TRUE(voucher->pinned_domain_cert.has_value());
}

TEST(JwsVectors, Rfc8366bisJwsVoucherIsRefusedOnceItsCaHasExpired) {
  const Bytes jws = testing::read_vector("rfc8366bis/A-jws-voucher.json");
  TrustPolicy policy =
      TrustPolicy::with_anchors(testing::vector_certs("rfc8995/C.1.1-vendor-ca.cert.pem"));
  policy.at = testing::at("2024-01-01T00:00:00Z");
  auto verified = verify_jws(jws, policy);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ErrorCode::untrusted_chain);
}

struct PrmCase {
  const char* file;
  ArtifactKind kind;
};

// "brski-prm/A.1-pvr.json" -> "A1"
std::string prm_case_name(const ::testing::TestParamInfo<PrmCase>& param_info) {
  std::string name = std::string(param_info.param.file).substr(10, 3);
  name.erase(1, 1);
  return name;
}

class JwsPrmVectors : public ::testing::TestWithParam<PrmCase> {};

TEST_P(JwsPrmVectors, VerifiesWithItsX5cKeyPinnedAndDecodes) {
  const Bytes jws = testing::read_vector(GetParam().file);
  auto verified = verify_jws(jws, pinned_to_x5c0(jws));
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_FALSE(verified->signer_chain.empty());

  // The payloads still use the -prm module name, which decode_json accepts.
  auto artifact = decode_json(verified->payload);
  ASSERT_TRUE(artifact) << artifact.error().message;
  EXPECT_EQ(artifact->kind, GetParam().kind);
  EXPECT_EQ(artifact->serial_number, "0123456789");
  EXPECT_EQ(artifact->assertion, Assertion::agent_proximity);
}

INSTANTIATE_TEST_SUITE_P(
    JwsBrskiPrmAppendixA, JwsPrmVectors,
    ::testing::Values(PrmCase{"brski-prm/A.1-pvr.json", ArtifactKind::voucher_request},
                      PrmCase{"brski-prm/A.2-rvr.json", ArtifactKind::voucher_request},
                      PrmCase{"brski-prm/A.3-voucher.json", ArtifactKind::voucher},
                      PrmCase{"brski-prm/A.4-voucher-registrar-countersigned.json",
                              ArtifactKind::voucher}),
    prm_case_name);

TEST(JwsVectors, CountersignedPrmVoucherVerifiesWithEitherSignersKey) {
  // BRSKI-PRM A.4: the MASA's signature and the registrar's countersignature.
  const Bytes jws = testing::read_vector("brski-prm/A.4-voucher-registrar-countersigned.json");
  auto by_masa = verify_jws(jws, pinned_to_x5c0(jws, 0));
  auto by_registrar = verify_jws(jws, pinned_to_x5c0(jws, 1));
  ASSERT_TRUE(by_masa) << by_masa.error().message;
  ASSERT_TRUE(by_registrar) << by_registrar.error().message;
  // Each reports the signature that its key verified.
  EXPECT_NE(by_masa->signer_chain.front()->der, by_registrar->signer_chain.front()->der);
  EXPECT_EQ(by_masa->payload, by_registrar->payload);
}

TEST(JwsVectors, PrmVoucherIsRefusedWithAnUnrelatedPinnedKey) {
  const Bytes jws = testing::read_vector("brski-prm/A.3-voucher.json");
  auto verified = verify_jws(jws, pinned_to_x5c0(testing::read_vector("brski-prm/A.1-pvr.json")));
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ErrorCode::bad_signature);
}

// ---------------------------------------------------------------------------
// Our own output

struct TestSigner {
  testing::TestPki pki;
  std::unique_ptr<crypto::SoftwareSigner> signer;
  SigningIdentity identity;
};

std::unique_ptr<TestSigner> make_signer(crypto::KeyType type = crypto::KeyType::p256,
                                        bool with_chain = true) {
  auto s = std::make_unique<TestSigner>();
  s->pki = testing::make_test_pki(type);
  auto signer = crypto::SoftwareSigner::create(crypto::share(s->pki.signer_key.get()));
  EXPECT_TRUE(signer);
  s->signer = std::move(signer).value();
  s->identity.signer = s->signer.get();
  if (with_chain) {
    s->identity.chain.push_back(crypto::make_certificate_ref(crypto::share(s->pki.signer.get())));
  }
  return s;
}

TrustPolicy anchored_by_root(const TestSigner& s) {
  std::vector<crypto::X509Ptr> anchors;
  anchors.push_back(crypto::share(s.pki.root.get()));
  return TrustPolicy::with_anchors(std::move(anchors));
}

Bytes sample_voucher() {
  Voucher v;
  v.kind = ArtifactKind::voucher;
  v.assertion = Assertion::logged;
  v.serial_number = "JADA123456789";
  v.created_on = parse_date_time("2025-03-01T12:00:00Z").value();
  v.nonce = Bytes{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  v.pinned_domain_cert = Bytes{0x30, 0x03, 0x02, 0x01, 0x01};
  return encode_json(v);
}

TEST(JwsSigning, WritesACompactGeneralSerializationWithTheDraftsProtectedHeader) {
  auto s = make_signer();
  const Bytes payload = sample_voucher();
  auto jws = sign_jws(payload, s->identity);
  ASSERT_TRUE(jws) << jws.error().message;
  const std::string out = text(*jws);
  EXPECT_EQ(out.find_first_of(" \n\t"), std::string::npos);
  EXPECT_EQ(out.rfind(R"({"payload":")", 0), 0U);

  const json doc = json::parse(out);
  EXPECT_EQ(doc.size(), 2U);
  EXPECT_EQ(doc["payload"], base64url_encode(payload));
  ASSERT_EQ(doc["signatures"].size(), 1U);
  EXPECT_EQ(doc["signatures"][0].size(), 2U);  // protected and signature only

  const json header = protected_header(*jws);
  const json expected = {{"alg", "ES256"},
                         {"typ", "voucher-jws+json"},
                         {"x5c", {base64_encode(s->identity.chain[0]->der)}}};
  EXPECT_EQ(header, expected);
  // The header text keeps the draft's member order.
  const auto raw = base64url_decode(doc["signatures"][0]["protected"].get<std::string>()).value();
  EXPECT_EQ(text(raw).rfind(R"({"alg":"ES256","typ":"voucher-jws+json","x5c":[")", 0), 0U);
  // RFC 7518 §3.4: ES256 signatures are 64 raw bytes.
  EXPECT_EQ(base64url_decode(doc["signatures"][0]["signature"].get<std::string>())->size(), 64U);
}

TEST(JwsSigning, LeavesOutX5cWhenTheSignerHasNoCertificate) {
  auto s = make_signer(crypto::KeyType::p256, /*with_chain=*/false);
  auto jws = sign_jws(sample_voucher(), s->identity);
  ASSERT_TRUE(jws) << jws.error().message;
  EXPECT_EQ(protected_header(*jws), (json{{"alg", "ES256"}, {"typ", "voucher-jws+json"}}));
}

TEST(JwsSigning, FollowsAChangeOfChainBetweenCalls) {
  // The protected header is cached per thread; a new chain must show up.
  auto s = make_signer();
  auto first = sign_jws(sample_voucher(), s->identity);
  s->identity.chain.push_back(crypto::make_certificate_ref(crypto::share(s->pki.root.get())));
  auto second = sign_jws(sample_voucher(), s->identity);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(protected_header(*first)["x5c"].size(), 1U);
  EXPECT_EQ(protected_header(*second)["x5c"].size(), 2U);
  auto other = make_signer(crypto::KeyType::ed25519);
  auto third = sign_jws(sample_voucher(), other->identity);
  ASSERT_TRUE(third);
  EXPECT_EQ(protected_header(*third)["alg"], "EdDSA");
}

TEST(JwsUnsigned, AJsonVoucherRequestIsCalledWhatItIs) {
  // What a registrar sends when it forgets to sign: the JSON payload alone.
  const Bytes bare = to_bytes(std::string(
      R"({"ietf-voucher-request:voucher":{"serial-number":"A","nonce":"AAAAAAAAAAA="}})"));
  const auto verified = verify_jws(bare, TrustPolicy::for_inspection());
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ErrorCode::bad_signature);
  EXPECT_NE(verified.error().message.find("unsigned JSON voucher-request"), std::string::npos)
      << verified.error().message;
  EXPECT_EQ(verified.error().message.find("payload"), std::string::npos)
      << verified.error().message;
}

TEST(JwsSigning, RefusesToSignWithoutASigner) {
  auto jws = sign_jws(sample_voucher(), SigningIdentity{});
  ASSERT_FALSE(jws);
  EXPECT_EQ(jws.error().code, ErrorCode::usage);
}

class JwsRoundTrip : public ::testing::TestWithParam<crypto::KeyType> {};

TEST_P(JwsRoundTrip, SignedVoucherVerifiesToItsRootAndDecodes) {
  auto s = make_signer(GetParam());
  const Bytes payload = sample_voucher();
  auto jws = sign_jws(payload, s->identity);
  ASSERT_TRUE(jws) << jws.error().message;
  auto verified = verify_jws(*jws, anchored_by_root(*s));
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->payload, payload);
  ASSERT_EQ(verified->signer_chain.size(), 2U);
  EXPECT_EQ(verified->signer_chain[0]->der, s->identity.chain[0]->der);
  EXPECT_EQ(verified->signer_chain[1]->der, crypto::certificate_der(s->pki.root.get()));
  ASSERT_EQ(verified->embedded_certificates.size(), 1U);
  auto decoded = decode_json(verified->payload);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->serial_number, "JADA123456789");
}

TEST_P(JwsRoundTrip, SignedVoucherVerifiesWithThePinnedKeyAlone) {
  auto s = make_signer(GetParam(), /*with_chain=*/false);
  auto jws = sign_jws(sample_voucher(), s->identity);
  ASSERT_TRUE(jws) << jws.error().message;
  auto verified =
      verify_jws(*jws, TrustPolicy::with_pinned_key(crypto::share(s->pki.signer_key.get())));
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_TRUE(verified->signer_chain.empty());
}

INSTANTIATE_TEST_SUITE_P(JwsEveryKeyType, JwsRoundTrip,
                         ::testing::Values(crypto::KeyType::p256, crypto::KeyType::p384,
                                           crypto::KeyType::p521, crypto::KeyType::ed25519),
                         testing::key_type_name);

TEST(JwsSigning, FlattenedFormOfOurOutputAlsoVerifies) {
  // RFC 7515 §7.2.2: the same signature with its members lifted to the top.
  auto s = make_signer();
  auto jws = sign_jws(sample_voucher(), s->identity);
  ASSERT_TRUE(jws);
  json doc = json::parse(jws->begin(), jws->end());
  json flat = doc["signatures"][0];
  flat["payload"] = doc["payload"];
  auto verified = verify_jws(to_bytes(flat.dump()), anchored_by_root(*s));
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->payload, sample_voucher());
}

// ---------------------------------------------------------------------------
// Interop with an independent verifier (Python, python3-cryptography)

class JwsInterop : public ::testing::TestWithParam<crypto::KeyType> {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(k_python, X_OK), 0) << k_python << " is not installed (scripts/setup)";
    // Parameterized test names contain '/', which cannot go in a file name.
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) c = c == '/' ? '_' : c;
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("vouchsafe-jws-" + std::to_string(getpid()) + "-" + name);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Exit status of verify_jws.py on a JWS and a PEM key or certificate.
  int run_python(ByteView jws, const std::string& key_pem) {
    const auto jws_path = (dir_ / "voucher.json").string();
    const auto key_path = (dir_ / "key.pem").string();
    EXPECT_TRUE(write_file_atomic(jws_path, jws));
    EXPECT_TRUE(write_file_atomic(key_path, as_bytes(key_pem)));
    const std::string command = std::string(k_python) + " " + VOUCHSAFE_SOURCE_DIR +
                                "/tests/interop/verify_jws.py '" + jws_path + "' '" + key_path +
                                "' >/dev/null 2>&1";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static constexpr const char* k_python = "/usr/bin/python3";
  std::filesystem::path dir_;
};

TEST_P(JwsInterop, OurJwsVerifiesInTheIndependentPythonVerifier) {
  auto s = make_signer(GetParam());
  auto jws = sign_jws(sample_voucher(), s->identity);
  ASSERT_TRUE(jws) << jws.error().message;
  EXPECT_EQ(run_python(*jws, crypto::certificate_pem(s->pki.signer.get())), 0);
}

TEST_P(JwsInterop, ThePythonVerifierRefusesOurJwsWithAnotherKey) {
  // Shows the independent verifier is not a rubber stamp.
  auto s = make_signer(GetParam());
  auto jws = sign_jws(sample_voucher(), s->identity);
  ASSERT_TRUE(jws) << jws.error().message;
  EXPECT_EQ(run_python(*jws, crypto::certificate_pem(s->pki.root.get())), 1);
}

INSTANTIATE_TEST_SUITE_P(JwsEveryKeyType, JwsInterop,
                         ::testing::Values(crypto::KeyType::p256, crypto::KeyType::p384,
                                           crypto::KeyType::ed25519),
                         testing::key_type_name);

// ---------------------------------------------------------------------------
// Rejections

// A JWS with a hand-written protected header, properly signed with key, so
// that a rejection can only come from the header itself.
Bytes craft_jws(const std::string& header, ByteView payload, EVP_PKEY* key,
                crypto::SignatureAlgorithm alg) {
  const std::string protected_b64 = base64url_encode(as_bytes(header));
  const std::string payload_b64 = base64url_encode(payload);
  auto der = crypto::sign_bytes(key, alg, as_bytes(protected_b64 + "." + payload_b64));
  EXPECT_TRUE(der);
  Bytes signature = *der;
  if (const auto field = crypto::ecdsa_field_size(alg); field != 0) {
    signature = crypto::ecdsa_der_to_raw(signature, field).value();
  }
  const json doc = {
      {"payload", payload_b64},
      {"signatures", {{{"protected", protected_b64}, {"signature", base64url_encode(signature)}}}}};
  return to_bytes(doc.dump());
}

class JwsRejects : public ::testing::Test {
 protected:
  void SetUp() override {
    signer_ = make_signer();
    auto jws = sign_jws(sample_voucher(), signer_->identity);
    ASSERT_TRUE(jws);
    jws_ = *jws;
    doc_ = json::parse(jws_.begin(), jws_.end());
  }

  [[nodiscard]] TrustPolicy anchors() const { return anchored_by_root(*signer_); }
  [[nodiscard]] std::string x5c0() const { return base64_encode(signer_->identity.chain[0]->der); }

  ErrorCode code_of(ByteView data) const { return code_of(data, anchors()); }
  static ErrorCode code_of(ByteView data, const TrustPolicy& policy) {
    auto verified = verify_jws(data, policy);
    EXPECT_FALSE(verified) << "accepted " << std::string(as_text(data)).substr(0, 200);
    return verified ? ErrorCode::internal : verified.error().code;
  }
  ErrorCode code_of_edited(const std::function<void(json&)>& edit) const {
    json doc = doc_;
    edit(doc);
    return code_of(to_bytes(doc.dump()));
  }
  ErrorCode code_of_header(const std::string& header) const {
    return code_of(craft_jws(header, sample_voucher(), signer_->pki.signer_key.get(),
                             crypto::SignatureAlgorithm::es256));
  }

  std::unique_ptr<TestSigner> signer_;
  Bytes jws_;
  json doc_;
};

TEST_F(JwsRejects, TamperedPayloadAsBadSignature) {
  Bytes other = sample_voucher();
  other[other.size() / 2] ^= 0x01U;  // still JSON-ish; only the signature can tell
  EXPECT_EQ(code_of_edited([&](json& d) { d["payload"] = base64url_encode(other); }),
            ErrorCode::bad_signature);
}

TEST_F(JwsRejects, TamperedProtectedHeaderAsBadSignature) {
  const std::string header =
      R"({"alg":"ES256","typ":"voucher-jws+json","x5c":[")" + x5c0() + R"("],"kid":"added"})";
  EXPECT_EQ(code_of_edited([&](json& d) {
              d["signatures"][0]["protected"] = base64url_encode(as_bytes(header));
            }),
            ErrorCode::bad_signature);
}

TEST_F(JwsRejects, SignatureByAnotherPinnedKeyAsBadSignature) {
  auto other = make_signer();
  EXPECT_EQ(code_of(jws_, TrustPolicy::with_pinned_key(crypto::share(other->pki.signer_key.get()))),
            ErrorCode::bad_signature);
}

TEST_F(JwsRejects, TruncatedSignatureAsBadSignature) {
  EXPECT_EQ(code_of_edited([](json& d) {
              auto sig = d["signatures"][0]["signature"].get<std::string>();
              d["signatures"][0]["signature"] = sig.substr(0, 40);
            }),
            ErrorCode::bad_signature);
}

TEST_F(JwsRejects, ChainToAnotherAnchorAsUntrustedChain) {
  auto other = make_signer();
  EXPECT_EQ(code_of(jws_, anchored_by_root(*other)), ErrorCode::untrusted_chain);
}

TEST_F(JwsRejects, NoX5cWithAnchorsAsUnknownSigner) {
  auto bare = make_signer(crypto::KeyType::p256, /*with_chain=*/false);
  auto jws = sign_jws(sample_voucher(), bare->identity);
  ASSERT_TRUE(jws);
  EXPECT_EQ(code_of(*jws, anchored_by_root(*bare)), ErrorCode::unknown_signer);
}

TEST_F(JwsRejects, AlgNoneAsUnsupportedAlgorithm) {
  // RFC 8725 §3.2: an unsigned JWS must never pass.
  const json doc = {
      {"payload", base64url_encode(sample_voucher())},
      {"signatures",
       {{{"protected", base64url_encode(as_bytes(R"({"alg":"none"})"))}, {"signature", ""}}}}};
  EXPECT_EQ(code_of(to_bytes(doc.dump())), ErrorCode::unsupported_algorithm);
}

TEST_F(JwsRejects, UnknownAlgAsUnsupportedAlgorithm) {
  EXPECT_EQ(code_of_header(R"({"alg":"HS256","x5c":[")" + x5c0() + R"("]})"),
            ErrorCode::unsupported_algorithm);
}

TEST_F(JwsRejects, AlgThatDoesNotMatchTheKeyAsBadSignature) {
  // An EC key used under "EdDSA" would verify with OpenSSL's default digest.
  const std::string header = R"({"alg":"EdDSA","x5c":[")" + x5c0() + R"("]})";
  EXPECT_EQ(code_of(craft_jws(header, sample_voucher(), signer_->pki.signer_key.get(),
                              crypto::SignatureAlgorithm::es256)),
            ErrorCode::bad_signature);
}

TEST_F(JwsRejects, MissingSignaturesAsMalformedJson) {
  EXPECT_EQ(code_of_edited([](json& d) { d.erase("signatures"); }), ErrorCode::malformed_json);
}

TEST_F(JwsRejects, EmptySignaturesAsMalformedJson) {
  EXPECT_EQ(code_of_edited([](json& d) { d["signatures"] = json::array(); }),
            ErrorCode::malformed_json);
}

TEST_F(JwsRejects, MissingPayloadAsMalformedJson) {
  EXPECT_EQ(code_of_edited([](json& d) { d.erase("payload"); }), ErrorCode::malformed_json);
}

TEST_F(JwsRejects, ProtectedHeaderWithoutAlgAsMalformedJson) {
  EXPECT_EQ(code_of_header(R"({"typ":"voucher-jws+json"})"), ErrorCode::malformed_json);
}

TEST_F(JwsRejects, MixedGeneralAndFlattenedSyntaxAsMalformedJson) {
  EXPECT_EQ(code_of_edited([](json& d) { d["signature"] = d["signatures"][0]["signature"]; }),
            ErrorCode::malformed_json);
}

TEST_F(JwsRejects, TextThatIsNotJsonAsMalformedJson) {
  EXPECT_EQ(code_of(as_bytes(R"({"payload": "abc", )")), ErrorCode::malformed_json);
}

TEST_F(JwsRejects, PayloadThatIsNotBase64urlAsMalformedBase64) {
  EXPECT_EQ(code_of_edited([](json& d) { d["payload"] = "eyJhIjoxfQ+/"; }),
            ErrorCode::malformed_base64);
}

TEST_F(JwsRejects, PaddedBase64urlAsMalformedBase64) {
  // RFC 7515 §2: base64url in JWS never carries '='.
  EXPECT_EQ(code_of_edited([](json& d) {
              d["signatures"][0]["signature"] =
                  d["signatures"][0]["signature"].get<std::string>() + "==";
            }),
            ErrorCode::malformed_base64);
}

TEST_F(JwsRejects, X5cInBase64urlInsteadOfBase64AsMalformedBase64) {
  std::string url = x5c0();
  for (char& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
  if (url == x5c0()) url += "-";  // make sure a base64url-only character is there
  EXPECT_EQ(code_of_header(R"({"alg":"ES256","x5c":[")" + url + R"("]})"),
            ErrorCode::malformed_base64);
}

TEST_F(JwsRejects, DuplicateTopLevelMemberAsDuplicateMember) {
  std::string text = std::string(as_text(jws_));
  text.insert(1, R"("payload":"e30",)");
  EXPECT_EQ(code_of(as_bytes(text)), ErrorCode::duplicate_member);
}

TEST_F(JwsRejects, DuplicateProtectedHeaderMemberAsDuplicateMember) {
  EXPECT_EQ(code_of_header(R"({"alg":"ES256","alg":"ES256","x5c":[")" + x5c0() + R"("]})"),
            ErrorCode::duplicate_member);
}

TEST_F(JwsRejects, HeaderParameterInBothHeadersAsDuplicateMember) {
  // RFC 7515 §7.2.1: protected and unprotected names must be disjoint.
  EXPECT_EQ(code_of_edited([](json& d) {
              d["signatures"][0]["header"] = {{"alg", "ES256"}};
            }),
            ErrorCode::duplicate_member);
}

TEST_F(JwsRejects, OversizeInputAsInputTooLarge) {
  TrustPolicy policy = anchors();
  policy.max_input = jws_.size() - 1;
  EXPECT_EQ(code_of(jws_, policy), ErrorCode::input_too_large);
}

TEST_F(JwsRejects, MoreSignaturesThanTheLimitAsInputTooLarge) {
  EXPECT_EQ(code_of_edited([](json& d) {
              for (int i = 0; i < 8; ++i) d["signatures"].push_back(d["signatures"][0]);
            }),
            ErrorCode::input_too_large);
}

TEST_F(JwsRejects, DeeplyNestedEnvelopeAsNestingTooDeep) {
  EXPECT_EQ(code_of_edited([](json& d) {
              json deep = json::array();
              for (int i = 0; i < 20; ++i) deep = json::array({deep});
              d["extra"] = deep;
            }),
            ErrorCode::nesting_too_deep);
}

TEST_F(JwsRejects, WrongMemberTypesAsWrongType) {
  EXPECT_EQ(code_of(as_bytes("[]")), ErrorCode::wrong_type);
  EXPECT_EQ(code_of_edited([](json& d) { d["payload"] = 42; }), ErrorCode::wrong_type);
  EXPECT_EQ(code_of_edited([](json& d) { d["signatures"] = json::object(); }),
            ErrorCode::wrong_type);
  EXPECT_EQ(code_of_edited([](json& d) { d["signatures"][0] = "sig"; }), ErrorCode::wrong_type);
  EXPECT_EQ(code_of_edited([](json& d) { d["signatures"][0]["header"] = "h"; }),
            ErrorCode::wrong_type);
  EXPECT_EQ(code_of_header(R"({"alg":256})"), ErrorCode::wrong_type);
  EXPECT_EQ(code_of_header(R"({"alg":"ES256","x5c":")" + x5c0() + R"("})"), ErrorCode::wrong_type);
  EXPECT_EQ(code_of_header(R"(["ES256"])"), ErrorCode::wrong_type);
}

TEST_F(JwsRejects, CriticalExtensionAsInvalidValue) {
  // RFC 7515 §4.1.11: an extension marked critical that we do not implement.
  EXPECT_EQ(
      code_of_header(R"({"alg":"ES256","b64":false,"crit":["b64"],"x5c":[")" + x5c0() + R"("]})"),
      ErrorCode::invalid_value);
}

TEST_F(JwsRejects, TypOfAnotherKindOfObjectAsWrongContentType) {
  EXPECT_EQ(code_of_header(R"({"alg":"ES256","typ":"JWT","x5c":[")" + x5c0() + R"("]})"),
            ErrorCode::wrong_content_type);
}

TEST_F(JwsRejects, NothingWhenTypIsSpelledAsAFullMediaType) {
  // RFC 7515 §4.1.9: "application/" may be included and case is ignored.
  auto verified = verify_jws(
      craft_jws(
          R"({"alg":"ES256","typ":"Application/Voucher-JWS+JSON","x5c":[")" + x5c0() + R"("]})",
          sample_voucher(), signer_->pki.signer_key.get(), crypto::SignatureAlgorithm::es256),
      anchors());
  EXPECT_TRUE(verified) << verified.error().message;
}

TEST_F(JwsRejects, NothingForUnknownTopLevelMembersOrAnUnprotectedHeader) {
  // RFC 7515 §7.2.1: members not understood "MUST be ignored".
  json doc = doc_;
  doc["comment"] = "ignored";
  doc["signatures"][0]["header"] = {{"kid", "masa-2025"}};
  auto verified = verify_jws(to_bytes(doc.dump()), anchors());
  EXPECT_TRUE(verified) << verified.error().message;
}

TEST_F(JwsRejects, UndecodableCertificateInX5cAsMalformedDer) {
  EXPECT_EQ(code_of_header(R"({"alg":"ES256","x5c":["MAMCAQE="]})"), ErrorCode::malformed_der);
}

}  // namespace
}  // namespace vouchsafe::voucher
