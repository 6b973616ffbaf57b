// CMS SignedData envelope (RFC 5652) for JSON vouchers, RFC 8366 §5.4 /
// 8366bis: eContentType id-ct-animaJSONVoucher, signed attributes, the
// signer's chain in `certificates`.
#pragma once

#include "core/bytes.h"
#include "core/result.h"
#include "voucher/trust_policy.h"

namespace vouchsafe::voucher {

// Emits DER ContentInfo{SignedData} with eContentType 1.2.840.113549.1.9.16.1.40
// (so SignedData version 3, RFC 5652 §5.1), one SignerInfo naming
// identity.chain[0] by issuerAndSerialNumber (or, without a chain, the key by
// subjectKeyIdentifier), signed attributes contentType, signingTime and
// messageDigest, and identity.chain as certificates. The digest follows the
// key: SHA-256/384/512 for P-256/384/521, SHA-512 for Ed25519 (RFC 8419).
Result<Bytes> sign_cms(ByteView payload, const SigningIdentity& identity);

// Verifies a DER ContentInfo{SignedData} with exactly one SignerInfo and
// attached content. Accepts eContentType 40 and id-data (every published
// example uses id-data); other content types are wrong_content_type.
// Input that is not strict DER is malformed_der; a signer named by no
// embedded certificate is unknown_signer unless a key is pinned.
Result<VerifiedEnvelope> verify_cms(ByteView der, const TrustPolicy& policy);

}  // namespace vouchsafe::voucher
