// requestvoucher: a voucher in each form with the fields RFC 8995 §5.6
// asks for, the Accept header choosing the form, and every refusal of the
// validation steps with its status and reason.
#include <gtest/gtest.h>

#include <array>
#include <set>
#include <thread>

#include "masa/detail/voucher_builder.h"
#include "masa_fixture.h"
#include "pki/certificate_fields.h"
#include "voucher/json_codec.h"

namespace vouchsafe::masa::testing {
namespace {

class RequestVoucher : public MasaTestBase,
                       public ::testing::WithParamInterface<std::tuple<Backend, Form>> {
 protected:
  [[nodiscard]] Backend backend() const override { return std::get<0>(GetParam()); }
  [[nodiscard]] Form form() const { return std::get<1>(GetParam()); }
};

TEST_P(RequestVoucher, IssuesAVoucherThatVerifiesWithTheMasaAnchor) {
  const Form form = this->form();
  MasaService masa(config(), store());
  const std::string serial = device();
  const Bytes nonce = random_nonce();
  const auto response = masa.handle(good_request(serial, domain_, form, nonce));
  ASSERT_EQ(response.status, 200) << body_text(response);
  EXPECT_EQ(response.content_type, media_type(form));
  ASSERT_EQ(*voucher::detect_form(response.body), form);

  const voucher::Voucher v = open_voucher(response);
  EXPECT_EQ(v.serial_number, serial);
  EXPECT_EQ(v.assertion, voucher::Assertion::proximity);
  EXPECT_EQ(v.nonce, nonce);
  EXPECT_FALSE(v.expires_on);
  ASSERT_TRUE(v.created_on);
  EXPECT_LE(std::abs(v.created_on->unix_seconds() - std::time(nullptr)), 5);
  // The default pinning policy pins the domain CA.
  EXPECT_EQ(v.pinned_domain_cert, domain_.ca_der());
  EXPECT_EQ(v.domain_cert_revocation_checks, false);
  EXPECT_FALSE(v.prior_signed_voucher_request);
  // Serial numbers are unique across our issuing CAs: no idevid-issuer
  // unless configured (RFC 8366bis: otherwise it SHOULD NOT be there).
  EXPECT_FALSE(v.idevid_issuer);
}

INSTANTIATE_TEST_SUITE_P(EachForm, RequestVoucher,
                         ::testing::Combine(::testing::Values(Backend::sqlite, Backend::postgres),
                                            ::testing::Values(Form::cms, Form::cose, Form::jws)),
                         [](const auto& param_info) {
                           return backend_name(std::get<0>(param_info.param)) + "_" +
                                  std::string(voucher::form_name(std::get<1>(param_info.param)));
                         });

// Every MasaTest of this binary (audit_log_test.cpp and policy_test.cpp
// too), on both backends.
INSTANTIATE_TEST_SUITE_P(Backends, MasaTest, ::testing::Values(Backend::sqlite, Backend::postgres),
                         backend_test_name);

TEST_P(MasaTest, AcceptChoosesAnotherForm) {
  MasaService masa(config(), store());
  const std::string serial = device();
  auto request = good_request(serial, domain_, Form::cms);
  request.accept = "application/voucher-jws+json";
  auto response = masa.handle(request);
  EXPECT_EQ(response.content_type, "application/voucher-jws+json");
  EXPECT_EQ(*voucher::detect_form(response.body), Form::jws);
  EXPECT_EQ(open_voucher(response).serial_number, serial);

  // q-values pick among several; the legacy COSE name is answered in kind.
  request.accept = "application/voucher-cms+json;q=0.2, application/voucher-cose+cbor";
  response = masa.handle(request);
  EXPECT_EQ(response.content_type, "application/voucher-cose+cbor");
  EXPECT_EQ(*voucher::detect_form(response.body), Form::cose);

  request.accept = "*/*";
  response = masa.handle(request);
  EXPECT_EQ(response.content_type, "application/voucher-cms+json");
}

// A request for `serial` whose RVR carries this idevid-issuer.
MasaRequest with_idevid_issuer(const std::string& serial, const Domain& domain,
                               const Bytes& idevid_issuer) {
  const Bytes nonce = random_nonce();
  const Bytes pvr =
      sign_as_device(pvr_fields(serial, domain.registrar.get(), nonce), serial, Form::cms);
  auto rvr = rvr_fields(serial, nonce, pvr);
  rvr.idevid_issuer = idevid_issuer;
  return voucher_request(sign_as_registrar(rvr, domain, Form::cms), Form::cms, domain);
}

TEST_P(MasaTest, AnIdevidIssuerThatNamesTheIdevidsIssuerIsAcceptedInEveryFormInUse) {
  MasaService masa(config(), store());
  const std::string serial = device();
  auto idevid = Manufacturer::get().idevid(serial);
  const Bytes aki = *pki::idevid_issuer_of(idevid.get());  // 04 LL 30 LL 80 14 keyid
  ASSERT_GT(aki.size(), 6U);
  X509_NAME* issuer = X509_get_issuer_name(idevid.get());
  std::array<char, 512> oneline{};
  ASSERT_NE(X509_NAME_oneline(issuer, oneline.data(), static_cast<int>(oneline.size())), nullptr);
  const std::vector<std::pair<std::string, Bytes>> forms = {
      {"RFC 8366bis: the AKI extension value", aki},
      {"the AKI SEQUENCE", Bytes(aki.begin() + 2, aki.end())},
      {"the keyIdentifier alone", Bytes(aki.begin() + 6, aki.end())},
      {"the issuer Name in DER", crypto::to_der(issuer, i2d_X509_NAME)},
      {"OpenSSL's one-line text", to_bytes(oneline.data())},
      {"RFC 2253 text", to_bytes(crypto::name_rfc2253(issuer))},
  };
  for (const auto& [what, value] : forms) {
    const auto response = masa.handle(with_idevid_issuer(serial, domain_, value));
    EXPECT_EQ(response.status, 200) << what << ": " << body_text(response);
    // Not configured: the voucher carries none, whatever the request said.
    EXPECT_FALSE(open_voucher(response).idevid_issuer) << what;
  }
}

TEST_P(MasaTest, AnIdevidIssuerThatNamesAnotherIssuerIsRefused) {
  MasaService masa(config(), store());
  const std::string serial = device();
  auto foreign = vouchsafe::testing::make_test_pki();
  const Bytes other_aki = *pki::idevid_issuer_of(foreign.signer.get());
  expect_refusal(masa.handle(with_idevid_issuer(serial, domain_, other_aki)), 403,
                 "does not identify the issuer of the pledge's IDevID");
  expect_refusal(masa.handle(with_idevid_issuer(serial, domain_, to_bytes("/CN=Somebody Else"))),
                 403, "idevid-issuer");
}

TEST_P(MasaTest, WhereConfiguredTheVoucherCarriesTheIdevidIssuerWeComputed) {
  auto c = config();
  c.voucher_idevid_issuer = true;
  MasaService masa(std::move(c), store());
  const std::string serial = device();
  auto idevid = Manufacturer::get().idevid(serial);
  std::array<char, 512> oneline{};
  X509_NAME_oneline(X509_get_issuer_name(idevid.get()), oneline.data(),
                    static_cast<int>(oneline.size()));
  // The registrar wrote the issuer as text; the voucher carries the AKI.
  const auto v =
      open_voucher(masa.handle(with_idevid_issuer(serial, domain_, to_bytes(oneline.data()))));
  EXPECT_EQ(v.idevid_issuer, *pki::idevid_issuer_of(idevid.get()));
}

TEST_P(MasaTest, PinningTheRegistrarCertificateIsAPolicy) {
  auto c = config();
  c.pinning = MasaConfig::Pinning::registrar_certificate;
  MasaService masa(std::move(c), store());
  const auto v = open_voucher(masa.handle(good_request(device(), domain_, Form::cms)));
  EXPECT_EQ(v.pinned_domain_cert, domain_.registrar_der());
}

TEST_P(MasaTest, ARegistrarWithoutItsCaPinsItsOwnCertificate) {
  // RFC 8995 §5.5.2: the chain may be just the end-entity certificate.
  MasaService masa(config(), store());
  const std::string serial = device();
  const Bytes nonce = random_nonce();
  const Bytes pvr =
      sign_as_device(pvr_fields(serial, domain_.registrar.get(), nonce), serial, Form::jws);
  voucher::SigningIdentity ee_only{domain_.signer.get(), {domain_.chain().front()}};
  auto body = voucher::sign_artifact(rvr_fields(serial, nonce, pvr), Form::jws, ee_only);
  ASSERT_TRUE(body);
  const auto v = open_voucher(masa.handle(voucher_request(*body, Form::jws, domain_)));
  EXPECT_EQ(v.pinned_domain_cert, domain_.registrar_der());
}

TEST_P(MasaTest, ACosePledgeShowsProximityWithTheRegistrarsPublicKey) {
  // cBRSKI: proximity-registrar-pubk (SPKI) or its SHA-256 instead of the cert.
  MasaService masa(config(), store());
  const Bytes spki = crypto::public_key_der(domain_.registrar_key.get());
  for (int variant = 0; variant < 2; ++variant) {
    const std::string serial = device();
    const Bytes nonce = random_nonce();
    auto p = pvr_fields(serial, nullptr, nonce);
    if (variant == 0) {
      p.proximity_registrar_pubk = spki;
    } else {
      p.proximity_registrar_pubk_sha256 = crypto::sha256(spki);
    }
    const Bytes pvr = sign_as_device(p, serial, Form::cose);
    const auto v = open_voucher(masa.handle(
        voucher_request(sign_as_registrar(rvr_fields(serial, nonce, pvr), domain_, Form::cose),
                        Form::cose, domain_)));
    EXPECT_EQ(v.assertion, voucher::Assertion::proximity) << variant;
  }
}

TEST_P(MasaTest, ARegistrarThatChangesDomainIsStillVerified) {
  // The anchor remembered for a client certificate is only a first guess.
  MasaService masa(config(), store());
  ASSERT_EQ(masa.handle(good_request(device(), domain_, Form::cms)).status, 200);
  // The same registrar key, now certified by another domain's CA; the TLS
  // client certificate is still the old one.
  const Domain other = make_domain("Other", {.registrar_key = domain_.registrar_key.get()});
  auto request = good_request(device(), other, Form::cms);
  request.caller = domain_.caller();
  const auto v = open_voucher(masa.handle(request));
  EXPECT_EQ(v.pinned_domain_cert, other.ca_der());
}

TEST_P(MasaTest, ServesConcurrentRequests) {
  MasaService masa(config(), store());
  constexpr int k_threads = 4;
  constexpr int k_each = 3;
  const Domain other = make_domain("Other");
  std::vector<std::string> serials;
  std::vector<MasaRequest> requests;
  for (int i = 0; i < k_threads * k_each; ++i) {
    serials.push_back(device());
    const Form form = std::array{Form::cms, Form::cose, Form::jws}[i % 3];
    // Two callers, so the remembered anchors are shared between threads.
    requests.push_back(good_request(serials.back(), i % 2 == 0 ? domain_ : other, form));
  }
  std::vector<int> statuses(requests.size());
  std::vector<std::thread> threads;
  threads.reserve(k_threads);
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t * k_each; i < (t + 1) * k_each; ++i) {
        statuses[i] = masa.handle(requests[i]).status;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (std::size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(statuses[i], 200) << i;
    EXPECT_EQ(store().audit_log(serials[i])->size(), 1U) << i;
  }
}

// ------------------------------------------------------------- refusals

TEST_P(MasaTest, RefusesAnUnknownContentType) {
  MasaService masa(config(), store());
  auto request = good_request(device(), domain_, Form::cms);
  request.content_type = "application/pkcs7-mime";
  expect_refusal(masa.handle(request), 415, "Content-Type must be");
}

TEST_P(MasaTest, RefusesAnAcceptItCannotProduce) {
  MasaService masa(config(), store());
  auto request = good_request(device(), domain_, Form::cms);
  request.accept = "application/json";
  expect_refusal(masa.handle(request), 406, "Accept");
  request.accept = "application/voucher-cms+json;q=0";
  expect_refusal(masa.handle(request), 406, "Accept");
}

TEST_P(MasaTest, RefusesABodyThatIsNotWhatItsContentTypeSays) {
  MasaService masa(config(), store());
  auto request = good_request(device(), domain_, Form::cms);
  request.content_type = media_type(Form::jws);
  expect_refusal(masa.handle(request), 400, "not a well-formed voucher-request");
  request.content_type = media_type(Form::cms);
  request.body.resize(request.body.size() / 2);
  expect_refusal(masa.handle(request), 400, "registrar voucher-request");
}

TEST_P(MasaTest, RefusesAnOversizedBody) {
  auto c = config();
  c.max_request_bytes = 512;
  MasaService masa(std::move(c), store());
  expect_refusal(masa.handle(good_request(device(), domain_, Form::cms)), 413, "larger");
}

TEST_P(MasaTest, RefusesAnUnknownEndpoint) {
  MasaService masa(config(), store());
  auto request = good_request(device(), domain_, Form::cms);
  request.endpoint = "enrollstatus";
  expect_refusal(masa.handle(request), 404, "Unknown endpoint");
}

TEST_P(MasaTest, RefusesARegistrarRequestWithABadSignature) {
  MasaService masa(config(), store());
  for (Form form : {Form::cms, Form::cose, Form::jws}) {
    const std::string serial = device();
    const Bytes nonce = random_nonce();
    const Bytes pvr =
        sign_as_device(pvr_fields(serial, domain_.registrar.get(), nonce), serial, form);
    // Signed with a key other than the certificate's.
    Domain forged = make_domain("Forger");
    forged.registrar = crypto::share(domain_.registrar.get());
    forged.ca = crypto::share(domain_.ca.get());
    auto request = voucher_request(sign_as_registrar(rvr_fields(serial, nonce, pvr), forged, form),
                                   form, domain_);
    expect_refusal(masa.handle(request), 403, "registrar voucher-request signature");
  }
}

TEST_P(MasaTest, RefusesARegistrarRequestSignedWithoutCmcRa) {
  MasaService masa(config(), store());
  const Domain plain = make_domain("Plain", {.cmc_ra = false});
  expect_refusal(masa.handle(good_request(device(), plain, Form::cms)), 403, "id-kp-cmcRA");
}

TEST_P(MasaTest, RefusesARegistrarRequestWithoutThePledgesRequest) {
  MasaService masa(config(), store());
  auto rvr = rvr_fields(device(), random_nonce(), {});
  rvr.prior_signed_voucher_request.reset();
  expect_refusal(
      masa.handle(voucher_request(sign_as_registrar(rvr, domain_, Form::cms), Form::cms, domain_)),
      403, "no prior-signed-voucher-request");
}

TEST_P(MasaTest, RefusesAPledgeRequestWithABadSignature) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const std::string victim = device();
  const Bytes nonce = random_nonce();
  // Signed by one device's key under another device's IDevID.
  auto key = Manufacturer::get().device_key(serial);
  auto signer = signer_for(key.get());
  voucher::SigningIdentity wrong{
      signer.get(), {crypto::make_certificate_ref(Manufacturer::get().idevid(victim))}};
  auto pvr =
      voucher::sign_artifact(pvr_fields(victim, domain_.registrar.get(), nonce), Form::cms, wrong);
  ASSERT_TRUE(pvr);
  expect_refusal(masa.handle(voucher_request(
                     sign_as_registrar(rvr_fields(victim, nonce, *pvr), domain_, Form::cms),
                     Form::cms, domain_)),
                 403, "pledge voucher-request signature");
}

TEST_P(MasaTest, AnUnsignedPledgeRequestIsCalledUnsigned) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const Bytes nonce = random_nonce();
  // The registrar wrapped the pledge's JSON payload, which nobody signed.
  const Bytes bare = voucher::encode_json(pvr_fields(serial, domain_.registrar.get(), nonce));
  const auto response = masa.handle(voucher_request(
      sign_as_registrar(rvr_fields(serial, nonce, bare), domain_, Form::cms), Form::cms, domain_));
  expect_refusal(response, 403, "unsigned JSON voucher-request");
  EXPECT_EQ(body_text(response).find("payload member"), std::string::npos) << body_text(response);
}

