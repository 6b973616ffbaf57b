// Ownership and nonceless-voucher policy.
#include "masa/detail/ownership_policy.h"

namespace vouchsafe::masa::detail {
namespace {

// The RVR's certificates other than its signer: the intermediates a
// validation may use.
std::vector<crypto::CertificateRef> intermediates(const RegistrarRequest& rvr) {
  std::vector<crypto::CertificateRef> out;
  for (const auto& c : rvr.embedded) {
    if (c->der_sha256 != rvr.chain.front()->der_sha256) out.push_back(c);
  }
  return out;
}

}  // namespace

store::OwnershipPolicy effective_ownership(const store::DeviceStatus& status,
                                           const std::string& product, const MasaConfig& config) {
  if (status.ownership) return *status.ownership;
  if (auto it = config.product_ownership.find(product); it != config.product_ownership.end()) {
    return it->second;
  }
  return config.default_ownership;
}

Check check_owner(store::OwnershipPolicy policy, const store::DeviceStatus& status,
                  const RegistrarRequest& rvr, std::time_t now, TrustCache& cache) {
  if (policy == store::OwnershipPolicy::open) return std::nullopt;
  std::vector<crypto::CertificateRef> anchors;
  for (const Bytes& der : status.owner_anchors) {
    // A record we cannot decode anchors nothing; the store checked it on
    // the way in.
    if (auto cert = crypto::CertificateCache::shared().decode(der)) anchors.push_back(*cert);
  }
  if (anchors.empty()) {
    return refuse(MasaError::owner_not_allowed, "the device has no owner recorded yet");
  }
  auto path = cache.store_for(anchors)->validate(rvr.chain.front(), intermediates(rvr), now);
  if (!path) return refuse(MasaError::owner_not_allowed);
  return std::nullopt;
}

Check check_offline_request(const RegistrarRequest& rvr, const store::DeviceStatus& status,
                            bool caller_authenticated, std::time_t now, TrustCache& cache) {
  if (rvr.payload.nonce) {
    return refuse(MasaError::pvr_missing,
                  "it carries a nonce, which only the pledge's own request can vouch for: send "
                  "the pledge's request with it, or no nonce for a nonceless voucher");
  }
  if (!caller_authenticated) {
    return refuse(MasaError::pvr_missing,
                  "this registrar is not a known customer: its TLS client certificate chains to "
                  "no customer anchor of this MASA");
  }
  if (auto owner = check_owner(store::OwnershipPolicy::known_customer, status, rvr, now, cache)) {
    return refuse(MasaError::pvr_missing, status.owner_anchors.empty()
                                              ? "no owner is recorded for the device"
                                              : "the device's recorded owner is another domain");
  }
  return std::nullopt;
}

bool caller_authenticated(const Caller& caller, const crypto::TrustStore* customers,
                          const RegistrarRequest& rvr, std::time_t now) {
  if (caller.authenticated) return true;
  if (customers == nullptr || caller.certificate_der.empty()) return false;
  auto cert = crypto::CertificateCache::shared().decode(caller.certificate_der);
  if (!cert) return false;
  std::vector<crypto::CertificateRef> untrusted;
  for (const auto& c : rvr.embedded) {
    if (c->der_sha256 != (*cert)->der_sha256) untrusted.push_back(c);
  }
  return customers->validate(*cert, untrusted, now).has_value();
}

Check check_nonceless(bool authenticated, store::OwnershipPolicy policy, const MasaConfig& config) {
  // RFC 8995 §5.5.4: a nonceless voucher goes only to a registrar the MASA
  // has authenticated; here the TLS client certificate is the proof.
  if (!authenticated) return refuse(MasaError::registrar_not_authenticated);
  // A known-customer device's registrar has already shown it is an owner.
  if (policy == store::OwnershipPolicy::known_customer || config.allow_nonceless) {
    return std::nullopt;
  }
  return refuse(MasaError::nonceless_not_allowed);
}

}  // namespace vouchsafe::masa::detail
