// A manufacturer's data directory ("home"): configuration, asset store,
// encrypted CA keys and CA certificates, in one place.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace vouchsafe::factory {

struct Home {
  std::filesystem::path root;
  // The asset store chosen for this run ($VOUCHSAFE_STORE, which --store
  // sets): a PostgreSQL DSN or a SQLite path. Empty: the configuration's
  // `store` key, else store_file().
  std::string store;
  [[nodiscard]] std::filesystem::path config_file() const { return root / "vouchsafe.toml"; }
  [[nodiscard]] std::filesystem::path store_file() const { return root / "assets.db"; }
  [[nodiscard]] std::filesystem::path keys_dir() const { return root / "keys"; }
  [[nodiscard]] std::filesystem::path certs_dir() const { return root / "certs"; }
  [[nodiscard]] std::filesystem::path root_cert_file() const { return certs_dir() / "root-ca.pem"; }
};

// --home if given, else $VOUCHSAFE_HOME, else ./var/vouchsafe; the store
// from $VOUCHSAFE_STORE.
Home resolve_home(const std::string& flag);

// How a device is bound to one of its product's MASA keys at manufacture
// (MASA key architecture 4, masa-considerations §3.4; docs/masa-keys.md).
enum class MasaKeyRule { serial_modulo, date_window };

struct ProductConfig {
  std::string name;
  std::string hw_type_oid;    // hardwareModuleName hwType (RFC 4108)
  std::string serial_prefix;  // device serials are PREFIX-FACTORY-SEQUENCE
  // Rotating MASA keys: 0 = none (the device trusts its product's or the
  // MASA's anchor); N > 0 = the device is bound to key "<product>-<slot>",
  // slot in 0..N-1 chosen by masa_key_rule.
  std::int64_t masa_key_slots = 0;
  MasaKeyRule masa_key_rule = MasaKeyRule::serial_modulo;
  std::int64_t masa_key_window_days = 90;  // date-window: days per window
  friend bool operator==(const ProductConfig&, const ProductConfig&) = default;
};

// The MASA key id a device is bound to at manufacture, or "" when its
// product has no rotating keys. serial-modulo: the number the serial ends
// with (its sequence), modulo masa_key_slots; a serial that ends in no
// digit uses the first 8 bytes of its SHA-256 instead. date-window: the
// number of whole masa_key_window_days windows since 1970-01-01 at
// issued_at, modulo masa_key_slots. Either way the id is "<product>-<slot>".
std::string masa_key_id(const ProductConfig& product, const std::string& serial,
                        std::int64_t issued_at);

// The ranges of [issuing_ca] and of the flags that override it.
constexpr std::int64_t k_max_issuing_ca_certificates = 1'000'000'000'000;
constexpr std::int64_t k_max_issuing_ca_age_days = 36'500;

struct FactoryConfig {
  std::string organization = "Example Devices Inc.";
  std::string masa_url = "masa.example.com:8443";  // an authority, RFC 8995 §2.3.2
  // The certificate policy marking the MASA's voucher signers under the
  // IDevID root (MASA key architecture 3): an OID of the maker's private
  // enterprise arc. Issuing CAs for IDevIDs never carry it.
  std::string voucher_authority_oid = "1.3.6.1.4.1.99999.2.1";
  // The asset store every command uses, shared with the MASA: a PostgreSQL
  // DSN; empty: the home's SQLite file.
  std::string store;
  std::string idevid_organizational_unit;
  std::string idevid_common_name;  // "{serial}" is replaced; empty: no CN
  std::map<std::string, ProductConfig> products;
  // Automatic retirement of issuing CAs (0 = never).
  std::int64_t issuing_ca_max_certificates = 0;
  std::int64_t issuing_ca_max_age_days = 0;

  [[nodiscard]] Result<const ProductConfig*> product(const std::string& name) const;
  // The product whose serial prefix the serial carries.
  [[nodiscard]] Result<const ProductConfig*> product_for_serial(const std::string& serial) const;
  friend bool operator==(const FactoryConfig&, const FactoryConfig&) = default;
};

// The organization and MASA URL `pki init` was given pass the checks the
// file's keys get; the message names the flags.
Status check_init_values(const std::string& organization, const std::string& masa_url);

// The configuration written by `pki init`, with one example product.
std::string default_config_text(const std::string& organization, const std::string& masa_url);
// The file for a configuration, every key under its comment.
std::string config_text(const FactoryConfig& config);

// vouchsafe.toml's text; `origin` (the file's path) starts every message.
// Every key is known, typed and range-checked; anything else is refused
// with the line and key named.
Result<FactoryConfig> parse_config(std::string_view toml_text, std::string_view origin);
Result<FactoryConfig> load_config(const Home& home);

// Where the home's asset store is: home.store, else the configuration's
// `store` key (when the home has a configuration), else store_file().
Result<std::string> store_location(const Home& home);

// Serial numbers: "<product prefix>-<factory code>-<sequence>", for example
// "WG-SZ1-00004711". Product prefixes are distinct and none is a prefix of
// another, so factories and issuing CAs never need to coordinate: two
// products cannot produce the same serial, and within a product the store
// refuses a serial recorded before.
Status check_structured_serial(const ProductConfig& product, const std::string& serial);

}  // namespace vouchsafe::factory
