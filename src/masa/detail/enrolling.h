// The MASA's part of the enrolling voucher (docs/enrolling-voucher.md): a
// registrar voucher-request may carry the owner's share of a co-generated
// key; the MASA checks it is well formed and belongs to this device and
// domain, and copies it into the voucher it signs.
#pragma once

#include <ctime>
#include <string>

#include "crypto/certificate_cache.h"
#include "masa/detail/outcome.h"
#include "masa/detail/request_validation.h"
#include "masa/detail/trust_cache.h"
#include "voucher/model.h"

namespace vouchsafe::masa::detail {

// device-key is the IDevID's P-256 key (the device's X); encrypted-share
// is long enough to hold a 32-byte y sealed to it; the LDevID names the
// device (subject serialNumber), certifies a key Z other than X, and
// chains to the domain the voucher pins (its anchor and the RVR's chain).
Check check_enrolling(const voucher::EnrollingExtension& enrolling,
                      const crypto::DecodedCertificate& idevid, const std::string& serial,
                      const RegistrarRequest& rvr, const crypto::CertificateRef& pinned,
                      std::time_t now, TrustCache& cache);

}  // namespace vouchsafe::masa::detail
