// What a verifier trusts, and the signed-envelope result every form returns.
#pragma once

#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/certificate_cache.h"
#include "crypto/handles.h"
#include "crypto/signer.h"
#include "crypto/trust_store.h"

namespace vouchsafe::voucher {

constexpr std::size_t k_default_max_input = std::size_t{64} * 1024;

// Either anchors (the signer's certificate must chain to one) or a pinned
// public key (as a device holds its MASA's key: the signature must verify
// with exactly that key; embedded certificates are then informational).
struct TrustPolicy {
  std::shared_ptr<const crypto::TrustStore> anchors;
  std::shared_ptr<EVP_PKEY> pinned_key;
  std::optional<std::time_t> at;  // validation time; now when unset
  std::size_t max_input = k_default_max_input;
  // With anchors: a signer certificate the verifier issued and keeps on
  // record (DER), whose signature it need not check again (see
  // crypto::TrustStore::validate).
  Bytes recorded_signer;
  // With anchors: certificates to try as the signer of an envelope that
  // names none. A cBRSKI pledge SHOULD NOT put kid, x5bag or x5chain in its
  // COSE request (constrained-voucher -29 §9.2.2): the MASA knows the
  // IDevID from the serial number, or from the registrar request's x5bag.
  std::vector<crypto::CertificateRef> candidate_signers;

  // With anchors: the dotted OID of a certificate policy some certificate
  // of the validated path below the anchor must carry (MASA key
  // architecture 3, masa-considerations §3.3: the voucher-authority policy
  // that only the MASA's signers carry, so a voucher signed with a device's
  // own IDevID key, which chains to the same root, is refused). Empty: none.
  std::string required_policy;

  // Inspection only: the signature is checked against the envelope's own
  // signer certificate when it has one, and no path is validated. For
  // showing what a file holds, never for accepting it.
  bool inspect_only = false;

  static TrustPolicy with_anchors(std::vector<crypto::X509Ptr> anchors);
  static TrustPolicy with_pinned_key(crypto::PkeyPtr key);
  static TrustPolicy for_inspection();
};

enum class Form { cms, cose, jws };
std::string_view form_name(Form form);
Result<Form> parse_form(std::string_view name);

// What a signature check proves: these payload bytes were signed by the
// first certificate of signer_chain (empty when a pinned key verified a
// signer that sent no certificate). With anchors, signer_chain is the
// validated path, signer first and anchor last.
struct VerifiedEnvelope {
  Form form;
  Bytes payload;
  std::vector<crypto::CertificateRef> signer_chain;
  std::vector<crypto::CertificateRef> embedded_certificates;  // as sent, in order
  // The protected header's key id (JWS "kid" text), when the signer named
  // itself by one; empty otherwise.
  std::string key_id;
};

// The signer's identity when signing: its key and its certificate chain,
// signer certificate first (may be empty for a raw-public-key signer).
struct SigningIdentity {
  const crypto::Signer* signer = nullptr;
  std::vector<crypto::CertificateRef> chain;
};

// Shared by the three envelopes once they know the candidate signer
// certificate (nullptr if the envelope names none) and the other embedded
// certificates: checks the signature with the pinned key or the signer's
// key (bad_signature), then, with anchors, validates the path
// (untrusted_chain). Returns the chain for VerifiedEnvelope::signer_chain.
Result<std::vector<crypto::CertificateRef>> check_signer(
    const crypto::CertificateRef& signer_cert, const std::vector<crypto::CertificateRef>& embedded,
    const TrustPolicy& policy, const std::function<Status(EVP_PKEY*)>& verify_signature);

Status check_input_size(ByteView input, const TrustPolicy& policy);

// Whether a certificate of `path` other than its last (the anchor) asserts
// the certificate policy `oid` (dotted); untrusted_chain naming the OID if
// none does. The pledge calls it through TrustPolicy::required_policy.
Status require_certificate_policy(const std::vector<crypto::CertificateRef>& path,
                                  const std::string& oid);

}  // namespace vouchsafe::voucher
