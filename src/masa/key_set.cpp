// Key selection.
#include "masa/key_set.h"

namespace vouchsafe::masa {

std::string_view key_architecture_name(KeyArchitecture architecture) {
  switch (architecture) {
    case KeyArchitecture::offline_ca:
      return "offline-ca";
    case KeyArchitecture::per_product:
      return "per-product";
    case KeyArchitecture::idevid_root:
      return "idevid-root";
    case KeyArchitecture::rotating:
      return "rotating";
  }
  return "";
}

Result<KeyArchitecture> parse_key_architecture(std::string_view name) {
  for (const auto a : {KeyArchitecture::offline_ca, KeyArchitecture::per_product,
                       KeyArchitecture::idevid_root, KeyArchitecture::rotating}) {
    if (key_architecture_name(a) == name) return a;
  }
  return fail(ErrorCode::usage, "unknown MASA key architecture '" + std::string(name) +
                                    "' (offline-ca, per-product, idevid-root or rotating)");
}

KeySet::KeySet(KeyArchitecture architecture, std::map<std::string, MasaKey> keys)
    : architecture_(architecture), keys_(std::move(keys)) {}

Result<const MasaKey*> KeySet::for_device(const store::DeviceRecord& device) const {
  const auto find = [this](const std::string& id) -> const MasaKey* {
    auto it = keys_.find(id);
    return it == keys_.end() ? nullptr : &it->second;
  };
  const MasaKey* key = nullptr;
  std::string wanted;
  switch (architecture_) {
    case KeyArchitecture::offline_ca:
    case KeyArchitecture::idevid_root:
      wanted = k_default_key_id;
      key = find(wanted);
      break;
    case KeyArchitecture::per_product:
      wanted = device.product;
      key = find(wanted);
      break;
    case KeyArchitecture::rotating:
      if (!device.masa_key_id.empty()) {
        wanted = device.masa_key_id;
        key = find(wanted);
      } else {
        key = find(device.product);
        wanted = k_default_key_id;
        if (key == nullptr) key = find(wanted);
      }
      break;
  }
  if (key == nullptr) {
    return fail(ErrorCode::bad_key, "no MASA key '" + wanted + "' for device " + device.serial +
                                        " (architecture " +
                                        std::string(key_architecture_name(architecture_)) +
                                        "): add [masa_keys." + wanted + "] to masa.toml");
  }
  return key;
}

std::map<std::string, store::MasaSignerRecord> active_signers(
    const std::vector<store::MasaSignerRecord>& records) {
  std::map<std::string, store::MasaSignerRecord> out;
  for (const auto& r : records) {
    auto& slot = out[r.scope];
    if (r.id >= slot.id) slot = r;
  }
  return out;
}

}  // namespace vouchsafe::masa
