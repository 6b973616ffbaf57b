// The registrar's refusals, each with its status, and what it records:
// who the pledge is, what its request says, what the MASA and the audit
// log say, and who may enrol.
#include "registrar/registrar_service.h"

#include <gtest/gtest.h>

#include "pledge/bootstrap.h"
#include "pledge/enrollment.h"
#include "pledge/voucher_request.h"
#include "unit/registrar/registrar_fixture.h"

namespace vouchsafe::registrar {
namespace {

using testing::device_identity;
using testing::event_kinds;
using testing::text_of;
using voucher::Form;

class Registrar : public testing::OnboardingTest {
 protected:
  // A pledge voucher-request signed by `signer`, naming `serial` and the
  // registrar certificate `proximity`.
  static Bytes pvr(const pledge::PledgeIdentity& signer, const Bytes& proximity,
                   Form form = Form::cms, const std::string& serial = "") {
    voucher::Voucher v;
    v.kind = voucher::ArtifactKind::voucher_request;
    v.assertion = voucher::Assertion::proximity;
    v.created_on = now_date_time();
    v.serial_number = serial.empty() ? signer.serial : serial;
    v.nonce = pledge::fresh_nonce();
    v.proximity_registrar_cert = proximity;
    auto s = masa::testing::signer_for(signer.key.get());
    voucher::SigningIdentity identity{
        s.get(), {crypto::make_certificate_ref(crypto::share(signer.chain.front().get()))}};
    auto signed_pvr = voucher::sign_artifact(v, form, identity);
    EXPECT_TRUE(signed_pvr) << signed_pvr.error().message;
    return std::move(signed_pvr).value();
  }
  Bytes registrar_der() const { return crypto::certificate_der(owner_.registrar.get()); }

