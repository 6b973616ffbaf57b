// BRSKI-PRM agent-proximity (SPEC.md §4): a request relayed by a
// registrar-agent gets an agent-proximity voucher when what the agent
// signed checks out, and each forgery is refused with its own reason.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "masa_fixture.h"
#include "voucher/jws.h"

namespace vouchsafe::masa::testing {
namespace {

// A registrar-agent of a domain: its LDevID under the domain CA.
struct Agent {
  crypto::PkeyPtr key = crypto::generate_key(crypto::KeyType::p256);
  crypto::X509Ptr cert;
  [[nodiscard]] Bytes der() const { return crypto::certificate_der(cert.get()); }
  [[nodiscard]] std::string kid() const {
    return base64_encode(
        crypto::subject_key_identifier(*crypto::make_certificate_ref(crypto::share(cert.get()))));
  }
};

Agent make_agent(const Domain& domain) {
  Agent a;
  a.cert = vouchsafe::testing::make_certificate(a.key.get(), "Registrar-Agent", domain.ca_key.get(),
                                                domain.ca.get(), false);
  return a;
}

// agent-signed-data as PRM -23 writes it: a JWS over the wrapped
// {created-on, serial-number}, protected {kid, alg}, signed by `key`.
Bytes agent_signed_data(const std::string& serial, EVP_PKEY* key, const std::string& kid) {
  const nlohmann::json payload = {
      {"ietf-voucher-request-prm:agent-signed-data",
       {{"created-on", format_date_time(now_date_time())}, {"serial-number", serial}}}};
  auto signer = signer_for(key);
  voucher::JwsSignOptions options;
  options.kid = kid;
  auto jws = voucher::sign_jws(to_bytes(payload.dump()), voucher::SigningIdentity{signer.get(), {}},
                               options);
  EXPECT_TRUE(jws) << jws.error().message;
  return jws ? *jws : Bytes{};
}

// What may be forged in one PRM request, each defaulting to the honest value.
struct PrmParts {
  std::optional<Bytes> agent_signed_data = std::nullopt;
  std::optional<Bytes> agent_sign_cert = std::nullopt;
  std::optional<Bytes> proximity_registrar_cert = std::nullopt;
};

class AgentProximity : public MasaTest {
 protected:
  MasaRequest prm_request(const std::string& serial, const PrmParts& parts = {}) {
    const Bytes nonce = random_nonce();
    auto pvr = pvr_fields(serial, nullptr, nonce);
    pvr.assertion = voucher::Assertion::agent_proximity;
    pvr.agent_provided_proximity_registrar_cert =
        parts.proximity_registrar_cert.value_or(domain_.registrar_der());
    pvr.agent_signed_data =
        parts.agent_signed_data.value_or(agent_signed_data(serial, agent_.key.get(), agent_.kid()));
    const Bytes signed_pvr = sign_as_device(pvr, serial, Form::jws);
    auto rvr = rvr_fields(serial, nonce, signed_pvr);
    rvr.agent_sign_cert = std::vector<Bytes>{parts.agent_sign_cert.value_or(agent_.der())};
    return voucher_request(sign_as_registrar(rvr, domain_, Form::jws), Form::jws, domain_);
  }

  Agent agent_ = make_agent(domain_);
};

TEST_P(AgentProximity, AnHonestAgentsRequestGetsAnAgentProximityVoucher) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const auto response = masa.handle(prm_request(serial));
  ASSERT_EQ(response.status, 200) << body_text(response);
  EXPECT_EQ(response.content_type, "application/voucher-jws+json");
  const auto v = open_voucher(response);
  EXPECT_EQ(v.assertion, voucher::Assertion::agent_proximity);
  EXPECT_EQ(v.serial_number, serial);
}

TEST_P(AgentProximity, AgentSignedDataSignedByAnotherKeyIsRefused) {
  MasaService masa(config(), store());
  const std::string serial = device();
  auto other = crypto::generate_key(crypto::KeyType::p256);
  expect_refusal(masa.handle(prm_request(serial, {.agent_signed_data = agent_signed_data(
                                                      serial, other.get(), agent_.kid())})),
                 403, "does not verify with the agent-sign-cert");
}

TEST_P(AgentProximity, AKidThatNamesAnotherCertificateIsRefused) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const Agent other = make_agent(domain_);
  expect_refusal(masa.handle(prm_request(serial, {.agent_signed_data = agent_signed_data(
                                                      serial, agent_.key.get(), other.kid())})),
                 403, "does not name the agent-sign-cert");
}

TEST_P(AgentProximity, AgentSignedDataForAnotherSerialIsRefused) {
  MasaService masa(config(), store());
  const std::string serial = device();
  expect_refusal(masa.handle(prm_request(serial, {.agent_signed_data = agent_signed_data(
                                                      device(), agent_.key.get(), agent_.kid())})),
                 403, "names another serial-number than the pledge's");
}

TEST_P(AgentProximity, AnotherDomainsAgentIsRefused) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const Domain other = make_domain("Elsewhere");
  const Agent foreign = make_agent(other);
  expect_refusal(masa.handle(prm_request(serial, {.agent_signed_data = agent_signed_data(
                                                      serial, foreign.key.get(), foreign.kid()),
                                                  .agent_sign_cert = foreign.der()})),
                 403, "registrar-agent's certificate does not belong to the domain");
}

TEST_P(AgentProximity, AnotherDomainsRegistrarCertificateIsRefused) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const Domain other = make_domain("Elsewhere");
  expect_refusal(
      masa.handle(prm_request(serial, {.proximity_registrar_cert = other.registrar_der()})), 403,
      "agent-provided-proximity-registrar-cert does not belong to the domain");
}

TEST_P(AgentProximity, AgentSignedDataThatIsNotAJwsIsRefused) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const nlohmann::json bare = {{"created-on", "2026-01-01T00:00:00Z"}, {"serial-number", serial}};
  expect_refusal(masa.handle(prm_request(serial, {.agent_signed_data = to_bytes(bare.dump())})),
                 403, "not a JWS over the agent's created-on and serial-number");
  expect_refusal(
      masa.handle(prm_request(serial, {.agent_signed_data = Bytes{0x30, 0x03, 1, 2, 3}})), 403,
      "it is not a JWS");
}

TEST_P(AgentProximity, NoFallbackAssertionStandsInForAFailedAgentCheck) {
  auto c = config();
  c.fallback_assertion = voucher::Assertion::logged;
  MasaService masa(std::move(c), store());
  const std::string serial = device();
  auto other = crypto::generate_key(crypto::KeyType::p256);
  EXPECT_EQ(masa.handle(prm_request(serial, {.agent_signed_data = agent_signed_data(
                                                 serial, other.get(), agent_.kid())}))
                .status,
            403);
}

INSTANTIATE_TEST_SUITE_P(Backends, AgentProximity,
                         ::testing::Values(Backend::sqlite, Backend::postgres), backend_test_name);

}  // namespace
}  // namespace vouchsafe::masa::testing
