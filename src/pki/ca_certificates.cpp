// The root and issuing CA certificates (SPEC.md §5), made with OpenSSL's
// X509 API: they are made a handful of times, so clarity beats speed here.
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <stdexcept>

#include "crypto/algorithm.h"
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
Result<const EVP_MD*> digest_for_ca_key(EVP_PKEY* key) {
  ASSIGN_OR_RETURN(auto alg, crypto::algorithm_for_key(key));
  if (alg != crypto::SignatureAlgorithm::es256 && alg != crypto::SignatureAlgorithm::es384) {
    return fail(ErrorCode::unsupported_algorithm,
                "a CA key of this PKI must be ECDSA P-256 or P-384");
  }
  return crypto::digest_for(alg);
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

Status sign(X509* cert, EVP_PKEY* key, const EVP_MD* md) {
  if (X509_sign(cert, key, md) <= 0) {
    return crypto::openssl_fail(ErrorCode::bad_key, "cannot sign the CA certificate");
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
  TRY(check_ca_subject(subject));
  ASSIGN_OR_RETURN(const EVP_MD* md, digest_for_ca_key(key));
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
  TRY(sign(cert.get(), key, md));
  return cert;
}

Result<crypto::X509Ptr> make_issuing_ca_certificate(EVP_PKEY* subject_key, const CaSubject& subject,
                                                    X509* root, EVP_PKEY* root_key) {
  if (root == nullptr || subject_key == nullptr || root_key == nullptr) {
    return fail(ErrorCode::internal, "make_issuing_ca_certificate: missing certificate or key");
  }
  TRY(check_ca_subject(subject));
  TRY(digest_for_ca_key(subject_key));
  ASSIGN_OR_RETURN(const EVP_MD* md, digest_for_ca_key(root_key));
  if (X509_check_private_key(root, root_key) != 1) {
    crypto::openssl_reason("");  // clear the queue
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
  TRY(sign(cert.get(), root_key, md));
  return cert;
}

Result<crypto::X509Ptr> make_service_certificate(EVP_PKEY* subject_key, const CaSubject& subject,
                                                 X509* issuer, EVP_PKEY* issuer_key,
                                                 const ServiceProfile& profile) {
  TRY(check_ca_subject(subject));
  ASSIGN_OR_RETURN(const EVP_MD* md, digest_for_ca_key(issuer_key));
  if (X509_check_private_key(issuer, issuer_key) != 1) {
    crypto::openssl_reason("");
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
  TRY(sign(cert.get(), issuer_key, md));
  return cert;
}

}  // namespace vouchsafe::pki