  RegistrarResponse call(Endpoint endpoint, const Caller& caller, Bytes body = {},
                         std::string content_type = "application/voucher-cms+json") {
    RegistrarRequest r;
    r.endpoint = endpoint;
    r.content_type = std::move(content_type);
    r.body = std::move(body);
    r.caller = caller;
    return service_->handle(r);
  }
  RegistrarResponse request_voucher(const pledge::PledgeIdentity& pledge) {
    return call(Endpoint::request_voucher, testing::caller_of(pledge),
                pvr(pledge, registrar_der()));
  }
  Bytes csr_for(const pledge::PledgeIdentity& pledge, EVP_PKEY* key) {
    pledge::CsrRequirements wants;
    wants.serial_number = true;
    return to_bytes(base64_encode(std::move(pledge::make_csr(key, wants, pledge.serial)).value()));
  }
};

void expect_refusal(const RegistrarResponse& r, int status, const std::string& name,
                    const std::string& says = "") {
  EXPECT_EQ(r.status, status) << text_of(r.body);
  EXPECT_EQ(r.error, name) << text_of(r.body);
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_NE(text_of(r.body).find(says), std::string::npos) << text_of(r.body);
}

TEST_F(Registrar, ForwardsTheMasasVoucherUnchanged) {
  const auto pledge = device_identity(device());
  const auto r = request_voucher(pledge);
  ASSERT_EQ(r.status, 200) << text_of(r.body);
  EXPECT_EQ(r.content_type, "application/voucher-cms+json");
  auto voucher = voucher::verify_artifact(r.body, masa_.anchor());
  ASSERT_TRUE(voucher) << voucher.error().message;
  EXPECT_EQ(voucher->payload.serial_number, pledge.serial);
  // The RVR wrapped the PVR, and the audit log was read with the same RVR.
  EXPECT_EQ(masa_client_->last("requestvoucher"), masa_client_->last("requestauditlog"));
  EXPECT_EQ(masa_client_->last_url, "https://masa.test");
}

TEST_F(Registrar, RefusesAConnectionWithoutAnIdevid) {
  expect_refusal(call(Endpoint::request_voucher, Caller{}, Bytes{0x30}), 401,
                 "pledge_not_authenticated", "no client certificate");
}

TEST_F(Registrar, RefusesAnIdevidOfAManufacturerItDoesNotKnow) {
  // A device of another maker: a valid IDevID under an unknown CA.
  auto stranger_pki = vouchsafe::testing::make_test_pki();
  auto key = crypto::generate_key(crypto::KeyType::p256);
  auto cert = vouchsafe::testing::make_certificate(
      key.get(), "stranger", stranger_pki.root_key.get(), stranger_pki.root.get(), false);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "serialNumber", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("XX-1"), -1, -1, 0);
  X509_sign(cert.get(), stranger_pki.root_key.get(), EVP_sha256());
  std::vector<crypto::X509Ptr> chain;
  chain.push_back(std::move(cert));
  auto stranger = std::move(pledge::identity_from_key(std::move(key), std::move(chain))).value();
  expect_refusal(request_voucher(stranger), 401, "pledge_not_authenticated",
                 "not an IDevID of a configured manufacturer");
  EXPECT_EQ(masa_client_->posts, 0);
}

TEST_F(Registrar, RefusesARequestForAnotherRegistrar) {
  const auto pledge = device_identity(device());
  testing::Owner elsewhere("Elsewhere");
  const auto r = call(Endpoint::request_voucher, testing::caller_of(pledge),
                      pvr(pledge, crypto::certificate_der(elsewhere.registrar.get())));
  expect_refusal(r, 403, "wrong_registrar");
  EXPECT_EQ(masa_client_->posts, 0);
  EXPECT_EQ(event_kinds(*store_, pledge.serial).back(), "wrong_registrar!");
}

TEST_F(Registrar, RefusesARequestSignedByAnotherKeyThanTheConnections) {
  const auto pledge = device_identity(device());
  const auto other = device_identity(device());
  expect_refusal(call(Endpoint::request_voucher, testing::caller_of(pledge),
                      pvr(other, registrar_der(), Form::cms, pledge.serial)),
                 403, "pvr_signature_invalid");
}

TEST_F(Registrar, RefusesARequestNamingAnotherSerialNumber) {
  const auto pledge = device_identity(device());
  expect_refusal(call(Endpoint::request_voucher, testing::caller_of(pledge),
                      pvr(pledge, registrar_der(), Form::cms, "WG-MT-999999")),
                 403, "serial_mismatch", "WG-MT-999999");
}

TEST_F(Registrar, AsksTheMasaTheIdevidNamesOnlyWhenAllowed) {
  const auto pledge = device_identity(device());
  reconfigure([](RegistrarConfig& c) { c.masa.override_url.clear(); });
  expect_refusal(request_voucher(pledge), 403, "masa_not_allowed", "masa.example.com:8443");
  EXPECT_EQ(masa_client_->posts, 0);
  reconfigure([](RegistrarConfig& c) {
    c.masa.override_url.clear();
    c.masa.allowed_authorities = {"masa.example.com:8443"};
  });
  EXPECT_EQ(request_voucher(pledge).status, 200);
  EXPECT_EQ(masa_client_->last_url, "https://masa.example.com:8443");
}

TEST_F(Registrar, PassesOnTheMasasRefusalAndItsReason) {
  const auto serial = device();
  ASSERT_TRUE(testing::Manufacturer::get().store().set_stolen(serial, true, "test", 1));
  expect_refusal(request_voucher(device_identity(serial)), 403, "masa_refused",
                 "answered 403: The device has been reported stolen");
}

TEST_F(Registrar, RefusesAVoucherThatPinsAnotherDomain) {
  const auto pledge = device_identity(device());
  auto elsewhere = masa_service_->handle(masa::testing::good_request(
      pledge.serial, masa::testing::make_domain("Elsewhere"), Form::cms));
  ASSERT_EQ(elsewhere.status, 200);
  masa_client_->answer("requestvoucher", MasaReply{200, elsewhere.content_type, elsewhere.body});
  expect_refusal(request_voucher(pledge), 502, "voucher_unusable");
}

TEST_F(Registrar, RefusesWhenTheAuditLogCannotBeRead) {
  const auto pledge = device_identity(device());
  masa_client_->answer("requestauditlog", MasaReply{503, "text/plain", to_bytes("busy\n")});
  expect_refusal(request_voucher(pledge), 502, "audit_log_unavailable", "503: busy");
  masa_client_->answer("requestauditlog",
                       MasaReply{200, "application/json", to_bytes(R"({"version":1})")});
  expect_refusal(request_voucher(pledge), 502, "audit_log_unavailable", "events");
}

TEST_F(Registrar, RefusesADeviceWithAPreviousOwnerAndWillNotEnrolIt) {
  const auto pledge = device_identity(device());
  const auto previous = masa::testing::make_domain("Previous Owner");
  ASSERT_EQ(
      masa_service_->handle(masa::testing::good_request(pledge.serial, previous, Form::cms)).status,
      200);
  expect_refusal(request_voucher(pledge), 403, "audit_log_refused", "a previous owner");
  EXPECT_EQ(event_kinds(*store_, pledge.serial).back(), "audit_log_refused!");
  // No voucher reached it, so no LDevID either.
  auto key = crypto::generate_key(crypto::KeyType::p256);
  expect_refusal(call(Endpoint::simple_enroll, testing::caller_of(pledge),
                      csr_for(pledge, key.get()), "application/pkcs10"),
                 403, "no_voucher");
  // The owner who bought it from that domain lists it: accepted.
  const std::string previous_id =
      domain_id_of(*crypto::make_certificate_ref(crypto::share(previous.ca.get())));
  reconfigure([&](RegistrarConfig& c) { c.audit_log.accepted_domains = {previous_id}; });
  EXPECT_EQ(request_voucher(pledge).status, 200);
}

TEST_F(Registrar, EnrolsOnlyAPledgeThatGotItsVoucherHere) {
  const auto pledge = device_identity(device());
  const Caller caller = testing::caller_of(pledge);
  auto key = crypto::generate_key(crypto::KeyType::p256);
  // csrattrs answers anyone the TLS layer let in; simpleenroll does not.
  const auto attrs = call(Endpoint::csrattrs, caller, {}, "");
  ASSERT_EQ(attrs.status, 200);
  EXPECT_EQ(attrs.content_type, "application/csrattrs");
  expect_refusal(
      call(Endpoint::simple_enroll, caller, csr_for(pledge, key.get()), "application/pkcs10"), 403,
      "no_voucher");
  ASSERT_EQ(request_voucher(pledge).status, 200);
  expect_refusal(call(Endpoint::simple_enroll, caller, csr_for(pledge, key.get()), "text/plain"),
                 415, "unsupported_media_type");
  const auto enrolled =
      call(Endpoint::simple_enroll, caller, csr_for(pledge, key.get()), "application/pkcs10");
  ASSERT_EQ(enrolled.status, 200) << text_of(enrolled.body);
  EXPECT_EQ(enrolled.content_type, "application/pkcs7-mime; smime-type=certs-only");
  ASSERT_EQ(enrolled.headers.size(), 1U);
  EXPECT_EQ(enrolled.headers[0].second, "base64");
  auto certs = pledge::parse_certs_only(enrolled.body);
  ASSERT_TRUE(certs) << certs.error().message;
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey((*certs)[0].get()), key.get()), 1);
}

