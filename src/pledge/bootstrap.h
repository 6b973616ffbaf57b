// The pledge's side of RFC 8995, end to end, through a RegistrarTransport:
// voucher-request (§5.2), voucher checks (§5.6.1), pinning the domain and
// checking the provisional TLS connection against it (§5.6.2),
// voucher_status (§5.7), EST cacerts, csrattrs and simpleenroll (§5.9.1-
// §5.9.3), enrollstatus (§5.9.4). Each failure is a named PledgeError,
// reported to the registrar where the flow still allows it.
#pragma once

#include <ctime>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/outcome.h"
#include "crypto/handles.h"
#include "pledge/identity.h"
#include "pledge/registrar_transport.h"
#include "voucher/artifact.h"
#include "voucher/model.h"
#include "voucher/trust_policy.h"

namespace vouchsafe::pledge {

enum class PledgeError {
  registrar_unreachable,           // the transport failed
  voucher_refused,                 // requestvoucher answered an error
  voucher_malformed,               // not a voucher this pledge can read
  voucher_signature_invalid,       // not signed by the MASA this pledge trusts
  voucher_serial_mismatch,         // for another device
  voucher_nonce_mismatch,          // not the answer to this request (replayed?)
  voucher_expired,                 // nonceless, and past (or without) expires-on
  voucher_assertion_refused,       // an assertion this pledge does not accept
  voucher_idevid_issuer_mismatch,  // for a device of another issuing CA
  registrar_not_in_domain,         // the TLS server does not chain to pinned-domain-cert
  cacerts_failed,
  csrattrs_failed,
  enroll_refused,  // simpleenroll answered an error
  ldevid_invalid,  // not for this key, not of the pinned domain
  // The enrolling voucher (docs/enrolling-voucher.md).
  enrolling_missing,             // a voucher without the enrolling extension
  enrolling_for_another_device,  // its device-key is not this device's
  enrolling_share_unreadable,    // the sealed share does not open
  enrolling_key_mismatch,        // x + y does not give the LDevID's key
  internal,
};

struct ErrorEntry {
  PledgeError error;
  std::string_view name;
  std::string_view reason;
};
const ErrorEntry& error_entry(PledgeError error);
std::span<const ErrorEntry> error_table();

template <typename T>
using PledgeOutcome = Outcome<T, PledgeError>;

// The MASA trust anchor built into the firmware: certificates (the
// voucher's signer must chain to one) or a bare public key (the voucher
// must be signed by exactly that key).
struct MasaTrust {
  std::vector<crypto::X509Ptr> anchors;
  crypto::PkeyPtr public_key;
  // MASA key architecture 3 (the manufacturer root is the anchor): the
  // certificate policy OID the voucher signer's chain must carry, so that
  // a key certified for something else under that root (an IDevID) cannot
  // sign vouchers. Empty: no such requirement.
  std::string voucher_authority;
};

struct BootstrapOptions {
  voucher::Form form = voucher::Form::cms;
  // The clock; std::time(nullptr) when unset.
  std::function<std::time_t()> now;
  // The nonce to send; fresh and random when unset (tests replay one).
  std::optional<Bytes> nonce;
  std::set<voucher::Assertion> accepted_assertions{
      voucher::Assertion::verified, voucher::Assertion::logged, voucher::Assertion::proximity};
  // Called with each step's name as it starts, for a progress display.
  std::function<void(std::string_view)> on_step;
};

struct Enrollment {
  Bytes voucher;  // as signed by the MASA
  voucher::Voucher voucher_payload;
  crypto::X509Ptr pinned_domain_cert;  // null when the voucher pinned a key
  crypto::PkeyPtr ldevid_key;
  crypto::X509Ptr ldevid;
  std::vector<crypto::X509Ptr> domain_certificates;  // cacerts, checked against the pin
};

// RFC 8995 §5.6.1: the voucher is signed by the MASA this pledge trusts, is
// for this device (serial-number, idevid-issuer if present), answers this
// request (the nonce) or, nonceless, has not expired, and asserts what the
// pledge accepts. With no nonce expected, a voucher carrying one is
// refused: it answered some other exchange.
PledgeOutcome<voucher::VerifiedArtifact> check_voucher(ByteView body,
                                                       const PledgeIdentity& identity,
                                                       const MasaTrust& masa,
                                                       const std::optional<Bytes>& nonce,
                                                       const std::set<voucher::Assertion>& accepted,
                                                       std::time_t at);

// The whole flow on one connection. A failure after the voucher arrived is
// reported to the registrar (voucher_status or enrollstatus with the
// reason) before it is returned; the refusal's detail says whether the
// report went through.
PledgeOutcome<Enrollment> bootstrap(const PledgeIdentity& identity, const MasaTrust& masa,
                                    RegistrarTransport& registrar, const BootstrapOptions& options);

// The RFC 8995 §5.7 / §5.9.4 status report: {"version": 1, "status": ...,
// "reason"?: ...}.
Bytes status_report(bool status, const std::string& reason);

}  // namespace vouchsafe::pledge
