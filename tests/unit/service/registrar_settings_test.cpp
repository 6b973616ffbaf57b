// registrar.toml: what `registrar init` writes reads back; every key is
// known, typed and range-checked; and the registrar's HTTP routes.
#include "service/registrar_settings.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "service/registrar_binding.h"

namespace vouchsafe::service {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class RegistrarSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() /
            ("vs-registrar-settings-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(home_ / "certs");
    fs::create_directories(home_ / "keys");
    for (const char* f : {"certs/registrar.pem", "keys/registrar.key.pem", "certs/domain-ca.pem",
                          "keys/domain-ca.key.pem", "maker.pem"}) {
      std::ofstream(home_ / f) << "placeholder\n";
    }
  }
  void TearDown() override { fs::remove_all(home_); }

  [[nodiscard]] RegistrarSettings initial() const {
    auto s = initial_registrar_settings(home_.string());
    s.manufacturer_anchors = {(home_ / "maker.pem").string()};
    s.masa_allowed = {"masa.example.com:443"};
    return s;
  }
  fs::path home_;
};

TEST_F(RegistrarSettingsTest, WhatInitWritesReadsBackTheSame) {
  auto s = initial();
  s.accepted_domains = {"BduJhdHPpfhQLyponf48JzXSGZ8="};
  s.max_arbitrary_truncation = 3;
  s.ldevid_validity = 90 * 24h;
  s.ldevid_key_type = crypto::KeyType::p384;
  s.masa_override_url = "https://127.0.0.1:8443";
  const auto text = registrar_settings_text(s);
  auto read = parse_registrar_settings(text, "registrar.toml");
  ASSERT_TRUE(read) << read.error().message << "\n" << text;
  EXPECT_EQ(*read, s);
  // The audit-log policy is written with its defaults, so that an owner
  // sees what it refuses.
  EXPECT_NE(text.find("allow_other_domains = false"), std::string::npos) << text;
  EXPECT_NE(text.find("max_arbitrary_truncation = 3"), std::string::npos);
}

TEST_F(RegistrarSettingsTest, AnUnknownOrBadKeyIsNamedWithItsLine) {
  const auto text = registrar_settings_text(initial());
  const auto refused = [&](const std::string& edited, const std::string& says) {
    auto read = parse_registrar_settings(edited, "registrar.toml");
    ASSERT_FALSE(read) << edited;
    EXPECT_NE(read.error().message.find(says), std::string::npos) << read.error().message;
  };
  auto unknown = text;
  unknown.insert(unknown.find("[audit_log]\n") + 12, "alow_other_domains = true\n");
  refused(unknown, "[audit_log] alow_other_domains: unknown key");
  auto bad_masa = text;
  bad_masa.replace(bad_masa.find("\"masa.example.com:443\""), 22, "\"https://masa/x\"");
  refused(bad_masa, "[masa] allowed");
  auto bad_override = text;
  bad_override.replace(bad_override.find("override_url = \"\""), 17, "override_url = \"http://x\"");
  refused(bad_override, "[masa] override_url");
  auto bad_type = text;
  bad_type.replace(bad_type.find("key_type = \"p256\""), 17, "key_type = \"rsa\"");
  refused(bad_type, "[enroll] key_type");
}

TEST(RegistrarRoutes, MapEachPathAndMethodToItsEndpoint) {
  EXPECT_EQ(route_registrar("POST", "/.well-known/brski/requestvoucher").endpoint,
            registrar::Endpoint::request_voucher);
  EXPECT_EQ(route_registrar("GET", "/.well-known/est/cacerts?x=1").endpoint,
            registrar::Endpoint::cacerts);
  EXPECT_EQ(route_registrar("POST", "/.well-known/est/simplereenroll").endpoint,
            registrar::Endpoint::simple_reenroll);
  const auto wrong = route_registrar("POST", "/.well-known/est/csrattrs");
  EXPECT_FALSE(wrong.endpoint);
  EXPECT_EQ(wrong.refusal.status, 405);
  ASSERT_EQ(wrong.refusal.headers.size(), 1U);
  EXPECT_EQ(wrong.refusal.headers[0].second, "GET");
  const auto unknown = route_registrar("POST", "/.well-known/brski/requestauditlog");
  EXPECT_EQ(unknown.refusal.status, 404);
  EXPECT_EQ(unknown.refusal.log_error, "unknown_endpoint");
}

}  // namespace
}  // namespace vouchsafe::service