TEST_P(MasaTest, RefusesAPledgeRequestFromAnotherManufacturer) {
  MasaService masa(config(), store());
  // A device certificate from a PKI that is not ours, same serial.
  const std::string serial = device();
  auto pki = vouchsafe::testing::make_test_pki();
  const Bytes nonce = random_nonce();
  auto signer = signer_for(pki.signer_key.get());
  voucher::SigningIdentity foreign{signer.get(),
                                   {crypto::make_certificate_ref(crypto::share(pki.signer.get()))}};
  auto pvr = voucher::sign_artifact(pvr_fields(serial, domain_.registrar.get(), nonce), Form::cms,
                                    foreign);
  ASSERT_TRUE(pvr);
  expect_refusal(masa.handle(voucher_request(
                     sign_as_registrar(rvr_fields(serial, nonce, *pvr), domain_, Form::cms),
                     Form::cms, domain_)),
                 403, "not signed by an IDevID this manufacturer issued");
}

TEST_P(MasaTest, RefusesSerialNumbersThatDisagree) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const std::string other = device();
  const Bytes nonce = random_nonce();
  // The registrar names another device than the pledge.
  const Bytes pvr =
      sign_as_device(pvr_fields(serial, domain_.registrar.get(), nonce), serial, Form::cms);
  auto response = masa.handle(voucher_request(
      sign_as_registrar(rvr_fields(other, nonce, pvr), domain_, Form::cms), Form::cms, domain_));
  expect_refusal(response, 403, "serial-number");
  EXPECT_NE(body_text(response).find(other), std::string::npos);
  // The pledge names another serial than its IDevID's.
  const Bytes lying =
      sign_as_device(pvr_fields(other, domain_.registrar.get(), nonce), serial, Form::cms);
  expect_refusal(masa.handle(voucher_request(
                     sign_as_registrar(rvr_fields(other, nonce, lying), domain_, Form::cms),
                     Form::cms, domain_)),
                 403, "IDevID '" + serial + "'");
}

