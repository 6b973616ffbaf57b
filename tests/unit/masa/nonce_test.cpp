// The nonce comes back byte for byte as the pledge spelled it (SPEC.md §1:
// pledges compare the text), whatever the registrar did to it, and the
// MASA compares the two requests' nonces by their bytes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "masa_fixture.h"
#include "voucher/json_codec.h"

namespace vouchsafe::masa::testing {
namespace {

using nlohmann::json;

// The pledge's spelling: base64url whose last character carries non-zero
// spare bits, so any re-encoding of its bytes changes the text.
const std::string k_pledge_text = "-_XE9zK9q8Ll1qylMtLKeh";
// The registrar's re-encoding of the same bytes: padded standard base64.
const std::string k_registrar_text = "+/XE9zK9q8Ll1qylMtLKeg==";

voucher::Voucher spelled(voucher::Voucher v, const std::string& text) {
  v.nonce = *base64url_decode(k_pledge_text);
  v.nonce_spelling.text = text;
  return v;
}

std::string nonce_in_json(const Bytes& signed_artifact) {
  auto opened = voucher::verify_artifact(signed_artifact, voucher::TrustPolicy::for_inspection());
  EXPECT_TRUE(opened) << opened.error().message;
  if (!opened) return "";
  return voucher::to_json(opened->payload).front().at("nonce");
}

TEST_P(MasaTest, TheVoucherCarriesThePledgesNonceTextNotTheRegistrars) {
  MasaService masa(config(), store());
  const std::string serial = device();
  for (const Form form : {Form::cms, Form::jws}) {
    const auto pvr_payload =
        spelled(pvr_fields(serial, domain_.registrar.get(), std::nullopt), k_pledge_text);
    const Bytes pvr = sign_as_device(pvr_payload, serial, form);
    ASSERT_EQ(nonce_in_json(pvr), k_pledge_text);
    auto rvr = spelled(rvr_fields(serial, std::nullopt, pvr), k_registrar_text);
    const Bytes rvr_signed = sign_as_registrar(rvr, domain_, form);
    ASSERT_EQ(nonce_in_json(rvr_signed), k_registrar_text);

    const auto response = masa.handle(voucher_request(rvr_signed, form, domain_));
    ASSERT_EQ(response.status, 200) << body_text(response);
    EXPECT_EQ(nonce_in_json(response.body), k_pledge_text) << voucher::form_name(form);

    MasaRequest audit = voucher_request(rvr_signed, form, domain_, "application/json");
    audit.endpoint = std::string(k_request_audit_log);
    const auto log_response = masa.handle(audit);
    ASSERT_EQ(log_response.status, 200) << body_text(log_response);
    const json log = json::parse(body_text(log_response));
    ASSERT_FALSE(log["events"].empty());
    EXPECT_EQ(log["events"].back()["nonce"], k_pledge_text);
  }
}

TEST_P(MasaTest, AnUnpaddedBase64NonceComesBackUnpadded) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const std::string unpadded = "+/XE9zK9q8Ll1qylMtLKeg";
  const Bytes pvr =
      sign_as_device(spelled(pvr_fields(serial, domain_.registrar.get(), std::nullopt), unpadded),
                     serial, Form::cms);
  auto rvr = spelled(rvr_fields(serial, std::nullopt, pvr), unpadded);
  const auto response =
      masa.handle(voucher_request(sign_as_registrar(rvr, domain_, Form::cms), Form::cms, domain_));
  ASSERT_EQ(response.status, 200) << body_text(response);
  EXPECT_EQ(nonce_in_json(response.body), unpadded);
}

TEST_P(MasaTest, NoncesOfOtherBytesStillDisagreeWhateverTheirSpelling) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const Bytes pvr = sign_as_device(
      spelled(pvr_fields(serial, domain_.registrar.get(), std::nullopt), k_pledge_text), serial,
      Form::cms);
  auto rvr = rvr_fields(serial, std::nullopt, pvr);
  rvr.nonce = Bytes(16, 0x42);
  const auto response =
      masa.handle(voucher_request(sign_as_registrar(rvr, domain_, Form::cms), Form::cms, domain_));
  EXPECT_EQ(response.status, 403) << body_text(response);
  EXPECT_NE(body_text(response).find("nonce"), std::string::npos) << body_text(response);
}

}  // namespace
}  // namespace vouchsafe::masa::testing
