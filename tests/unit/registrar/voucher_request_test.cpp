// The pledge and registrar voucher-requests: what the MASA will receive.
#include "registrar/voucher_request.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "crypto/signer.h"
#include "pki/certificate_fields.h"
#include "pledge/voucher_request.h"
#include "support/test_support.h"
#include "voucher/artifact.h"

namespace vouchsafe::registrar {
namespace {

using voucher::Form;

// A device with an IDevID carrying a subject serialNumber and an AKI.
struct Device {
  testing::TestPki pki = testing::make_test_pki();
  crypto::X509Ptr idevid;
  std::unique_ptr<crypto::SoftwareSigner> signer;
  voucher::SigningIdentity identity;

  Device() {
    idevid = testing::make_certificate(pki.signer_key.get(), "device", pki.root_key.get(),
                                       pki.root.get(), false);
    X509_NAME* name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "serialNumber", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("WG-T-0001"), -1, -1, 0);
    X509_set_subject_name(idevid.get(), name);
    X509_NAME_free(name);
    X509_sign(idevid.get(), pki.root_key.get(), EVP_sha256());
    signer = std::move(crypto::SoftwareSigner::create(crypto::share(pki.signer_key.get()))).value();
    identity.signer = signer.get();
    identity.chain = {crypto::make_certificate_ref(crypto::share(idevid.get()))};
  }
};

struct Registrar {
  testing::TestPki pki = testing::make_test_pki(crypto::KeyType::p256, "Registrar");
  std::unique_ptr<crypto::SoftwareSigner> signer;
  voucher::SigningIdentity identity;
  Registrar() {
    signer = std::move(crypto::SoftwareSigner::create(crypto::share(pki.signer_key.get()))).value();
    identity.signer = signer.get();
    identity.chain = {crypto::make_certificate_ref(crypto::share(pki.signer.get())),
                      crypto::make_certificate_ref(crypto::share(pki.root.get()))};
  }
};

class VoucherRequests : public ::testing::TestWithParam<Form> {};

TEST_P(VoucherRequests, WrapThePledgeRequestAsRfc8995Says) {
  Device device;
  Registrar registrar;
  pledge::PledgeRequestOptions p;
  p.form = GetParam();
  p.nonce = pledge::fresh_nonce();
  auto pvr =
      pledge::make_pledge_voucher_request(device.identity, registrar.identity.chain[0]->der, p);
  ASSERT_TRUE(pvr) << pvr.error().message;
  RegistrarRequestOptions r;
  r.form = GetParam();
  auto rvr = make_registrar_voucher_request(registrar.identity, *pvr, r);
  ASSERT_TRUE(rvr) << rvr.error().message;

  std::vector<crypto::X509Ptr> anchors;
  anchors.push_back(crypto::share(registrar.pki.root.get()));
  auto opened =
      voucher::verify_artifact(*rvr, voucher::TrustPolicy::with_anchors(std::move(anchors)));
  ASSERT_TRUE(opened) << opened.error().message;
  const auto& v = opened->payload;
  EXPECT_EQ(v.kind, voucher::ArtifactKind::voucher_request);
  EXPECT_EQ(v.serial_number, "WG-T-0001");
  EXPECT_EQ(v.nonce, p.nonce);
  EXPECT_EQ(v.prior_signed_voucher_request, *pvr);
  EXPECT_EQ(v.idevid_issuer, *pki::idevid_issuer_of(device.idevid.get()));
  EXPECT_FALSE(v.proximity_registrar_cert);

  std::vector<crypto::X509Ptr> device_anchor;
  device_anchor.push_back(crypto::share(device.pki.root.get()));
  auto inner =
      voucher::verify_artifact(*v.prior_signed_voucher_request,
                               voucher::TrustPolicy::with_anchors(std::move(device_anchor)));
  ASSERT_TRUE(inner) << inner.error().message;
  EXPECT_EQ(inner->payload.assertion, voucher::Assertion::proximity);
  if (GetParam() == Form::cose) {
    EXPECT_TRUE(inner->payload.proximity_registrar_pubk);
  } else {
    EXPECT_EQ(inner->payload.proximity_registrar_cert, registrar.identity.chain[0]->der);
  }
}

TEST_P(VoucherRequests, LeaveTheNonceOutWhenNonceless) {
  Device device;
  Registrar registrar;
  pledge::PledgeRequestOptions p;
  p.form = GetParam();
  auto pvr =
      pledge::make_pledge_voucher_request(device.identity, registrar.identity.chain[0]->der, p);
  ASSERT_TRUE(pvr);
  RegistrarRequestOptions r;
  r.form = GetParam();
  r.nonceless = true;
  auto rvr = make_registrar_voucher_request(registrar.identity, *pvr, r);
  ASSERT_TRUE(rvr);
  auto opened = voucher::verify_artifact(*rvr, voucher::TrustPolicy::for_inspection());
  ASSERT_TRUE(opened);
  EXPECT_FALSE(opened->payload.nonce);
}

TEST(RegistrarVoucherRequest, RefusesATamperedPledgeRequest) {
  Device device;
  Registrar registrar;
  auto pvr =
      pledge::make_pledge_voucher_request(device.identity, registrar.identity.chain[0]->der, {});
  ASSERT_TRUE(pvr);
  Bytes tampered = *pvr;
  const Bytes marker = to_bytes("WG-T-0001");
  auto it = std::search(tampered.begin(), tampered.end(), marker.begin(), marker.end());
  ASSERT_NE(it, tampered.end());
  *(it + 8) = '2';
  auto rvr = make_registrar_voucher_request(registrar.identity, tampered, {});
  ASSERT_FALSE(rvr);
  EXPECT_EQ(rvr.error().code, ErrorCode::bad_signature);
}

INSTANTIATE_TEST_SUITE_P(EveryForm, VoucherRequests,
                         ::testing::Values(Form::cms, Form::cose, Form::jws),
                         [](const auto& param) {
                           return std::string(voucher::form_name(param.param));
                         });

}  // namespace
}  // namespace vouchsafe::registrar
