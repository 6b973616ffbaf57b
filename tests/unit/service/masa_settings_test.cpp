// masa.toml: what `masa init` writes reads back; every key is known, typed
// and range-checked, and a bad one is named with its file and line.
#include "service/masa_settings.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace vouchsafe::service {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class MasaSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A home whose path needs escaping in TOML: a quote and a backslash.
    dir_ = fs::temp_directory_path() /
           ("vs-masa-settings-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    home_ = dir_ / "home \"quoted\" back\\slash";
    fs::create_directories(home_ / "masa");
    for (const char* f :
         {"tls.pem", "tls.key.pem", "signing.key.pem", "signing.pem", "masa-ca.pem"}) {
      std::ofstream(home_ / "masa" / f) << "placeholder\n";
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  [[nodiscard]] MasaSettings initial() const {
    return initial_masa_settings(home_.string(), (home_ / "masa").string());
  }
  [[nodiscard]] std::string initial_text() const { return masa_settings_text(initial()); }

  // The generated file with `line` replaced (matched by its key) or added to
  // `section`.
  [[nodiscard]] std::string with(const std::string& section, const std::string& line) const {
    auto text = initial_text();
    const auto key = line.substr(0, line.find(' '));
    if (const auto at = text.find("\n" + key + " = "); at != std::string::npos) {
      const auto end = text.find('\n', at + 1);
      return text.replace(at + 1, end - at - 1, line);
    }
    const auto header = text.find("[" + section + "]\n");
    EXPECT_NE(header, std::string::npos) << section;
    return text.insert(header + section.size() + 3, line + "\n");
  }

  // The line of `text` that `needle` starts, 1-based.
  static std::size_t line_of(const std::string& text, const std::string& needle) {
    const auto at = text.find(needle);
    EXPECT_NE(at, std::string::npos) << needle;
    return static_cast<std::size_t>(std::count(text.begin(), text.begin() + at, '\n')) + 1;
  }

  // The refusal of `text`, or a failure if it was accepted.
  static std::string refusal(const std::string& text) {
    auto s = parse_masa_settings(text, "masa.toml");
    if (s) {
      ADD_FAILURE() << "accepted:\n" << text;
      return {};
    }
    EXPECT_EQ(s.error().code, ErrorCode::usage);
    return s.error().message;
  }

  fs::path dir_, home_;
};

TEST_F(MasaSettingsTest, WhatInitWritesReadsBackWithAHomePathThatNeedsEscaping) {
  const auto text = initial_text();
  auto s = parse_masa_settings(text, "masa.toml");
  ASSERT_TRUE(s) << s.error().message << "\n" << text;
  EXPECT_EQ(s->home, home_.string());
  EXPECT_EQ(s->tls_certificate, (home_ / "masa" / "tls.pem").string());
  EXPECT_EQ(s->signing_chain, (home_ / "masa" / "masa-ca.pem").string());
  EXPECT_EQ(s->listen, (Listener{"127.0.0.1", 8443}));
  EXPECT_EQ(s->admin, (Listener{"127.0.0.1", 8444}));
  EXPECT_EQ(s->max_nonceless_lifetime, 30 * 24h);
  EXPECT_EQ(s->read_timeout, 10s);
  EXPECT_EQ(s->threads, 0U);
  EXPECT_FALSE(s->fallback_assertion);
  // The new key only, with its unit; the comments stay.
  EXPECT_NE(text.find("\nmax_nonceless_lifetime = \"30d\"\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("max_nonceless_days"), std::string::npos) << text;
  EXPECT_EQ(text.find("_ms"), std::string::npos) << text;
  EXPECT_NE(text.find("# Worker threads; 0: one per core. Allowed: an integer from 0 to 1024.\n"
                      "threads = 0"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("[policy.products]"), std::string::npos) << text;
}

// What `masa init` wrote before the schema: still read, the same way.
TEST_F(MasaSettingsTest, AFileFromBeforeTheSchemaStillReads) {
  const auto m = (home_ / "masa").string();
  auto s = parse_masa_settings(
      "[masa]\nhome = \"\"\nstore = \"\"\npassphrase_file = \"\"\n\n"
      "[listen]\npublic = \"127.0.0.1:8443\"   # registrars\nadmin = \"127.0.0.1:8444\"\n\n"
      "[tls]\ncertificate = '" +
          m + "/tls.pem'\nkey = '" + m +
          "/tls.key.pem'\n\n"
          "[signing]\nkey = '" +
          m + "/signing.key.pem'\ncertificate = '" + m +
          "/signing.pem'\n"
          "chain = '" +
          m +
          "/masa-ca.pem'\n\n"
          "[policy]\ndefault_ownership = \"open\"\npinning = \"domain-ca\"\nfallback_assertion = "
          "\"\"\n"
          "allow_nonceless = true\nmax_nonceless_days = 7\ncustomer_anchors = []\n"
          "audit_log_max_entries = 1024\n[policy.products]               # per-product\n\n"
          "[limits]\nrate_per_second = 50\nrate_burst = 100\nmax_connections = 1024\n"
          "max_body_bytes = 65536\nread_timeout_ms = 2500\nidle_timeout_ms = 30000\nthreads = 0\n",
      "masa.toml");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->max_nonceless_lifetime, 7 * 24h);
  EXPECT_EQ(s->read_timeout, 2500ms);
  EXPECT_EQ(s->rate_per_second, 50.0);
}

TEST_F(MasaSettingsTest, AMisspelledKeyIsRefusedWithItsFileLineAndTheKeyMeant) {
  // Before the schema this was ignored, and the default "open" applied.
  const auto text = with("policy", "default_ownrship = \"known-customer\"");
  EXPECT_EQ(refusal(text), "masa.toml:" + std::to_string(line_of(text, "default_ownrship")) +
                               ": [policy] default_ownrship: unknown key; did you mean "
                               "default_ownership?");
}

// Found by fuzz_config: an empty file read as the defaults, whose key paths
// are empty, which nothing can read back.
TEST_F(MasaSettingsTest, ASectionWithRequiredKeysCannotBeLeftOut) {
  EXPECT_EQ(refusal(""),
            "masa.toml: [tls] is missing; it must set certificate, key\n"
            "masa.toml: [signing] is missing; it must set key, certificate");
}

TEST_F(MasaSettingsTest, AnUnknownSectionIsRefused) {
  const auto text = initial_text() + "\n[limit]\nthreads = 2\n";
  EXPECT_EQ(refusal(text), "masa.toml:" + std::to_string(line_of(text, "[limit]\n")) +
                               ": [limit]: unknown section; did you mean [limits]?");
}

TEST_F(MasaSettingsTest, AValueOfTheWrongTypeIsRefused) {
  const auto text = with("limits", "max_body_bytes = \"1000\"");
  EXPECT_EQ(refusal(text), "masa.toml:" + std::to_string(line_of(text, "max_body_bytes =")) +
                               ": [limits] max_body_bytes: expected an integer from 1024 to "
                               "16777216, got a string, \"1000\"");
}

TEST_F(MasaSettingsTest, LimitsOutOfRangeAreRefused) {
  struct Case {
    std::string line, expected;
  };
  const Case cases[] = {
      {"max_body_bytes = -1",
       "[limits] max_body_bytes: expected an integer from 1024 to 16777216, got -1"},
      {"max_body_bytes = 100", "got 100"},
      {"threads = -1", "[limits] threads: expected an integer from 0 to 1024, got -1"},
      {"threads = 100000", "got 100000"},
      {"max_connections = 0",
       "[limits] max_connections: expected an integer from 1 to 1000000, got 0"},
      {"rate_per_second = 0", "[limits] rate_per_second: expected a number above 0"},
      {"rate_per_second = -5.5", "got -5.5"},
      {"rate_burst = 0.5", "[limits] rate_burst: expected a number from 1 to 1000000000, got 0.5"},
      {"read_timeout = \"0s\"", "[limits] read_timeout: expected a duration from 100ms to 1h"},
      {"idle_timeout = 30000", "[limits] idle_timeout: expected a duration"},
      {"read_timeout_ms = 0", "[limits] read_timeout_ms: expected a whole number of milliseconds"},
  };
  for (const auto& c : cases) {
    const auto message = refusal(with("limits", c.line));
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.line << "\n" << message;
  }
}

TEST_F(MasaSettingsTest, PolicyValuesOutsideTheirSetsAreRefused) {
  struct Case {
    std::string line, expected;
  };
  const Case cases[] = {
      {"default_ownership = \"closed\"",
       "[policy] default_ownership: expected one of \"open\", \"known-customer\", got \"closed\""},
      {"pinning = \"root\"",
       "[policy] pinning: expected one of \"domain-ca\", \"registrar-certificate\""},
      {"fallback_assertion = \"agent-proximity\"",
       "expected one of \"\", \"verified\", \"logged\", \"proximity\""},
      {"allow_nonceless = 1",
       "[policy] allow_nonceless: expected true or false, got an integer, 1"},
      {"audit_log_max_entries = 0", "[policy] audit_log_max_entries: expected an integer from 1"},
      {"customer_anchors = [\"/nonexistent/ca.pem\"]",
       "[policy] customer_anchors[0]: expected the path of an existing file, got "
       "\"/nonexistent/ca.pem\" (no such file or directory)"},
      {"max_nonceless_lifetime = \"30\"", "[policy] max_nonceless_lifetime: expected a duration"},
      {"max_nonceless_lifetime = \"367d\"", "(out of range)"},
  };
  for (const auto& c : cases) {
    const auto message = refusal(with("policy", c.line));
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.line << "\n" << message;
  }
  auto products = initial_text();
  products.insert(products.find("[policy.products]\n") + 18, "gadget = \"maybe\"\n");
  EXPECT_NE(refusal(products).find("[policy.products] gadget: expected one of \"open\""),
            std::string::npos);
}

TEST_F(MasaSettingsTest, TheListenerRunsOnGnuTlsUnlessTheFileSaysOpenSsl) {
  EXPECT_EQ(initial().tls_library, net::TlsLibrary::gnutls);
  EXPECT_NE(initial_text().find("library = \"gnutls\""), std::string::npos);
  auto s = parse_masa_settings(with("tls", "library = \"openssl\""), "masa.toml");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->tls_library, net::TlsLibrary::openssl);
  EXPECT_NE(refusal(with("tls", "library = \"boringssl\""))
                .find("[tls] library: expected one of \"gnutls\", \"openssl\""),
            std::string::npos);
}

TEST_F(MasaSettingsTest, BalancersSendingProxyHeadersAreIpAddresses) {
  EXPECT_TRUE(initial().proxy_protocol_from.empty());
  auto s = parse_masa_settings(
      with("listen", "proxy_protocol_from = [\"10.0.0.5\", \"2001:db8::5\"]"), "masa.toml");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->proxy_protocol_from, (std::vector<std::string>{"10.0.0.5", "2001:db8::5"}));
  EXPECT_NE(refusal(with("listen", "proxy_protocol_from = [\"haproxy.local\"]"))
                .find("[listen] proxy_protocol_from[0]: expected an IPv4 or IPv6 address"),
            std::string::npos);
}

TEST_F(MasaSettingsTest, ListenersAreIpAddressesWithAPortInRange) {
  for (const auto* bad : {"localhost:8443", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1",
                          "::1:8443", "127.0.0.1:+80", "127.0.0.1: 80"}) {
    const auto message = refusal(with("listen", std::string("public = \"") + bad + "\""));
    EXPECT_NE(message.find("[listen] public: expected HOST:PORT"), std::string::npos) << bad << "\n"
                                                                                      << message;
  }
  auto s = parse_masa_settings(with("listen", "public = \"[::1]:0\""), "masa.toml");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->listen, (Listener{"::1", 0}));
  EXPECT_EQ(parse_listener("0.0.0.0:99999", "--listen").error().message,
            "--listen: expected HOST:PORT with an IPv4 address or a bracketed IPv6 one, and a port "
            "from 0 to 65535, got \"0.0.0.0:99999\" (the port is not a number from 0 to 65535)");
}

