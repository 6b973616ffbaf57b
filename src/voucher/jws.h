// JWS General JSON Serialization (RFC 7515 §7.2.1) for JSON vouchers, as
// draft-ietf-anima-jws-voucher specifies: protected header with alg, typ
// "voucher-jws+json" and x5c.
#pragma once

#include "core/bytes.h"
#include "core/result.h"
#include "voucher/trust_policy.h"

namespace vouchsafe::voucher {

Result<Bytes> sign_jws(ByteView payload, const SigningIdentity& identity);

// Verifies a General (or Flattened) JSON Serialization with one signature;
// the signer is x5c[0].
Result<VerifiedEnvelope> verify_jws(ByteView data, const TrustPolicy& policy);

}  // namespace vouchsafe::voucher
