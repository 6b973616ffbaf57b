// The JSON reader against nlohmann's strict parser, a reader we did not
// write: both must accept and refuse the same texts and read the same values
// (except duplicate members, which only ours refuses, and nesting, which
// only ours bounds).
#include "voucher/json_reader.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "support/test_support.h"
#include "voucher/json_codec.h"

namespace vouchsafe::voucher {
namespace {

constexpr std::size_t k_deep = 512;

// nlohmann's verdict and value, or nothing when it refuses the text.
std::optional<nlohmann::json> theirs(const std::string& text) {
  if (!nlohmann::json::accept(text)) return std::nullopt;
  return nlohmann::json::parse(text);
}

// Checks one text both ways; returns whether ours accepted it.
bool agree(const std::string& text) {
  const auto ours = read_json(as_bytes(text), k_deep);
  const auto reference = theirs(text);
  if (!ours && ours.error().code == ErrorCode::duplicate_member) {
    EXPECT_TRUE(reference.has_value()) << text;  // nlohmann keeps the last one
    return false;
  }
  EXPECT_EQ(ours.has_value(), reference.has_value())
      << "text: " << text << "\nours: " << (ours ? "accepted" : ours.error().message);
  if (ours && reference) {
    auto converted = parse_strict_json(as_bytes(text), k_deep);
    EXPECT_TRUE(converted) << text;
    if (converted) {
      EXPECT_EQ(*converted, *reference) << text;
    }
  }
  return ours.has_value();
}

TEST(JsonReader, AgreesWithNlohmannOnEdgeCases) {
  const std::vector<std::string> cases = {
      // accepted
      R"({})", R"([])", R"("")", "0", "-0", "1.5e+3", "-12.0E-2", "true", "false", "null",
      " \t\r\n{ \"a\" : [ 1 , 2 ] }\n", R"({"a":{"b":{"c":[null]}}})", R"("\u00e9\u20ac")",
      R"("\ud83d\ude00")", R"("\"\\\/\b\f\n\r\t")", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
      "\xEF\xBB\xBF{}", R"("\u0000")", "18446744073709551615", "18446744073709551616",
      "-9223372036854775808", "1e308", "1e-400", "0.00001e-330", "2.5e-320", R"({"a":1,"b":2})",
      // refused
      "", " ", "{", "}", "[1,]", R"({"a":1,})", "[1 2]", R"({"a" 1})", R"({a:1})", "01", "-", "1.",
      ".5", "1e", "1e+", "+1", "tru", "nul", "True", "NaN", "Infinity", R"("abc)", "\"a\x01\"",
      R"("\x")", R"("\u12")", R"("\u12G4")", R"("\ud83d")", R"("\ude00")", R"("\ud83d\u0041")",
      "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\x80\"", "\"\xc3\"",
      "\"\xe2\x82\"", "{}{}", "[]]", "{} x", "/* c */ {}", R"({"a":1}//)", "'a'", "1e400",
      "-1.8e308", "0.001e312", "1234e305", "[\"\t\"]", "\xEF\xBB{}"};
  for (const auto& text : cases) agree(text);
}

TEST(JsonReader, AgreesWithNlohmannOnMutatedVouchers) {
  std::vector<std::string> seeds;
  for (const char* path :
       {"rfc8366/s5.2-example1-ephemeral-voucher.json",
        "rfc8995/C.2.1-pledge-voucher-request_vr_00-D0-E5-F2-00-02.derived.payload.json"}) {
    const Bytes b = testing::read_vector(path);
    seeds.emplace_back(b.begin(), b.end());
  }
  seeds.emplace_back(R"({"a":[1,-2.5e3,"\u00e9",true,false,null,{"b":"c"}]})");
  const std::string alphabet = "{}[]:,\"\\ u0123456789abcdefABCDEF.eE+-tfnrl\x80\xc3\xff\t\n";
  std::mt19937 random(20261126);  // NOLINT(cert-msc32-c,cert-msc51-cpp): fixed, to replay a failure
  std::size_t accepted = 0;
  std::size_t refused = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = seeds[random() % seeds.size()];
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = random() % text.size();
      switch (random() % 3) {
        case 0:
          text[at] = alphabet[random() % alphabet.size()];
          break;
        case 1:
          text.erase(at, 1);
          break;
        default:
          text.insert(at, 1, alphabet[random() % alphabet.size()]);
      }
    }
    (agree(text) ? accepted : refused) += 1;
    if (::testing::Test::HasFailure()) break;
  }
  // Both verdicts are exercised, not only one.
  EXPECT_GT(accepted, 1000U);
  EXPECT_GT(refused, 1000U);
}

TEST(JsonReader, RefusesDuplicateMembersInSmallAndLargeObjects) {
  for (const std::size_t n : {2U, 40U}) {
    std::string text = "{";
    for (std::size_t i = 0; i < n; ++i) text += "\"m" + std::to_string(i) + "\":" + "1,";
    text += "\"m" + std::to_string(n / 2) + "\":2}";
    const auto read = read_json(as_bytes(text), 4);
    ASSERT_FALSE(read) << n;
    EXPECT_EQ(read.error().code, ErrorCode::duplicate_member);
    EXPECT_NE(read.error().message.find("'m" + std::to_string(n / 2) + "'"), std::string::npos);
  }
}

TEST(JsonReader, BoundsTheNesting) {
  EXPECT_TRUE(read_json(as_bytes(std::string("[[[1]]]")), 3));
  const auto deep = read_json(as_bytes(std::string("[[[[1]]]]")), 3);
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().code, ErrorCode::nesting_too_deep);
  // Far past any stack: refused at the bound, not after recursing.
  const auto very = read_json(as_bytes(std::string(100000, '[')), 16);
  ASSERT_FALSE(very);
  EXPECT_EQ(very.error().code, ErrorCode::nesting_too_deep);
}

TEST(JsonReader, TellsWhereTheTextWentWrong) {
  const auto read = read_json(as_bytes(std::string(R"({"a": tru})")), 4);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, ErrorCode::malformed_json);
  EXPECT_EQ(read.error().message, "not valid JSON: not a JSON value (byte 6)");
}

}  // namespace
}  // namespace vouchsafe::voucher
