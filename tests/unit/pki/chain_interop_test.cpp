// IDevID chains judged by implementations we did not write: OpenSSL's
// `openssl verify -x509_strict`, GnuTLS's `certtool`, and the Python profile
// checker tests/interop/check_idevid.py (python3-cryptography).
#include <gtest/gtest.h>

#include <string>

#include "crypto/seed_derivation.h"
#include "pki/certificate_profiles.h"
#include "unit/pki/pki_fixture.h"

namespace vouchsafe::pki {
namespace {

using testing::CommandResult;
using testing::executable;
using testing::make_issuer;
using testing::make_manufacturer_pki;
using testing::ManufacturerPki;
using testing::pem_of;
using testing::run_command;
using testing::ScratchDir;

constexpr const char* k_openssl = "/usr/bin/openssl";
constexpr const char* k_certtool = "/usr/bin/certtool";
constexpr const char* k_python = "/usr/bin/python3";  // the one with python3-cryptography
constexpr std::time_t k_not_before = 1700000000;      // 2023-11-14

// Where the device's key comes from (issue 3: "four ways to key a device").
enum class KeySource { generated, seed_derived, csr };

struct ChainCase {
  crypto::KeyType root_type;
  KeySource source;
};

std::string case_name(const ::testing::TestParamInfo<ChainCase>& info) {
  const std::string root = info.param.root_type == crypto::KeyType::p384 ? "P384Root" : "P256Root";
  switch (info.param.source) {
    case KeySource::generated:
      return root + "GeneratedKey";
    case KeySource::seed_derived:
      return root + "SeedDerivedKey";
    case KeySource::csr:
      return root + "CsrKey";
  }
  return root;
}

// The device's SubjectPublicKeyInfo, made the way `source` says.
Bytes device_spki(KeySource source, const std::string& serial) {
  switch (source) {
    case KeySource::generated: {
      auto key = crypto::generate_key(crypto::KeyType::p256);
      return crypto::public_key_der(key.get());
    }
    case KeySource::seed_derived: {
      auto derived = crypto::derive_p256_key(Bytes(crypto::k_seed_size, 0xA7));
      EXPECT_TRUE(derived);
      return derived ? crypto::p256_spki_from_point(derived->public_point) : Bytes{};
    }
    case KeySource::csr: {
      auto key = crypto::generate_key(crypto::KeyType::p256);
      auto checked = check_csr(testing::make_csr(key.get(), serial));
      EXPECT_TRUE(checked) << checked.error().message;
      EXPECT_EQ(checked->subject_serial, serial);
      return checked ? checked->subject_public_key_info : Bytes{};
    }
  }
  return {};
}

// A chain written to files the tools read.
struct ChainFiles {
  std::string root;     // the trust anchor
  std::string issuing;  // the issuing CA alone
  std::string idevid;   // the IDevID alone
  std::string chain;    // IDevID then issuing CA (what a pledge presents)
  std::string full;     // IDevID, issuing CA, root
};

ChainFiles write_chain(const ScratchDir& dir, const ManufacturerPki& pki, const Bytes& idevid) {
  const std::string root = crypto::certificate_pem(pki.root.get());
  const std::string issuing = crypto::certificate_pem(pki.issuing.get());
  const std::string leaf = pem_of(idevid);
  return {dir.write("root.pem", root), dir.write("issuing.pem", issuing),
          dir.write("idevid.pem", leaf), dir.write("chain.pem", leaf + issuing),
          dir.write("full.pem", leaf + issuing + root)};
}

CommandResult openssl_verify(const ChainFiles& files) {
  return run_command(std::string(k_openssl) + " verify -x509_strict -CAfile '" + files.root +
                     "' -untrusted '" + files.issuing + "' '" + files.idevid + "'");
}

// certtool 3.7 refuses --verify-chain together with --load-ca-certificate,
// so the anchored check is --verify; --verify-chain checks the whole chain
// up to the self-signed root given last.
CommandResult certtool_verify(const ChainFiles& files) {
  return run_command(std::string(k_certtool) +
                     " --verify --verify-profile high --load-ca-certificate '" + files.root +
                     "' --infile '" + files.chain + "'");
}
CommandResult certtool_verify_chain(const ChainFiles& files) {
  return run_command(std::string(k_certtool) + " --verify-chain --verify-profile high --infile '" +
                     files.full + "'");
}

bool says_verified(const CommandResult& result) {
  return result.output.find("Chain verification output: Verified.") != std::string::npos;
}

CommandResult check_profile(const ChainFiles& files, const std::string& serial,
                            const IdevidProfile& profile) {
  auto quoted = [](const std::string& s) { return "'" + s + "'"; };
  std::string common_name = profile.common_name;
  const std::string placeholder = "{serial}";
  for (auto at = common_name.find(placeholder); at != std::string::npos;
       at = common_name.find(placeholder)) {
    common_name.replace(at, placeholder.size(), serial);
  }
  return run_command(std::string(k_python) + " " + VOUCHSAFE_SOURCE_DIR +
                     "/tests/interop/check_idevid.py " + quoted(files.idevid) + " " +
                     quoted(files.issuing) + " --serial " + quoted(serial) + " --hw-type " +
                     quoted(profile.hw_type_oid) + " --masa-url " + quoted(profile.masa_url) +
                     " --organization " + quoted(profile.organization) + " --organizational-unit " +
                     quoted(profile.organizational_unit) + " --common-name " + quoted(common_name));
}

class IdevidChain : public ::testing::TestWithParam<ChainCase> {
 protected:
  void SetUp() override {
    for (const char* tool : {k_openssl, k_certtool, k_python}) {
      ASSERT_TRUE(executable(tool)) << tool << " is not installed (scripts/setup)";
    }
    pki_ = make_manufacturer_pki(GetParam().root_type, crypto::KeyType::p256);
    issuer_ = make_issuer(pki_);
    ASSERT_TRUE(issuer_);
    auto idevid = issuer_->issue(k_serial, device_spki(GetParam().source, k_serial), k_not_before);
    ASSERT_TRUE(idevid) << idevid.error().message;
    files_ = write_chain(dir_, pki_, *idevid);
  }