TEST_P(MasaTest, RefusesWhenThePledgeSawAnotherRegistrar) {
  MasaService masa(config(), store());
  const Domain elsewhere = make_domain("Elsewhere");
  const std::string serial = device();
  const Bytes nonce = random_nonce();
  const Bytes pvr =
      sign_as_device(pvr_fields(serial, elsewhere.registrar.get(), nonce), serial, Form::cms);
  expect_refusal(masa.handle(voucher_request(
                     sign_as_registrar(rvr_fields(serial, nonce, pvr), domain_, Form::cms),
                     Form::cms, domain_)),
                 403, "proximity-registrar-cert is not in the certificate chain");
}

TEST_P(MasaTest, WithoutProximityTheFallbackAssertionIsUsed) {
  auto c = config();
  c.fallback_assertion = voucher::Assertion::logged;
  MasaService masa(std::move(c), store());
  const std::string serial = device();
  const Bytes nonce = random_nonce();
  const Bytes pvr = sign_as_device(pvr_fields(serial, nullptr, nonce), serial, Form::cms);
  const auto v = open_voucher(masa.handle(voucher_request(
      sign_as_registrar(rvr_fields(serial, nonce, pvr), domain_, Form::cms), Form::cms, domain_)));
  EXPECT_EQ(v.assertion, voucher::Assertion::logged);
}

