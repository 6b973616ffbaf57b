// JSON codec: the published example vouchers and voucher-requests, and strictness.
#include "voucher/json_codec.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace vouchsafe::voucher {
namespace {

using testing::read_vector;

Voucher decode_vector(const std::string& path) {
  auto v = decode_json(read_vector(path));
  EXPECT_TRUE(v) << path << ": " << (v ? "" : v.error().message);
  return v ? *v : Voucher{};
}

TEST(JsonCodec, DecodesTheRfc8366EphemeralVoucher) {
  const Voucher v = decode_vector("rfc8366/s5.2-example1-ephemeral-voucher.json");
  EXPECT_EQ(v.kind, ArtifactKind::voucher);
  EXPECT_EQ(v.assertion, Assertion::logged);
  EXPECT_EQ(v.serial_number, "JADA123456789");
  EXPECT_EQ(format_date_time(*v.created_on), "2016-10-07T19:31:42Z");
  ASSERT_TRUE(v.nonce);
}

TEST(JsonCodec, ToleratesTheStringBooleanOfRfc8366Example2) {
  const Voucher v = decode_vector("rfc8366/s5.2-example2-nonceless-voucher.json");
  EXPECT_EQ(v.domain_cert_revocation_checks, true);
  EXPECT_TRUE(v.expires_on);
  EXPECT_FALSE(v.nonce);
}

TEST(JsonCodec, DecodesEvery8366bisExample) {
  decode_vector("rfc8366bis/s7.2-example1-ephemeral-voucher.json");
  decode_vector("rfc8366bis/s7.2-example2-nonceless-voucher.json");
  const Voucher v = decode_vector("rfc8366bis/s7.2-example3-extension-voucher.json");
  ASSERT_TRUE(v.extensions);
  EXPECT_EQ(std::get<std::string>(v.extensions->at(0)), "example-my-extension");
}

TEST(JsonCodec, DecodesTheRfc8995VoucherRequestExamples) {
  const Voucher pvr = decode_vector("rfc8995/s3.3-example1-pledge-voucher-request.json");
  EXPECT_EQ(pvr.kind, ArtifactKind::voucher_request);
  EXPECT_TRUE(pvr.proximity_registrar_cert);
  const Voucher rvr = decode_vector("rfc8995/s3.3-example2-registrar-voucher-request.json");
  EXPECT_TRUE(rvr.prior_signed_voucher_request);
  EXPECT_TRUE(rvr.idevid_issuer);
  const Voucher offline = decode_vector("rfc8995/s3.3-example3-offline-voucher-request.json");
  EXPECT_FALSE(offline.nonce);
  decode_vector("rfc8995/s5.6-example-voucher.json");
}

TEST(JsonCodec, TreatsTheBase64urlNonceOfRfc8995AsOpaque) {
  const Voucher v = decode_vector("rfc8995/C.2.3-voucher_00-D0-E5-F2-00-02.derived.payload.json");
  ASSERT_TRUE(v.nonce);
  EXPECT_EQ(base64url_encode(*v.nonce), "-_XE9zK9q8Ll1qylMtLKeg");
  EXPECT_EQ(v.assertion, Assertion::logged);
  EXPECT_EQ(v.created_on->offset_minutes, -4 * 60);
}

// tests/vectors/nonce-spellings.json: how pledges spell nonces.
nlohmann::json nonce_spellings() {
  std::ifstream in(std::string(VOUCHSAFE_SOURCE_DIR) + "/tests/vectors/nonce-spellings.json");
  return nlohmann::json::parse(in);
}

Voucher voucher_with_nonce(const std::string& nonce_text) {
  const std::string text =
      R"({"ietf-voucher:voucher":{"serial-number":"A","nonce":")" + nonce_text + R"("}})";
  auto v = decode_json(to_bytes(text));
  EXPECT_TRUE(v) << nonce_text << ": " << (v ? "" : v.error().message);
  return v ? *v : Voucher{};
}

TEST(JsonCodec, WritesEveryNonceBackExactlyAsItWasSpelled) {
  const auto cases = nonce_spellings()["cases"];
  ASSERT_GE(cases.size(), 5U);
  for (const auto& c : cases) {
    const std::string text = c["text"];
    const Voucher v = voucher_with_nonce(text);
    ASSERT_TRUE(v.nonce) << text;
    EXPECT_EQ(hex_encode(*v.nonce), c["bytes"]) << text << ": " << c["why"];
    const auto written = nlohmann::json::parse(encode_json(v));
    EXPECT_EQ(written["ietf-voucher:voucher"]["nonce"], text) << c["why"];
  }
}

TEST(JsonCodec, ComparesNoncesByTheirBytesNotTheirSpelling) {
  const Voucher padded = voucher_with_nonce("+/XE9zK9q8Ll1qylMtLKeg==");
  const Voucher url = voucher_with_nonce("-_XE9zK9q8Ll1qylMtLKeh");
  EXPECT_EQ(padded.nonce, url.nonce);
  EXPECT_EQ(padded, url);
  EXPECT_NE(padded, voucher_with_nonce("not base64 at all!"));
}

TEST(JsonCodec, WritesBase64WhenTheSpellingNoLongerMatchesTheBytes) {
  Voucher v = voucher_with_nonce("-_XE9zK9q8Ll1qylMtLKeg");
  v.nonce = Bytes(8, 0xff);  // changed in code after it was read
  const auto written = nlohmann::json::parse(encode_json(v));
  EXPECT_EQ(written["ietf-voucher:voucher"]["nonce"], "//////////8=");
}

TEST(JsonCodec, TheEnrollingExtensionIsAModuleQualifiedMemberListedInExtensions) {
  Voucher v;
  v.kind = ArtifactKind::voucher_request;
  v.serial_number = "WG-F1-1";
  v.enrolling = EnrollingExtension{Bytes{1, 2}, Bytes{3, 4}, Bytes{5, 6}};
  const auto written = nlohmann::json::parse(encode_json(v));
  const auto& body = written["ietf-voucher-request:voucher"];
  EXPECT_EQ(body["extensions"], nlohmann::json::array({"vouchsafe-enrolling"}));
  EXPECT_EQ(body["vouchsafe-enrolling:enrolling"]["device-key"], "AQI=");
  auto back = decode_json(encode_json(v));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->enrolling, v.enrolling);

