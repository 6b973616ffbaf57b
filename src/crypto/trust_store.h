// Trust anchors and X.509 path validation, with validated paths cached
// until the edge of their validity window.
#pragma once

#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "crypto/certificate_cache.h"
#include "crypto/handles.h"

namespace vouchsafe::crypto {

class TrustStore {
 public:
  // Every anchor is trusted as given, even when it is not self-signed (an
  // issuing CA or the MASA's own certificate may be pinned directly).
  explicit TrustStore(std::vector<X509Ptr> anchors);

  // Builds and validates a path from leaf through untrusted certificates to
  // an anchor, at the given time (now if unset). Returns leaf..anchor.
  //
  // recorded_leaf: a certificate the caller issued and keeps on record (the
  // MASA's IDevIDs). A leaf byte-identical to it carries a signature made
  // here, not received, so when it sits directly under an anchor its
  // signature is not verified again; every other check of the path stands.
  Result<std::vector<CertificateRef>> validate(const CertificateRef& leaf,
                                               const std::vector<CertificateRef>& untrusted,
                                               std::optional<std::time_t> at = std::nullopt,
                                               ByteView recorded_leaf = {}) const;

  [[nodiscard]] const std::vector<X509Ptr>& anchors() const { return anchors_; }

 private:
  struct CachedPath {
    std::vector<CertificateRef> chain;
    std::time_t valid_from;
    std::time_t valid_until;
  };
  // The leaf directly under an anchor, checked without X509_verify_cert;
  // nothing when the case is not that simple or fails any check, which is
  // then X509_verify_cert's to decide.
  std::optional<CachedPath> validate_under_anchor(const CertificateRef& leaf, std::time_t when,
                                                  bool signature_made_here) const;

  std::vector<X509Ptr> anchors_;
  std::vector<CertificateRef> anchor_refs_;
  // Per anchor: usable as the direct issuer on the fast path (a CA we fully
  // understand, whose subject no other anchor's matches).
  std::vector<bool> fast_issuer_;
  X509StorePtr store_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, CachedPath> cache_;
};

}  // namespace vouchsafe::crypto
