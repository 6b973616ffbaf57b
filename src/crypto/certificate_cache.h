// Decoded certificates cached by the SHA-256 of their DER, so that a signer
// seen before costs a hash and a lookup instead of a decode through
// OpenSSL's provider layer (which dominates CMS verification time).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/algorithm.h"
#include "crypto/handles.h"

namespace vouchsafe::crypto {

struct DecodedCertificate {
  Bytes der;
  Bytes der_sha256;
  X509Ptr cert;
  PkeyPtr public_key;
  // The SubjectPublicKeyInfo as encoded in the certificate: compared on the
  // MASA's hot path, where re-encoding the key (i2d_PUBKEY goes through
  // OpenSSL 3's encoder look-up) cost more than a signature check.
  Bytes spki_der;
};
using CertificateRef = std::shared_ptr<const DecodedCertificate>;

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

// Wraps an already decoded certificate (no caching).
CertificateRef make_certificate_ref(X509Ptr cert);

}  // namespace vouchsafe::crypto
