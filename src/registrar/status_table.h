// The registrar's named refusals and the one table that maps each to an
// HTTP status and a plain-text reason a pledge's operator (or the owner's)
// can act on, as src/masa/status_table.h does for the MASA.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/outcome.h"

namespace vouchsafe::registrar {

enum class RegistrarError {
  // The HTTP exchange itself.
  malformed_request,       // 400
  unsupported_media_type,  // 415
  not_acceptable,          // 406
  unknown_endpoint,        // 404
  request_too_large,       // 413
  // Who the pledge is.
  pledge_not_authenticated,  // 401: no IDevID, or one no configured manufacturer anchor vouches for
  pledge_identity_unusable,  // 403: an IDevID without a serialNumber
  // The pledge voucher-request (RFC 8995 §5.2/§5.3).
  pvr_signature_invalid,  // 403
  pvr_not_from_pledge,    // 403: signed by another key than the TLS client's
  serial_mismatch,        // 403
  wrong_registrar,        // 403: proximity-registrar-cert is not this registrar's
  // The MASA (RFC 8995 §5.4-§5.6).
  masa_unknown,           // 403: the IDevID names no MASA and none is configured
  masa_not_allowed,       // 403: the IDevID's MASA is not in the allow-list
  masa_unreachable,       // 502
  masa_refused,           // 403: the MASA answered with an error
  voucher_unusable,       // 502: the MASA's voucher is not for this device or domain
  audit_log_unavailable,  // 502
  audit_log_refused,      // 403: RFC 8995 §5.8.3 policy
  // Telemetry (RFC 8995 §5.7, §5.9.4).
  malformed_status,  // 400
  // EST (RFC 7030 as profiled by RFC 8995 §5.9).
  no_voucher,             // 403: no voucher went to this pledge through this registrar
  csr_malformed,          // 400
  csr_mismatch,           // 400: the CSR does not follow csrattrs
  reenroll_needs_ldevid,  // 403
  // Our side.
  store_failure,       // 503
  enrollment_failure,  // 500
  internal_error,      // 500
};

struct StatusEntry {
  RegistrarError error;
  std::string_view name;  // stable snake_case, for logs, the store and metrics labels
  int status;
  std::string_view reason;
};

std::span<const StatusEntry> status_table();
const StatusEntry& status_entry(RegistrarError error);

inline constexpr std::string_view k_text_plain = "text/plain; charset=utf-8";

// What the registrar answers.
struct RegistrarResponse {
  int status = 0;
  std::string content_type{};
  Bytes body{};
  std::vector<std::pair<std::string, std::string>> headers{};  // e.g. Content-Transfer-Encoding
  // A refusal's StatusEntry::name, for logs and metrics; empty on success.
  std::string error{};
};

using RegistrarRefusal = Refusal<RegistrarError>;
template <typename T>
using RegistrarOutcome = Outcome<T, RegistrarError>;
using RegistrarCheck = Check<RegistrarError>;

// The refusal as a response: the table's reason, then the detail on a line
// of its own.
RegistrarResponse refusal_response(const RegistrarRefusal& refusal);

}  // namespace vouchsafe::registrar
