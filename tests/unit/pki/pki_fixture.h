// Helpers shared by the pki tests: a throw-away three-tier manufacturer PKI,
// a scratch directory, and running other implementations' command-line tools.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "core/file.h"
#include "crypto/keys.h"
#include "crypto/signer.h"
#include "pki/certificate_profiles.h"

namespace vouchsafe::pki::testing {

struct ManufacturerPki {
  crypto::PkeyPtr root_key;
  crypto::X509Ptr root;
  crypto::PkeyPtr issuing_key;
  crypto::X509Ptr issuing;
  std::shared_ptr<const crypto::Signer> issuing_signer;
};

inline ManufacturerPki make_manufacturer_pki(crypto::KeyType root_type = crypto::KeyType::p384,
                                             crypto::KeyType issuing_type = crypto::KeyType::p256) {
  ManufacturerPki pki;
  pki.root_key = crypto::generate_key(root_type);
  auto root = make_root_certificate(pki.root_key.get(), {"Example Devices Ltd", "Example Root CA"});
  EXPECT_TRUE(root) << root.error().message;
  if (root) pki.root = std::move(root).value();
  pki.issuing_key = crypto::generate_key(issuing_type);
  auto issuing = make_issuing_ca_certificate(pki.issuing_key.get(),
                                             {"Example Devices Ltd", "Example Issuing CA 1"},
                                             pki.root.get(), pki.root_key.get());
  EXPECT_TRUE(issuing) << issuing.error().message;
  if (issuing) pki.issuing = std::move(issuing).value();
  auto signer = crypto::SoftwareSigner::create(crypto::share(pki.issuing_key.get()));
  EXPECT_TRUE(signer) << signer.error().message;
  if (signer) pki.issuing_signer = std::move(signer).value();
  return pki;
}

// The profile of a product line, as the checker script is told to expect it.
inline IdevidProfile sample_profile() {
  IdevidProfile profile;
  profile.organization = "Example Devices Ltd";
  profile.organizational_unit = "Thermostats";
  profile.common_name = "Thermostat {serial}";
  profile.masa_url = "masa.example.com:8443";
  profile.hw_type_oid = "1.3.6.1.4.1.32473.1.1";
  return profile;
}

inline std::unique_ptr<IdevidIssuer> make_issuer(const ManufacturerPki& pki,
                                                 const IdevidProfile& profile = sample_profile()) {
  auto issuer = IdevidIssuer::create(profile, pki.issuing.get(), pki.issuing_signer);
  EXPECT_TRUE(issuer) << issuer.error().message;
  return issuer ? std::move(issuer).value() : nullptr;
}

// A PKCS#10 request for key, signed by it, with the device serial in the
// subject serialNumber (as a device on the factory network would send it).
inline Bytes make_csr(EVP_PKEY* key, const std::string& serial, const EVP_MD* md = EVP_sha256()) {
  std::unique_ptr<X509_REQ, crypto::Deleter<X509_REQ, X509_REQ_free>> req(X509_REQ_new());
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  EXPECT_EQ(
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("Thermostat"), -1, -1, 0),
      1);
  EXPECT_EQ(
      X509_NAME_add_entry_by_NID(name, NID_serialNumber, V_ASN1_PRINTABLESTRING,
                                 reinterpret_cast<const unsigned char*>(serial.c_str()), -1, -1, 0),
      1);
  EXPECT_EQ(X509_REQ_set_pubkey(req.get(), key), 1);
  EXPECT_GT(X509_REQ_sign(req.get(), key, md), 0);
  unsigned char* out = nullptr;
  const int len = i2d_X509_REQ(req.get(), &out);
  EXPECT_GT(len, 0);
  Bytes der(out, out + std::max(len, 0));
  OPENSSL_free(out);
  return der;
}

inline crypto::X509Ptr parse_der(ByteView der) {
  auto cert = crypto::parse_certificate_der(der);
  EXPECT_TRUE(cert) << cert.error().message;
  return cert ? std::move(cert).value() : nullptr;
}

inline std::string pem_of(ByteView der) {
  auto cert = parse_der(der);
  return cert ? crypto::certificate_pem(cert.get()) : std::string();
}

// A directory under the test temporary directory, removed afterwards.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "." + info->name();
    for (char& c : name) c = c == '/' ? '_' : c;
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("vouchsafe-pki-" + std::to_string(getpid()) + "-" + name);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  // Writes a file in the directory and returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::string path = (path_ / name).string();
    EXPECT_TRUE(write_file_atomic(path, as_bytes(text)));
    return path;
  }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 512> buffer{};
  while (fgets(buffer.data(), static_cast<int>(buffer.size()), pipe) != nullptr) {
    result.output += buffer.data();
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline bool executable(const std::string& path) {
  return access(path.c_str(), X_OK) == 0;
}

}  // namespace vouchsafe::pki::testing