TEST_F(Registrar, ReenrolsOnlyWithTheCurrentLdevid) {
  const auto pledge = device_identity(device());
  auto transport = connect(pledge);
  auto enrolled = pledge::bootstrap(pledge, masa_trust(), transport, {});
  ASSERT_TRUE(enrolled) << enrolled.refusal().detail;
  auto key = crypto::generate_key(crypto::KeyType::p256);
  expect_refusal(call(Endpoint::simple_reenroll, testing::caller_of(pledge),
                      csr_for(pledge, key.get()), "application/pkcs10"),
                 403, "reenroll_needs_ldevid");
  Caller with_ldevid;
  with_ldevid.certificate_der = crypto::certificate_der(enrolled->ldevid.get());
  const auto renewed = call(Endpoint::simple_reenroll, with_ldevid, csr_for(pledge, key.get()),
                            "application/pkcs10");
  ASSERT_EQ(renewed.status, 200) << text_of(renewed.body);
  auto onboarding = store_->onboarding(pledge.serial);
  ASSERT_EQ((*onboarding)->ldevids.size(), 2U);
  EXPECT_TRUE((*onboarding)->ldevids[1].renewal);
}

TEST_F(Registrar, RecordsTelemetryAndRefusesMalformedReports) {
  const auto pledge = device_identity(device());
  const Caller caller = testing::caller_of(pledge);
  const auto ok = call(Endpoint::voucher_status, caller,
                       to_bytes(R"({"version":"1","status":false,"reason":"clock wrong",
                                    "reason-context":{"at":"boot"}})"),
                       "application/json");
  EXPECT_EQ(ok.status, 200);
  auto onboarding = store_->onboarding(pledge.serial);
  ASSERT_TRUE(onboarding && *onboarding);
  EXPECT_EQ((*onboarding)->events.back().kind, "voucher-status");
  EXPECT_FALSE((*onboarding)->events.back().ok);
  EXPECT_EQ((*onboarding)->events.back().detail, "clock wrong");
  for (const std::string bad :
       {R"({"version":1})", R"({"version":1,"status":"yes"})", R"({"status":true})", R"([1])",
        R"({"version":1,"status":true,"reason":5})"}) {
    expect_refusal(call(Endpoint::enroll_status, caller, to_bytes(bad), "application/json"), 400,
                   "malformed_status");
  }
  expect_refusal(call(Endpoint::enroll_status, caller, to_bytes("{}"), "text/plain"), 415,
                 "unsupported_media_type");
}