  static constexpr const char* k_serial = "TH-0001-000042";
  ScratchDir dir_;
  ManufacturerPki pki_;
  std::unique_ptr<IdevidIssuer> issuer_;
  ChainFiles files_;
};

TEST_P(IdevidChain, VerifiesWithOpensslInStrictMode) {
  const auto result = openssl_verify(files_);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find(": OK"), std::string::npos) << result.output;
}

TEST_P(IdevidChain, VerifiesWithGnutlsCerttoolAgainstTheRoot) {
  const auto result = certtool_verify(files_);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(says_verified(result)) << result.output;
}

TEST_P(IdevidChain, VerifiesWithGnutlsCerttoolAsAWholeChain) {
  const auto result = certtool_verify_chain(files_);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(says_verified(result)) << result.output;
}

TEST_P(IdevidChain, HoldsEveryProfileFieldForThePythonChecker) {
  const auto result = check_profile(files_, k_serial, testing::sample_profile());
  EXPECT_EQ(result.exit_code, 0) << result.output;
}

INSTANTIATE_TEST_SUITE_P(
    KeySources, IdevidChain,
    ::testing::Values(ChainCase{crypto::KeyType::p384, KeySource::generated},
                      ChainCase{crypto::KeyType::p384, KeySource::seed_derived},
                      ChainCase{crypto::KeyType::p384, KeySource::csr},
                      ChainCase{crypto::KeyType::p256, KeySource::generated},
                      ChainCase{crypto::KeyType::p256, KeySource::seed_derived},
                      ChainCase{crypto::KeyType::p256, KeySource::csr}),
    case_name);

// The verifiers are not rubber stamps: each of them can say no.
class IdevidChainRefusal : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {k_openssl, k_certtool, k_python}) {
      ASSERT_TRUE(executable(tool)) << tool << " is not installed (scripts/setup)";
    }
    pki_ = make_manufacturer_pki();
    auto issuer = make_issuer(pki_);
    ASSERT_TRUE(issuer);
    auto idevid = issuer->issue("TH-0002", device_spki(KeySource::generated, ""), k_not_before);
    ASSERT_TRUE(idevid) << idevid.error().message;
    idevid_ = std::move(idevid).value();
  }

  ScratchDir dir_;
  ManufacturerPki pki_;
  Bytes idevid_;
};

TEST_F(IdevidChainRefusal, ThePythonCheckerFailsOnAnotherExpectedSerial) {
  const auto files = write_chain(dir_, pki_, idevid_);
  const auto result = check_profile(files, "TH-0003", testing::sample_profile());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("serialNumber"), std::string::npos) << result.output;
}

TEST_F(IdevidChainRefusal, ThePythonCheckerFailsOnAnotherMasaUrl) {
  const auto files = write_chain(dir_, pki_, idevid_);
  IdevidProfile expected = testing::sample_profile();
  expected.masa_url = "masa.example.net";
  EXPECT_EQ(check_profile(files, "TH-0002", expected).exit_code, 1);
}

TEST_F(IdevidChainRefusal, OpensslAndCerttoolRefuseTheChainUnderAnotherRoot) {
  auto other = make_manufacturer_pki();
  ManufacturerPki mixed;
  mixed.root = crypto::share(other.root.get());
  mixed.issuing = crypto::share(pki_.issuing.get());
  const auto files = write_chain(dir_, mixed, idevid_);
  EXPECT_NE(openssl_verify(files).exit_code, 0);
  const auto certtool = certtool_verify(files);
  EXPECT_NE(certtool.exit_code, 0) << certtool.output;
  EXPECT_FALSE(says_verified(certtool)) << certtool.output;
}

TEST_F(IdevidChainRefusal, OpensslAndCerttoolRefuseATamperedIdevid) {
  Bytes tampered = idevid_;
  // A byte of the subject's serialNumber: the signature no longer matches.
  const std::string serial = "TH-0002";
  auto at = std::search(tampered.begin(), tampered.end(), serial.begin(), serial.end());
  ASSERT_NE(at, tampered.end());
  *(at + 3) = '9';
  const auto files = write_chain(dir_, pki_, tampered);
  EXPECT_NE(openssl_verify(files).exit_code, 0);
  const auto certtool = certtool_verify(files);
  EXPECT_NE(certtool.exit_code, 0) << certtool.output;
  EXPECT_FALSE(says_verified(certtool)) << certtool.output;
}

}  // namespace
}  // namespace vouchsafe::pki
