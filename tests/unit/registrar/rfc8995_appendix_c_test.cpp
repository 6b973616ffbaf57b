// RFC 8995 Appendix C, from the registrar's side: given the published
// pledge voucher-request (C.2.1) over a connection from its IDevID, our
// registrar builds a registrar voucher-request with the same fields as the
// published one (C.2.2), signed by the published registrar key (C.1.4).
#include <gtest/gtest.h>

#include "registrar/registrar_service.h"
#include "support/test_support.h"
#include "unit/registrar/registrar_fixture.h"
#include "voucher/artifact.h"
#include "voucher/json_codec.h"

namespace vouchsafe::registrar {
namespace {

namespace vt = vouchsafe::testing;

constexpr const char* k_dir = "rfc8995/";
const std::string k_pvr = "C.2.1-pledge-voucher-request_vr_00-D0-E5-F2-00-02";
const std::string k_rvr = "C.2.2-registrar-voucher-request_parboiled_vr_00-D0-E5-F2-00-02";

// Captures what the registrar posts; the MASA is not part of this test.
class CapturingMasa : public MasaClient {
 public:
  Result<MasaReply> post(const MasaPost& request) override {
    posted.push_back(request);
    return MasaReply{503, "text/plain", to_bytes("not part of this test\n")};
  }
  std::vector<MasaPost> posted;
};

// The member names of a voucher-request's JSON, in order.
std::vector<std::string> members(const voucher::Voucher& v) {
  std::vector<std::string> out;
  // Keep the document alive: items() refers into it.
  const auto document = voucher::to_json(v);
  for (const auto& [name, value] : document.begin()->items()) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Rfc8995AppendixC, OurRegistrarWrapsC21AsC22Does) {
  const std::string d = k_dir;
  auto registrar_key = vt::vector_key(d + "C.1.4-registrar-jrc_prime256v1.key.pem");
  auto registrar_cert = vt::vector_certs(d + "C.1.4-registrar-jrc_prime256v1.cert.pem");
  auto owner_ca = vt::vector_certs(d + "C.1.3-ownerca_secp384r1.cert.pem");
  auto owner_key = vt::vector_key(d + "C.1.3-ownerca_secp384r1.key.pem");
  auto idevid = vt::vector_certs(d + k_pvr + ".derived.embedded-certs.pem");
  ASSERT_FALSE(registrar_cert.empty() || owner_ca.empty() || idevid.empty());

  RegistrarConfig config;
  config.signer = masa::testing::signer_for(registrar_key.get());
  config.chain = {crypto::make_certificate_ref(crypto::share(registrar_cert[0].get())),
                  crypto::make_certificate_ref(crypto::share(owner_ca[0].get()))};
  auto domain_ca = DomainCa::create(crypto::share(owner_ca[0].get()), std::move(owner_key));
  ASSERT_TRUE(domain_ca) << domain_ca.error().message;
  config.domain_ca = std::move(domain_ca).value();
  config.manufacturer_anchors = vt::vector_certs(d + "C.1.1-vendor-ca.cert.pem");
  config.masa.allowed_authorities = {"highway-test.example.com:9443"};
  // A moment after the pledge signed (17:43:23.747-04:00), within every
  // certificate's validity.
  config.now = [] { return vt::at("2021-04-13T21:43:24Z"); };

  const auto dir = std::filesystem::temp_directory_path() /
                   ("vouchsafe-appendix-c-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = store::open_sqlite_registrar_store((dir / "registrar.db").string());
  ASSERT_TRUE(store) << store.error().message;
  CapturingMasa masa;
  RegistrarService service(std::move(config), **store, masa);

  const Bytes pvr = vt::read_vector_base64(d + k_pvr + ".b64");
  RegistrarRequest request;
  request.endpoint = Endpoint::request_voucher;
  request.content_type = "application/voucher-cms+json";
  request.body = pvr;
  request.caller.certificate_der = crypto::certificate_der(idevid[0].get());
  const RegistrarResponse answer = service.handle(request);
  // It went to the MASA the IDevID names (which is not here to answer).
  EXPECT_EQ(answer.error, "masa_refused") << testing::text_of(answer.body);
  ASSERT_EQ(masa.posted.size(), 1U) << testing::text_of(answer.body);
  EXPECT_EQ(masa.posted[0].base_url, "https://highway-test.example.com:9443");
  EXPECT_EQ(masa.posted[0].endpoint, "requestvoucher");

  // Ours verifies with the registrar's chain, as a MASA reads it...
  std::vector<crypto::X509Ptr> anchor;
  anchor.push_back(crypto::share(owner_ca[0].get()));
  auto policy = voucher::TrustPolicy::with_anchors(std::move(anchor));
  policy.at = vt::at("2021-04-13T21:43:24Z");
  auto ours = voucher::verify_artifact(masa.posted[0].body, policy);
  ASSERT_TRUE(ours) << ours.error().message;
  // ...and so does the published one.
  auto published = voucher::decode_json(vt::read_vector(d + k_rvr + ".derived.payload.json"));
  ASSERT_TRUE(published) << published.error().message;

  // The same fields: assertion, created-on, nonce, prior-signed-voucher-
  // request, serial-number (C.2.1's IDevID has no AKI: no idevid-issuer).
  EXPECT_EQ(members(ours->payload), members(*published));
  EXPECT_EQ(ours->payload.assertion, published->assertion);
  EXPECT_EQ(ours->payload.serial_number, published->serial_number);
  EXPECT_EQ(ours->payload.nonce, published->nonce);
  EXPECT_EQ(voucher::json_nonce_text(ours->payload), "-_XE9zK9q8Ll1qylMtLKeg");
  EXPECT_EQ(ours->payload.prior_signed_voucher_request, published->prior_signed_voucher_request);
  EXPECT_EQ(ours->payload.prior_signed_voucher_request, pvr);
  // Signed by the registrar certificate C.1.4, with C.1.3 in the chain.
  ASSERT_FALSE(ours->envelope.signer_chain.empty());
  EXPECT_EQ(ours->envelope.signer_chain.front()->der,
            crypto::certificate_der(registrar_cert[0].get()));
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vouchsafe::registrar
