// Checks of the enrolling extension before the MASA signs it into a voucher.
#include "masa/detail/enrolling.h"

#include "crypto/algorithm.h"
#include "crypto/ecies.h"
#include "pki/certificate_fields.h"

namespace vouchsafe::masa::detail {
namespace {

constexpr std::size_t k_share_size = 32;  // y, a P-256 scalar

// RFC 5480: id-ecPublicKey with the prime256v1 parameters.
bool is_p256_spki(const crypto::DecodedCertificate& cert) {
  const auto alg = crypto::algorithm_for_key(cert.public_key.get());
  return alg && *alg == crypto::SignatureAlgorithm::es256;
}

}  // namespace

Check check_enrolling(const voucher::EnrollingExtension& enrolling,
                      const crypto::DecodedCertificate& idevid, const std::string& serial,
                      const RegistrarRequest& rvr, const crypto::CertificateRef& pinned,
                      std::time_t now, TrustCache& cache) {
  if (enrolling.encrypted_share.size() != k_share_size + crypto::k_ecies_overhead) {
    return refuse(MasaError::enrolling_malformed,
                  "encrypted-share is " + std::to_string(enrolling.encrypted_share.size()) +
                      " bytes; a sealed 32-byte share is " +
                      std::to_string(k_share_size + crypto::k_ecies_overhead));
  }
  auto ldevid = crypto::CertificateCache::shared().decode(enrolling.ldevid);
  if (!ldevid) {
    return refuse(MasaError::enrolling_malformed, "ldevid: " + ldevid.error().message);
  }
  // X is the IDevID's key (docs/enrolling-voucher.md: the owner learns it
  // from the IDevID the pledge presented).
  if (!is_p256_spki(idevid) || enrolling.device_key != idevid.spki_der) {
    return refuse(MasaError::enrolling_wrong_device_key);
  }
  if (!is_p256_spki(**ldevid)) {
    return refuse(MasaError::enrolling_malformed, "the LDevID's key is not a P-256 key");
  }
  if ((*ldevid)->spki_der == idevid.spki_der) return refuse(MasaError::enrolling_not_cogenerated);
  if (auto named = pki::device_serial_of(**ldevid); !named || *named != serial) {
    return refuse(MasaError::enrolling_ldevid_not_domain,
                  "its subject serialNumber is not '" + serial + "'");
  }
  const auto domain = cache.store_for({pinned});
  if (auto path = domain->validate(*ldevid, rvr.embedded, now); !path) {
    return refuse(MasaError::enrolling_ldevid_not_domain, path.error().message);
  }
  return std::nullopt;
}

}  // namespace vouchsafe::masa::detail
