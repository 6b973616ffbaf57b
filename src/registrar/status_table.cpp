// The status table: RFC 8995 §5.3 and RFC 7030 §4.2.3 leave the codes of a
// registrar's refusals to it; these follow the MASA's (SPEC.md §2): 401 for
// an unauthenticated pledge, 403 for a request refused, 502 when the MASA
// cannot be used.
#include "registrar/status_table.h"

#include <array>
#include <cassert>

namespace vouchsafe::registrar {
namespace {

using E = RegistrarError;

constexpr std::array<StatusEntry, 26> k_table{{
    {E::malformed_request, "malformed_request", 400, "The request body is not well-formed."},
    {E::unsupported_media_type, "unsupported_media_type", 415,
     "Content-Type must be application/voucher-cms+json, application/voucher-jws+json or "
     "application/voucher+cose (requestvoucher), application/json (voucher_status, "
     "enrollstatus) or application/pkcs10 (simpleenroll, simplereenroll)."},
    {E::not_acceptable, "not_acceptable", 406,
     "The Accept header asks for a response type this registrar cannot produce."},
    {E::unknown_endpoint, "unknown_endpoint", 404,
     "Unknown endpoint: use /.well-known/brski/{requestvoucher,voucher_status,enrollstatus} or "
     "/.well-known/est/{cacerts,csrattrs,simpleenroll,simplereenroll}."},
    {E::request_too_large, "request_too_large", 413,
     "The request is larger than this registrar accepts."},
    {E::pledge_not_authenticated, "pledge_not_authenticated", 401,
     "The TLS client certificate is not an IDevID of a manufacturer this registrar accepts."},
    {E::pledge_identity_unusable, "pledge_identity_unusable", 403,
     "The pledge's IDevID names no device serialNumber (IEEE 802.1AR, RFC 8995 §2.3.1)."},
    {E::pvr_signature_invalid, "pvr_signature_invalid", 403,
     "The pledge voucher-request's signature does not verify with the pledge's IDevID."},
    {E::pvr_not_from_pledge, "pvr_not_from_pledge", 403,
     "The pledge voucher-request was signed by another key than the TLS client certificate of "
     "this connection."},
    {E::serial_mismatch, "serial_mismatch", 403,
     "The pledge voucher-request's serial-number is not its IDevID's serialNumber."},
    {E::wrong_registrar, "wrong_registrar", 403,
     "The pledge voucher-request's proximity-registrar-cert is not this registrar's TLS "
     "certificate (RFC 8995 §5.2)."},
    {E::masa_unknown, "masa_unknown", 403,
     "The pledge's IDevID carries no MASA URL extension (RFC 8995 §2.3.2) and no MASA is "
     "configured for it."},
    {E::masa_not_allowed, "masa_not_allowed", 403,
     "The MASA named by the pledge's IDevID is not among the MASAs this registrar is configured "
     "to trust."},
    {E::masa_unreachable, "masa_unreachable", 502, "The MASA could not be reached; retry later."},
    {E::masa_refused, "masa_refused", 403, "The MASA refused to issue a voucher for this pledge."},
    {E::voucher_unusable, "voucher_unusable", 502,
     "The MASA's answer is not a voucher for this pledge and this registrar's domain."},
    {E::audit_log_unavailable, "audit_log_unavailable", 502,
     "The MASA's audit log for this pledge could not be obtained; without it no voucher is "
     "forwarded (RFC 8995 §5.8.3)."},
    {E::audit_log_refused, "audit_log_refused", 403,
     "The pledge's audit log fails this registrar's policy (RFC 8995 §5.8.3); the voucher is "
     "not forwarded and the pledge will not be enrolled."},
    {E::malformed_status, "malformed_status", 400,
     "The status report is not the JSON RFC 8995 §5.7 and §5.9.4 define: {\"version\": 1, "
     "\"status\": true|false, \"reason\"?: text, \"reason-context\"?: {...}}."},
    {E::no_voucher, "no_voucher", 403,
     "No voucher for this pledge has gone through this registrar: request a voucher first."},
    {E::csr_malformed, "csr_malformed", 400,
     "The body is not a base64 PKCS#10 certificate request whose signature verifies."},
    {E::csr_mismatch, "csr_mismatch", 400,
     "The certificate request does not follow the CSR attributes (GET "
     "/.well-known/est/csrattrs; RFC 8995 §5.9.2)."},
    {E::reenroll_needs_ldevid, "reenroll_needs_ldevid", 403,
     "Re-enrollment needs the current LDevID of this domain as TLS client certificate (RFC 7030 "
     "§4.2.2)."},
    {E::store_failure, "store_failure", 503, "The registrar's store is unavailable; retry later."},
    {E::enrollment_failure, "enrollment_failure", 500, "The domain CA could not issue the LDevID."},
    {E::internal_error, "internal_error", 500, "The registrar failed to process the request."},
}};

constexpr bool table_in_enum_order() {
  for (std::size_t i = 0; i < k_table.size(); ++i) {
    if (static_cast<std::size_t>(k_table[i].error) != i) return false;
  }
  return true;
}
static_assert(table_in_enum_order(), "k_table must list every RegistrarError in declaration order");
static_assert(k_table.size() == static_cast<std::size_t>(RegistrarError::internal_error) + 1,
              "k_table must list every RegistrarError");

}  // namespace

std::span<const StatusEntry> status_table() {
  return k_table;
}

const StatusEntry& status_entry(RegistrarError error) {
  const auto i = static_cast<std::size_t>(error);
  assert(i < k_table.size());
  return k_table[i];
}

RegistrarResponse refusal_response(const RegistrarRefusal& refusal) {
  const StatusEntry& entry = status_entry(refusal.error);
  std::string text(entry.reason);
  if (!refusal.detail.empty()) {
    text += "\n";
    text += refusal.detail;
  }
  text += "\n";
  RegistrarResponse r;
  r.status = entry.status;
  r.content_type = std::string(k_text_plain);
  r.body = to_bytes(text);
  r.error = std::string(entry.name);
  return r;
}

}  // namespace vouchsafe::registrar
