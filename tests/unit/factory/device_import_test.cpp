// Importing another vendor's issuing CA and its devices, with the RFC 8995
// Appendix C certificates as that vendor's: the CA by certificate alone,
// never used for issuance; devices all or nothing, each under the CA whose
// key signed it.
#include "factory/device_import.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "crypto/keys.h"
#include "factory/authority.h"
#include "support/test_support.h"

namespace vouchsafe::factory {
namespace {

namespace fs = std::filesystem;
const std::string k_pass = "unit-test-passphrase";
const std::string k_vendor_ca = "rfc8995/C.1.1-vendor-ca.cert.pem";
// Signed by C.1.1, serialNumber 00-D0-E5-F2-00-02 (a UTF8String).
const std::string k_idevid =
    "rfc8995/C.2.1-pledge-voucher-request_vr_00-D0-E5-F2-00-02.derived.embedded-certs.pem";
// Same serial, but signed by an RSA vendor CA that is not recorded.
const std::string k_rsa_idevid = "rfc8995/C.1.5-pledge-idevid_00-D0-E5-F2-00-02.cert.pem";
// Another vendor's IDevID (serialNumber JADA123456789), in DER; its CA is not recorded.
const std::string k_foreign_idevid = "cbrski/C.2.1-pledge-idevid.cert.derived.der";
// An end-entity certificate without a serialNumber.
const std::string k_registrar = "rfc8995/C.1.4-registrar-jrc_prime256v1.cert.pem";

class DeviceImport : public ::testing::Test {
 protected:
  void SetUp() override {
    home_.root = fs::temp_directory_path() /
                 ("vouchsafe-import-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(home_.root);
    InitOptions init;
    init.root_key_type = crypto::KeyType::p256;
    ASSERT_TRUE(init_pki(home_, init, k_pass));
    std::ofstream(home_.config_file(), std::ios::app)
        << "\n[products.highway]\nhw_type = \"1.3.6.1.4.1.99999.2.1\"\nserial_prefix = \"HW\"\n";
    store_ = std::move(open_store(home_)).value();
    config_ = std::move(load_config(home_)).value();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(home_.root);
  }

  Result<store::CaRecord> import_vendor_ca(const std::string& name = "highway-test") {
    ImportCaOptions o;
    o.name = name;
    o.certificate_path = testing::vector_path(k_vendor_ca);
    o.product = "highway";
    return import_issuing_ca(home_, *store_, o);
  }

  Result<DeviceImportReport> import(const std::string& path, const std::string& serial = "",
                                    const std::string& ca = "") {
    DeviceImportOptions o;
    o.certificate_path = path;
    o.product = "highway";
    o.serial = serial;
    o.issuing_ca = ca;
    return import_devices(home_, *store_, o);
  }

  // A PEM file of the named vector certificates, in this order.
  std::string bundle(const std::vector<std::string>& vectors) {
    const auto path = (home_.root / "bundle.pem").string();
    std::ofstream out(path);
    for (const auto& v : vectors) {
      for (auto& c : testing::vector_certs(v)) out << crypto::certificate_pem(c.get());
    }
    return path;
  }

  Home home_;
  std::unique_ptr<store::AssetStore> store_;
  FactoryConfig config_;
};

TEST_F(DeviceImport, AVendorCaIsRecordedKeylessAndShownAsImported) {
  auto ca = import_vendor_ca();
  ASSERT_TRUE(ca) << ca.error().message;
  auto found = *store_->find_ca("highway-test");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->role, store::CaRole::issuing);
  EXPECT_TRUE(found->key_reference.empty());
  EXPECT_EQ(found->product, "highway");
  EXPECT_TRUE(is_imported(*found));
  EXPECT_FALSE(is_imported(**store_->find_ca("root")));
}

TEST_F(DeviceImport, RefusesANonCaADuplicateNameAndADuplicateCertificate) {
  ImportCaOptions not_ca;
  not_ca.name = "registrar";
  not_ca.certificate_path = testing::vector_path(k_registrar);
  auto refused = import_issuing_ca(home_, *store_, not_ca);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("not a CA certificate"), std::string::npos);

  ASSERT_TRUE(import_vendor_ca());
  auto same_name = import_vendor_ca();
  ASSERT_FALSE(same_name);
  EXPECT_EQ(same_name.error().code, ErrorCode::duplicate_member);
  auto same_cert = import_vendor_ca("highway-again");
  ASSERT_FALSE(same_cert);
  EXPECT_EQ(same_cert.error().code, ErrorCode::duplicate_member);
  EXPECT_NE(same_cert.error().message.find("as CA highway-test"), std::string::npos)
      << same_cert.error().message;
  EXPECT_EQ(store_->list_cas()->size(), 2U);  // root and the vendor CA
}

TEST_F(DeviceImport, IssuanceNeverUsesAnImportedCa) {
  ASSERT_TRUE(import_vendor_ca());
  const auto& highway = **config_.product("highway");
  auto pool = IssuingCaPool::load(*store_, config_, highway, "", "", k_pass);
  ASSERT_FALSE(pool);
  EXPECT_NE(pool.error().message.find("no active issuing CA for product highway"),
            std::string::npos)
      << pool.error().message;
  auto named = IssuingCaPool::load(*store_, config_, highway, "", "highway-test", k_pass);
  ASSERT_FALSE(named);
  EXPECT_NE(named.error().message.find("imported CA has no key; it cannot issue"),
            std::string::npos)
      << named.error().message;

  IssuingCaOptions ours;
  ours.name = "hw1";
  ours.product = "highway";
  ASSERT_TRUE(create_issuing_ca(home_, *store_, ours, k_pass));
  auto mixed = IssuingCaPool::load(*store_, config_, highway, "", "", k_pass);
  ASSERT_TRUE(mixed) << mixed.error().message;
  EXPECT_EQ(mixed->size(), 1U);
  EXPECT_EQ((*mixed->next())->record.name, "hw1");
}

TEST_F(DeviceImport, TheAppendixCPledgeIsRecordedUnderTheCaThatSignedIt) {
  ASSERT_TRUE(import_vendor_ca());
  auto report = import(testing::vector_path(k_idevid));
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->devices.size(), 1U);
  auto device = *store_->find_device("00-D0-E5-F2-00-02");
  ASSERT_TRUE(device);
  EXPECT_EQ(device->issuing_ca, "highway-test");
  EXPECT_EQ(device->product, "highway");  // no HW- prefix: imported serials are as made
  EXPECT_EQ(device->key_mode, store::KeyMode::imported);
  EXPECT_EQ(device->certificate_der,
            crypto::certificate_der(testing::vector_certs(k_idevid).front().get()));

