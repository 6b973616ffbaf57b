// Trust stores the MASA builds from certificates it meets at run time (a
// registrar's domain CA, a device's owner anchors), kept so that a domain
// seen before costs a lookup and its validated paths stay cached.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "crypto/certificate_cache.h"
#include "crypto/trust_store.h"

namespace vouchsafe::masa::detail {

class TrustCache {
 public:
  explicit TrustCache(std::size_t capacity = 1024) : capacity_(capacity) {}

  // The trust store anchored at exactly these certificates.
  std::shared_ptr<const crypto::TrustStore> store_for(
      const std::vector<crypto::CertificateRef>& anchors);

  // The domain anchor that last verified a registrar voucher-request from
  // this client certificate: the first guess for its next request.
  crypto::CertificateRef anchor_hint(const std::string& caller_fingerprint);
  void remember_anchor(const std::string& caller_fingerprint, const crypto::CertificateRef& anchor);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const crypto::TrustStore>> stores_;
  std::unordered_map<std::string, crypto::CertificateRef> hints_;
  std::size_t capacity_;
};

}  // namespace vouchsafe::masa::detail
