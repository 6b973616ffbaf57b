// Bounded caches of trust stores and of each caller's last domain anchor.
#include "masa/detail/trust_cache.h"

namespace vouchsafe::masa::detail {

std::shared_ptr<const crypto::TrustStore> TrustCache::store_for(
    const std::vector<crypto::CertificateRef>& anchors) {
  std::string key;
  for (const auto& a : anchors) key.append(a->der_sha256.begin(), a->der_sha256.end());
  {
    std::lock_guard lock(mutex_);
    if (auto it = stores_.find(key); it != stores_.end()) return it->second;
  }
  std::vector<crypto::X509Ptr> certs;
  certs.reserve(anchors.size());
  for (const auto& a : anchors) {
    if (X509* cert = a->x509()) certs.push_back(crypto::share(cert));
  }
  auto made = std::make_shared<const crypto::TrustStore>(std::move(certs));
  std::lock_guard lock(mutex_);
  // A simple bound: callers cannot grow the cache without limit.
  if (stores_.size() >= capacity_) stores_.clear();
  return stores_.emplace(std::move(key), std::move(made)).first->second;
}

crypto::CertificateRef TrustCache::anchor_hint(const std::string& caller_fingerprint) {
  if (caller_fingerprint.empty()) return nullptr;
  std::lock_guard lock(mutex_);
  auto it = hints_.find(caller_fingerprint);
  return it == hints_.end() ? nullptr : it->second;
}

void TrustCache::remember_anchor(const std::string& caller_fingerprint,
                                 const crypto::CertificateRef& anchor) {
  if (caller_fingerprint.empty()) return;
  std::lock_guard lock(mutex_);
  if (hints_.size() >= capacity_) hints_.clear();
  hints_[caller_fingerprint] = anchor;
}

}  // namespace vouchsafe::masa::detail