  auto again = import(testing::vector_path(k_idevid));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::duplicate_member);
  EXPECT_NE(again.error().message.find("this very certificate"), std::string::npos)
      << again.error().message;
  // Nor under another serial: one IDevID is one device.
  auto renamed = import(testing::vector_path(k_idevid), "HW-X-1");
  ASSERT_FALSE(renamed);
  EXPECT_EQ(renamed.error().code, ErrorCode::duplicate_member);
  EXPECT_EQ(*store_->count_devices(), 1);
}

TEST_F(DeviceImport, OneBadCertificateLeavesTheStoreUnchanged) {
  ASSERT_TRUE(import_vendor_ca());
  auto unsigned_one = import(bundle({k_idevid, k_foreign_idevid}));
  ASSERT_FALSE(unsigned_one);
  EXPECT_EQ(unsigned_one.error().code, ErrorCode::untrusted_chain);
  EXPECT_NE(unsigned_one.error().message.find("certificate #2"), std::string::npos)
      << unsigned_one.error().message;
  EXPECT_NE(unsigned_one.error().message.find("pki issuing-ca import"), std::string::npos);

  auto rsa_signed = import(testing::vector_path(k_rsa_idevid));
  ASSERT_FALSE(rsa_signed);
  EXPECT_EQ(rsa_signed.error().code, ErrorCode::untrusted_chain);

  auto twice = import(bundle({k_idevid, k_rsa_idevid}));
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("#1 and #2 both carry serial 00-D0-E5-F2-00-02"),
            std::string::npos)
      << twice.error().message;

  auto no_serial = import(bundle({k_idevid, k_registrar}));
  ASSERT_FALSE(no_serial);
  EXPECT_EQ(no_serial.error().code, ErrorCode::invalid_value);
  EXPECT_NE(no_serial.error().message.find("no subject serialNumber"), std::string::npos)
      << no_serial.error().message;

  EXPECT_EQ(*store_->count_devices(), 0);
  EXPECT_EQ((*store_->find_ca("highway-test"))->issued_count, 0);
}

TEST_F(DeviceImport, ASerialIsGivenOnlyForOneCertificate) {
  ASSERT_TRUE(import_vendor_ca());
  // The registrar certificate has no serialNumber; pretend C.1.3 signed devices.
  ImportCaOptions owner;
  owner.name = "owner";
  owner.certificate_path = testing::vector_path("rfc8995/C.1.3-ownerca_secp384r1.cert.pem");
  ASSERT_TRUE(import_issuing_ca(home_, *store_, owner));
  auto two = import(bundle({k_idevid, k_registrar}), "HW-1");
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().code, ErrorCode::usage);

  auto alone = import(testing::vector_path(k_registrar), "HW-1");
  ASSERT_TRUE(alone) << alone.error().message;
  EXPECT_EQ((*store_->find_device("HW-1"))->issuing_ca, "owner");
}

TEST_F(DeviceImport, CaCertificatesInTheFileAreSkippedAndNamedCasAreChecked) {
  ASSERT_TRUE(import_vendor_ca());
  IssuingCaOptions ours;
  ours.name = "hw1";
  ours.product = "highway";
  ASSERT_TRUE(create_issuing_ca(home_, *store_, ours, k_pass));

  auto wrong_ca = import(testing::vector_path(k_idevid), "", "hw1");
  ASSERT_FALSE(wrong_ca);
  EXPECT_NE(wrong_ca.error().message.find("not signed by issuing CA hw1"), std::string::npos)
      << wrong_ca.error().message;

  auto with_chain = import(bundle({k_vendor_ca, k_idevid}), "", "highway-test");
  ASSERT_TRUE(with_chain) << with_chain.error().message;
  EXPECT_EQ(with_chain->devices.size(), 1U);
  ASSERT_EQ(with_chain->notes.size(), 1U);
  EXPECT_NE(with_chain->notes[0].find("skipped certificate #1"), std::string::npos);

  DeviceImportOptions unknown;
  unknown.certificate_path = testing::vector_path(k_idevid);
  unknown.product = "nosuch";
  auto refused = import_devices(home_, *store_, unknown);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::usage);
}

}  // namespace
}  // namespace vouchsafe::factory
