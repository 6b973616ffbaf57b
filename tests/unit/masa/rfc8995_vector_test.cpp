// The published RFC 8995 Appendix C registrar voucher-request, sent by a
// registrar we did not write, gets a voucher from our MASA: the vendor CA
// C.1.1 is imported as an issuing CA (certificate only) and the pledge
// from the IDevID embedded in C.2.1, and the MASA signs with C.1.2.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "masa_fixture.h"

namespace vouchsafe::masa::testing {
namespace {

constexpr const char* k_rvr =
    "rfc8995/C.2.2-registrar-voucher-request_parboiled_vr_00-D0-E5-F2-00-02.derived.der";
constexpr const char* k_pvr_certs =
    "rfc8995/C.2.1-pledge-voucher-request_vr_00-D0-E5-F2-00-02.derived.embedded-certs.pem";
constexpr const char* k_vendor_ca = "rfc8995/C.1.1-vendor-ca.cert.pem";
constexpr const char* k_masa_cert = "rfc8995/C.1.2-masa.cert.pem";
constexpr const char* k_masa_key = "rfc8995/C.1.2-masa.key.pem";
constexpr const char* k_owner_ca = "rfc8995/C.1.3-ownerca_secp384r1.cert.pem";
constexpr const char* k_registrar = "rfc8995/C.1.4-registrar-jrc_prime256v1.cert.pem";
constexpr const char* k_serial = "00-D0-E5-F2-00-02";

class Rfc8995Vector : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    const std::string label =
        "masa-rfc8995-" + backend_name(GetParam()) + "-" + std::to_string(::getpid());
    if (GetParam() == Backend::sqlite) {
      path_ = fs::temp_directory_path() / ("vouchsafe-" + label + ".db");
      fs::remove(path_);
      store_ = std::move(store::open_sqlite_store(path_.string())).value();
    } else {
      auto db = vouchsafe::testing::TestDatabase::create(label);
      ASSERT_TRUE(db) << db.error().message;
      database_.emplace(std::move(db).value());
      auto opened = store::open_postgres_store(database_->dsn());
      ASSERT_TRUE(opened) << opened.error().message;
      store_ = std::move(opened).value();
    }
    // The vendor CA as an issuing CA record: certificate only, no key.
    store::CaRecord ca;
    ca.name = "highway-test";
    ca.role = store::CaRole::issuing;
    ca.certificate_der = crypto::certificate_der(vector_cert(k_vendor_ca).get());
    ca.created_at = k_now;
    ASSERT_TRUE(store_->add_ca(ca));
    store::DeviceRecord device;
    device.serial = k_serial;
    device.product = "highway";
    device.issuing_ca = ca.name;
    device.certificate_der = crypto::certificate_der(vector_cert(k_pvr_certs).get());
    device.issued_at = k_now;
    ASSERT_TRUE(store_->add_devices({&device, 1}));
  }
  void TearDown() override {
    store_.reset();
    database_.reset();
    if (path_.empty()) return;
    fs::remove(path_);
    fs::remove(path_.string() + "-wal");
    fs::remove(path_.string() + "-shm");
  }

  static crypto::X509Ptr vector_cert(const std::string& file) {
    auto certs = vouchsafe::testing::vector_certs(file);
    EXPECT_FALSE(certs.empty());
    return std::move(certs.front());
  }

  MasaConfig config(MasaConfig::Pinning pinning) {
    masa_key_ = vouchsafe::testing::vector_key(k_masa_key);
    MasaConfig c;
    c.signer = signer_for(masa_key_.get());
    c.signer_chain = {crypto::make_certificate_ref(vector_cert(k_masa_cert)),
                      crypto::make_certificate_ref(vector_cert(k_vendor_ca))};
    c.pinning = pinning;
    // Inside every certificate's validity (the registrar's ends 2022-02-24).
    c.now = [] { return k_now; };
    return c;
  }

  static MasaRequest request(const std::string& endpoint) {
    auto registrar = vector_cert(k_registrar);
    MasaRequest r;
    r.endpoint = endpoint;
    r.content_type = "application/voucher-cms+json";
    r.body = vouchsafe::testing::read_vector(k_rvr);
    r.caller =
        Caller{fingerprint_of(registrar.get()), crypto::certificate_der(registrar.get()), false};
    return r;
  }

