// Opening y, completing z = x + y, and checking the LDevID for Z.
#include "pledge/apply_voucher.h"

#include "crypto/certificate_cache.h"
#include "crypto/co_generated_key.h"
#include "crypto/ecies.h"
#include "crypto/keys.h"
#include "crypto/oids.h"
#include "crypto/seed_derivation.h"
#include "crypto/trust_store.h"
#include "pki/certificate_fields.h"
#include "voucher/enrolling.h"

namespace vouchsafe::pledge {
namespace {

using E = PledgeError;

}  // namespace

PledgeOutcome<AppliedVoucher> apply_enrolling_voucher(
    ByteView voucher_file, const PledgeIdentity& identity, const MasaTrust& masa, std::time_t now,
    const std::set<voucher::Assertion>& accepted) {
  // As any voucher: the MASA's signature, this device, not expired. It was
  // asked for by the owner, not by this device: no nonce of ours to match.
  ASSIGN_OR_REFUSE(auto verified,
                   check_voucher(voucher_file, identity, masa, std::nullopt, accepted, now));
  voucher::Voucher& v = verified.payload;
  if (!v.enrolling) return refuse(E::enrolling_missing);
  const voucher::EnrollingExtension& e = *v.enrolling;

  // X: this device's own IDevID key.
  X509* idevid = identity.chain.front().get();
  if (e.device_key != crypto::public_key_der(X509_get0_pubkey(idevid))) {
    return refuse(E::enrolling_for_another_device);
  }
  if (!v.pinned_domain_cert) {
    return refuse(E::voucher_malformed, "an enrolling voucher pins the domain's certificate");
  }
  auto pinned = crypto::parse_certificate_der(*v.pinned_domain_cert);
  if (!pinned) return refuse(E::voucher_malformed, "pinned-domain-cert: " + pinned.error().message);
  auto& cache = crypto::CertificateCache::shared();
  auto ldevid = cache.decode(e.ldevid);
  if (!ldevid) return refuse(E::ldevid_invalid, "ldevid: " + ldevid.error().message);
  if (auto named = pki::device_serial_of(**ldevid); !named || *named != identity.serial) {
    return refuse(E::ldevid_invalid, "it does not name this device");
  }
  if ((*ldevid)->extension(crypto::oid::vs_cogenerated_key) == nullptr) {
    return refuse(E::ldevid_invalid, "it does not mark its key as co-generated");
  }
  std::vector<crypto::X509Ptr> anchor;
  anchor.push_back(crypto::share(pinned->get()));
  if (auto path = crypto::TrustStore(std::move(anchor)).validate(*ldevid, {}, now); !path) {
    return refuse(E::ldevid_invalid,
                  "it does not chain to the pinned domain: " + path.error().message);
  }

  // y, sealed to X for this serial number and this Z.
  auto z_point = crypto::p256_public_point((*ldevid)->public_key.get());
  if (!z_point) return refuse(E::ldevid_invalid, "its key is not a P-256 key");
  auto y = crypto::ecies_open(identity.key.get(), e.encrypted_share,
                              voucher::enrolling_share_aad(identity.serial, *z_point),
                              voucher::k_enrolling_share_label);
  if (!y) return refuse(E::enrolling_share_unreadable);
  auto x = crypto::p256_key_parts(identity.key.get());
  if (!x) return refuse(E::internal, "this device's key: " + x.error().message);
  auto z = crypto::p256_scalar_add(x->private_scalar.view(), y->view());
  if (!z) return refuse(E::enrolling_key_mismatch, z.error().message);
  // zG = Z: the LDevID certifies exactly the key this device now holds.
  crypto::DerivedKey completed;
  completed.private_scalar = std::move(z).value();
  auto z_check = crypto::p256_public_point_of(completed.private_scalar.view());
  if (!z_check || *z_check != *z_point) return refuse(E::enrolling_key_mismatch);
  completed.public_point = std::move(z_check).value();
  auto key = crypto::derived_key_to_pkey(completed);
  if (!key) return refuse(E::internal, key.error().message);

  AppliedVoucher out;
  out.payload = std::move(v);
  out.pinned_domain_cert = std::move(pinned).value();
  out.ldevid_key = std::move(key).value();
  out.ldevid = crypto::share((*ldevid)->x509());
  return out;
}

}  // namespace vouchsafe::pledge
