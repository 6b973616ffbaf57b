// Replays of a registrar voucher-request (README, "The MASA"): a request
// speaks only for the registrar that posts it (its TLS client certificate
// signed it, or shares the signer's key), and only for a while (created-on
// no older than max_request_age, no later than the clock skew allows).
#include <gtest/gtest.h>

#include "masa_fixture.h"

namespace vouchsafe::masa::testing {
namespace {

TEST_P(MasaTest, ACapturedRequestPostedFromAnotherIdentityIsRefused) {
  MasaService masa(config(), store());
  const std::string serial = device();
  auto request = good_request(serial, domain_, Form::cms);
  ASSERT_EQ(masa.handle(request).status, 200);
  // The same bytes from an attacker's own, freshly made client certificate.
  const Domain attacker = make_domain("Attacker");
  request.caller = attacker.caller();
  expect_refusal(masa.handle(request), 401, "signed by another key than the TLS client");
  EXPECT_EQ(store().audit_log(serial)->size(), 1U);  // no second entry
}

TEST_P(MasaTest, ARequestWithoutAClientCertificateIsRefused) {
  MasaService masa(config(), store());
  auto request = good_request(device(), domain_, Form::jws);
  request.caller = Caller{};
  expect_refusal(masa.handle(request), 401, "presented no certificate");
}

TEST_P(MasaTest, AClientCertificateWithTheSignersKeyMayPostIt) {
  // A registrar whose TLS certificate and signing certificate differ (say,
  // one renewed before the other) but hold one key.
  MasaService masa(config(), store());
  const Domain renewed = make_domain("Owner", {.registrar_key = domain_.registrar_key.get()});
  auto request = good_request(device(), domain_, Form::cose);
  request.caller = renewed.caller();
  ASSERT_NE(request.caller.fingerprint, domain_.caller().fingerprint);
  EXPECT_EQ(masa.handle(request).status, 200) << body_text(masa.handle(request));
}

TEST_P(MasaTest, TheBindingCanBeSwitchedOffForRegistrarsThatSignWithAnotherKey) {
  auto c = config();
  c.bind_request_to_tls_client = false;
  MasaService masa(std::move(c), store());
  auto request = good_request(device(), domain_, Form::cms);
  request.caller = make_domain("Frontend").caller();
  EXPECT_EQ(masa.handle(request).status, 200);
}

MasaRequest created_at(const std::string& serial, const Domain& domain, std::time_t when) {
  const Bytes nonce = random_nonce();
  const Bytes pvr =
      sign_as_device(pvr_fields(serial, domain.registrar.get(), nonce), serial, Form::cms);
  auto rvr = rvr_fields(serial, nonce, pvr);
  rvr.created_on = DateTime::from_unix_seconds(when);
  return voucher_request(sign_as_registrar(rvr, domain, Form::cms), Form::cms, domain);
}

TEST_P(MasaTest, ARequestCreatedLongAgoIsRefusedAsStale) {
  auto c = config();
  c.max_request_age = std::chrono::minutes(30);
  MasaService masa(std::move(c), store());
  const std::string serial = device();
  const std::time_t now = std::time(nullptr);
  expect_refusal(masa.handle(created_at(serial, domain_, now - 31 * 60)), 403,
                 "before this MASA's clock");
  EXPECT_EQ(masa.handle(created_at(serial, domain_, now - 29 * 60)).status, 200);
}

TEST_P(MasaTest, ARequestFromTheFutureBeyondTheSkewIsRefused) {
  MasaService masa(config(), store());  // 5 minutes of skew
  const std::string serial = device();
  const std::time_t now = std::time(nullptr);
  expect_refusal(masa.handle(created_at(serial, domain_, now + 6 * 60)), 403,
                 "ahead of this MASA's clock");
  EXPECT_EQ(masa.handle(created_at(serial, domain_, now + 4 * 60)).status, 200);
}

}  // namespace
}  // namespace vouchsafe::masa::testing
