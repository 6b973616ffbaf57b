// Device policies: stolen devices (and the undo), the open and
// known-customer ownership policies, and nonceless vouchers.
#include <gtest/gtest.h>

#include "masa/detail/voucher_builder.h"
#include "masa_fixture.h"

namespace vouchsafe::masa::testing {
namespace {

int count_events(const std::string& serial, const std::string& event) {
  return Manufacturer::get().count_events(serial, event);
}

TEST_P(MasaTest, AStolenDeviceIsRefusedAndTheAttemptLogged) {
  MasaService masa(config(), store());
  const std::string serial = device();
  ASSERT_TRUE(store().set_stolen(serial, true, "police report 42", std::time(nullptr)));
  const auto refused = masa.handle(good_request(serial, domain_, Form::cms));
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(body_text(refused).find("reported stolen"), std::string::npos);
  EXPECT_EQ(count_events(serial, "refused-stolen"), 1);
  EXPECT_TRUE(store().audit_log(serial)->empty());

  // Withdrawn report: vouchers again.
  ASSERT_TRUE(store().set_stolen(serial, false, "found", std::time(nullptr)));
  EXPECT_EQ(masa.handle(good_request(serial, domain_, Form::cms)).status, 200);
}

TEST_P(MasaTest, AnOpenDeviceTrustsItsFirstOwnerAndLogsIt) {
  MasaService masa(config(), store());
  const std::string serial = device();
  ASSERT_EQ(masa.handle(good_request(serial, domain_, Form::cms)).status, 200);
  ASSERT_EQ(masa.handle(good_request(serial, domain_, Form::cms)).status, 200);
  EXPECT_EQ(count_events(serial, "owner-tofu"), 1);  // once per domain
  const Domain second = make_domain("Second");
  ASSERT_EQ(masa.handle(good_request(serial, second, Form::cms)).status, 200);
  EXPECT_EQ(count_events(serial, "owner-tofu"), 2);
}

TEST_P(MasaTest, KnownCustomerDevicesGoOnlyToTheirOwners) {
  MasaService masa(config(), store());
  const std::string serial = device();
  ASSERT_TRUE(store().set_ownership_policy(serial, store::OwnershipPolicy::known_customer));
  // No owner recorded yet.
  auto response = masa.handle(good_request(serial, domain_, Form::cms));
  EXPECT_EQ(response.status, 403);
  EXPECT_NE(body_text(response).find("no owner recorded"), std::string::npos);

  ASSERT_TRUE(store().add_owner_anchor(serial, domain_.ca_der(), false));
  EXPECT_EQ(masa.handle(good_request(serial, domain_, Form::jws)).status, 200);

  const Domain stranger = make_domain("Stranger");
  response = masa.handle(good_request(serial, stranger, Form::jws));
  EXPECT_EQ(response.status, 403);
  EXPECT_NE(body_text(response).find("not among the owners"), std::string::npos);
}

TEST_P(MasaTest, TheProductsPolicyAppliesUnlessTheDeviceOverridesIt) {
  auto c = config();
  c.product_ownership["widget"] = store::OwnershipPolicy::known_customer;
  MasaService masa(std::move(c), store());
  const std::string serial = device();
  EXPECT_EQ(masa.handle(good_request(serial, domain_, Form::cms)).status, 403);
  ASSERT_TRUE(store().set_ownership_policy(serial, store::OwnershipPolicy::open));
  EXPECT_EQ(masa.handle(good_request(serial, domain_, Form::cms)).status, 200);
}

// ---------------------------------------------------------------- nonceless

TEST_P(MasaTest, NoncelessNeedsAnAuthenticatedRegistrar) {
  MasaService masa(config(), store());  // no known customers at all
  const auto response = masa.handle(good_request(device(), domain_, Form::cms, std::nullopt));
  EXPECT_EQ(response.status, 401);
  EXPECT_NE(body_text(response).find("authenticated registrar"), std::string::npos);
}

TEST_P(MasaTest, NoncelessForAKnownCustomerExpiresWithinTheConfiguredLifetime) {
  auto c = config();
  c.customer_anchors.push_back(crypto::share(domain_.ca.get()));
  c.max_nonceless_lifetime = std::chrono::hours(24);
  MasaService masa(std::move(c), store());
  const std::string serial = device();
  const auto v = open_voucher(masa.handle(good_request(serial, domain_, Form::cose, std::nullopt)));
  EXPECT_FALSE(v.nonce);
  ASSERT_TRUE(v.expires_on);
  EXPECT_LE(std::abs(v.expires_on->unix_seconds() - (std::time(nullptr) + std::time_t{24} * 3600)),
            5);
  // The audit log records it as nonceless.
  const auto log = *store().audit_log(serial);
  ASSERT_EQ(log.size(), 1U);
  EXPECT_FALSE(log[0].nonce);
}

TEST_P(MasaTest, NoncelessExpiresNoLaterThanTheRegistrarCertificate) {
  const Domain short_lived = make_domain("Short", {.registrar_days = 2});
  auto c = config();
  c.customer_anchors.push_back(crypto::share(short_lived.ca.get()));
  c.max_nonceless_lifetime = std::chrono::hours(24 * 365);
  MasaService masa(std::move(c), store());
  const auto v =
      open_voucher(masa.handle(good_request(device(), short_lived, Form::cms, std::nullopt)));
  ASSERT_TRUE(v.expires_on);
  EXPECT_EQ(v.expires_on->unix_seconds(),
            crypto::make_certificate_ref(crypto::share(short_lived.registrar.get()))->not_after);
}

TEST_P(MasaTest, ATransportThatAuthenticatedTheCallerIsBelieved) {
  MasaService masa(config(), store());
  auto request = good_request(device(), domain_, Form::cms, std::nullopt);
  request.caller.authenticated = true;
  EXPECT_EQ(masa.handle(request).status, 200);
}

TEST_P(MasaTest, NoncelessForOpenDevicesCanBeSwitchedOff) {
  auto c = config();
  c.customer_anchors.push_back(crypto::share(domain_.ca.get()));
  c.allow_nonceless = false;
  MasaService masa(std::move(c), store());
  const std::string serial = device();
  auto response = masa.handle(good_request(serial, domain_, Form::cms, std::nullopt));
  EXPECT_EQ(response.status, 403);
  EXPECT_NE(body_text(response).find("nonceless"), std::string::npos);
  // A known-customer device's owner may still have one.
  ASSERT_TRUE(store().set_ownership_policy(serial, store::OwnershipPolicy::known_customer));
  ASSERT_TRUE(store().add_owner_anchor(serial, domain_.ca_der(), true));
  EXPECT_EQ(masa.handle(good_request(serial, domain_, Form::cms, std::nullopt)).status, 200);
}

TEST_P(MasaTest, AnAuthenticatedCallerOutsideTheDomainIsStillAStranger) {
  // The customer anchor authenticates; it does not make the caller an owner.
  const Domain customer = make_domain("Customer");
  auto c = config();
  c.customer_anchors.push_back(crypto::share(customer.ca.get()));
  MasaService masa(std::move(c), store());
  const std::string serial = device();
  ASSERT_TRUE(store().set_ownership_policy(serial, store::OwnershipPolicy::known_customer));
  ASSERT_TRUE(store().add_owner_anchor(serial, domain_.ca_der(), true));
  EXPECT_EQ(masa.handle(good_request(serial, customer, Form::cms, std::nullopt)).status, 403);
}

}  // namespace
}  // namespace vouchsafe::masa::testing
