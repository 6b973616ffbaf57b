// JWS General JSON Serialization (RFC 7515 §7.2.1) for JSON vouchers, as
// draft-ietf-anima-jws-voucher specifies: protected header with alg, typ
// "voucher-jws+json" and x5c.
#pragma once

#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/result.h"
#include "voucher/trust_policy.h"

namespace vouchsafe::voucher {

struct JwsSignOptions {
  // A protected "kid" naming the signer (BRSKI-PRM agent-signed-data: the
  // base64 SubjectKeyIdentifier of the agent's certificate). With a kid the
  // header is {"alg", "kid"} (plus x5c when the identity has a chain) and
  // carries no voucher typ: such a JWS is not a voucher.
  std::optional<std::string> kid;
};

Result<Bytes> sign_jws(ByteView payload, const SigningIdentity& identity,
                       const JwsSignOptions& options = {});

// Verifies a General (or Flattened) JSON Serialization with one signature;
// the signer is x5c[0], or the pinned key. VerifiedEnvelope::key_id holds
// the verified signature's protected "kid", if it has one.
Result<VerifiedEnvelope> verify_jws(ByteView data, const TrustPolicy& policy);

}  // namespace vouchsafe::voucher
