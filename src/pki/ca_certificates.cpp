// The root and issuing CA certificates (SPEC.md §5), made with OpenSSL's
// X509 API: they are made a handful of times, so clarity beats speed here.
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <functional>
#include <stdexcept>

#include "crypto/algorithm.h"
#include "crypto/der.h"
#include "crypto/keys.h"
#include "crypto/oids.h"
#include "crypto/openssl_error.h"
#include "pki/certificate_profiles.h"

namespace vouchsafe::pki {
namespace {

using ExtensionPtr =
    std::unique_ptr<X509_EXTENSION, crypto::Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

constexpr std::size_t k_serial_octets = 16;
// RFC 5280 Appendix A: ub-common-name and ub-organization-name are 64.
constexpr std::size_t k_max_name_length = 64;

// ECDSA PKI profile: P-256 signs with SHA-256, P-384 with SHA-384.
Status check_ca_algorithm(crypto::SignatureAlgorithm alg) {
  if (alg != crypto::SignatureAlgorithm::es256 && alg != crypto::SignatureAlgorithm::es384) {
    return fail(ErrorCode::unsupported_algorithm,
                "a CA key of this PKI must be ECDSA P-256 or P-384");
  }
  return ok();
}
Status check_ca_key(EVP_PKEY* key) {
  ASSIGN_OR_RETURN(auto alg, crypto::algorithm_for_key(key));
  return check_ca_algorithm(alg);
}

// Whether the signer holds the key of `cert`.
bool same_key(X509* cert, const crypto::Signer& signer) {
  const bool same = EVP_PKEY_eq(X509_get0_pubkey(cert), signer.public_key()) == 1;
  crypto::openssl_reason("");  // clear the queue
  return same;
}

Result<crypto::X509Ptr> with_software_signer(
    EVP_PKEY* key, const std::function<Result<crypto::X509Ptr>(const crypto::Signer&)>& make) {
  if (key == nullptr) return fail(ErrorCode::internal, "no signing key given");
  ASSIGN_OR_RETURN(auto signer, crypto::SoftwareSigner::create(crypto::share(key)));
  return make(*signer);
}

Status check_ca_subject(const CaSubject& subject) {
  // RFC 5280 §4.1.2.4: a CA's name is the issuer of what it signs, never empty.
  if (subject.common_name.empty()) {
    return fail(ErrorCode::invalid_value, "a CA certificate needs a common name");
  }
  if (subject.common_name.size() > k_max_name_length ||
      subject.organization.size() > k_max_name_length) {
    return fail(ErrorCode::invalid_value,
                "CA organization and common name are limited to 64 characters (RFC 5280 "
                "Appendix A)");
  }
  return ok();
}

Status set_subject(X509* cert, const CaSubject& subject) {
  X509_NAME* name = X509_get_subject_name(cert);  // owned by cert
  auto add = [name](const char* field, const std::string& value) {
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.data()),
                                      static_cast<int>(value.size()), -1, 0) == 1;
  };
  if ((!subject.organization.empty() && !add("O", subject.organization)) ||
      !add("CN", subject.common_name)) {
    return crypto::openssl_fail(ErrorCode::invalid_value, "cannot set the CA's subject name");
  }
  return ok();
}

// Version 3, a random serial, notBefore now, notAfter 99991231235959Z.
Status set_common_fields(X509* cert, EVP_PKEY* subject_key) {
  const Bytes serial = random_certificate_serial();
  crypto::BignumPtr bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  if (X509_set_version(cert, X509_VERSION_3) != 1 || !bn ||
      BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr ||
      X509_gmtime_adj(X509_getm_notBefore(cert), 0) == nullptr ||
      // 802.1AR §8.5 / RFC 5280 §4.1.2.5: "no well-defined expiration date",
      // which OpenSSL writes as GeneralizedTime since the year is past 2049.
      ASN1_TIME_set_string_X509(X509_getm_notAfter(cert), "99991231235959Z") != 1 ||
      X509_set_pubkey(cert, subject_key) != 1) {
    return crypto::openssl_fail(ErrorCode::internal, "cannot fill in the CA certificate");
  }
  return ok();
}

// Adds one extension written in OpenSSL's configuration syntax; `ctx` names
// the issuer whose SKI becomes the AKI.
Status add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return crypto::openssl_fail(ErrorCode::internal,
                                std::string("cannot add the extension ") + OBJ_nid2sn(nid));
  }
  return ok();
}

