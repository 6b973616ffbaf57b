// Signer and path checks shared by the CMS, COSE and JWS verifiers.
#include "voucher/trust_policy.h"

namespace vouchsafe::voucher {

TrustPolicy TrustPolicy::with_anchors(std::vector<crypto::X509Ptr> anchors) {
  TrustPolicy p;
  p.anchors = std::make_shared<crypto::TrustStore>(std::move(anchors));
  return p;
}

TrustPolicy TrustPolicy::with_pinned_key(crypto::PkeyPtr key) {
  TrustPolicy p;
  p.pinned_key = std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free);
  return p;
}

TrustPolicy TrustPolicy::for_inspection() {
  TrustPolicy p;
  p.inspect_only = true;
  return p;
}

std::string_view form_name(Form form) {
  switch (form) {
    case Form::cms:
      return "cms";
    case Form::cose:
      return "cose";
    case Form::jws:
      return "jws";
  }
  return "";
}

Result<Form> parse_form(std::string_view name) {
  if (name == "cms") return Form::cms;
  if (name == "cose") return Form::cose;
  if (name == "jws") return Form::jws;
  return fail(ErrorCode::usage, "unknown form '" + std::string(name) + "' (cms, cose or jws)");
}

Status check_input_size(ByteView input, const TrustPolicy& policy) {
  if (input.size() > policy.max_input) {
    return fail(ErrorCode::input_too_large, "input of " + std::to_string(input.size()) +
                                                " bytes exceeds the limit of " +
                                                std::to_string(policy.max_input));
  }
  return ok();
}

namespace {

// The certificates as sent, the signer's moved to the front.
std::vector<crypto::CertificateRef> signer_first(
    const crypto::CertificateRef& signer_cert,
    const std::vector<crypto::CertificateRef>& embedded) {
  std::vector<crypto::CertificateRef> chain;
  if (signer_cert) chain.push_back(signer_cert);
  for (const auto& c : embedded) {
    if (c != signer_cert) chain.push_back(c);
  }
  return chain;
}

}  // namespace

Result<std::vector<crypto::CertificateRef>> check_signer(
    const crypto::CertificateRef& signer_cert, const std::vector<crypto::CertificateRef>& embedded,
    const TrustPolicy& policy, const std::function<Status(EVP_PKEY*)>& verify_signature) {
  if (policy.pinned_key) {
    TRY(verify_signature(policy.pinned_key.get()));
    return signer_first(signer_cert, embedded);
  }
  if (policy.inspect_only) {
    if (signer_cert) TRY(verify_signature(signer_cert->public_key.get()));
    return signer_first(signer_cert, embedded);
  }
  if (!policy.anchors) return fail(ErrorCode::usage, "no trust anchor or pinned key given");
  if (!signer_cert) {
    return fail(ErrorCode::unknown_signer, "the envelope carries no certificate for its signer");
  }
  TRY(verify_signature(signer_cert->public_key.get()));
  std::vector<crypto::CertificateRef> untrusted;
  for (const auto& c : embedded) {
    if (c != signer_cert) untrusted.push_back(c);
  }
  return policy.anchors->validate(signer_cert, untrusted, policy.at, policy.recorded_signer);
}

}  // namespace vouchsafe::voucher
