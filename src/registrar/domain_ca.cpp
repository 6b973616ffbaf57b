// The domain CA: LDevIDs, and the certificates `registrar init` makes.
#include "registrar/domain_ca.h"

#include <openssl/x509v3.h>

#include <algorithm>

#include "crypto/algorithm.h"
#include "crypto/keys.h"
#include "crypto/oids.h"
#include "crypto/openssl_error.h"
#include "pki/certificate_profiles.h"

namespace vouchsafe::registrar {
namespace {

using ExtensionPtr =
    std::unique_ptr<X509_EXTENSION, crypto::Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

// RFC 5280 §4.2.1.12 id-kp-cmcRA (RFC 6402 §2.10), 1.3.6.1.5.5.7.3.28.
constexpr const char* k_registrar_eku = "1.3.6.1.5.5.7.3.28,clientAuth,serverAuth";

Status add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return crypto::openssl_fail(ErrorCode::internal,
                                std::string("cannot add the extension ") + OBJ_nid2sn(nid));
  }
  return ok();
}

std::time_t not_after_of(X509* cert) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return 0;
  return timegm(&tm);
}

}  // namespace

Result<std::unique_ptr<DomainCa>> DomainCa::create(crypto::X509Ptr certificate, crypto::PkeyPtr key,
                                                   std::vector<crypto::X509Ptr> above) {
  if (!certificate || !key)
    return fail(ErrorCode::internal, "DomainCa needs a certificate and key");
  if (X509_check_private_key(certificate.get(), key.get()) != 1) {
    crypto::openssl_reason("");
    return fail(ErrorCode::bad_key, "the domain CA key does not belong to its certificate");
  }
  if (X509_check_ca(certificate.get()) != 1) {
    return fail(ErrorCode::invalid_value, "the domain CA certificate is not a CA certificate");
  }
  if (X509_get0_subject_key_id(certificate.get()) == nullptr) {
    // RFC 8995 §5.8.2: the domainID is the SKI of what vouchers pin.
    return fail(ErrorCode::invalid_value,
                "the domain CA certificate has no subjectKeyIdentifier (needed for the LDevIDs' "
                "AKI and the domainID of RFC 8995 §5.8.2)");
  }
  ASSIGN_OR_RETURN(auto alg, crypto::algorithm_for_key(key.get()));
  if (alg != crypto::SignatureAlgorithm::es256 && alg != crypto::SignatureAlgorithm::es384) {
    return fail(ErrorCode::unsupported_algorithm, "the domain CA key must be ECDSA P-256 or P-384");
  }
  return std::unique_ptr<DomainCa>(
      new DomainCa(std::move(certificate), std::move(key), std::move(above)));
}

std::vector<X509*> DomainCa::certificates() const {
  std::vector<X509*> out{certificate_.get()};
  for (const auto& c : above_) out.push_back(c.get());
  return out;
}

namespace {

// docs/enrolling-voucher.md: id-vs-cogeneratedKey, non-critical, NULL.
Status add_co_generated_key_extension(X509* cert) {
  using ObjectPtr = std::unique_ptr<ASN1_OBJECT, crypto::Deleter<ASN1_OBJECT, ASN1_OBJECT_free>>;
  using OctetsPtr = std::unique_ptr<ASN1_OCTET_STRING,
                                    crypto::Deleter<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>>;
  const std::string oid(crypto::oid::vs_cogenerated_key_text);
  ObjectPtr object(OBJ_txt2obj(oid.c_str(), 1));
  OctetsPtr value(ASN1_OCTET_STRING_new());
  constexpr unsigned char k_null[] = {0x05, 0x00};
  if (!object || !value || ASN1_OCTET_STRING_set(value.get(), k_null, sizeof k_null) != 1) {
    return crypto::openssl_fail(ErrorCode::internal, "the co-generated key extension");
  }
  ExtensionPtr extension(X509_EXTENSION_create_by_OBJ(nullptr, object.get(), 0, value.get()));
  if (!extension || X509_add_ext(cert, extension.get(), -1) != 1) {
    return crypto::openssl_fail(ErrorCode::internal, "the co-generated key extension");
  }
  return ok();
}

}  // namespace

Result<crypto::X509Ptr> DomainCa::issue_ldevid(EVP_PKEY* subject_key, const std::string& serial,
                                               const LdevidProfile& profile,
                                               std::time_t now) const {
  TRY(pki::check_device_serial(serial));
  crypto::X509Ptr cert(X509_new());
  if (!cert) return crypto::openssl_fail(ErrorCode::internal, "cannot allocate a certificate");
  const Bytes serial_bytes = pki::random_certificate_serial();
  crypto::BignumPtr bn(
      BN_bin2bn(serial_bytes.data(), static_cast<int>(serial_bytes.size()), nullptr));
  const std::time_t until = std::min(now + static_cast<std::time_t>(profile.validity.count()),
                                     not_after_of(certificate_.get()));
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 || !bn ||
      BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr ||
      ASN1_TIME_set(X509_getm_notBefore(cert.get()), now) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), until) == nullptr ||
      X509_set_pubkey(cert.get(), subject_key) != 1 ||
      X509_set_issuer_name(cert.get(), X509_get_subject_name(certificate_.get())) != 1) {
    return crypto::openssl_fail(ErrorCode::internal, "cannot fill in the LDevID");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto add = [name](int nid, const std::string& value) {
    // OpenSSL's string table gives each attribute its own type, whatever
    // the input: PrintableString for serialNumber (RFC 5280 Appendix A).
    return X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.data()),
                                      static_cast<int>(value.size()), -1, 0) == 1;
  };
  if ((!profile.organization.empty() && !add(NID_organizationName, profile.organization)) ||
      !add(NID_serialNumber, serial)) {
    return crypto::openssl_fail(ErrorCode::invalid_value, "cannot set the LDevID's subject");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, certificate_.get(), cert.get(), nullptr, nullptr, 0);
  TRY(add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"));
  TRY(add_extension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature"));
  TRY(add_extension(cert.get(), &ctx, NID_ext_key_usage, "clientAuth,serverAuth"));
  TRY(add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  TRY(add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  if (profile.co_generated_key) TRY(add_co_generated_key_extension(cert.get()));
  ASSIGN_OR_RETURN(auto alg, crypto::algorithm_for_key(key_.get()));
  if (X509_sign(cert.get(), key_.get(), crypto::digest_for(alg)) <= 0) {
    return crypto::openssl_fail(ErrorCode::bad_key, "the domain CA cannot sign the LDevID");
  }
  return cert;
}

Result<crypto::X509Ptr> make_domain_ca_certificate(EVP_PKEY* key, const std::string& organization) {
  return pki::make_root_certificate(key, {organization, organization + " Domain CA"});
}

Result<crypto::X509Ptr> make_registrar_certificate(EVP_PKEY* key,
                                                   const RegistrarCertificateRequest& request,
                                                   X509* ca, EVP_PKEY* ca_key) {
  pki::ServiceProfile profile;
  profile.extended_key_usage = k_registrar_eku;
  profile.subject_alt_names = request.subject_alt_names;
  profile.validity_days = request.validity_days;
  return pki::make_service_certificate(key, {request.organization, request.common_name}, ca, ca_key,
                                       profile);
}

}  // namespace vouchsafe::registrar
