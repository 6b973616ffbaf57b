// COSE_Sign1 envelope (RFC 9052) for SID-keyed CBOR vouchers, as cBRSKI
// (draft-ietf-anima-constrained-voucher) uses it.
#pragma once

#include "core/bytes.h"
#include "core/result.h"
#include "voucher/trust_policy.h"

namespace vouchsafe::voucher {

struct CoseSignOptions {
  // cBRSKI: a voucher carries the MASA chain in an unprotected x5bag (32);
  // a voucher-request carries the signer's chain in x5bag too.
  bool include_x5bag = true;
  // Optional key id (4) in the protected header.
  std::optional<Bytes> kid;
};

// Emits tag 18 [protected {1: alg (, 4: kid)}, unprotected {32: x5bag}, payload, signature].
Result<Bytes> sign_cose(ByteView payload, const SigningIdentity& identity,
                        const CoseSignOptions& options = {});

// Verifies a COSE_Sign1 (tagged or untagged). The signer is the x5bag (or
// x5chain, 33) certificate whose key verifies; with a pinned key, no
// certificate is needed.
Result<VerifiedEnvelope> verify_cose(ByteView data, const TrustPolicy& policy);

}  // namespace vouchsafe::voucher
