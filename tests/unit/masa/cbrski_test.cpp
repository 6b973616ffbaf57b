// cBRSKI pledge voucher-requests that name no signer (constrained-voucher
// -29 §9.2.2: the pledge SHOULD NOT put kid, x5bag or x5chain in its COSE
// request): the MASA verifies them with the IDevID on record for the serial
// number, or with the pledge's chain in the registrar request's x5bag
// (-31 §9.2.1); and the published C.4 registrar request gets a voucher.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "masa_fixture.h"
#include "voucher/cbor_codec.h"
#include "voucher/cose.h"

namespace vouchsafe::masa::testing {
namespace {

// A COSE PVR signed with `key`, carrying no certificate at all.
Bytes anonymous_cose_pvr(const voucher::Voucher& v, EVP_PKEY* key) {
  auto signer = signer_for(key);
  voucher::SigningIdentity identity{signer.get(), {}};
  voucher::CoseSignOptions options;
  options.include_x5bag = false;
  auto signed_pvr = voucher::sign_cose(voucher::encode_cbor(v), identity, options);
  EXPECT_TRUE(signed_pvr) << signed_pvr.error().message;
  return signed_pvr ? *signed_pvr : Bytes{};
}

// The registrar's COSE request, its x5bag holding its chain and `extra`.
Bytes cose_rvr(const voucher::Voucher& v, const Domain& domain,
               std::vector<crypto::CertificateRef> extra = {}) {
  voucher::SigningIdentity identity{domain.signer.get(), domain.chain()};
  identity.chain.insert(identity.chain.end(), extra.begin(), extra.end());
  auto signed_rvr = voucher::sign_artifact(v, Form::cose, identity);
  EXPECT_TRUE(signed_rvr) << signed_rvr.error().message;
  return signed_rvr ? *signed_rvr : Bytes{};
}

TEST_P(MasaTest, ACosePledgeRequestThatNamesNoSignerIsVerifiedWithTheIdevidOnRecord) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const Bytes nonce = random_nonce();
  auto pvr_payload = pvr_fields(serial, nullptr, nonce);
  pvr_payload.proximity_registrar_pubk = crypto::public_key_der(domain_.registrar_key.get());
  const Bytes pvr = anonymous_cose_pvr(pvr_payload, Manufacturer::get().device_key(serial).get());
  const auto response = masa.handle(
      voucher_request(cose_rvr(rvr_fields(serial, nonce, pvr), domain_), Form::cose, domain_));
  const auto v = open_voucher(response);
  EXPECT_EQ(v.serial_number, serial);
  EXPECT_EQ(v.assertion, voucher::Assertion::proximity);
  EXPECT_EQ(v.nonce, nonce);
}

TEST_P(MasaTest, ACosePledgeRequestSignedByAnotherKeyIsCalledUnidentifiedNotBadlySigned) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const Bytes nonce = random_nonce();
  auto stranger = crypto::generate_key(crypto::KeyType::p256);
  const Bytes pvr = anonymous_cose_pvr(pvr_fields(serial, nullptr, nonce), stranger.get());
  const auto response = masa.handle(
      voucher_request(cose_rvr(rvr_fields(serial, nonce, pvr), domain_), Form::cose, domain_));
  expect_refusal(response, 403, "could not be identified");
  EXPECT_EQ(body_text(response).find("does not verify"), std::string::npos) << body_text(response);
}

TEST_P(MasaTest, ThePledgesCertificateInTheRegistrarsX5bagIdentifiesTheSigner) {
  // The device was reissued: its old key and IDevID no longer match the
  // record, so only the x5bag names the signer; once identified, the old
  // certificate is refused for what it is.
  MasaService masa(config(), store());
  const std::string serial = device();
  auto old_key = crypto::generate_key(crypto::KeyType::p256);
  const Bytes old_idevid = Manufacturer::get().certify(serial, old_key.get());
  auto old_ref = *crypto::CertificateCache::shared().decode(old_idevid);
  const Bytes nonce = random_nonce();
  auto pvr_payload = pvr_fields(serial, nullptr, nonce);
  pvr_payload.proximity_registrar_pubk = crypto::public_key_der(domain_.registrar_key.get());
  const Bytes pvr = anonymous_cose_pvr(pvr_payload, old_key.get());

  const auto without_bag = masa.handle(
      voucher_request(cose_rvr(rvr_fields(serial, nonce, pvr), domain_), Form::cose, domain_));
  expect_refusal(without_bag, 403, "could not be identified");
  const auto with_bag = masa.handle(voucher_request(
      cose_rvr(rvr_fields(serial, nonce, pvr), domain_, {old_ref}), Form::cose, domain_));
  expect_refusal(with_bag, 403, "not the one on record");
}