  auto unknown_leaf = decode_json(to_bytes(std::string(
      R"({"ietf-voucher:voucher":{"serial-number":"A","extensions":["vouchsafe-enrolling"],)"
      R"("vouchsafe-enrolling:enrolling":{"device-key":"AQI=","extra":"AA=="}}})")));
  ASSERT_FALSE(unknown_leaf);
  EXPECT_EQ(unknown_leaf.error().code, ErrorCode::unknown_leaf);
  auto missing = decode_json(
      to_bytes(std::string(R"({"ietf-voucher:voucher":{"serial-number":"A",)"
                           R"("vouchsafe-enrolling:enrolling":{"device-key":"AQI="}}})")));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::missing_leaf);
}

TEST(JsonCodec, RoundTripsEveryLeafOfAVoucherRequest) {
  Voucher v;
  v.kind = ArtifactKind::voucher_request;
  v.created_on = *parse_date_time("2024-01-02T03:04:05.5+01:00");
  v.expires_on = *parse_date_time("2025-01-02T03:04:05Z");
  v.assertion = Assertion::agent_proximity;
  v.serial_number = "SN-1";
  v.idevid_issuer = Bytes{1, 2, 3};
  v.pinned_domain_cert = Bytes{4, 5};
  v.domain_cert_revocation_checks = false;
  v.nonce = Bytes(16, 7);
  v.last_renewal_date = *parse_date_time("2024-06-01T00:00:00Z");
  v.pinned_domain_pubk = Bytes{8};
  v.pinned_domain_pubk_sha256 = Bytes(32, 9);
  v.est_domain = "est.example.com";
  v.additional_configuration_url = "https://config.example.com/";
  v.extensions = std::vector<ExtensionName>{std::string("ext-a"), std::uint64_t{42}};
  v.manufacturer_proprietary = Bytes{10};
  v.prior_signed_voucher_request = Bytes{11, 12};
  v.proximity_registrar_cert = Bytes{13};
  v.proximity_registrar_pubk = Bytes{14};
  v.proximity_registrar_pubk_sha256 = Bytes(32, 15);
  v.agent_signed_data = Bytes{16};
  v.agent_provided_proximity_registrar_cert = Bytes{17};
  v.agent_sign_cert = std::vector<Bytes>{{18}, {19, 20}};
  auto back = decode_json(encode_json(v));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, v);
}

