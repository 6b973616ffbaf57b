// BRSKI-PRM agent-proximity checks.
#include "masa/detail/agent_proximity.h"

#include <string>
#include <vector>

#include "crypto/keys.h"
#include "voucher/artifact.h"
#include "voucher/json_codec.h"
#include "voucher/jws.h"

namespace vouchsafe::masa::detail {
namespace {

// The agent's statement: when it met the pledge, and which pledge.
struct AgentSignedData {
  std::string serial_number;
  DateTime created_on;
};

// PRM -23 wraps the members in "ietf-voucher-request-prm:agent-signed-data";
// later texts name the module differently or leave the wrapper out, so any
// single "<module>:agent-signed-data" member, or the members themselves.
Outcome<AgentSignedData> read_agent_payload(ByteView payload) {
  auto doc = voucher::parse_strict_json(payload, 4);
  if (!doc || !doc->is_object()) {
    return refuse(MasaError::agent_signed_data_malformed, "its payload is not a JSON object");
  }
  const nlohmann::json* body = &*doc;
  if (doc->size() == 1) {
    const std::string& name = doc->begin().key();
    constexpr std::string_view suffix = ":agent-signed-data";
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      body = &doc->begin().value();
    }
  }
  if (!body->is_object()) {
    return refuse(MasaError::agent_signed_data_malformed, "its payload is not a JSON object");
  }
  const auto serial = body->find("serial-number");
  const auto created = body->find("created-on");
  if (serial == body->end() || !serial->is_string() || created == body->end() ||
      !created->is_string()) {
    return refuse(MasaError::agent_signed_data_malformed,
                  "its payload lacks the serial-number or created-on string");
  }
  auto when = parse_date_time(created->get<std::string>());
  if (!when) {
    return refuse(MasaError::agent_signed_data_malformed, "created-on: " + when.error().message);
  }
  return AgentSignedData{serial->get<std::string>(), *when};
}

// The agent-signed-data JWS, verified with the agent certificate whose key
// signed it, which must be the one its kid names.
Outcome<std::pair<AgentSignedData, crypto::CertificateRef>> verify_agent_signed_data(
    ByteView jws, const std::vector<crypto::CertificateRef>& agent_certs) {
  auto form = voucher::detect_form(jws);
  if (!form || *form != voucher::Form::jws) {
    return refuse(MasaError::agent_signed_data_malformed, "it is not a JWS (JSON serialization)");
  }
  for (const auto& cert : agent_certs) {
    auto verified = voucher::verify_jws(
        jws, voucher::TrustPolicy::with_pinned_key(crypto::share(cert->public_key.get())));
    if (!verified) {
      const ErrorCode code = verified.error().code;
      if (code == ErrorCode::bad_signature || code == ErrorCode::unknown_signer) continue;
      return refuse(MasaError::agent_signed_data_malformed, verified.error().message);
    }
    // PRM: kid is the base64 SubjectKeyIdentifier of the agent's certificate.
    const ByteView ski = crypto::subject_key_identifier(*cert);
    if (ski.empty() || verified->key_id != base64_encode(ski)) {
      return refuse(MasaError::agent_signature_invalid,
                    "its kid '" + verified->key_id.substr(0, 64) +
                        "' does not name the agent-sign-cert whose key signed it");
    }
    MASA_ASSIGN(auto data, read_agent_payload(verified->payload));
    return std::make_pair(std::move(data), cert);
  }
  return refuse(MasaError::agent_signature_invalid,
                "none of the " + std::to_string(agent_certs.size()) +
                    " agent-sign-cert certificates verifies it");
}

}  // namespace

bool asks_agent_proximity(const voucher::Voucher& pvr) {
  return pvr.agent_signed_data.has_value() || pvr.assertion == voucher::Assertion::agent_proximity;
}

Outcome<voucher::Assertion> check_agent_proximity(const RegistrarRequest& rvr,
                                                  const PledgeRequest& pvr, std::time_t now,
                                                  TrustCache& cache) {
  const voucher::Voucher& p = pvr.payload;
  if (!p.agent_signed_data || !p.agent_provided_proximity_registrar_cert) {
    return refuse(MasaError::agent_signed_data_malformed,
                  "the pledge voucher-request lacks agent-signed-data or "
                  "agent-provided-proximity-registrar-cert");
  }
  if (!rvr.payload.agent_sign_cert || rvr.payload.agent_sign_cert->empty()) {
    return refuse(MasaError::agent_signed_data_malformed,
                  "the registrar voucher-request carries no agent-sign-cert");
  }
  std::vector<crypto::CertificateRef> agent_certs;
  for (const Bytes& der : *rvr.payload.agent_sign_cert) {
    auto cert = crypto::CertificateCache::shared().decode(der);
    if (!cert) {
      return refuse(MasaError::agent_signed_data_malformed,
                    "agent-sign-cert: " + cert.error().message);
    }
    agent_certs.push_back(std::move(cert).value());
  }
  MASA_ASSIGN(auto verified, verify_agent_signed_data(*p.agent_signed_data, agent_certs));
  const auto& [data, agent] = verified;

  // PRM: the agent spoke of this pledge.
  if (!p.serial_number || data.serial_number != *p.serial_number) {
    return refuse(MasaError::agent_serial_mismatch,
                  "agent-signed-data names '" + data.serial_number.substr(0, 64) +
                      "', the pledge '" + p.serial_number.value_or("").substr(0, 64) + "'");
  }

  // PRM: agent and registrar share a domain owner: both chain to the domain
  // anchor that verified the registrar's request (RFC 8995 §5.5.2).
  const auto domain = cache.store_for({rvr.chain.back()});
  std::vector<crypto::CertificateRef> intermediates = rvr.embedded;
  intermediates.insert(intermediates.end(), agent_certs.begin(), agent_certs.end());
  if (auto path = domain->validate(agent, intermediates, now); !path) {
    return refuse(MasaError::agent_not_in_domain, path.error().message);
  }
  auto registrar =
      crypto::CertificateCache::shared().decode(*p.agent_provided_proximity_registrar_cert);
  if (!registrar) {
    return refuse(MasaError::agent_signed_data_malformed,
                  "agent-provided-proximity-registrar-cert: " + registrar.error().message);
  }
  if (auto path = domain->validate(*registrar, rvr.embedded, now); !path) {
    return refuse(MasaError::agent_registrar_not_in_domain, path.error().message);
  }
  return voucher::Assertion::agent_proximity;
}

}  // namespace vouchsafe::masa::detail
