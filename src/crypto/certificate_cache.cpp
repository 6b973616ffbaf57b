// Certificate cache.
#include "crypto/certificate_cache.h"

#include "crypto/keys.h"

namespace vouchsafe::crypto {
namespace {

// Fills the parts derived from the decoded certificate; false when its
// public key cannot be read.
bool complete(DecodedCertificate& decoded) {
  decoded.public_key.reset(X509_get_pubkey(decoded.cert.get()));
  decoded.spki_der = to_der(X509_get_X509_PUBKEY(decoded.cert.get()), i2d_X509_PUBKEY);
  return decoded.public_key != nullptr;
}

}  // namespace

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
  decoded->cert = std::move(cert);
  if (!complete(*decoded)) {
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
  decoded->cert = std::move(cert);
  complete(*decoded);
  return decoded;
}

}  // namespace vouchsafe::crypto
