// The MASA's voucher-signing keys and the rule that picks the one for a
// device: the four key architectures of draft-richardson-anima-masa-
// considerations §3.1-3.4 (docs/masa-keys.md says which to choose when).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "crypto/certificate_cache.h"
#include "crypto/signer.h"
#include "store/asset_store.h"

namespace vouchsafe::masa {

enum class KeyArchitecture {
  offline_ca,   // §3.1: one offline MASA CA certifies one online signer
  per_product,  // §3.2: a MASA CA and signer per product line
  idevid_root,  // §3.3: the signer certified under the IDevID root, marked by a policy OID
  rotating,     // §3.4: several keys per product; each device bound to one at manufacture
};
std::string_view key_architecture_name(KeyArchitecture architecture);
Result<KeyArchitecture> parse_key_architecture(std::string_view name);

// The id of the key that signs when no product or slot key applies.
inline constexpr std::string_view k_default_key_id = "default";

struct MasaKey {
  std::string id;  // "default", a product name, or a key slot "<product>-<slot>"
  std::shared_ptr<const crypto::Signer> signer;
  std::vector<crypto::CertificateRef> chain;  // signer certificate first, up to the anchor
};

// An immutable set of keys; MasaService reads it through a KeyRing.
class KeySet {
 public:
  KeySet(KeyArchitecture architecture, std::map<std::string, MasaKey> keys);

  // The key for this device's vouchers:
  //  offline_ca, idevid_root: the default key;
  //  per_product: the key named after the device's product;
  //  rotating: the key the store binds the device to (masa_key_id), else
  //            its product's key, else the default.
  // An error when that key is not configured: signing with another would
  // give the device a voucher it cannot verify.
  [[nodiscard]] Result<const MasaKey*> for_device(const store::DeviceRecord& device) const;
  [[nodiscard]] KeyArchitecture architecture() const { return architecture_; }
  // Architecture 4: the device holds the bare public key in its firmware,
  // so a COSE voucher carries only kid (the key id), no x5bag.
  [[nodiscard]] bool bare_cose() const { return architecture_ == KeyArchitecture::rotating; }
  [[nodiscard]] const std::map<std::string, MasaKey>& keys() const { return keys_; }

 private:
  KeyArchitecture architecture_;
  std::map<std::string, MasaKey> keys_;
};

// The current key set, replaced whole on rollover: a request holds the set
// it started with until it is answered, so requests in flight finish with
// the key they began with.
class KeyRing {
 public:
  explicit KeyRing(std::shared_ptr<const KeySet> initial) : current_(std::move(initial)) {}
  [[nodiscard]] std::shared_ptr<const KeySet> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void replace(std::shared_ptr<const KeySet> next) {
    std::lock_guard lock(mutex_);
    current_ = std::move(next);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const KeySet> current_;
};

// The newest signer record of each scope: what rollover made active.
std::map<std::string, store::MasaSignerRecord> active_signers(
    const std::vector<store::MasaSignerRecord>& records);

}  // namespace vouchsafe::masa
