// The MASA's named refusals and the one table that maps each to an HTTP
// status and a plain-text reason a registrar operator can act on. The HTTPS
// adapter answers its own refusals (size limits, rate limits) through the
// same table, so every status the MASA sends is declared here.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/bytes.h"

namespace vouchsafe::masa {

enum class MasaError {
  // The HTTP exchange itself.
  malformed_request,       // 400
  unsupported_media_type,  // 415
  not_acceptable,          // 406
  unknown_endpoint,        // 404
  request_too_large,       // 413
  rate_limited,            // 429
  // The registrar voucher-request (RVR).
  rvr_signature_invalid,     // 403
  rvr_signer_not_registrar,  // 403: no id-kp-cmcRA
  rvr_not_from_caller,       // 401: signed by another key than the TLS client's
  rvr_stale,                 // 403: created-on too far from now
  // The pledge voucher-request inside it (PVR).
  pvr_missing,              // 403: and policy wants one
  pvr_signature_invalid,    // 403
  pvr_signer_unknown,       // 403: not an IDevID of ours
  pvr_signer_unidentified,  // 403: names no signer, and the IDevID on record does not verify
  serial_mismatch,          // 403
  idevid_issuer_mismatch,   // 403
  proximity_not_shown,      // 403
  nonce_mismatch,           // 403
  // BRSKI-PRM agent-proximity (draft-ietf-anima-brski-prm §7.5).
  agent_signed_data_malformed,    // 403
  agent_signature_invalid,        // 403
  agent_serial_mismatch,          // 403
  agent_not_in_domain,            // 403
  agent_registrar_not_in_domain,  // 403
  // The enrolling voucher's extension (docs/enrolling-voucher.md).
  enrolling_malformed,          // 400
  enrolling_wrong_device_key,   // 403
  enrolling_ldevid_not_domain,  // 403
  enrolling_not_cogenerated,    // 403
  // The device and its policies.
  device_unknown,               // 404
  device_stolen,                // 403
  owner_not_allowed,            // 403
  registrar_not_authenticated,  // 401: nonceless from an unknown registrar
  nonceless_not_allowed,        // 403
  audit_log_not_owner,          // 404
  // Our side.
  store_failure,    // 503
  signing_failure,  // 500
  internal_error,   // 500
};

struct StatusEntry {
  MasaError error;
  std::string_view name;  // stable snake_case, for logs and metrics labels
  int status;
  std::string_view reason;
};

// Every entry, in MasaError order.
std::span<const StatusEntry> status_table();
const StatusEntry& status_entry(MasaError error);

inline constexpr std::string_view k_text_plain = "text/plain; charset=utf-8";

// What the MASA answers: an HTTP status, a media type and the body bytes.
struct MasaResponse {
  int status = 0;
  std::string content_type{};
  Bytes body{};
  // A refusal's StatusEntry::name, for logs and metrics; empty on success.
  std::string error{};
  // When to try again (RFC 9110 §10.2.3 Retry-After), for a 503; 0: not said.
  int retry_after_seconds = 0;
};

// A 503 (the store is away: a restart, a fail-over, a full disk) tells the
// registrar to come back shortly rather than give up.
inline constexpr int k_unavailable_retry_after_seconds = 1;

// The refusal as a response: the table's reason, then the detail (which
// speaks only of the caller's own input, never of our internals) on a line
// of its own.
MasaResponse refusal_response(MasaError error, std::string_view detail = {});

}  // namespace vouchsafe::masa
