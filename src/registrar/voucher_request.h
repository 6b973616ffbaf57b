// The registrar's side of RFC 8995 §5.5: wrapping a pledge's voucher-request
// into the registrar voucher-request it sends the MASA.
#pragma once

#include "core/bytes.h"
#include "core/date_time.h"
#include "core/result.h"
#include "crypto/certificate_cache.h"
#include "voucher/model.h"
#include "voucher/trust_policy.h"

namespace vouchsafe::registrar {

struct RegistrarRequestOptions {
  voucher::Form form = voucher::Form::cms;
  bool nonceless = false;  // ask for a voucher without nonce (it will carry expires-on)
  DateTime created_on = now_date_time();
};

// Checks the pledge request's signature against the IDevID it carries, then
// builds the RVR (RFC 8995 §5.5): created-on, the PVR's assertion and nonce
// (unless nonceless), its serial-number, idevid-issuer from the IDevID's
// AKI where it has one, and the whole PVR as prior-signed-voucher-request;
// signed by the registrar (whose certificate carries id-kp-cmcRA).
Result<Bytes> make_registrar_voucher_request(const voucher::SigningIdentity& registrar,
                                             ByteView pledge_request,
                                             const RegistrarRequestOptions& options);

// The same for a pledge request the caller has verified already: its
// payload, and the IDevID that signed it (nullptr: none known). The
// fields are those of RFC 8995 §3.3 example 2 and Appendix C.2.2.
Result<Bytes> make_registrar_voucher_request(const voucher::SigningIdentity& registrar,
                                             ByteView pledge_request,
                                             const voucher::Voucher& pledge_payload,
                                             const crypto::DecodedCertificate* idevid,
                                             const RegistrarRequestOptions& options);

}  // namespace vouchsafe::registrar
