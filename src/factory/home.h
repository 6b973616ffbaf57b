// A manufacturer's data directory ("home"): configuration, asset store,
// encrypted CA keys and CA certificates, in one place.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "core/result.h"

namespace vouchsafe::factory {

struct Home {
  std::filesystem::path root;
  [[nodiscard]] std::filesystem::path config_file() const { return root / "vouchsafe.toml"; }
  [[nodiscard]] std::filesystem::path store_file() const { return root / "assets.db"; }
  [[nodiscard]] std::filesystem::path keys_dir() const { return root / "keys"; }
  [[nodiscard]] std::filesystem::path certs_dir() const { return root / "certs"; }
  [[nodiscard]] std::filesystem::path root_cert_file() const { return certs_dir() / "root-ca.pem"; }
};

// --home if given, else $VOUCHSAFE_HOME, else ./var/vouchsafe.
Home resolve_home(const std::string& flag);

struct ProductConfig {
  std::string name;
  std::string hw_type_oid;    // hardwareModuleName hwType (RFC 4108)
  std::string serial_prefix;  // device serials are PREFIX-FACTORY-SEQUENCE
};

struct FactoryConfig {
  std::string organization = "Example Devices Inc.";
  std::string masa_url = "masa.example.com:8443";  // an authority, RFC 8995 §2.3.2
  std::string idevid_organizational_unit;
  std::string idevid_common_name;  // "{serial}" is replaced; empty: no CN
  std::map<std::string, ProductConfig> products;
  // Automatic retirement of issuing CAs (0 = never).
  std::int64_t issuing_ca_max_certificates = 0;
  std::int64_t issuing_ca_max_age_days = 0;

  [[nodiscard]] Result<const ProductConfig*> product(const std::string& name) const;
  // The product whose serial prefix the serial carries.
  [[nodiscard]] Result<const ProductConfig*> product_for_serial(const std::string& serial) const;
};

// The configuration written by `pki init`, with one example product.
std::string default_config_text(const std::string& organization, const std::string& masa_url);

Result<FactoryConfig> load_config(const Home& home);

// Serial numbers: "<product prefix>-<factory code>-<sequence>", for example
// "WG-SZ1-00004711". Product prefixes are distinct and none is a prefix of
// another, so factories and issuing CAs never need to coordinate: two
// products cannot produce the same serial, and within a product the store
// refuses a serial recorded before.
Status check_structured_serial(const ProductConfig& product, const std::string& serial);

}  // namespace vouchsafe::factory