TEST_P(MasaTest, RefusesNoncesThatDisagree) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const Bytes pvr = sign_as_device(pvr_fields(serial, domain_.registrar.get(), random_nonce()),
                                   serial, Form::cms);
  expect_refusal(masa.handle(voucher_request(
                     sign_as_registrar(rvr_fields(serial, random_nonce(), pvr), domain_, Form::cms),
                     Form::cms, domain_)),
                 403, "nonce");
}

TEST_P(MasaTest, RefusesAnUnknownDevice) {
  MasaService masa(config(), store());
  // A genuine IDevID of ours whose device the store does not record.
  const std::string serial = "WG-XX-999999";
  auto key = crypto::generate_key(crypto::KeyType::p256);
  auto signer = signer_for(key.get());
  voucher::SigningIdentity identity{
      signer.get(),
      {*crypto::CertificateCache::shared().decode(Manufacturer::get().certify(serial, key.get()))}};
  const Bytes nonce = random_nonce();
  auto pvr = voucher::sign_artifact(pvr_fields(serial, domain_.registrar.get(), nonce), Form::cms,
                                    identity);
  ASSERT_TRUE(pvr);
  expect_refusal(masa.handle(voucher_request(
                     sign_as_registrar(rvr_fields(serial, nonce, *pvr), domain_, Form::cms),
                     Form::cms, domain_)),
                 404, "knows no device");
}

