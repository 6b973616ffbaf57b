// Reading the fields of certificates that BRSKI relies on: the subject
// serialNumber (the voucher's serial-number) and the idevid-issuer value.
#pragma once

#include <openssl/x509.h>

#include <string>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/certificate_cache.h"

namespace vouchsafe::pki {

// The serialNumber attribute (2.5.4.5) of a name as UTF-8 text; empty when
// absent; an error when repeated or unreadable. `what` names the name in
// messages ("the CSR's subject").
Result<std::string> name_serial_number(const X509_NAME* name, const std::string& what);

// RFC 8995 §5.5: the IDevID's device serial number, from its subject.
Result<std::string> device_serial_of(X509* idevid);

// RFC 8995 §2.5.2 / 8366bis idevid-issuer: the DER OCTET STRING holding the
// IDevID's AuthorityKeyIdentifier extension value (04 LL 30 LL 80 14 ...).
// not found (invalid_value) when the certificate has no AKI.
Result<Bytes> idevid_issuer_of(X509* idevid);

// The same two, read from our decoding of the certificate so that the
// MASA's hot path does not decode a fresh IDevID through OpenSSL. Strings
// other than ASCII PrintableString, IA5String or UTF8String are left to the
// X509 readers above, so the answers are always theirs.
Result<std::string> device_serial_of(const crypto::DecodedCertificate& idevid);
Result<Bytes> idevid_issuer_of(const crypto::DecodedCertificate& idevid);

}  // namespace vouchsafe::pki
