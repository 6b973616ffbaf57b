// The status table: RFC 8995 §5.6 gives the codes, SPEC.md §2 the rules
// (401 for registrar authentication, 403 for a request signed wrongly or
// refused by policy, 404 for an unknown device and a stranger's audit-log
// request, 406/415 for media types).
#include "masa/status_table.h"

#include <array>
#include <cassert>

namespace vouchsafe::masa {
namespace {

using E = MasaError;

constexpr std::array<StatusEntry, 36> k_table{{
    {E::malformed_request, "malformed_request", 400,
     "The request body is not a well-formed voucher-request."},
    {E::unsupported_media_type, "unsupported_media_type", 415,
     "Content-Type must be application/voucher-cms+json, application/voucher-jws+json or "
     "application/voucher+cose."},
    {E::not_acceptable, "not_acceptable", 406,
     "The Accept header asks for a response type this MASA cannot produce."},
    {E::unknown_endpoint, "unknown_endpoint", 404,
     "Unknown endpoint: use /.well-known/brski/requestvoucher or requestauditlog."},
    {E::request_too_large, "request_too_large", 413,
     "The request is larger than this MASA accepts."},
    {E::rate_limited, "rate_limited", 429,
     "Too many requests from this client certificate; retry later."},
    {E::rvr_signature_invalid, "rvr_signature_invalid", 403,
     "The registrar voucher-request signature does not verify with the certificate chain it "
     "carries."},
    {E::rvr_signer_not_registrar, "rvr_signer_not_registrar", 403,
     "The registrar voucher-request was not signed by a registrar: its certificate lacks the "
     "id-kp-cmcRA extended key usage (1.3.6.1.5.5.7.3.28)."},
    {E::rvr_not_from_caller, "rvr_not_from_caller", 401,
     "The registrar voucher-request was signed by another key than the TLS client certificate "
     "of this connection: a registrar posts its own requests (RFC 8995 §5.5.4)."},
    {E::rvr_stale, "rvr_stale", 403,
     "The registrar voucher-request's created-on is too far from this MASA's clock: a replayed "
     "or long-delayed request is refused. Check the registrar's clock and send a new request."},
    {E::pvr_missing, "pvr_missing", 403,
     "The registrar voucher-request carries no prior-signed-voucher-request from the pledge. "
     "Without one this MASA issues only a nonceless voucher, to a known customer, for a device "
     "recorded as theirs."},
    {E::pvr_signature_invalid, "pvr_signature_invalid", 403,
     "The pledge voucher-request signature does not verify."},
    {E::pvr_signer_unknown, "pvr_signer_unknown", 403,
     "The pledge voucher-request is not signed by an IDevID this manufacturer issued."},
    {E::pvr_signer_unidentified, "pvr_signer_unidentified", 403,
     "The signer of the pledge voucher-request could not be identified: it names no certificate, "
     "and neither the IDevID on record for its serial-number nor a certificate in the registrar "
     "request's x5bag verifies it."},
    {E::serial_mismatch, "serial_mismatch", 403,
     "The serial-number of the registrar voucher-request, the pledge voucher-request and the "
     "pledge's IDevID do not agree."},
    {E::idevid_issuer_mismatch, "idevid_issuer_mismatch", 403,
     "The registrar voucher-request's idevid-issuer does not identify the issuer of the "
     "pledge's IDevID; RFC 8366bis wants the IDevID's AuthorityKeyIdentifier extension value."},
    {E::proximity_not_shown, "proximity_not_shown", 403,
     "The pledge's proximity-registrar-cert is not in the certificate chain that signed the "
     "registrar voucher-request."},
    {E::nonce_mismatch, "nonce_mismatch", 403,
     "The nonce of the registrar voucher-request differs from the pledge's."},
    {E::agent_signed_data_malformed, "agent_signed_data_malformed", 403,
     "The pledge voucher-request's agent-signed-data is not a JWS over the agent's created-on and "
     "serial-number (BRSKI-PRM)."},
    {E::agent_signature_invalid, "agent_signature_invalid", 403,
     "The agent-signed-data does not verify with the agent-sign-cert whose SubjectKeyIdentifier "
     "its kid names."},
    {E::agent_serial_mismatch, "agent_serial_mismatch", 403,
     "The agent-signed-data names another serial-number than the pledge's."},
    {E::agent_not_in_domain, "agent_not_in_domain", 403,
     "The registrar-agent's certificate does not belong to the domain of the registrar that "
     "signed the registrar voucher-request."},
    {E::agent_registrar_not_in_domain, "agent_registrar_not_in_domain", 403,
     "The agent-provided-proximity-registrar-cert does not belong to the domain of the "
     "registrar that signed the registrar voucher-request."},
    {E::enrolling_malformed, "enrolling_malformed", 400,
     "The enrolling extension is malformed: it needs the device's P-256 key, the share sealed "
     "to it and the LDevID certificate for the combined key."},
    {E::enrolling_wrong_device_key, "enrolling_wrong_device_key", 403,
     "The enrolling extension's device-key is not the key of this device's IDevID."},
    {E::enrolling_ldevid_not_domain, "enrolling_ldevid_not_domain", 403,
     "The enrolling extension's LDevID does not chain to the domain the voucher pins, or does "
     "not name this device."},
    {E::enrolling_not_cogenerated, "enrolling_not_cogenerated", 403,
     "The enrolling extension's LDevID certifies the device's own key, not a key co-generated "
     "with the owner."},
    {E::device_unknown, "device_unknown", 404,
     "This MASA knows no device with this serial-number."},
    {E::device_stolen, "device_stolen", 403,
     "The device has been reported stolen; no voucher is issued for it. Contact the "
     "manufacturer."},
    {E::owner_not_allowed, "owner_not_allowed", 403,
     "This registrar is not among the owners recorded for the device."},
    {E::registrar_not_authenticated, "registrar_not_authenticated", 401,
     "A nonceless voucher needs an authenticated registrar: the TLS client certificate does not "
     "chain to a known customer."},
    {E::nonceless_not_allowed, "nonceless_not_allowed", 403,
     "The device's policy does not allow nonceless vouchers; include the pledge's nonce."},
    {E::audit_log_not_owner, "audit_log_not_owner", 404,
     "No audit log for this device is available to this registrar's domain."},
    {E::store_failure, "store_failure", 503, "The MASA's asset store is unavailable; retry later."},
    {E::signing_failure, "signing_failure", 500, "The MASA could not sign the voucher."},
    {E::internal_error, "internal_error", 500, "The MASA failed to process the request."},
}};

constexpr bool table_in_enum_order() {
  for (std::size_t i = 0; i < k_table.size(); ++i) {
    if (static_cast<std::size_t>(k_table[i].error) != i) return false;
  }
  return true;
}
static_assert(table_in_enum_order(), "k_table must list every MasaError in declaration order");
static_assert(k_table.size() == static_cast<std::size_t>(MasaError::internal_error) + 1,
              "k_table must list every MasaError");

}  // namespace

std::span<const StatusEntry> status_table() {
  return k_table;
}

const StatusEntry& status_entry(MasaError error) {
  const auto i = static_cast<std::size_t>(error);
  assert(i < k_table.size());
  return k_table[i];
}

MasaResponse refusal_response(MasaError error, std::string_view detail) {
  const StatusEntry& entry = status_entry(error);
  std::string text(entry.reason);
  if (!detail.empty()) {
    text += "\n";
    text += detail;
  }
  text += "\n";
  return MasaResponse{entry.status, std::string(k_text_plain), to_bytes(text),
                      std::string(entry.name),
                      entry.status == 503 ? k_unavailable_retry_after_seconds : 0};
}

}  // namespace vouchsafe::masa