TEST_F(MasaSettingsTest, NoncelessLifetimeTakesUnitsAndTheOldKeyButNotBoth) {
  auto s = parse_masa_settings(with("policy", "max_nonceless_lifetime = \"20m\""), "masa.toml");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->max_nonceless_lifetime, 20min);

  auto text = initial_text();
  text.replace(text.find("max_nonceless_lifetime = \"30d\""), 30, "max_nonceless_days = 2");
  s = parse_masa_settings(text, "masa.toml");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->max_nonceless_lifetime, 48h);

  const auto both = with("policy", "max_nonceless_days = 30");
  EXPECT_EQ(refusal(both), "masa.toml:" + std::to_string(line_of(both, "max_nonceless_days")) +
                               ": [policy] max_nonceless_days: replaced by max_nonceless_lifetime, "
                               "which line " +
                               std::to_string(line_of(both, "max_nonceless_lifetime =")) +
                               " sets too; keep only max_nonceless_lifetime");
}

TEST_F(MasaSettingsTest, KeyFilesMustExistAndTlsAndSigningMustBeGiven) {
  auto text = initial_text();
  fs::remove(home_ / "masa" / "signing.pem");
  EXPECT_NE(refusal(text).find("[signing] certificate: expected the path of an existing file"),
            std::string::npos);
  const auto tls = text.find("\n[tls]");
  const auto signing = text.find("\n# The voucher-signing", tls);
  ASSERT_NE(signing, std::string::npos) << text;
  text.erase(text.find("\ncertificate = ", tls), 1);  // comment the key out
  EXPECT_NE(refusal(text).find("[tls] certificate: missing; expected the path of an existing file"),
            std::string::npos);
}

TEST_F(MasaSettingsTest, TheEnvironmentIsCheckedByTheSameRules) {
  const auto path = (dir_ / "masa.toml").string();
  std::ofstream(path) << initial_text();
  ::setenv("VOUCHSAFE_MASA_LISTEN", "127.0.0.1:70000", 1);
  auto s = load_masa_settings(path);
  ::unsetenv("VOUCHSAFE_MASA_LISTEN");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message.rfind("VOUCHSAFE_MASA_LISTEN: expected HOST:PORT", 0), 0U)
      << s.error().message;

  ::setenv("VOUCHSAFE_MASA_ADMIN", "127.0.0.1:9", 1);
  s = load_masa_settings(path);
  ::unsetenv("VOUCHSAFE_MASA_ADMIN");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->admin, (Listener{"127.0.0.1", 9}));
}

TEST_F(MasaSettingsTest, AMissingFileSaysHowToWriteOne) {
  auto s = load_masa_settings((dir_ / "nowhere.toml").string());
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("vouchsafe masa init"), std::string::npos);
}

}  // namespace
}  // namespace vouchsafe::service
