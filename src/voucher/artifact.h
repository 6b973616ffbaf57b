// The one entry point for signed vouchers and voucher-requests: detect the
// form, verify the envelope, decode the payload; and sign a model in any form.
#pragma once

#include "core/bytes.h"
#include "core/result.h"
#include "voucher/model.h"
#include "voucher/trust_policy.h"

namespace vouchsafe::voucher {

struct VerifiedArtifact {
  Voucher payload;
  VerifiedEnvelope envelope;
};

// CMS starts with a DER SEQUENCE (0x30), COSE_Sign1 with tag 18 (0xD2) or a
// 4-array (0x84), JWS with '{'. Anything else is unknown_form.
Result<Form> detect_form(ByteView data);

Result<VerifiedArtifact> verify_artifact(ByteView data, const TrustPolicy& policy);

// JSON payload for CMS and JWS, SID CBOR for COSE.
Result<Bytes> sign_artifact(const Voucher& v, Form form, const SigningIdentity& identity);

}  // namespace vouchsafe::voucher
