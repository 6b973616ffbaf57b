// The owner's side of the enrolling voucher (docs/enrolling-voucher.md):
// for a device whose IDevID key is X, pick y, compute Z = X + Y, issue the
// LDevID for Z, and seal y so that only the holder of x opens it. y is
// forgotten once sealed: the owner keeps the certificate, never z.
#pragma once

#include <ctime>
#include <string>

#include "core/result.h"
#include "crypto/certificate_cache.h"
#include "registrar/domain_ca.h"
#include "voucher/model.h"

namespace vouchsafe::registrar {

// idevid must already be validated against the manufacturer's anchors
// (the owner must know X authentically). Its key must be P-256.
Result<voucher::EnrollingExtension> make_enrolling_extension(
    const crypto::DecodedCertificate& idevid, const std::string& serial, const DomainCa& ca,
    LdevidProfile profile, std::time_t now);

}  // namespace vouchsafe::registrar
