// vouchsafe.toml: what `pki init` writes reads back, and every key is known,
// typed and range-checked, a bad one named with its file and line.
#include <gtest/gtest.h>

#include "factory/home.h"

namespace vouchsafe::factory {
namespace {

std::string refusal(const std::string& text) {
  auto c = parse_config(text, "vouchsafe.toml");
  if (c) {
    ADD_FAILURE() << "accepted:\n" << text;
    return {};
  }
  EXPECT_EQ(c.error().code, ErrorCode::usage);
  return c.error().message;
}

// The default file with one more line after `after`.
std::string with(const std::string& after, const std::string& line) {
  auto text = default_config_text("Acme", "masa.acme.example:443");
  const auto at = text.find(after);
  EXPECT_NE(at, std::string::npos) << after;
  return text.insert(text.find('\n', at) + 1, line + "\n");
}

TEST(FactoryConfigFile, WhatInitWritesReadsBackWithQuotesAndBackslashes) {
  const std::string organization = R"(Acme "Quoted" \ Devices)";
  const auto text = default_config_text(organization, "masa.acme.example:443");
  auto c = parse_config(text, "vouchsafe.toml");
  ASSERT_TRUE(c) << c.error().message << "\n" << text;
  EXPECT_EQ(c->organization, organization);
  EXPECT_EQ(c->masa_url, "masa.acme.example:443");
  EXPECT_EQ(c->idevid_common_name, "{serial}");
  ASSERT_EQ(c->products.size(), 1U);
  const auto& widget = c->products.at("widget");
  EXPECT_EQ(widget.name, "widget");
  EXPECT_EQ(widget.hw_type_oid, "1.3.6.1.4.1.99999.1.1");
  EXPECT_EQ(widget.serial_prefix, "WG");
  // Products added by hand after the generated file are read too.
  c = parse_config(text +
                       "\n[products.highway]\nhw_type = \"1.3.6.1.4.1.99999.2.1\"\n"
                       "serial_prefix = \"HW\"\n",
                   "vouchsafe.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->products.at("highway").serial_prefix, "HW");
}

// What `pki init` wrote before the schema: still read.
TEST(FactoryConfigFile, AFileFromBeforeTheSchemaStillReads) {
  auto c = parse_config(
      "# Vouchsafe manufacturer configuration.\n\n[pki]\norganization = \"Test Devices\"\n"
      "masa_url = \"127.0.0.1\"\n\n[idevid]\norganizational_unit = \"\"\ncommon_name = "
      "\"{serial}\"\n\n[issuing_ca]\nmax_certificates = 0\nmax_age_days = 0\n\n"
      "[products.widget]\nhw_type = \"1.3.6.1.4.1.99999.1.1\"\nserial_prefix = \"WG\"\n",
      "vouchsafe.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->organization, "Test Devices");
}

TEST(FactoryConfigFile, AMisspelledKeyOrSectionIsRefusedWithItsLine) {
  EXPECT_EQ(refusal(with("[pki]", "organisation = \"Acme\"")),
            "vouchsafe.toml:5: [pki] organisation: unknown key; did you mean organization?");
  const auto text = default_config_text("Acme", "masa.acme.example:443") + "[idevids]\n";
  EXPECT_NE(refusal(text).find(": [idevids]: unknown section; did you mean [idevid]?"),
            std::string::npos);
}

TEST(FactoryConfigFile, ValuesOfTheWrongTypeOrOutOfRangeAreRefused) {
  struct Case {
    std::string after, line, expected;
  };
  const Case cases[] = {
      {"[issuing_ca]", "max_certificates = \"10\"",
       "[issuing_ca] max_certificates: expected an integer from 0 to 1000000000000, got a string, "
       "\"10\""},
      {"[issuing_ca]", "max_age_days = -1",
       "[issuing_ca] max_age_days: expected an integer from 0 to 36500, got -1"},
      {"[pki]", "masa_url = \"https://masa.example.com/\"",
       "[pki] masa_url: expected an authority such as \"masa.example.com:443\", at most 255 "
       "printable characters, got \"https://masa.example.com/\" (a URL, not an authority: drop "
       "the scheme and the path)"},
      {"[pki]", "organization = \"\"", "[pki] organization: expected a string of 1 to 64"},
      {"[idevid]", "common_name = 5", "[idevid] common_name: expected a string of at most 64"},
  };
  for (const auto& c : cases) {
    // Each replaces the generated key of the same name.
    auto text = with(c.after, c.line);
    const auto key = c.line.substr(0, c.line.find(' '));
    const auto second = text.find("\n" + key + " = ", text.find(c.line) + c.line.size());
    ASSERT_NE(second, std::string::npos) << key;
    text.insert(second + 1, "# ");
    const auto message = refusal(text);
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.line << "\n" << message;
  }
}

TEST(FactoryConfigFile, ProductsNeedAnOidAndAPrefixOfTheirOwn) {
  const auto base = default_config_text("Acme", "masa.acme.example:443");
  EXPECT_NE(refusal(base + "[products.gadget]\nserial_prefix = \"GD\"\n")
                .find("[products.gadget] hw_type: missing; expected a dotted OID"),
            std::string::npos);
  EXPECT_NE(refusal(base + "[products.gadget]\nhw_type = \"1.3.6.x\"\nserial_prefix = \"GD\"\n")
                .find("[products.gadget] hw_type: expected a dotted OID such as "
                      "\"1.3.6.1.4.1.99999.1.1\", got \"1.3.6.x\" (not a dotted OID)"),
            std::string::npos);
  EXPECT_NE(refusal(base + "[products.gadget]\nhw_type = \"1.3.6.1\"\nserial_prefix = \"G-D\"\n")
                .find("[products.gadget] serial_prefix: expected 1 to 16 letters and digits"),
            std::string::npos);
  EXPECT_NE(refusal(base + "[products.gadget]\nhw_type = \"1.3.6.1\"\nserial_prefix = \"GD\"\n"
                           "hwtype = \"1.3\"\n")
                .find("[products.gadget] hwtype: unknown key; did you mean hw_type?"),
            std::string::npos);
  const auto overlap = base + "[products.wgx]\nhw_type = \"1.3.6.1\"\nserial_prefix = \"WGX\"\n";
  const auto line = std::count(overlap.begin(), overlap.end(), '\n');
  EXPECT_EQ(refusal(overlap), "vouchsafe.toml:" + std::to_string(line) +
                                  ": [products.wgx] serial_prefix: \"WGX\" and \"WG\" of "
                                  "[products.widget] overlap; each product needs a prefix of its "
                                  "own");
}

TEST(FactoryConfigFile, InitFlagsPassTheSameChecksAndNameTheFlag) {
  EXPECT_TRUE(check_init_values("Acme", "masa.acme.example:443"));
  EXPECT_EQ(check_init_values(std::string(65, 'x'), "masa.acme.example")
                .error()
                .message.rfind("--organization: expected a string of 1 to 64 characters", 0),
            0U);
  EXPECT_EQ(check_init_values("Acme", "https://masa.acme.example")
                .error()
                .message.rfind("--masa-url: expected an authority", 0),
            0U);
}

}  // namespace
}  // namespace vouchsafe::factory
