// The enrolling voucher through all three roles in process (docs/
// enrolling-voucher.md): the owner's registrar makes the share and asks the
// real MASA, the voucher travels as bytes, the device completes z = x + y;
// and each way the voucher can be wrong is refused with its reason.
#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "crypto/co_generated_key.h"
#include "crypto/ecies.h"
#include "crypto/oids.h"
#include "crypto/signature.h"
#include "pledge/apply_voucher.h"
#include "unit/registrar/registrar_fixture.h"
#include "voucher/artifact.h"
#include "voucher/enrolling.h"

namespace vouchsafe::pledge {
namespace {

using masa::testing::Manufacturer;
using registrar::testing::OnboardingTest;
using voucher::Form;

class EnrollingVoucher : public OnboardingTest {
 protected:
  // The MASA answers offline requests for devices whose recorded owner is
  // this owner, from a known customer.
  masa::MasaConfig masa_config() override {
    auto c = OnboardingTest::masa_config();
    c.customer_anchors.push_back(crypto::share(owner_.ca.get()));
    return c;
  }

  // A device this owner bought: the sales record names the owner's CA.
  std::string owned_device() {
    const std::string serial = device();
    EXPECT_TRUE(Manufacturer::get().store().add_owner_anchor(
        serial, crypto::certificate_der(owner_.ca.get()), false));
    return serial;
  }

  // The IDevID and its issuing CA, as the sales records deliver them.
  static std::vector<Bytes> idevid_chain(const std::string& serial) {
    std::vector<Bytes> chain;
    for (const auto& c : registrar::testing::device_identity(serial).chain) {
      chain.push_back(crypto::certificate_der(c.get()));
    }
    return chain;
  }

  Bytes enroll(const std::string& serial, Form form = Form::cms) {
    auto voucher = service_->enroll_offline(idevid_chain(serial), form);
    EXPECT_TRUE(voucher) << (voucher ? "" : voucher.refusal().detail);
    return voucher ? *voucher : Bytes{};
  }

  // The MASA signs a voucher the test has edited, as a compromised or
  // mistaken registrar's request would have it.
  Bytes resigned(const Bytes& original, const std::function<void(voucher::Voucher&)>& edit) {
    auto opened = voucher::verify_artifact(original, voucher::TrustPolicy::for_inspection());
    EXPECT_TRUE(opened);
    voucher::Voucher v = opened->payload;
    edit(v);
    voucher::SigningIdentity masa{masa_.signer.get(), masa_.chain()};
    auto signed_voucher = voucher::sign_artifact(v, Form::cms, masa);
    EXPECT_TRUE(signed_voucher) << signed_voucher.error().message;
    return signed_voucher ? *signed_voucher : Bytes{};
  }
};

TEST_F(EnrollingVoucher, TheDeviceCompletesTheKeyTheOwnersLdevidCertifies) {
  for (const Form form : {Form::cms, Form::cose, Form::jws}) {
    const std::string serial = owned_device();
    const Bytes voucher_file = enroll(serial, form);
    const auto identity = registrar::testing::device_identity(serial);
    auto applied =
        apply_enrolling_voucher(voucher_file, identity, masa_trust(), std::time(nullptr));
    ASSERT_TRUE(applied) << voucher::form_name(form) << ": " << applied.refusal().detail;
    // z signs, and the LDevID's key verifies it; the LDevID is the domain's.
    EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(applied->ldevid.get()), applied->ldevid_key.get()), 1);
    EXPECT_EQ(X509_check_issued(owner_.ca.get(), applied->ldevid.get()), X509_V_OK);
    const Bytes message = to_bytes("CertificateVerify");
    auto sig =
        crypto::sign_bytes(applied->ldevid_key.get(), crypto::SignatureAlgorithm::es256, message);
    ASSERT_TRUE(sig);
    EXPECT_TRUE(crypto::verify_bytes(X509_get0_pubkey(applied->ldevid.get()),
                                     crypto::SignatureAlgorithm::es256, message, *sig,
                                     crypto::SignatureEncoding::der));
    // Z is not X: the LDevID does not certify the IDevID's key.
    EXPECT_NE(EVP_PKEY_eq(X509_get0_pubkey(applied->ldevid.get()), identity.key.get()), 1);
    // The voucher is nonceless, verified by the sales record, and the
    // registrar recorded the LDevID.
    EXPECT_FALSE(applied->payload.nonce);
    EXPECT_EQ(applied->payload.assertion, voucher::Assertion::verified);
    auto onboarding = store_->onboarding(serial);
    ASSERT_TRUE(onboarding && *onboarding);
    ASSERT_EQ((*onboarding)->ldevids.size(), 1U);
    EXPECT_EQ((*onboarding)->ldevids[0].certificate_der,
              crypto::certificate_der(applied->ldevid.get()));
  }
}