// Signs the certificate through the Signer interface, so that a CA key on
// an HSM signs as a key in memory does: the TBSCertificate is encoded with
// its signature algorithm set, signed, and the Certificate (RFC 5280 §4.1.1)
// assembled around it.
Result<crypto::X509Ptr> sign(X509* cert, const crypto::Signer& signer) {
  TRY(check_ca_algorithm(signer.algorithm()));
  const bool p384 = signer.algorithm() == crypto::SignatureAlgorithm::es384;
  // RFC 5758 §3.2: ecdsa-with-SHA256/384 without parameters.
  auto* tbs_algorithm = const_cast<X509_ALGOR*>(X509_get0_tbs_sigalg(cert));
  if (X509_ALGOR_set0(tbs_algorithm,
                      OBJ_nid2obj(p384 ? NID_ecdsa_with_SHA384 : NID_ecdsa_with_SHA256),
                      V_ASN1_UNDEF, nullptr) != 1) {
    return crypto::openssl_fail(ErrorCode::internal, "cannot set the signature algorithm");
  }
  const Bytes tbs = crypto::to_der(cert, i2d_re_X509_tbs);
  if (tbs.empty())
    return crypto::openssl_fail(ErrorCode::internal, "cannot encode the certificate");
  ASSIGN_OR_RETURN(const Bytes signature, signer.sign(tbs));
  namespace der = crypto::der;
  der::Writer w(tbs.size() + signature.size() + 32);
  w.sequence([&](der::Writer& c) {
    c.add_encoded(tbs);
    c.sequence([&](der::Writer& alg) {
      alg.add_oid(p384 ? ByteView(crypto::oid::ecdsa_with_sha384)
                       : ByteView(crypto::oid::ecdsa_with_sha256));
    });
    Bytes bits{0};
    bits.insert(bits.end(), signature.begin(), signature.end());
    c.add(der::k_bit_string, bits);
  });
  const Bytes der_bytes = w.take();
  ASSIGN_OR_RETURN(auto signed_cert, crypto::parse_certificate_der(der_bytes));
  return signed_cert;
}

// RFC 5280 §4.2.1.4: certificatePolicies, non-critical, one policy OID
// without qualifiers (the voucher-authorization policy of key architecture
// 3); empty: none.
Status add_policy(X509* cert, const std::string& policy) {
  if (policy.empty()) return ok();
  using PoliciesPtr =
      std::unique_ptr<CERTIFICATEPOLICIES,
                      crypto::Deleter<CERTIFICATEPOLICIES, CERTIFICATEPOLICIES_free>>;
  ASN1_OBJECT* oid = crypto::der::oid_from_text(policy) ? OBJ_txt2obj(policy.c_str(), 1) : nullptr;
  if (oid == nullptr) {
    return fail(ErrorCode::invalid_value,
                "the certificate policy '" + policy + "' is not a dotted OID");
  }
  PoliciesPtr policies(sk_POLICYINFO_new_null());
  POLICYINFO* info = POLICYINFO_new();
  if (!policies || info == nullptr) {
    ASN1_OBJECT_free(oid);
    POLICYINFO_free(info);
    return crypto::openssl_fail(ErrorCode::internal, "cannot allocate certificatePolicies");
  }
  ASN1_OBJECT_free(info->policyid);
  info->policyid = oid;
  if (sk_POLICYINFO_push(policies.get(), info) <= 0) {
    POLICYINFO_free(info);
    return crypto::openssl_fail(ErrorCode::internal, "cannot build certificatePolicies");
  }
  if (X509_add1_ext_i2d(cert, NID_certificate_policies, policies.get(), 0, X509V3_ADD_DEFAULT) !=
      1) {
    return crypto::openssl_fail(ErrorCode::internal, "cannot add certificatePolicies");
  }
  return ok();
}

}  // namespace

Bytes random_certificate_serial() {
  // RFC 5280 §4.1.2.2: positive, at most 20 octets. Clearing the top bit
  // keeps the INTEGER positive without a leading 0x00; a non-zero first
  // octet keeps it exactly 16 octets long (minimal DER).
  Bytes serial(k_serial_octets);
  if (RAND_bytes(serial.data(), static_cast<int>(serial.size())) != 1) {
    throw std::runtime_error(crypto::openssl_reason("the random number generator failed"));
  }
  serial[0] &= 0x7FU;
  while (serial[0] == 0) {
    if (RAND_bytes(serial.data(), 1) != 1) {
      throw std::runtime_error(crypto::openssl_reason("the random number generator failed"));
    }
    serial[0] &= 0x7FU;
  }
  return serial;
}

Result<crypto::X509Ptr> make_root_certificate(EVP_PKEY* key, const CaSubject& subject) {
  return with_software_signer(
      key, [&](const crypto::Signer& signer) { return make_root_certificate(signer, subject); });
}

