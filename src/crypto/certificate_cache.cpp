// Certificate cache.
#include "crypto/certificate_cache.h"

#include "crypto/keys.h"

namespace vouchsafe::crypto {

CertificateCache& CertificateCache::shared() {
  static CertificateCache cache;
  return cache;
}

Result<CertificateRef> CertificateCache::decode(ByteView der) {
  Bytes hash = sha256(der);
  std::string key(hash.begin(), hash.end());
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(key); it != entries_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(auto cert, parse_certificate_der(der));
  auto decoded = std::make_shared<DecodedCertificate>();
  decoded->der.assign(der.begin(), der.end());
  decoded->der_sha256 = std::move(hash);
  decoded->public_key.reset(X509_get_pubkey(cert.get()));
  decoded->cert = std::move(cert);
  if (!decoded->public_key) {
    return fail(ErrorCode::bad_key, "the certificate's public key cannot be decoded");
  }
  std::lock_guard lock(mutex_);
  // A simple bound: a peer cannot grow the cache without limit.
  if (entries_.size() >= capacity_) entries_.clear();
  entries_.emplace(std::move(key), decoded);
  return CertificateRef(std::move(decoded));
}

CertificateRef make_certificate_ref(X509Ptr cert) {
  auto decoded = std::make_shared<DecodedCertificate>();
  decoded->der = certificate_der(cert.get());
  decoded->der_sha256 = sha256(decoded->der);
  decoded->public_key.reset(X509_get_pubkey(cert.get()));
  decoded->cert = std::move(cert);
  return decoded;
}

}  // namespace vouchsafe::crypto