// ------------------------------------------------------ the published C.4

constexpr const char* k_rvr = "cbrski/C.4-rvr.cose.derived.bin";
constexpr const char* k_idevid = "cbrski/C.2.1-pledge-idevid.cert.derived.pem";
constexpr const char* k_masa_ca = "cbrski/C.2.4-masa-ca.cert.derived.pem";
constexpr const char* k_serial = "JADA123456789";
// 2022-12-09T13:00:00Z: the IDevID is valid from 2022-12-09T12:50:47Z, three
// days after the registrar made its request (created-on 2022-12-06).
constexpr std::time_t k_now = 1670590800;

class CbrskiVector : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    const std::string label =
        "masa-cbrski-" + backend_name(GetParam()) + "-" + std::to_string(::getpid());
    if (GetParam() == Backend::sqlite) {
      path_ = std::filesystem::temp_directory_path() / ("vouchsafe-" + label + ".db");
      std::filesystem::remove(path_);
      store_ = std::move(store::open_sqlite_store(path_.string())).value();
    } else {
      auto db = vouchsafe::testing::TestDatabase::create(label);
      ASSERT_TRUE(db) << db.error().message;
      database_.emplace(std::move(db).value());
      auto opened = store::open_postgres_store(database_->dsn());
      ASSERT_TRUE(opened) << opened.error().message;
      store_ = std::move(opened).value();
    }
    // The draft's MASA CA signs the IDevID: imported as the issuing CA.
    store::CaRecord ca;
    ca.name = "stok";
    ca.role = store::CaRole::issuing;
    ca.certificate_der = crypto::certificate_der(cert(k_masa_ca).get());
    ca.created_at = k_now;
    ASSERT_TRUE(store_->add_ca(ca));
    store::DeviceRecord device;
    device.serial = k_serial;
    device.product = "sensor";
    device.issuing_ca = ca.name;
    device.certificate_der = crypto::certificate_der(cert(k_idevid).get());
    device.issued_at = k_now;
    ASSERT_TRUE(store_->add_devices({&device, 1}));
  }
  void TearDown() override {
    store_.reset();
    database_.reset();
    if (path_.empty()) return;
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path_.string() + suffix);
  }
  static crypto::X509Ptr cert(const std::string& file) {
    auto certs = vouchsafe::testing::vector_certs(file);
    EXPECT_FALSE(certs.empty());
    return std::move(certs.front());
  }
  // The registrar posts with the certificate that signed C.4 (its x5bag's
  // first entry).
  static Caller registrar_caller() {
    auto verified = voucher::verify_artifact(vouchsafe::testing::read_vector(k_rvr),
                                             voucher::TrustPolicy::for_inspection());
    EXPECT_TRUE(verified) << verified.error().message;
    if (!verified) return {};
    const auto& signer = verified->envelope.signer_chain.front();
    return Caller{hex_encode(signer->der_sha256), signer->der, false};
  }

  MasaIdentity masa_;
  std::filesystem::path path_;
  std::optional<vouchsafe::testing::TestDatabase> database_;
  std::unique_ptr<store::AssetStore> store_;
};

TEST_P(CbrskiVector, ThePublishedRegistrarRequestGetsACoseVoucher) {
  MasaConfig c;
  c.signer = masa_.signer;
  c.signer_chain = masa_.chain();
  c.now = [] { return k_now; };
  c.max_request_age = std::chrono::hours(24 * 4);
  MasaService masa(std::move(c), *store_);
  MasaRequest r;
  r.endpoint = std::string(k_request_voucher);
  r.content_type = "application/voucher+cose";
  r.accept = "application/voucher+cose";
  r.body = vouchsafe::testing::read_vector(k_rvr);
  r.caller = registrar_caller();
  const auto response = masa.handle(r);
  ASSERT_EQ(response.status, 200) << body_text(response);
  // Our test MASA's certificates are made today: checked at today's time.
  auto verified = voucher::verify_artifact(response.body, masa_.anchor());
  ASSERT_TRUE(verified) << verified.error().message;
  const auto& v = verified->payload;
  EXPECT_EQ(v.serial_number, k_serial);
  EXPECT_EQ(v.nonce, *hex_decode("23BFBBC9C2BCF213"));  // C.3's and C.4's
  // proximity-registrar-pubk is the RVR signer's key.
  EXPECT_EQ(v.assertion, voucher::Assertion::proximity);
}

INSTANTIATE_TEST_SUITE_P(Backends, CbrskiVector,
                         ::testing::Values(Backend::sqlite, Backend::postgres), backend_test_name);

}  // namespace
}  // namespace vouchsafe::masa::testing
