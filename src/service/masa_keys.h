// Making and replacing the MASA's keys: `masa init` for each key
// architecture (masa-considerations §3.1-3.4), `masa key rollover`, and the
// anchors devices and registrars hold. Keys go to a key store: a token
// (generated there, never leaving it) or encrypted files under HOME/masa.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "crypto/signer.h"
#include "factory/home.h"
#include "masa/key_set.h"
#include "service/masa_settings.h"
#include "store/asset_store.h"

namespace vouchsafe::service {

struct MasaInitOptions {
  masa::KeyArchitecture architecture = masa::KeyArchitecture::offline_ca;
  std::string key_store;  // "" : encrypted files in HOME/masa; else a pkcs11: token URI
  // Encrypts file keys (and the TLS key, always a file); at least 8 characters.
  std::string passphrase;
  // idevid-root only: the manufacturer root's signer (the voucher authority
  // is certified by it).
  const crypto::Signer* root_signer = nullptr;
};

struct MasaInitOutcome {
  MasaSettings settings;
  std::vector<std::string> anchors;  // the anchor files devices and registrars pin, one a line
};

// Makes every key and certificate the architecture needs under `masa_dir`
// and returns the settings naming them. If a step fails, every key and file
// it made is removed again.
//  offline-ca:  masa-ca.pem (anchor) certifies signing.pem.
//  per-product: as offline-ca for the default, and per product P
//               products/P/masa-ca.pem certifying products/P/signing.pem.
//  idevid-root: voucher-authority.pem, certified by the manufacturer root
//               and carrying the voucher-authority policy OID, certifies
//               signing.pem (which carries it too); the anchor is the root.
//  rotating:    as offline-ca, and per product with masa_key_slots = N the
//               keys P-0 .. P-(N-1), certified by the MASA CA, each public
//               key also in keys/P-K.pub.pem for the firmware.
Result<MasaInitOutcome> init_masa_keys(const factory::Home& home, const std::string& masa_dir,
                                       const factory::FactoryConfig& config,
                                       const MasaInitOptions& options);

struct RolloverOptions {
  std::string scope;   // "" : the default key; else a product (per-product)
  std::string ca_key;  // the key reference of the certifying CA; "" : the one masa init made
  const crypto::Signer* ca_signer = nullptr;  // the CA's key in hand (a ceremony); overrides ca_key
  std::optional<std::string> passphrase;      // for file keys
  std::string voucher_authority_oid;          // idevid-root: the policy the new signer carries
};

// A new online signer under the same anchor: a key in the store of the
// current one (its token, or an encrypted file beside it), certified by the
// same CA, recorded in the store so every MASA instance signs with it from
// its next refresh. Vouchers signed before still verify: the anchor is
// unchanged. Returns the record.
Result<store::MasaSignerRecord> rollover_signer(const MasaSettings& settings,
                                                store::AssetStore& store,
                                                const RolloverOptions& options);

// The anchor certificate a key's vouchers chain to (the last certificate of
// its chain): of the default key, a product's, or a key slot's.
Result<crypto::X509Ptr> masa_anchor(const MasaSettings& settings, const std::string& key_id);

}  // namespace vouchsafe::service
