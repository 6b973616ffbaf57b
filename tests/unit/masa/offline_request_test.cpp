// Registrar voucher-requests without the pledge's request inside (RFC 8995
// §5.5: SHOULD include it; §5.5.5 leaves it to the MASA): answered for a
// nonceless voucher to a known customer that is the device's recorded
// owner, refused with the reason otherwise.
#include <gtest/gtest.h>

#include "masa_fixture.h"

namespace vouchsafe::masa::testing {
namespace {

// A registrar voucher-request naming the device and nothing of the pledge.
MasaRequest offline_request(const std::string& serial, const Domain& domain, Form form,
                            const std::optional<Bytes>& nonce = std::nullopt) {
  auto rvr = rvr_fields(serial, nonce, {});
  rvr.prior_signed_voucher_request.reset();
  return voucher_request(sign_as_registrar(rvr, domain, form), form, domain);
}

class OfflineRequest : public MasaTest {
 protected:
  MasaConfig known_customer_config() {
    auto c = config();
    c.customer_anchors.push_back(crypto::share(domain_.ca.get()));
    c.max_nonceless_lifetime = std::chrono::hours(12);
    return c;
  }
};

TEST_P(OfflineRequest, AKnownCustomerGetsAVerifiedNoncelessVoucherForItsOwnDevice) {
  MasaService masa(known_customer_config(), store());
  const std::string serial = device();
  ASSERT_TRUE(store().add_owner_anchor(serial, domain_.ca_der(), false));
  for (const Form form : {Form::cms, Form::cose, Form::jws}) {
    const auto v = open_voucher(masa.handle(offline_request(serial, domain_, form)));
    EXPECT_EQ(v.serial_number, serial);
    EXPECT_EQ(v.assertion, voucher::Assertion::verified);
    EXPECT_FALSE(v.nonce);
    ASSERT_TRUE(v.expires_on);
    EXPECT_LE(v.expires_on->unix_seconds(), std::time(nullptr) + 12 * 3600 + 5);
    EXPECT_EQ(v.pinned_domain_cert, domain_.ca_der());
  }
  const auto log = *store().audit_log(serial);
  ASSERT_EQ(log.size(), 3U);
  EXPECT_FALSE(log[0].nonce);
}

TEST_P(OfflineRequest, ANonceWithoutThePledgesRequestIsRefused) {
  MasaService masa(known_customer_config(), store());
  const std::string serial = device();
  ASSERT_TRUE(store().add_owner_anchor(serial, domain_.ca_der(), false));
  expect_refusal(masa.handle(offline_request(serial, domain_, Form::cms, random_nonce())), 403,
                 "only the pledge's own request can vouch for");
}

TEST_P(OfflineRequest, ARegistrarThatIsNotAKnownCustomerIsRefused) {
  MasaService masa(config(), store());  // no customer anchors
  const std::string serial = device();
  ASSERT_TRUE(store().add_owner_anchor(serial, domain_.ca_der(), false));
  expect_refusal(masa.handle(offline_request(serial, domain_, Form::cms)), 403,
                 "not a known customer");
}

TEST_P(OfflineRequest, ADeviceWithoutARecordedOwnerIsRefused) {
  MasaService masa(known_customer_config(), store());
  expect_refusal(masa.handle(offline_request(device(), domain_, Form::cms)), 403,
                 "no owner is recorded for the device");
}

TEST_P(OfflineRequest, ADeviceOwnedByAnotherDomainIsRefused) {
  MasaService masa(known_customer_config(), store());
  const std::string serial = device();
  const Domain other = make_domain("Other");
  ASSERT_TRUE(store().add_owner_anchor(serial, other.ca_der(), false));
  expect_refusal(masa.handle(offline_request(serial, domain_, Form::cms)), 403,
                 "recorded owner is another domain");
  EXPECT_TRUE(store().audit_log(serial)->empty());
}

TEST_P(OfflineRequest, AStolenDeviceIsStillRefused) {
  MasaService masa(known_customer_config(), store());
  const std::string serial = device();
  ASSERT_TRUE(store().add_owner_anchor(serial, domain_.ca_der(), false));
  ASSERT_TRUE(store().set_stolen(serial, true, "case 7", std::time(nullptr)));
  expect_refusal(masa.handle(offline_request(serial, domain_, Form::cms)), 403, "stolen");
}

INSTANTIATE_TEST_SUITE_P(Backends, OfflineRequest,
                         ::testing::Values(Backend::sqlite, Backend::postgres), backend_test_name);

}  // namespace
}  // namespace vouchsafe::masa::testing
