// Known customers and everyone else, for the rate limits.
#include "service/customer_classes.h"

#include "crypto/certificate_cache.h"

namespace vouchsafe::service {

CustomerClasses::CustomerClasses(const std::vector<crypto::X509Ptr>& anchors) {
  if (anchors.empty()) return;
  std::vector<crypto::X509Ptr> copies;
  copies.reserve(anchors.size());
  for (const auto& a : anchors) copies.push_back(crypto::share(a.get()));
  customers_ = std::make_unique<crypto::TrustStore>(std::move(copies));
}

net::ClientClass CustomerClasses::classify(const net::ClientCertificate& client) {
  const auto of = [](bool known) {
    return known ? net::ClientClass{} : net::ClientClass{std::string(k_unknown)};
  };
  if (!customers_) return of(false);
  const std::time_t now = std::time(nullptr);
  const std::string fingerprint(client.fingerprint);
  {
    const std::lock_guard lock(mutex_);
    if (auto it = verdicts_.find(fingerprint);
        it != verdicts_.end() && now - it->second.checked < k_verdict_lifetime) {
      return of(it->second.known);
    }
  }
  const bool known = chains_to_a_customer(client, now);
  const std::lock_guard lock(mutex_);
  if (verdicts_.size() >= k_max_verdicts) verdicts_.clear();
  verdicts_[fingerprint] = {known, now};
  return of(known);
}

bool CustomerClasses::chains_to_a_customer(const net::ClientCertificate& client,
                                           std::time_t now) const {
  auto leaf = crypto::read_certificate(client.der);
  if (!leaf) return false;
  std::vector<crypto::CertificateRef> untrusted;
  for (const Bytes& der : client.chain) {
    if (auto cert = crypto::read_certificate(der)) untrusted.push_back(*cert);
  }
  return customers_->validate(*leaf, untrusted, now).has_value();
}

}  // namespace vouchsafe::service
