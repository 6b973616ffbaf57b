// CMS SignedData envelope (RFC 5652) for JSON vouchers, RFC 8366 §5.4 /
// 8366bis: eContentType id-ct-animaJSONVoucher, signed attributes, the
// signer's chain in `certificates`.
#pragma once

#include "core/bytes.h"
#include "core/result.h"
#include "voucher/trust_policy.h"

namespace vouchsafe::voucher {

// Emits DER ContentInfo{SignedData} with eContentType 1.2.840.113549.1.9.16.1.40,
// one SignerInfo (issuerAndSerialNumber), signed attributes contentType,
// signingTime and messageDigest, and identity.chain as certificates.
Result<Bytes> sign_cms(ByteView payload, const SigningIdentity& identity);

// Verifies a DER ContentInfo{SignedData} with exactly one SignerInfo and
// attached content. Accepts eContentType 40 and id-data (every published
// example uses id-data); other content types are wrong_content_type.
Result<VerifiedEnvelope> verify_cms(ByteView der, const TrustPolicy& policy);

}  // namespace vouchsafe::voucher