TEST_F(EnrollingVoucher, ATamperedShareDoesNotOpen) {
  const std::string serial = owned_device();
  const Bytes tampered = resigned(
      enroll(serial), [](voucher::Voucher& v) { v.enrolling->encrypted_share[80] ^= 0x01; });
  auto applied = apply_enrolling_voucher(tampered, registrar::testing::device_identity(serial),
                                         masa_trust(), std::time(nullptr));
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.refusal().error, PledgeError::enrolling_share_unreadable);
}

TEST_F(EnrollingVoucher, AnLdevidWhoseKeyIsNotXPlusYIsRefused) {
  // A share that opens, for an LDevID whose key K is not X + Y.
  const std::string serial = owned_device();
  const auto identity = registrar::testing::device_identity(serial);
  const Bytes x = *crypto::p256_public_point(identity.key.get());
  auto y_key = crypto::generate_key(crypto::KeyType::p256);
  const auto y = *crypto::p256_key_parts(y_key.get());
  auto k_key = crypto::generate_key(crypto::KeyType::p256);
  const Bytes k = *crypto::p256_public_point(k_key.get());
  registrar::LdevidProfile profile;
  profile.co_generated_key = true;
  auto ldevid = owner_.domain_ca()->issue_ldevid(k_key.get(), serial, profile, std::time(nullptr));
  ASSERT_TRUE(ldevid);
  const Bytes sealed =
      *crypto::ecies_seal(x, y.private_scalar.view(), voucher::enrolling_share_aad(serial, k),
                          voucher::k_enrolling_share_label);
  const Bytes forged = resigned(enroll(serial), [&](voucher::Voucher& v) {
    v.enrolling->encrypted_share = sealed;
    v.enrolling->ldevid = crypto::certificate_der(ldevid->get());
  });
  auto applied = apply_enrolling_voucher(forged, identity, masa_trust(), std::time(nullptr));
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.refusal().error, PledgeError::enrolling_key_mismatch);
}

TEST_F(EnrollingVoucher, AShareMovedToAnotherLdevidDoesNotOpen) {
  const std::string serial = owned_device();
  // Another co-generated LDevID for the same device: its Z used another y.
  const Bytes first = enroll(serial);
  const Bytes second = enroll(serial);
  auto other = voucher::verify_artifact(second, voucher::TrustPolicy::for_inspection());
  const Bytes swapped = resigned(
      first, [&](voucher::Voucher& v) { v.enrolling->ldevid = other->payload.enrolling->ldevid; });
  auto applied = apply_enrolling_voucher(swapped, registrar::testing::device_identity(serial),
                                         masa_trust(), std::time(nullptr));
  ASSERT_FALSE(applied);
  // The share is bound to its Z as associated data.
  EXPECT_EQ(applied.refusal().error, PledgeError::enrolling_share_unreadable);
}

TEST_F(EnrollingVoucher, AVoucherCarryingAnotherDevicesKeyIsRefused) {
  const std::string serial = owned_device();
  const std::string other = owned_device();
  auto other_idevid = Manufacturer::get().idevid(other);
  const Bytes foreign = resigned(enroll(serial), [&](voucher::Voucher& v) {
    v.enrolling->device_key = crypto::public_key_der(X509_get0_pubkey(other_idevid.get()));
  });
  auto applied = apply_enrolling_voucher(foreign, registrar::testing::device_identity(serial),
                                         masa_trust(), std::time(nullptr));
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.refusal().error, PledgeError::enrolling_for_another_device);
}

TEST_F(EnrollingVoucher, AnExpiredOfflineVoucherIsRefused) {
  const std::string serial = owned_device();
  const Bytes voucher_file = enroll(serial);
  auto opened = voucher::verify_artifact(voucher_file, voucher::TrustPolicy::for_inspection());
  ASSERT_TRUE(opened && opened->payload.expires_on);
  const std::time_t after = opened->payload.expires_on->unix_seconds() + 1;
  auto applied = apply_enrolling_voucher(voucher_file, registrar::testing::device_identity(serial),
                                         masa_trust(), after);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.refusal().error, PledgeError::voucher_expired);
}

TEST_F(EnrollingVoucher, TheMasaRefusesADeviceThatIsNotTheOwnersAndNothingIsIssued) {
  const std::string serial = device();  // no sales record for this owner
  auto voucher = service_->enroll_offline(idevid_chain(serial), Form::cms);
  ASSERT_FALSE(voucher);
  EXPECT_EQ(voucher.refusal().error, registrar::RegistrarError::masa_refused);
  EXPECT_NE(voucher.refusal().detail.find("no owner is recorded"), std::string::npos)
      << voucher.refusal().detail;
}

TEST_F(EnrollingVoucher, AnIdevidOfAnotherManufacturerGetsNoShare) {
  auto foreign = vouchsafe::testing::make_test_pki();
  auto voucher =
      service_->enroll_offline({crypto::certificate_der(foreign.signer.get())}, Form::cms);
  ASSERT_FALSE(voucher);
  EXPECT_EQ(voucher.refusal().error, registrar::RegistrarError::pledge_not_authenticated);
  EXPECT_EQ(masa_client_->posts.load(), 0);
}

}  // namespace
}  // namespace vouchsafe::pledge
