// The enrolling voucher at the MASA (docs/enrolling-voucher.md): a registrar
// voucher-request carrying the owner's share of a co-generated key gets a
// voucher carrying it unchanged, in every form; each malformed or foreign
// extension is refused with its own reason.
#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "crypto/co_generated_key.h"
#include "crypto/ecies.h"
#include "crypto/oids.h"
#include "masa_fixture.h"

namespace vouchsafe::masa::testing {
namespace {

// An LDevID for `key`, issued by the domain's CA, naming `serial`.
Bytes ldevid_for(EVP_PKEY* key, const std::string& serial, const Domain& domain) {
  crypto::X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 4242);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "serialNumber", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(serial.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(domain.ca.get()));
  X509_set_pubkey(cert.get(), key);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, domain.ca.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* aki = X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid");
  X509_add_ext(cert.get(), aki, -1);
  X509_EXTENSION_free(aki);
  X509_sign(cert.get(), domain.ca_key.get(), EVP_sha256());
  return crypto::certificate_der(cert.get());
}

crypto::PkeyPtr key_of_point(const Bytes& point) {
  return std::move(crypto::parse_public_key(crypto::p256_spki_from_point(point))).value();
}

class Enrolling : public MasaTest {
 protected:
  // What an owner's registrar puts in the request for `serial`: y, Z = X + Y,
  // the LDevID for Z, y sealed to X.
  voucher::EnrollingExtension owner_share(const std::string& serial, const Domain& domain) {
    auto idevid = Manufacturer::get().idevid(serial);
    const Bytes x = *crypto::p256_public_point(X509_get0_pubkey(idevid.get()));
    auto y_key = crypto::generate_key(crypto::KeyType::p256);
    auto y = *crypto::p256_key_parts(y_key.get());
    const Bytes z = *crypto::p256_point_add(x, y.public_point);
    Bytes aad = to_bytes(serial);
    aad.insert(aad.end(), z.begin(), z.end());
    auto sealed = crypto::ecies_seal(x, y.private_scalar.view(), aad, "test");
    EXPECT_TRUE(sealed);
    return {crypto::public_key_der(X509_get0_pubkey(idevid.get())), *sealed,
            ldevid_for(key_of_point(z).get(), serial, domain)};
  }

  MasaRequest enrolling_request(const std::string& serial, const voucher::EnrollingExtension& e,
                                Form form = Form::cms) {
    const Bytes nonce = random_nonce();
    const Bytes pvr =
        sign_as_device(pvr_fields(serial, domain_.registrar.get(), nonce), serial, form);
    auto rvr = rvr_fields(serial, nonce, pvr);
    rvr.enrolling = e;
    return voucher_request(sign_as_registrar(rvr, domain_, form), form, domain_);
  }
};

TEST_P(Enrolling, TheVoucherCarriesTheCheckedExtensionInEveryForm) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const auto share = owner_share(serial, domain_);
  for (const Form form : {Form::cms, Form::cose, Form::jws}) {
    const auto v = open_voucher(masa.handle(enrolling_request(serial, share, form)));
    ASSERT_TRUE(v.enrolling) << voucher::form_name(form);
    EXPECT_EQ(*v.enrolling, share);
  }
}

TEST_P(Enrolling, AnotherDevicesKeyIsRefused) {
  MasaService masa(config(), store());
  const std::string serial = device();
  auto share = owner_share(serial, domain_);
  share.device_key = owner_share(device(), domain_).device_key;
  expect_refusal(masa.handle(enrolling_request(serial, share)), 403,
                 "device-key is not the key of this device's IDevID");
}

TEST_P(Enrolling, AnLdevidForTheDevicesOwnKeyIsRefused) {
  MasaService masa(config(), store());
  const std::string serial = device();
  auto share = owner_share(serial, domain_);
  auto idevid = Manufacturer::get().idevid(serial);
  share.ldevid = ldevid_for(X509_get0_pubkey(idevid.get()), serial, domain_);
  expect_refusal(masa.handle(enrolling_request(serial, share)), 403,
                 "certifies the device's own key");
}

TEST_P(Enrolling, AnLdevidFromAnotherDomainOrForAnotherDeviceIsRefused) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const Domain other = make_domain("Elsewhere");
  expect_refusal(masa.handle(enrolling_request(serial, owner_share(serial, other))), 403,
                 "does not chain to the domain the voucher pins");
  auto share = owner_share(serial, domain_);
  auto key = crypto::generate_key(crypto::KeyType::p256);
  share.ldevid = ldevid_for(key.get(), "WG-XX-99999999", domain_);
  expect_refusal(masa.handle(enrolling_request(serial, share)), 403, "serialNumber");
}

TEST_P(Enrolling, AMalformedExtensionIsRefused) {
  MasaService masa(config(), store());
  const std::string serial = device();
  auto short_share = owner_share(serial, domain_);
  short_share.encrypted_share.resize(40);
  expect_refusal(masa.handle(enrolling_request(serial, short_share)), 400, "encrypted-share");
  auto bad_cert = owner_share(serial, domain_);
  bad_cert.ldevid = Bytes{0x30, 0x03, 0x02, 0x01, 0x00};
  expect_refusal(masa.handle(enrolling_request(serial, bad_cert)), 400, "ldevid");
  EXPECT_TRUE(store().audit_log(serial)->empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, Enrolling, ::testing::Values(Backend::sqlite, Backend::postgres),
                         backend_test_name);

}  // namespace
}  // namespace vouchsafe::masa::testing