  static voucher::Voucher open(const MasaResponse& r) {
    EXPECT_EQ(r.status, 200) << body_text(r);
    std::vector<crypto::X509Ptr> anchors;
    anchors.push_back(vector_cert(k_vendor_ca));
    auto policy = voucher::TrustPolicy::with_anchors(std::move(anchors));
    policy.at = k_now;
    auto verified = voucher::verify_artifact(r.body, policy);
    EXPECT_TRUE(verified) << verified.error().message;
    return verified ? verified->payload : voucher::Voucher{};
  }

  // 2021-04-13T22:00:00Z: a quarter of an hour after the registrar made
  // its request (created-on 21:43:23Z), inside every certificate's validity.
  static constexpr std::time_t k_now = 1618351200;
  fs::path path_;
  std::optional<vouchsafe::testing::TestDatabase> database_;
  std::unique_ptr<store::AssetStore> store_;
  crypto::PkeyPtr masa_key_;
};

TEST_P(Rfc8995Vector, ThePublishedRegistrarRequestGetsAVoucher) {
  MasaService masa(config(MasaConfig::Pinning::domain_ca), *store_);
  const auto response = masa.handle(request(std::string(k_request_voucher)));
  ASSERT_EQ(response.status, 200) << body_text(response);
  EXPECT_EQ(response.content_type, "application/voucher-cms+json");
  const auto v = open(response);
  EXPECT_EQ(v.serial_number, k_serial);
  // The nonce is base64url text in the vector; it is copied as its bytes.
  EXPECT_EQ(v.nonce, *base64url_decode("-_XE9zK9q8Ll1qylMtLKeg"));
  // The pledge's proximity-registrar-cert is the RVR signer: proximity
  // (the published voucher says logged, a choice of that MASA).
  EXPECT_EQ(v.assertion, voucher::Assertion::proximity);
  EXPECT_EQ(v.pinned_domain_cert, crypto::certificate_der(vector_cert(k_owner_ca).get()));
  // Neither the RVR nor the IDevID (no AKI) gives an idevid-issuer.
  EXPECT_FALSE(v.idevid_issuer);
  ASSERT_TRUE(v.created_on);
  EXPECT_EQ(v.created_on->unix_seconds(), k_now);
}

TEST_P(Rfc8995Vector, PinningTheRegistrarGivesThePublishedPinAndDomainId) {
  MasaService masa(config(MasaConfig::Pinning::registrar_certificate), *store_);
  const auto v = open(masa.handle(request(std::string(k_request_voucher))));
  // As the published voucher C.2.3 pins it.
  EXPECT_EQ(v.pinned_domain_cert, crypto::certificate_der(vector_cert(k_registrar).get()));
  const auto log = *store_->audit_log(k_serial);
  ASSERT_EQ(log.size(), 1U);
  // vectors/README.md: C.1.4 has no SKI, so the RFC 7469 SPKI SHA-256.
  EXPECT_EQ(log[0].domain_id, "Oy6w2vS8ar8m/FtEHuzs7sl7LSD3pW9yTCgCecoIL3M=");
  EXPECT_EQ(log[0].date, k_now);

  // The same registrar request reads the log back.
  const auto audit = masa.handle(request(std::string(k_request_audit_log)));
  ASSERT_EQ(audit.status, 200) << body_text(audit);
  const auto json = nlohmann::json::parse(body_text(audit));
  EXPECT_EQ(json["events"][0]["domainID"], "Oy6w2vS8ar8m/FtEHuzs7sl7LSD3pW9yTCgCecoIL3M=");
  EXPECT_EQ(json["events"][0]["date"], "2021-04-13T22:00:00Z");
}

TEST_P(Rfc8995Vector, OutsideTheRegistrarCertificatesValidityItIsRefused) {
  auto c = config(MasaConfig::Pinning::domain_ca);
  c.now = [] { return std::time_t{1700000000}; };  // 2023-11: the registrar expired
  MasaService masa(std::move(c), *store_);
  const auto response = masa.handle(request(std::string(k_request_voucher)));
  EXPECT_EQ(response.status, 403);
  EXPECT_NE(body_text(response).find("expired"), std::string::npos) << body_text(response);
}

INSTANTIATE_TEST_SUITE_P(Backends, Rfc8995Vector,
                         ::testing::Values(Backend::sqlite, Backend::postgres), backend_test_name);

}  // namespace
}  // namespace vouchsafe::masa::testing
