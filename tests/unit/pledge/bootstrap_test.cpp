// The pledge's whole flow against the real RegistrarService in process,
// which reaches a real MasaService: a device onboards, and each way a
// voucher can be wrong is refused by the pledge and reported.
#include "pledge/bootstrap.h"

#include <gtest/gtest.h>

#include "crypto/trust_store.h"
#include "pki/certificate_fields.h"
#include "pledge/voucher_request.h"
#include "unit/registrar/registrar_fixture.h"

namespace vouchsafe::pledge {
namespace {

using registrar::testing::event_kinds;
using registrar::testing::OnboardingTest;
using voucher::Form;

class Bootstrap : public OnboardingTest {};

std::string serial_of(X509* cert) {
  auto serial = pki::name_serial_number(X509_get_subject_name(cert), "cert");
  return serial ? *serial : "";
}

TEST_F(Bootstrap, OnboardsThroughTheRegistrarAndTheMasa) {
  const auto serial = device();
  const auto identity = registrar::testing::device_identity(serial);
  auto registrar = connect(identity);
  std::vector<std::string> steps;
  BootstrapOptions options;
  options.on_step = [&](std::string_view s) { steps.emplace_back(s); };
  auto enrolled = bootstrap(identity, masa_trust(), registrar, options);
  ASSERT_TRUE(enrolled) << enrolled.refusal().detail;

  // The LDevID: this device's serial, this key, issued by the domain CA.
  EXPECT_EQ(serial_of(enrolled->ldevid.get()), serial);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(enrolled->ldevid.get()), enrolled->ldevid_key.get()), 1);
  EXPECT_EQ(X509_check_issued(owner_.ca.get(), enrolled->ldevid.get()), X509_V_OK);
  // The voucher pins the domain CA (the MASA's default) for this nonce.
  ASSERT_TRUE(enrolled->pinned_domain_cert);
  EXPECT_EQ(X509_cmp(enrolled->pinned_domain_cert.get(), owner_.ca.get()), 0);
  ASSERT_EQ(enrolled->domain_certificates.size(), 1U);
  EXPECT_EQ(steps,
            (std::vector<std::string>{"requestvoucher", "verify voucher", "voucher_status",
                                      "cacerts", "csrattrs", "simpleenroll", "enrollstatus"}));
  // Every exchange succeeded, and the registrar recorded the onboarding.
  for (const auto& [path, status] : registrar.exchanges) EXPECT_EQ(status, 200) << path;
  EXPECT_EQ(event_kinds(*store_, serial),
            (std::vector<std::string>{"voucher-request", "voucher-forwarded", "voucher-status",
                                      "ldevid-issued", "enroll-status"}));
  auto onboarding = store_->onboarding(serial);
  ASSERT_TRUE(onboarding && *onboarding);
  ASSERT_EQ((*onboarding)->ldevids.size(), 1U);
  EXPECT_EQ((*onboarding)->ldevids[0].certificate_der,
            crypto::certificate_der(enrolled->ldevid.get()));
}

class BootstrapForms : public OnboardingTest, public ::testing::WithParamInterface<Form> {};

TEST_P(BootstrapForms, EveryVoucherFormOnboards) {
  const auto serial = device();
  const auto identity = registrar::testing::device_identity(serial);
  auto registrar = connect(identity);
  BootstrapOptions options;
  options.form = GetParam();
  auto enrolled = bootstrap(identity, masa_trust(), registrar, options);
  ASSERT_TRUE(enrolled) << enrolled.refusal().detail;
  auto form = voucher::detect_form(enrolled->voucher);
  ASSERT_TRUE(form);
  EXPECT_EQ(*form, GetParam());
}

INSTANTIATE_TEST_SUITE_P(EachForm, BootstrapForms,
                         ::testing::Values(Form::cms, Form::jws, Form::cose),
                         [](const auto& param) {
                           return std::string(voucher::form_name(param.param));
                         });

TEST_F(Bootstrap, TrustsABarePublicKeyAsFirmwareHoldsIt) {
  const auto identity = registrar::testing::device_identity(device());
  auto registrar = connect(identity);
  MasaTrust trust;
  trust.public_key = crypto::share(masa_.pki.signer_key.get());
  auto enrolled = bootstrap(identity, trust, registrar, {});
  EXPECT_TRUE(enrolled) << enrolled.refusal().detail;
}

TEST_F(Bootstrap, RefusesAVoucherSignedByAnotherMasaKeyAndSaysSo) {
  const auto serial = device();
  const auto identity = registrar::testing::device_identity(serial);
  auto registrar = connect(identity);
  MasaTrust other;
  other.public_key = crypto::generate_key(crypto::KeyType::p256);
  auto enrolled = bootstrap(identity, other, registrar, {});
  ASSERT_FALSE(enrolled);
  EXPECT_EQ(enrolled.refusal().error, PledgeError::voucher_signature_invalid);
  EXPECT_NE(enrolled.refusal().detail.find("reported to the registrar (voucher_status, 200)"),
            std::string::npos)
      << enrolled.refusal().detail;
  // The registrar heard, and issued nothing.
  const auto kinds = event_kinds(*store_, serial);
  EXPECT_EQ(kinds.back(), "voucher-status!");
  auto onboarding = store_->onboarding(serial);
  EXPECT_TRUE((*onboarding)->ldevids.empty());
  EXPECT_NE((*onboarding)->events.back().detail.find("voucher_signature_invalid"),
            std::string::npos);
}

