// The MASA's configuration: a TOML file (written by `masa init`), then
// VOUCHSAFE_* environment variables, then flags, each overriding the last.
// Every key is declared once in masa_settings.cpp with its type and range;
// a key the schema does not know stops start-up.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "masa/masa_service.h"
#include "net/server_options.h"
#include "service/listener.h"
#include "service/masa_key_opener.h"

namespace vouchsafe::service {

// One key of [masa_keys.ID]: a product's key (architecture 2) or a key slot
// "<product>-<slot>" (architecture 4).
struct MasaKeySettings {
  std::string key;          // a key reference: encrypted PEM file or pkcs11: URI
  std::string certificate;  // its certificate (PEM)
  std::string chain;        // the certificates above it, up to the anchor (PEM); "" none
  std::string ca_key;       // the key reference of the CA that certifies it (rollover); "" none
  friend bool operator==(const MasaKeySettings&, const MasaKeySettings&) = default;
};

struct MasaSettings {
  std::string home;        // the manufacturer home whose asset store the MASA reads
  std::string store;       // a PostgreSQL DSN or SQLite path; empty: the home's store
  std::string store_read;  // a streaming replica's DSN for device reads; empty: none
  Listener listen;
  Listener admin{"127.0.0.1", 8444};
  std::vector<std::string> proxy_protocol_from;  // balancers sending PROXY v2 headers
  std::string tls_certificate, tls_key;
  net::TlsLibrary tls_library = net::TlsLibrary::gnutls;        // the cheaper handshake
  std::string signing_key, signing_certificate, signing_chain;  // signing_key: a key reference
  std::string signing_ca_key;  // the certifying CA's key reference, for rollover; "" none
  masa::KeyArchitecture architecture = masa::KeyArchitecture::offline_ca;
  // How often the store's signer records are read, so that a rollover
  // reaches every instance without a restart.
  std::chrono::milliseconds key_refresh{5000};
  std::map<std::string, MasaKeySettings> masa_keys;
  std::string passphrase_file;  // for the TLS and signing keys; else $VOUCHSAFE_MASA_PASSPHRASE
  store::OwnershipPolicy default_ownership = store::OwnershipPolicy::open;
  std::map<std::string, store::OwnershipPolicy> product_ownership;
  masa::MasaConfig::Pinning pinning = masa::MasaConfig::Pinning::domain_ca;
  std::optional<voucher::Assertion> fallback_assertion;  // nullopt: refuse without proximity
  bool voucher_idevid_issuer = false;
  bool allow_nonceless = true;
  std::chrono::seconds max_nonceless_lifetime = std::chrono::hours(24 * 30);
  std::vector<std::string> customer_anchors;
  std::size_t audit_log_max_entries = 1024;
  bool bind_request_to_tls_client = true;
  std::chrono::seconds max_request_age = std::chrono::hours(1);
  double rate_per_second = 50, rate_burst = 100;
  // Allowances of a source address, a /24 or /64 prefix, and the registrars
  // that are not known customers together, as multiples of the client's.
  double address_rate_multiple = 4, prefix_rate_multiple = 10, shared_rate_multiple = 4;
  std::size_t max_connections = 1024, max_body_bytes = std::size_t{64} * 1024;
  std::size_t max_connections_per_address = 32, max_connections_per_prefix = 128;
  double handshake_share = 0.5;
  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::milliseconds read_timeout{10000}, idle_timeout{30000};
  std::size_t max_invalid_before_block = 20, max_invalid_per_address = 100;
  std::chrono::seconds block_time{300};
  unsigned threads = 0;  // 0: one per core
  friend bool operator==(const MasaSettings&, const MasaSettings&) = default;
};

// masa.toml's text; `origin` (the file's path) starts every message. Paths
// in it must exist. The environment plays no part.
Result<MasaSettings> parse_masa_settings(std::string_view toml_text, std::string_view origin);

// Reads the file, then applies VOUCHSAFE_MASA_LISTEN / _ADMIN (HOST:PORT),
// VOUCHSAFE_STORE and VOUCHSAFE_HOME, each checked as the file's keys are.
Result<MasaSettings> load_masa_settings(const std::string& path);

// The configuration `masa init` writes for a home: the defaults, with the
// home and the key files under masa_dir.
MasaSettings initial_masa_settings(const std::string& home, const std::string& masa_dir);
std::string masa_settings_text(const MasaSettings& settings);

// Every private key the MASA's settings and the store's signer records
// name (the voucher-signing keys, and the TLS key when the listener signs
// through a signer), opened in parallel with the passphrase of the
// settings (passphrase_file, else $VOUCHSAFE_MASA_PASSPHRASE).
Result<std::shared_ptr<MasaKeyOpener>> open_masa_keys(
    const MasaSettings& s, const std::vector<store::MasaSignerRecord>& records);

// The service's configuration from the settings and the key set over the
// store's signer records.
Result<masa::MasaConfig> masa_config(const MasaSettings& s,
                                     const std::vector<store::MasaSignerRecord>& records,
                                     MasaKeyOpener& keys);

// The key set of the settings' architecture: [signing] as the default key,
// each [masa_keys.ID], and over them the newest store record of each scope
// (`masa key rollover`; scope "" is the default key). Keys not open yet
// are opened (a rollover's new one).
Result<std::shared_ptr<const masa::KeySet>> masa_key_set(
    const MasaSettings& s, const std::vector<store::MasaSignerRecord>& records,
    MasaKeyOpener& keys);

// A MASA key from its reference and certificate files; the certificate
// must hold the key's public half.
Result<masa::MasaKey> load_masa_key(const std::string& id, const std::string& key_reference,
                                    const std::string& certificate, const std::string& chain,
                                    MasaKeyOpener& keys);
Result<net::ServerOptions> public_listener(const MasaSettings& s, MasaKeyOpener& keys);
net::ServerOptions admin_listener(const MasaSettings& s);

}  // namespace vouchsafe::service
