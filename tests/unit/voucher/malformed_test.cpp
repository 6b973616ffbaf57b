// The table of malformed and hostile inputs: each is rejected by the one
// verification API with its specific error, and by `vouchsafe voucher
// verify` with exit code 1 and that error's name.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/file.h"
#include "crypto/signer.h"
#include "support/test_support.h"
#include "voucher/artifact.h"
#include "voucher/cms.h"
#include "voucher/cose.h"
#include "voucher/jws.h"

namespace vouchsafe::voucher {
namespace {

struct Case {
  std::string name;
  Bytes input;
  ErrorCode expected;
};

Bytes replace_first(Bytes data, const Bytes& from, const Bytes& to) {
  auto it = std::search(data.begin(), data.end(), from.begin(), from.end());
  EXPECT_NE(it, data.end()) << "pattern not found";
  if (it != data.end()) std::copy(to.begin(), to.end(), it);
  return data;
}

// Flips one bit in the last byte of the last occurrence of marker.
Bytes flip_in(Bytes data, const Bytes& marker) {
  auto it = std::find_end(data.begin(), data.end(), marker.begin(), marker.end());
  EXPECT_NE(it, data.end()) << "marker not found";
  if (it != data.end()) *(it + static_cast<std::ptrdiff_t>(marker.size()) - 1) ^= 0x01;
  return data;
}

// Changes one base64url character inside the JWS payload.
Bytes tamper_jws_payload(Bytes data, const std::string& payload_b64) {
  const std::string chunk = payload_b64.substr(20, 4);
  std::string changed = chunk;
  changed[1] = changed[1] == 'A' ? 'B' : 'A';
  return replace_first(std::move(data), to_bytes(chunk), to_bytes(changed));
}

Bytes truncated(const Bytes& data) {
  return {data.begin(), data.begin() + data.size() / 2};
}

// A voucher JSON payload with one leaf spliced in by text.
Bytes json_payload(const std::string& extra) {
  return to_bytes(R"({"ietf-voucher:voucher":{"serial-number":"MALFORMED-1",)"
                  R"("created-on":"2026-01-01T00:00:00Z")" +
                  extra + "}}");
}

class MalformedInputs : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = testing::make_test_pki();
    other_ = testing::make_test_pki();
    auto ours = testing::signing_identity(pki_);
    signer_ = std::move(ours.signer);
    identity_ = std::move(ours.identity);
    other_signer_ = std::move(testing::signing_identity(other_).signer);
  }

  Bytes cms(ByteView payload) { return *sign_cms(payload, identity_); }
  Bytes cose(ByteView payload) { return *sign_cose(payload, identity_); }
  Bytes jws(ByteView payload) { return *sign_jws(payload, identity_); }