TEST_F(Registrar, DistributesTheDomainCaAsACertsOnlyPkcs7InBase64) {
  const auto r = call(Endpoint::cacerts, testing::caller_of(device_identity(device())), {}, "");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/pkcs7-mime");
  ASSERT_EQ(r.headers.size(), 1U);
  EXPECT_EQ(r.headers[0],
            (std::pair<std::string, std::string>{"Content-Transfer-Encoding", "base64"}));
  auto certs = pledge::parse_certs_only(r.body);
  ASSERT_TRUE(certs);
  ASSERT_EQ(certs->size(), 1U);
  EXPECT_EQ(X509_cmp((*certs)[0].get(), owner_.ca.get()), 0);
}

TEST_F(Registrar, RefusesOversizeBodiesAndUnknownMediaTypes) {
  const auto pledge = device_identity(device());
  expect_refusal(call(Endpoint::request_voucher, testing::caller_of(pledge), Bytes(70000, 0x30)),
                 413, "request_too_large");
  expect_refusal(call(Endpoint::request_voucher, testing::caller_of(pledge),
                      pvr(pledge, registrar_der()), "application/json"),
                 415, "unsupported_media_type");
  RegistrarRequest r;
  r.endpoint = Endpoint::request_voucher;
  r.content_type = "application/voucher-cms+json";
  r.accept = "application/pdf";
  r.body = pvr(pledge, registrar_der());
  r.caller = testing::caller_of(pledge);
  expect_refusal(service_->handle(r), 406, "not_acceptable");
}

TEST(RegistrarStatusTable, EveryRefusalHasAStatusAndAReason) {
  for (const auto& entry : status_table()) {
    EXPECT_GE(entry.status, 400) << entry.name;
    EXPECT_FALSE(entry.reason.empty()) << entry.name;
    EXPECT_EQ(refusal_response({entry.error, "x"}).error, entry.name);
  }
}

}  // namespace
}  // namespace vouchsafe::registrar
