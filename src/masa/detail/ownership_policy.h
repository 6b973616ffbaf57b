// Who may obtain a voucher for a device (SPEC.md §6, issue "ownership
// policy"): stolen devices, the open and known-customer policies, and
// nonceless vouchers.
#pragma once

#include <ctime>
#include <memory>
#include <string>

#include "crypto/trust_store.h"
#include "masa/detail/outcome.h"
#include "masa/detail/request_validation.h"
#include "masa/detail/trust_cache.h"
#include "masa/masa_service.h"
#include "store/asset_store.h"

namespace vouchsafe::masa::detail {

// The device's own policy, else its product's, else the default.
store::OwnershipPolicy effective_ownership(const store::DeviceStatus& status,
                                           const std::string& product, const MasaConfig& config);

// known-customer: the RVR's signer must chain to one of the device's
// owner anchors. open: any registrar (trust on first use).
Check check_owner(store::OwnershipPolicy policy, const store::DeviceStatus& status,
                  const RegistrarRequest& rvr, std::time_t now, TrustCache& cache);

// Whether the TLS client certificate chains to a known-customer anchor
// (the RVR's certificates may serve as intermediates).
bool caller_authenticated(const Caller& caller, const crypto::TrustStore* customers,
                          const RegistrarRequest& rvr, std::time_t now);

// RFC 8995 §5.5 lets a registrar leave out the pledge's request, and
// §5.5.5 leaves it to the MASA's policy. Without the pledge nothing shows
// proximity or vouches for a nonce, so such a request is answered only for
// an offline (nonceless) voucher, to a known customer (the TLS client
// certificate chains to a customer anchor), for a device whose recorded
// owner is the registrar's domain; the voucher asserts "verified".
Check check_offline_request(const RegistrarRequest& rvr, const store::DeviceStatus& status,
                            bool caller_authenticated, std::time_t now, TrustCache& cache);

// RFC 8995 §5.5.4 / SPEC.md §2: a nonceless voucher only for an
// authenticated registrar (401 otherwise) that the device's policy allows.
Check check_nonceless(bool authenticated, store::OwnershipPolicy policy, const MasaConfig& config);

}  // namespace vouchsafe::masa::detail