  std::vector<Case> cases() {
    const Bytes good_json = json_payload("");
    // {2451: {11: "A"}} and variants, written out by hand.
    const Bytes cbor_ok = {0xA1, 0x19, 0x09, 0x93, 0xA1, 0x0B, 0x61, 0x41};
    const Bytes cbor_unknown_key = {0xA1, 0x19, 0x09, 0x93, 0xA2, 0x0B,
                                    0x61, 0x41, 0x18, 0x63, 0x01};
    const Bytes cbor_duplicate_key = {0xA1, 0x19, 0x09, 0x93, 0xA2, 0x0B,
                                      0x61, 0x41, 0x0B, 0x61, 0x42};

    SigningIdentity mismatched = identity_;  // another key behind our certificate
    mismatched.signer = other_signer_.get();
    SigningIdentity foreign;
    foreign.signer = other_signer_.get();
    foreign.chain = {crypto::make_certificate_ref(crypto::share(other_.signer.get())),
                     crypto::make_certificate_ref(crypto::share(other_.root.get()))};
    SigningIdentity bare;  // no certificate at all
    bare.signer = signer_.get();

    // OID 1.2.840.113549.1.9.16.1.40 (id-ct-animaJSONVoucher) and 1.2.840.113549.1.7.2.
    const Bytes voucher_oid = {0x06, 0x0B, 0x2A, 0x86, 0x48, 0x86, 0xF7,
                               0x0D, 0x01, 0x09, 0x10, 0x01, 0x28};
    const Bytes other_oid = {0x06, 0x0B, 0x2A, 0x86, 0x48, 0x86, 0xF7,
                             0x0D, 0x01, 0x09, 0x10, 0x01, 0x29};
    const Bytes signed_data_oid = {0x06, 0x09, 0x2A, 0x86, 0x48, 0x86,
                                   0xF7, 0x0D, 0x01, 0x07, 0x02};
    const Bytes enveloped_oid = {0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x03};

    const std::string none_header = base64url_encode(as_bytes(R"({"alg":"none"})"));
    const std::string payload_b64 = base64url_encode(good_json);

    return {
        {"empty input", {}, ErrorCode::unknown_form},
        {"plain text", to_bytes("hello, MASA"), ErrorCode::unknown_form},
        {"oversize input", Bytes(70 * 1024, 0x30), ErrorCode::input_too_large},
        {"cms truncated", truncated(cms(good_json)), ErrorCode::malformed_der},
        {"cms wrong outer content type",
         replace_first(cms(good_json), signed_data_oid, enveloped_oid),
         ErrorCode::wrong_content_type},
        {"cms wrong eContentType", replace_first(cms(good_json), voucher_oid, other_oid),
         ErrorCode::wrong_content_type},
        {"cms tampered payload", flip_in(cms(good_json), to_bytes("MALFORMED-1")),
         ErrorCode::bad_signature},
        {"cms signed by another key", *sign_cms(good_json, mismatched), ErrorCode::bad_signature},
        {"cms chain to another anchor", *sign_cms(good_json, foreign), ErrorCode::untrusted_chain},
        {"cms payload not json", cms(to_bytes("not json")), ErrorCode::malformed_json},
        {"cms duplicate json member", cms(json_payload(R"(,"serial-number":"AGAIN")")),
         ErrorCode::duplicate_member},
        {"cms unknown leaf", cms(json_payload(R"(,"colour":"blue")")), ErrorCode::unknown_leaf},
        {"cms wrong json type", cms(json_payload(R"(,"assertion":2)")), ErrorCode::wrong_type},
        {"cms invalid date", cms(json_payload(R"(,"expires-on":"2026-02-30T00:00:00Z")")),
         ErrorCode::invalid_date},
        {"cms nonce too long",
         cms(json_payload(R"(,"nonce":")" + base64_encode(Bytes(33, 1)) + "\"")),
         ErrorCode::invalid_value},
        {"cms nonce with expires-on",
         cms(json_payload(R"(,"nonce":"AAAAAAAAAAAAAAAA","expires-on":"2027-01-01T00:00:00Z")")),
         ErrorCode::nonce_with_expiry},
        {"cms missing serial-number",
         cms(to_bytes(R"({"ietf-voucher:voucher":{"assertion":"logged"}})")),
         ErrorCode::missing_leaf},
        {"cms deep nesting",
         cms(json_payload(R"(,"extensions":)" + std::string(40, '[') + std::string(40, ']'))),
         ErrorCode::nesting_too_deep},
        {"cose truncated", truncated(cose(cbor_ok)), ErrorCode::malformed_cbor},
        {"cose wrong tag", replace_first(cose(cbor_ok), {0xD2}, {0xD1}), ErrorCode::unknown_form},
        {"cose tampered payload", flip_in(cose(cbor_ok), cbor_ok), ErrorCode::bad_signature},
        {"cose signed by another key", *sign_cose(cbor_ok, mismatched), ErrorCode::bad_signature},
        {"cose chain to another anchor", *sign_cose(cbor_ok, foreign), ErrorCode::untrusted_chain},
        {"cose unsupported algorithm",
         replace_first(cose(cbor_ok), {0xA1, 0x01, 0x26}, {0xA1, 0x01, 0x20}),
         ErrorCode::unsupported_algorithm},
        {"cose unknown key", cose(cbor_unknown_key), ErrorCode::unknown_leaf},
        {"cose duplicate key", cose(cbor_duplicate_key), ErrorCode::duplicate_member},
        {"jws tampered payload", tamper_jws_payload(jws(good_json), payload_b64),
         ErrorCode::bad_signature},
        {"jws signed by another key", *sign_jws(good_json, mismatched), ErrorCode::bad_signature},
        {"jws chain to another anchor", *sign_jws(good_json, foreign), ErrorCode::untrusted_chain},
        {"jws without a certificate", *sign_jws(good_json, bare), ErrorCode::unknown_signer},
        {"jws alg none",
         to_bytes(R"({"payload":")" + payload_b64 + R"(","signatures":[{"protected":")" +
                  none_header + R"(","signature":""}]})"),
         ErrorCode::unsupported_algorithm},
        {"jws bad base64url",
         to_bytes(R"({"payload":"***","signatures":[{"protected":")" + none_header +
                  R"(","signature":"AA"}]})"),
         ErrorCode::malformed_base64},
        {"jws duplicate member", to_bytes(R"({"payload":"a","payload":"b","signatures":[]})"),
         ErrorCode::duplicate_member},
    };
  }

  TrustPolicy policy() const {
    std::vector<crypto::X509Ptr> anchors;
    anchors.push_back(crypto::share(pki_.root.get()));
    return TrustPolicy::with_anchors(std::move(anchors));
  }

  testing::TestPki pki_;
  testing::TestPki other_;
  std::unique_ptr<crypto::SoftwareSigner> signer_;
  std::unique_ptr<crypto::SoftwareSigner> other_signer_;
  SigningIdentity identity_;
};

TEST_F(MalformedInputs, AreEachRejectedWithTheirSpecificError) {
  const auto table = cases();
  ASSERT_GE(table.size(), 25U);
  const auto trust = policy();
  for (const auto& c : table) {
    auto result = verify_artifact(c.input, trust);
    ASSERT_FALSE(result) << c.name << " was accepted";
    EXPECT_EQ(result.error().code, c.expected)
        << c.name << ": got " << error_code_name(result.error().code) << " ("
        << result.error().message << ")";
  }
}

TEST_F(MalformedInputs, MakeTheCliExitWithCodeOneAndNameTheError) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("vouchsafe-malformed-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto anchor = dir / "anchor.pem";
  std::ofstream(anchor) << crypto::certificate_pem(pki_.root.get());
  int index = 0;
  for (const auto& c : cases()) {
    const auto input = dir / ("case" + std::to_string(index++));
    ASSERT_TRUE(write_file_atomic(input.string(), c.input));
    const auto err = dir / "stderr";
    const std::string cmd = std::string(VOUCHSAFE_CLI) + " voucher verify --anchor " +
                            anchor.string() + " " + input.string() + " >/dev/null 2>" +
                            err.string();
    const int status = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(status)) << c.name;
    EXPECT_EQ(WEXITSTATUS(status), 1) << c.name;
    auto text = read_file(err.string());
    ASSERT_TRUE(text);
    const std::string message(text->begin(), text->end());
    EXPECT_NE(message.find("[" + std::string(error_code_name(c.expected)) + "]"), std::string::npos)
        << c.name << ": " << message;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vouchsafe::voucher