// MASA key architecture 3: firmware that trusts the manufacturer root needs
// the voucher signer's chain to carry the voucher-authority policy. This
// MASA's chain carries none, so the voucher that onboards without the
// requirement is refused with it.
TEST_F(Bootstrap, RefusesAVoucherWhoseChainLacksTheVoucherAuthorityPolicy) {
  const auto serial = device();
  const auto identity = registrar::testing::device_identity(serial);
  auto registrar = connect(identity);
  auto trust = masa_trust();
  trust.voucher_authority = "1.3.6.1.4.1.99999.2.1";
  auto enrolled = bootstrap(identity, trust, registrar, {});
  ASSERT_FALSE(enrolled);
  EXPECT_EQ(enrolled.refusal().error, PledgeError::voucher_signature_invalid);
  EXPECT_NE(enrolled.refusal().detail.find("1.3.6.1.4.1.99999.2.1"), std::string::npos)
      << enrolled.refusal().detail;
  EXPECT_TRUE((*store_->onboarding(serial))->ldevids.empty());
}

TEST_F(Bootstrap, RefusesAReplayedVoucher) {
  const auto identity = registrar::testing::device_identity(device());
  // A first onboarding leaves a voucher for this device behind...
  Bytes old_voucher;
  {
    auto first = connect(identity);
    auto enrolled = bootstrap(identity, masa_trust(), first, {});
    ASSERT_TRUE(enrolled) << enrolled.refusal().detail;
    old_voucher = enrolled->voucher;
  }
  // ...which an attacker in the path answers the next request with.
  auto registrar = connect(identity);
  registrar.tamper = [&](std::string_view path, TransportReply& reply) {
    if (path == "/.well-known/brski/requestvoucher") reply.body = old_voucher;
  };
  auto replayed = bootstrap(identity, masa_trust(), registrar, {});
  ASSERT_FALSE(replayed);
  EXPECT_EQ(replayed.refusal().error, PledgeError::voucher_nonce_mismatch);
}

TEST_F(Bootstrap, RefusesAVoucherForAnotherDevice) {
  const auto identity = registrar::testing::device_identity(device());
  Bytes other_voucher;
  {
    const auto other = registrar::testing::device_identity(device());
    auto r = connect(other);
    auto enrolled = bootstrap(other, masa_trust(), r, {});
    ASSERT_TRUE(enrolled) << enrolled.refusal().detail;
    other_voucher = enrolled->voucher;
  }
  auto registrar = connect(identity);
  registrar.tamper = [&](std::string_view path, TransportReply& reply) {
    if (path == "/.well-known/brski/requestvoucher") reply.body = other_voucher;
  };
  auto refused = bootstrap(identity, masa_trust(), registrar, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.refusal().error, PledgeError::voucher_serial_mismatch);
}

// RFC 8995 §5.6.2: a registrar whose TLS certificate is not of the
// pinned domain is refused, even with a good voucher for this device.
TEST_F(Bootstrap, RefusesARegistrarOutsideThePinnedDomain) {
  const auto serial = device();
  const auto identity = registrar::testing::device_identity(serial);
  const Bytes nonce = fresh_nonce();
  // A genuine voucher, obtained for this nonce by another domain's registrar...
  masa::MasaService masa_service(masa_config(), registrar::testing::Manufacturer::get().store());
  auto elsewhere = masa::testing::good_request(serial, masa::testing::make_domain("Elsewhere"),
                                               Form::cms, nonce);
  auto issued = masa_service.handle(elsewhere);
  ASSERT_EQ(issued.status, 200);
  // ...shown to the pledge by our registrar's connection.
  auto registrar = connect(identity);
  registrar.tamper = [&](std::string_view path, TransportReply& reply) {
    if (path == "/.well-known/brski/requestvoucher") {
      reply.status = 200;
      reply.body = issued.body;
    }
  };
  BootstrapOptions options;
  options.nonce = nonce;
  auto refused = bootstrap(identity, masa_trust(), registrar, options);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.refusal().error, PledgeError::registrar_not_in_domain);
}

TEST_F(Bootstrap, ReportsARegistrarRefusalWithItsReason) {
  const auto serial = device();
  ASSERT_TRUE(registrar::testing::Manufacturer::get().store().set_stolen(serial, true, "test", 1));
  const auto identity = registrar::testing::device_identity(serial);
  auto registrar = connect(identity);
  auto refused = bootstrap(identity, masa_trust(), registrar, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.refusal().error, PledgeError::voucher_refused);
  EXPECT_NE(refused.refusal().detail.find("HTTP 403"), std::string::npos);
  EXPECT_NE(refused.refusal().detail.find("stolen"), std::string::npos) << refused.refusal().detail;
}

TEST(StatusReport, IsTheJsonOfRfc8995Section57) {
  EXPECT_EQ(registrar::testing::text_of(status_report(false, "bad \"x\"")),
            R"({"version":1,"status":false,"reason":"bad \"x\""})");
  EXPECT_EQ(registrar::testing::text_of(status_report(true, "")), R"({"version":1,"status":true})");
}

}  // namespace
}  // namespace vouchsafe::pledge
