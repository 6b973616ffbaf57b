// Decoded certificates cached by the SHA-256 of their DER, so that a signer
// seen before costs a hash and a lookup instead of a decode through
// OpenSSL's provider layer (which dominates CMS verification time).
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/algorithm.h"
#include "crypto/handles.h"

namespace vouchsafe::crypto {

// One Extension (RFC 5280 §4.1): views into DecodedCertificate::der.
struct CertificateExtension {
  ByteView oid;  // OBJECT IDENTIFIER contents
  bool critical = false;
  ByteView value;          // extnValue contents
  ByteView encoded_value;  // the extnValue OCTET STRING element
};

// A certificate read by our own DER reader; the OpenSSL X509 is decoded only
// when something asks for it, since d2i_X509 decodes the public key through
// OpenSSL 3's decoder framework (most of the cost of a fresh certificate).
// Every ByteView member views `der`, which never changes after decoding: the
// object can be neither copied nor moved.
struct DecodedCertificate {
  DecodedCertificate() = default;
  DecodedCertificate(const DecodedCertificate&) = delete;
  DecodedCertificate& operator=(const DecodedCertificate&) = delete;

  Bytes der;
  Bytes der_sha256;
  PkeyPtr public_key;
  // The SubjectPublicKeyInfo as encoded in the certificate: compared on the
  // MASA's hot path, where re-encoding the key (i2d_PUBKEY goes through
  // OpenSSL 3's encoder look-up) cost more than a signature check.
  Bytes spki_der;

  long version = 0;                  // 0 for v1 .. 2 for v3
  ByteView tbs;                      // the TBSCertificate element
  ByteView tbs_signature_algorithm;  // AlgorithmIdentifier inside the TBS
  ByteView signature_algorithm;      // the outer AlgorithmIdentifier element
  ByteView signature_algorithm_oid;  // its OBJECT IDENTIFIER contents
  bool signature_algorithm_has_params = false;
  ByteView signature_value;  // BIT STRING contents after the unused-bits octet
  bool signature_has_unused_bits = false;
  ByteView issuer;   // Name element
  ByteView subject;  // Name element
  std::time_t not_before = 0;
  std::time_t not_after = 0;
  std::vector<CertificateExtension> extensions;

  // The extension with this OID (contents), or nullptr.
  [[nodiscard]] const CertificateExtension* extension(ByteView oid) const;
  // The OpenSSL certificate, decoded on first use (thread-safe). nullptr
  // only if OpenSSL refuses what our reader accepted.
  [[nodiscard]] X509* x509() const;

 private:
  friend class CertificateCache;
  friend std::shared_ptr<const DecodedCertificate> make_certificate_ref(X509Ptr cert);
  mutable std::once_flag x509_once_;
  mutable X509Ptr x509_;
};
using CertificateRef = std::shared_ptr<const DecodedCertificate>;

// Reads a certificate with our DER reader (no OpenSSL X509 decode):
// malformed_der when it is not a DER certificate, bad_key when its public key
// cannot be read.
Result<std::shared_ptr<DecodedCertificate>> read_certificate(ByteView der);

class CertificateCache {
 public:
  explicit CertificateCache(std::size_t capacity = 4096) : capacity_(capacity) {}
  Result<CertificateRef> decode(ByteView der);
  // The process-wide cache the envelope verifiers share.
  static CertificateCache& shared();

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, CertificateRef> entries_;
  std::size_t capacity_;
};

// Wraps an already decoded certificate (no caching). Should our reader
// refuse it, only der, der_sha256, public_key, spki_der and x509() are set
// (tbs stays empty), which every user of the other fields checks.
CertificateRef make_certificate_ref(X509Ptr cert);

// How many certificates x509() has decoded through OpenSSL in this process:
// tests check with it that the hot path does not decode fresh certificates.
std::uint64_t x509_decode_count();

// RFC 5280 §4.2.1.2: the SubjectKeyIdentifier's keyIdentifier; empty when
// absent or unreadable.
ByteView subject_key_identifier(const DecodedCertificate& cert);

}  // namespace vouchsafe::crypto