struct Rejection {
  const char* name;
  const char* json;
  ErrorCode code;
};

class JsonRejects : public ::testing::TestWithParam<Rejection> {};

TEST_P(JsonRejects, WithItsSpecificError) {
  auto v = decode_json(as_bytes(GetParam().json));
  ASSERT_FALSE(v) << GetParam().name;
  EXPECT_EQ(v.error().code, GetParam().code)
      << GetParam().name << ": " << error_code_name(v.error().code) << " " << v.error().message;
}

constexpr const char* k_ok_prefix = R"({"ietf-voucher:voucher":{"serial-number":"A",)";

INSTANTIATE_TEST_SUITE_P(
    Table, JsonRejects,
    ::testing::Values(
        Rejection{"not json", "{\"ietf-voucher:voucher\":", ErrorCode::malformed_json},
        Rejection{"duplicate member",
                  R"({"ietf-voucher:voucher":{"serial-number":"A","serial-number":"B"}})",
                  ErrorCode::duplicate_member},
        Rejection{"unknown leaf",
                  R"({"ietf-voucher:voucher":{"serial-number":"A","colour":"red"}})",
                  ErrorCode::unknown_leaf},
        Rejection{
            "request leaf in a voucher",
            R"({"ietf-voucher:voucher":{"serial-number":"A","proximity-registrar-cert":"AAAA"}})",
            ErrorCode::unknown_leaf},
        Rejection{"unknown module", R"({"acme:voucher":{"serial-number":"A"}})",
                  ErrorCode::unknown_leaf},
        Rejection{"missing serial", R"({"ietf-voucher:voucher":{"assertion":"logged"}})",
                  ErrorCode::missing_leaf},
        Rejection{"serial as number", R"({"ietf-voucher:voucher":{"serial-number":12}})",
                  ErrorCode::wrong_type},
        Rejection{
            "boolean as number",
            R"({"ietf-voucher:voucher":{"serial-number":"A","domain-cert-revocation-checks":1}})",
            ErrorCode::wrong_type},
        Rejection{
            "invalid date",
            R"({"ietf-voucher:voucher":{"serial-number":"A","created-on":"2021-13-01T00:00:00Z"}})",
            ErrorCode::invalid_date},
        Rejection{"unknown assertion",
                  R"({"ietf-voucher:voucher":{"serial-number":"A","assertion":"trusted"}})",
                  ErrorCode::invalid_value},
        Rejection{
            "nonce too long",
            R"({"ietf-voucher:voucher":{"serial-number":"A","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}})",
            ErrorCode::invalid_value},
        Rejection{
            "nonce with expires-on",
            R"({"ietf-voucher:voucher":{"serial-number":"A","nonce":"AAAAAAAAAAA=","expires-on":"2030-01-01T00:00:00Z"}})",
            ErrorCode::nonce_with_expiry},
        Rejection{
            "bad base64 certificate",
            R"({"ietf-voucher:voucher":{"serial-number":"A","pinned-domain-cert":"not base64!"}})",
            ErrorCode::malformed_base64},
        Rejection{
            "deep nesting",
            R"({"ietf-voucher:voucher":{"serial-number":"A","extensions":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}})",
            ErrorCode::nesting_too_deep},
        Rejection{"container not an object", R"({"ietf-voucher:voucher":[1]})",
                  ErrorCode::wrong_type}),
    [](const auto& test_info) {
      std::string n = test_info.param.name;
      for (auto& c : n)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return n;
    });

}  // namespace
}  // namespace vouchsafe::voucher