Result<crypto::X509Ptr> make_root_certificate(const crypto::Signer& signer,
                                              const CaSubject& subject) {
  TRY(check_ca_subject(subject));
  TRY(check_ca_algorithm(signer.algorithm()));
  EVP_PKEY* key = signer.public_key();
  crypto::X509Ptr cert(X509_new());
  if (!cert) return crypto::openssl_fail(ErrorCode::internal, "cannot allocate a certificate");
  TRY(set_common_fields(cert.get(), key));
  TRY(set_subject(cert.get(), subject));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1) {
    return crypto::openssl_fail(ErrorCode::internal, "cannot set the root's issuer name");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  TRY(add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE"));
  TRY(add_extension(cert.get(), &ctx, NID_key_usage,
                    "critical,digitalSignature,keyCertSign,cRLSign"));
  // RFC 5280 §4.2.1.2 method (1); the SKI goes first so that the AKI of this
  // self-signed certificate can repeat it (§4.2.1.1 allows AKI here).
  TRY(add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  TRY(add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  return sign(cert.get(), signer);
}

Result<crypto::X509Ptr> make_issuing_ca_certificate(EVP_PKEY* subject_key, const CaSubject& subject,
                                                    X509* root, EVP_PKEY* root_key) {
  return with_software_signer(root_key, [&](const crypto::Signer& signer) {
    return make_issuing_ca_certificate(subject_key, subject, root, signer);
  });
}

Result<crypto::X509Ptr> make_issuing_ca_certificate(EVP_PKEY* subject_key, const CaSubject& subject,
                                                    X509* root, const crypto::Signer& root_signer,
                                                    const std::string& certificate_policy) {
  if (root == nullptr || subject_key == nullptr) {
    return fail(ErrorCode::internal, "make_issuing_ca_certificate: missing certificate or key");
  }
  TRY(check_ca_subject(subject));
  TRY(check_ca_key(subject_key));
  TRY(check_ca_algorithm(root_signer.algorithm()));
  if (!same_key(root, root_signer)) {
    return fail(ErrorCode::bad_key, "the root key does not belong to the root certificate");
  }
  if (X509_get0_subject_key_id(root) == nullptr) {
    return fail(ErrorCode::invalid_value,
                "the root certificate has no subjectKeyIdentifier for the issuing CA's AKI");
  }
  crypto::X509Ptr cert(X509_new());
  if (!cert) return crypto::openssl_fail(ErrorCode::internal, "cannot allocate a certificate");
  TRY(set_common_fields(cert.get(), subject_key));
  TRY(set_subject(cert.get(), subject));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(root)) != 1) {
    return crypto::openssl_fail(ErrorCode::internal, "cannot set the issuing CA's issuer name");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, root, cert.get(), nullptr, nullptr, 0);
  // ECDSA PKI profile: an issuing CA signs only end-entity certificates.
  TRY(add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  TRY(add_extension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"));
  TRY(add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  TRY(add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  TRY(add_policy(cert.get(), certificate_policy));
  return sign(cert.get(), root_signer);
}

Result<crypto::X509Ptr> make_service_certificate(EVP_PKEY* subject_key, const CaSubject& subject,
                                                 X509* issuer, EVP_PKEY* issuer_key,
                                                 const ServiceProfile& profile) {
  return with_software_signer(issuer_key, [&](const crypto::Signer& signer) {
    return make_service_certificate(subject_key, subject, issuer, signer, profile);
  });
}

Result<crypto::X509Ptr> make_service_certificate(EVP_PKEY* subject_key, const CaSubject& subject,
                                                 X509* issuer, const crypto::Signer& issuer_signer,
                                                 const ServiceProfile& profile) {
  TRY(check_ca_subject(subject));
  TRY(check_ca_algorithm(issuer_signer.algorithm()));
  if (!same_key(issuer, issuer_signer)) {
    return fail(ErrorCode::bad_key, "the issuer key does not belong to the issuer certificate");
  }
  crypto::X509Ptr cert(X509_new());
  if (!cert) return crypto::openssl_fail(ErrorCode::internal, "cannot allocate a certificate");
  TRY(set_common_fields(cert.get(), subject_key));
  if (profile.validity_days > 0 &&
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), profile.validity_days * 86400L) == nullptr) {
    return crypto::openssl_fail(ErrorCode::internal, "cannot set the certificate's validity");
  }
  TRY(set_subject(cert.get(), subject));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer)) != 1) {
    return crypto::openssl_fail(ErrorCode::internal, "cannot set the issuer name");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert.get(), nullptr, nullptr, 0);
  TRY(add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"));
  TRY(add_extension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature"));
  if (!profile.extended_key_usage.empty()) {
    TRY(add_extension(cert.get(), &ctx, NID_ext_key_usage, profile.extended_key_usage.c_str()));
  }
  if (!profile.subject_alt_names.empty()) {
    TRY(add_extension(cert.get(), &ctx, NID_subject_alt_name, profile.subject_alt_names.c_str()));
  }
  TRY(add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  TRY(add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  TRY(add_policy(cert.get(), profile.certificate_policy));
  return sign(cert.get(), issuer_signer);
}

}  // namespace vouchsafe::pki