TEST_P(MasaTest, RefusesAReissuedDevicesOldIdevid) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const auto request = good_request(serial, domain_, Form::cms);
  auto record = **store().find_device(serial);
  auto key = Manufacturer::get().device_key(serial);
  record.certificate_der = Manufacturer::get().certify(serial, key.get());
  ASSERT_TRUE(store().reissue_device(record, "unit test"));
  expect_refusal(masa.handle(request), 403, "not the one on record");
  // The new IDevID is accepted.
  EXPECT_EQ(masa.handle(good_request(serial, domain_, Form::cms)).status, 200);
}

TEST(StatusTable, ListsEveryErrorWithAStatusAndAReason) {
  std::set<std::string_view> names;
  for (const StatusEntry& e : status_table()) {
    EXPECT_TRUE(names.insert(e.name).second) << e.name;
    EXPECT_GE(e.status, 400);
    EXPECT_LT(e.status, 600);
    EXPECT_FALSE(e.reason.empty());
    EXPECT_EQ(&status_entry(e.error), &e);
  }
  EXPECT_EQ(status_entry(MasaError::registrar_not_authenticated).status, 401);
  EXPECT_EQ(status_entry(MasaError::audit_log_not_owner).status, 404);
  EXPECT_EQ(status_entry(MasaError::store_failure).status, 503);
  EXPECT_EQ(status_entry(MasaError::rate_limited).status, 429);
  EXPECT_EQ(status_entry(MasaError::request_too_large).status, 413);
  const auto r = refusal_response(MasaError::nonce_mismatch, "detail");
  EXPECT_EQ(body_text(r),
            std::string(status_entry(MasaError::nonce_mismatch).reason) + "\ndetail\n");
}

}  // namespace
}  // namespace vouchsafe::masa::testing
