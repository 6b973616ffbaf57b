// The voucher the MASA signs (RFC 8995 §5.6, RFC 8366bis) and the values
// derived from certificates that it and the audit log carry.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "crypto/certificate_cache.h"
#include "masa/detail/outcome.h"
#include "masa/masa_service.h"
#include "voucher/model.h"
#include "voucher/trust_policy.h"

namespace vouchsafe::masa::detail {

// The certificate pinned-domain-cert carries, from the validated RVR chain
// (registrar first, domain anchor last).
const crypto::CertificateRef& pinned_certificate(const std::vector<crypto::CertificateRef>& chain,
                                                 MasaConfig::Pinning pinning);

// RFC 8995 §5.8.2: base64 of the certificate's SubjectKeyIdentifier, else
// of the SHA-256 of its SubjectPublicKeyInfo (the RFC 7469 pin).
std::string domain_id(const crypto::DecodedCertificate& cert);

struct VoucherContents {
  std::time_t now = 0;
  voucher::Assertion assertion = voucher::Assertion::proximity;
  std::string serial_number;
  std::optional<Bytes> nonce;             // the pledge's; none: nonceless
  std::string nonce_spelling;             // the pledge's text of it, when its request was JSON
  std::optional<std::time_t> expires_on;  // nonceless only
  Bytes pinned_domain_cert;
  std::optional<Bytes> idevid_issuer;
  std::optional<voucher::EnrollingExtension> enrolling;  // checked, copied from the RVR
};

// RFC 8995 §5.6: created-on, assertion, serial-number, nonce or expires-on,
// pinned-domain-cert, idevid-issuer, domain-cert-revocation-checks false;
// never a prior-signed-voucher-request.
voucher::Voucher build_voucher(const VoucherContents& contents);

// Signs with `key`; with bare_cose (architecture 4) a COSE voucher names the
// key by kid (its id, UTF-8) and carries no x5bag, as the device verifies it
// with the bare public key in its firmware.
Outcome<Bytes> sign_voucher(const voucher::Voucher& v, voucher::Form form, const MasaKey& key,
                            bool bare_cose);

}  // namespace vouchsafe::masa::detail
