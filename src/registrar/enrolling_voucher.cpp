// y, Z = X + Y, the LDevID for Z, and y sealed to X.
#include "registrar/enrolling_voucher.h"

#include "crypto/co_generated_key.h"
#include "crypto/ecies.h"
#include "crypto/keys.h"
#include "crypto/seed_derivation.h"
#include "voucher/enrolling.h"

namespace vouchsafe::registrar {

Result<voucher::EnrollingExtension> make_enrolling_extension(
    const crypto::DecodedCertificate& idevid, const std::string& serial, const DomainCa& ca,
    LdevidProfile profile, std::time_t now) {
  auto x = crypto::p256_public_point(idevid.public_key.get());
  if (!x) {
    return fail(ErrorCode::invalid_value,
                "the device's IDevID key is not a P-256 key; the enrolling voucher needs one");
  }
  auto y_key = crypto::generate_key(crypto::KeyType::p256);
  ASSIGN_OR_RETURN(const crypto::DerivedKey y, crypto::p256_key_parts(y_key.get()));
  ASSIGN_OR_RETURN(const Bytes z_point, crypto::p256_point_add(*x, y.public_point));
  ASSIGN_OR_RETURN(auto z_key, crypto::parse_public_key(crypto::p256_spki_from_point(z_point)));

  profile.co_generated_key = true;
  ASSIGN_OR_RETURN(auto ldevid, ca.issue_ldevid(z_key.get(), serial, profile, now));
  ASSIGN_OR_RETURN(Bytes sealed, crypto::ecies_seal(*x, y.private_scalar.view(),
                                                    voucher::enrolling_share_aad(serial, z_point),
                                                    voucher::k_enrolling_share_label));
  return voucher::EnrollingExtension{idevid.spki_der, std::move(sealed),
                                     crypto::certificate_der(ldevid.get())};
}

}  // namespace vouchsafe::registrar
