// The registrar's configuration: a TOML file (written by `registrar
// init`), then VOUCHSAFE_REGISTRAR_* environment variables, then flags,
// each overriding the last. Every key is declared once in
// registrar_settings.cpp with its type and range; a key the schema does
// not know stops start-up, as masa.toml's do.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "net/https_client.h"
#include "net/server_options.h"
#include "registrar/registrar_service.h"
#include "service/masa_settings.h"

namespace vouchsafe::service {

struct RegistrarSettings {
  std::string home;             // the registrar's home: its keys, certificates and store
  std::string store;            // a PostgreSQL DSN or SQLite path; empty: HOME/registrar.db
  std::string passphrase_file;  // for the keys; else $VOUCHSAFE_REGISTRAR_PASSPHRASE
  std::string organization;     // subject O of the LDevIDs
  Listener listen{"127.0.0.1", 9443};
  Listener admin{"127.0.0.1", 9444};
  std::string tls_certificate, tls_key;  // the registrar's certificate (id-kp-cmcRA) and key
  std::string domain_ca_certificate, domain_ca_key;
  std::vector<std::string> manufacturer_anchors;
  std::string masa_ca;  // the MASAs' TLS CA certificates
  std::vector<std::string> masa_allowed;
  std::string masa_override_url;
  std::chrono::seconds masa_timeout{30};
  // RFC 8995 §5.8.3 (registrar::AuditLogPolicy).
  bool allow_other_domains = false;
  std::vector<std::string> accepted_domains;
  bool allow_nonceless_other_domains = false;
  std::vector<std::string> nonceless_domains;
  std::int64_t max_arbitrary_truncation = 0;
  std::chrono::seconds ldevid_validity{std::chrono::hours(24 * 365)};
  crypto::KeyType ldevid_key_type = crypto::KeyType::p256;
  double rate_per_second = 20, rate_burst = 40;
  double address_rate_multiple = 100, prefix_rate_multiple = 200;
  std::size_t max_connections = 1024, max_body_bytes = std::size_t{64} * 1024;
  std::size_t max_connections_per_address = 512;
  std::chrono::milliseconds read_timeout{10000}, idle_timeout{30000};
  unsigned threads = 0;   // 0: one per core
  unsigned workers = 32;  // requests handled at once (each may wait on the MASA)
  friend bool operator==(const RegistrarSettings&, const RegistrarSettings&) = default;
};

// registrar.toml's text; `origin` (the file's path) starts every message.
Result<RegistrarSettings> parse_registrar_settings(std::string_view toml_text,
                                                   std::string_view origin);

// Reads the file, then applies VOUCHSAFE_REGISTRAR_LISTEN / _ADMIN
// (HOST:PORT) and VOUCHSAFE_REGISTRAR_STORE.
Result<RegistrarSettings> load_registrar_settings(const std::string& path);

// The configuration `registrar init` writes for a home.
RegistrarSettings initial_registrar_settings(const std::string& home);
std::string registrar_settings_text(const RegistrarSettings& settings);

// The keys' passphrase: passphrase_file, else $VOUCHSAFE_REGISTRAR_PASSPHRASE.
Result<std::optional<std::string>> registrar_passphrase(const RegistrarSettings& s);

// The service's configuration from the settings; loads and decrypts the keys.
Result<registrar::RegistrarConfig> registrar_config(const RegistrarSettings& s);
// The registrar's TLS client towards MASAs.
Result<net::ClientOptions> masa_client_options(const RegistrarSettings& s);
// The pledges' listener: a client certificate required, chaining to a
// manufacturer anchor (IDevID) or the domain CA (LDevID) at the handshake.
Result<net::ServerOptions> registrar_listener(const RegistrarSettings& s);
net::ServerOptions registrar_admin_listener(const RegistrarSettings& s);

}  // namespace vouchsafe::service
