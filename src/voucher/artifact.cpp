// Form detection and dispatch.
#include "voucher/artifact.h"

#include "voucher/cbor_codec.h"
#include "voucher/cms.h"
#include "voucher/cose.h"
#include "voucher/json_codec.h"
#include "voucher/jws.h"

namespace vouchsafe::voucher {

Result<Form> detect_form(ByteView data) {
  std::size_t i = 0;
  while (i < data.size() &&
         (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t')) {
    ++i;
  }
  if (i == data.size()) return fail(ErrorCode::unknown_form, "empty input");
  if (i == 0 && data[0] == 0x30) return Form::cms;
  if (i == 0 && (data[0] == 0xD2 || data[0] == 0x84)) return Form::cose;
  if (data[i] == '{') return Form::jws;
  return fail(ErrorCode::unknown_form,
              "not a CMS (DER), COSE_Sign1 (CBOR) or JWS (JSON) signed object");
}

Result<VerifiedArtifact> verify_artifact(ByteView data, const TrustPolicy& policy) {
  TRY(check_input_size(data, policy));
  ASSIGN_OR_RETURN(const Form form, detect_form(data));
  Result<VerifiedEnvelope> envelope = fail(ErrorCode::internal, "unreachable");
  switch (form) {
    case Form::cms:
      envelope = verify_cms(data, policy);
      break;
    case Form::cose:
      envelope = verify_cose(data, policy);
      break;
    case Form::jws:
      envelope = verify_jws(data, policy);
      break;
  }
  TRY(envelope);
  Result<Voucher> payload =
      form == Form::cose ? decode_cbor(envelope->payload) : decode_json(envelope->payload);
  TRY(payload);
  return VerifiedArtifact{std::move(payload).value(), std::move(envelope).value()};
}

Result<Bytes> sign_artifact(const Voucher& v, Form form, const SigningIdentity& identity) {
  TRY(validate(v));
  switch (form) {
    case Form::cms:
      return sign_cms(encode_json(v), identity);
    case Form::cose:
      return sign_cose(encode_cbor(v), identity);
    case Form::jws:
      return sign_jws(encode_json(v), identity);
  }
  return fail(ErrorCode::internal, "unknown form");
}

}  // namespace vouchsafe::voucher
