// The manufacturer PKI's certificate profiles (SPEC.md §5): the root CA, the
// issuing CAs, and the IEEE 802.1AR IDevID, following the ECDSA PKI profile
// of draft-moskowitz-ecdsa-pki and RFC 8995 §2.3.
#pragma once

#include <ctime>
#include <memory>
#include <string>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/handles.h"
#include "crypto/signer.h"

namespace vouchsafe::pki {

// notAfter of every certificate in this PKI: 802.1AR §8.5 "no well-defined
// expiration date", written 99991231235959Z as GeneralizedTime.
constexpr std::time_t k_no_expiry = 253402300799;

// Random positive certificate serial of 8..19 octets (SPEC.md §5); we use 16,
// the first non-zero with its top bit clear, so the DER INTEGER is exactly 16
// octets. Throws std::runtime_error only if OpenSSL's RNG fails.
Bytes random_certificate_serial();

struct CaSubject {
  std::string organization;
  std::string common_name;
};

// Every certificate is signed through crypto::Signer (a key in memory or
// on a token); the EVP_PKEY overloads wrap a private key in a SoftwareSigner.

// Self-signed root: basicConstraints critical CA:TRUE; keyUsage critical
// digitalSignature, keyCertSign, cRLSign; SKI; AKI; notAfter k_no_expiry.
Result<crypto::X509Ptr> make_root_certificate(const crypto::Signer& signer,
                                              const CaSubject& subject);
Result<crypto::X509Ptr> make_root_certificate(EVP_PKEY* key, const CaSubject& subject);

// Issuing CA under the root: CA:TRUE pathlen 0 (critical); keyUsage
// critical keyCertSign, cRLSign; SKI; AKI; notAfter k_no_expiry; and, when
// given, a certificatePolicies extension with `certificate_policy` (a dotted
// OID: the voucher-authorization policy of MASA key architecture 3, which
// issuing CAs for IDevIDs never carry).
Result<crypto::X509Ptr> make_issuing_ca_certificate(EVP_PKEY* subject_key, const CaSubject& subject,
                                                    X509* root, const crypto::Signer& root_signer,
                                                    const std::string& certificate_policy = {});
Result<crypto::X509Ptr> make_issuing_ca_certificate(EVP_PKEY* subject_key, const CaSubject& subject,
                                                    X509* root, EVP_PKEY* root_key);

// End-entity certificates of the manufacturer's services (the MASA's
// voucher-signing key, its TLS server): CA:FALSE, keyUsage critical
// digitalSignature, SKI, AKI, and what the profile adds.
struct ServiceProfile {
  std::string extended_key_usage;  // OpenSSL syntax, e.g. "serverAuth"; empty: none
  std::string subject_alt_names;   // e.g. "DNS:localhost,IP:127.0.0.1"; empty: none
  long validity_days = 0;          // 0: no expiry (99991231235959Z)
  std::string certificate_policy;  // a dotted OID for certificatePolicies; empty: none
};
Result<crypto::X509Ptr> make_service_certificate(EVP_PKEY* subject_key, const CaSubject& subject,
                                                 X509* issuer, const crypto::Signer& issuer_signer,
                                                 const ServiceProfile& profile);
Result<crypto::X509Ptr> make_service_certificate(EVP_PKEY* subject_key, const CaSubject& subject,
                                                 X509* issuer, EVP_PKEY* issuer_key,
                                                 const ServiceProfile& profile);

struct IdevidProfile {
  std::string organization;         // subject O (optional)
  std::string organizational_unit;  // subject OU (optional)
  std::string common_name;          // subject CN (optional); "{serial}" is replaced
  std::string masa_url;             // id-pe-masa-url, an authority ("masa.example.com:443"), no
                                    // scheme or path (RFC 8995 §2.3.2); empty: no extension
  std::string hw_type_oid;          // hardwareModuleName hwType, the product's OID (dotted)
};

// Issues IDevIDs from one issuing CA at factory speed: the TBSCertificate is
// assembled with the DER writer from parts prepared once (issuer name,
// algorithm, AKI, MASA URL, fixed extensions), so one certificate costs one
// signature plus a few hundred bytes of copying. create() checks the profile
// (invalid_value), that the CA is a CA with an SKI, and that the signer's key
// is the CA's (bad_key); only P-256 and P-384 CA keys are supported.
class IdevidIssuer {
 public:
  static Result<std::unique_ptr<IdevidIssuer>> create(
      const IdevidProfile& profile, X509* ca_cert, std::shared_ptr<const crypto::Signer> ca_signer);
  ~IdevidIssuer();
  IdevidIssuer(const IdevidIssuer&) = delete;
  IdevidIssuer& operator=(const IdevidIssuer&) = delete;

  // Certificate DER for `serial` (the subject serialNumber, PrintableString)
  // and the device's SubjectPublicKeyInfo DER, used as given (it must be one
  // DER SEQUENCE; the key itself is the caller's to have checked, e.g. by
  // check_csr). Errors: invalid_value for the serial, malformed_der for the
  // SPKI. Thread-safe: nothing in the issuer changes after create().
  [[nodiscard]] Result<Bytes> issue(const std::string& serial, ByteView subject_public_key_info,
                                    std::time_t not_before) const;

 private:
  struct Prepared;
  explicit IdevidIssuer(std::unique_ptr<Prepared> prepared);
  std::unique_ptr<Prepared> prepared_;
};

// PrintableString characters only (X.680 §41.4), 1..64 characters.
Status check_device_serial(const std::string& serial);

// A PKCS#10 request (PEM or DER) whose self-signature verifies (proof of
// possession). Returns its SubjectPublicKeyInfo DER; the key must be ECDSA
// P-256 or P-384. The subject serialNumber, if present, is returned too, as
// written (check it with check_device_serial before use). Errors:
// input_too_large (> 64 KiB), malformed_der, unsupported_algorithm,
// bad_signature.
struct CheckedCsr {
  Bytes subject_public_key_info;
  std::string subject_serial;
};
Result<CheckedCsr> check_csr(ByteView csr);

}  // namespace vouchsafe::pki
