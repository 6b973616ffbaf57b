// Signer and path checks shared by the CMS, COSE and JWS verifiers.
#include "voucher/trust_policy.h"

#include <openssl/x509v3.h>

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
  ASSIGN_OR_RETURN(auto path, policy.anchors->validate(signer_cert, untrusted, policy.at,
                                                       policy.recorded_signer));
  if (!policy.required_policy.empty())
    TRY(require_certificate_policy(path, policy.required_policy));
  return path;
}

Status require_certificate_policy(const std::vector<crypto::CertificateRef>& path,
                                  const std::string& oid) {
  using PoliciesPtr =
      std::unique_ptr<CERTIFICATEPOLICIES,
                      crypto::Deleter<CERTIFICATEPOLICIES, CERTIFICATEPOLICIES_free>>;
  using ObjectPtr = std::unique_ptr<ASN1_OBJECT, crypto::Deleter<ASN1_OBJECT, ASN1_OBJECT_free>>;
  const ObjectPtr wanted(OBJ_txt2obj(oid.c_str(), 1));
  if (!wanted) return fail(ErrorCode::usage, "'" + oid + "' is not a dotted OID");
  // RFC 5280 §4.2.1.4: certificatePolicies; the anchor itself does not count.
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    X509* cert = path[i]->x509();
    if (cert == nullptr) continue;
    const PoliciesPtr policies(static_cast<CERTIFICATEPOLICIES*>(
        X509_get_ext_d2i(cert, NID_certificate_policies, nullptr, nullptr)));
    if (!policies) continue;
    for (int p = 0; p < sk_POLICYINFO_num(policies.get()); ++p) {
      if (OBJ_cmp(sk_POLICYINFO_value(policies.get(), p)->policyid, wanted.get()) == 0) return ok();
    }
  }
  return fail(ErrorCode::untrusted_chain,
              "no certificate of the signer's path carries the voucher-authority policy " + oid +
                  ": the signer is not authorised to sign vouchers (masa-considerations §3.3)");
}

}  // namespace vouchsafe::voucher
