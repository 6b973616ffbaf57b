// The MASA's configuration: a TOML file (written by `masa init`), then
// VOUCHSAFE_* environment variables, then flags, each overriding the last.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "masa/masa_service.h"
#include "net/server_options.h"

namespace vouchsafe::cli {

struct Listener {
  std::string address = "127.0.0.1";
  unsigned short port = 8443;
};

struct MasaSettings {
  std::string home;   // the manufacturer home whose asset store the MASA reads
  std::string store;  // a PostgreSQL DSN or SQLite path; empty: the home's store
  Listener listen;
  Listener admin{"127.0.0.1", 8444};
  std::string tls_certificate, tls_key;
  std::string signing_key, signing_certificate, signing_chain;
  std::string passphrase_file;  // for the TLS and signing keys; else $VOUCHSAFE_MASA_PASSPHRASE
  std::string default_ownership = "open";
  std::vector<std::pair<std::string, std::string>> product_ownership;
  std::string pinning = "domain-ca";
  std::string fallback_assertion;  // empty: refuse when proximity is not shown
  bool allow_nonceless = true;
  std::int64_t max_nonceless_days = 30;
  std::vector<std::string> customer_anchors;
  std::size_t audit_log_max_entries = 1024;
  double rate_per_second = 50, rate_burst = 100;
  std::size_t max_connections = 1024, max_body_bytes = 64 * 1024;
  std::int64_t read_timeout_ms = 10000, idle_timeout_ms = 30000;
  unsigned threads = 0;
};

// Reads the file, then applies VOUCHSAFE_MASA_LISTEN / _ADMIN (host:port),
// VOUCHSAFE_STORE and VOUCHSAFE_HOME.
Result<MasaSettings> load_masa_settings(const std::string& path);
Result<Listener> parse_listener(const std::string& text);

// The configuration `masa init` writes for a home.
std::string masa_settings_text(const std::string& home, const std::string& masa_dir);

// The service's and the listeners' configuration from the settings; loads
// and decrypts the keys.
Result<masa::MasaConfig> masa_config(const MasaSettings& s);
Result<net::ServerOptions> public_listener(const MasaSettings& s);
net::ServerOptions admin_listener(const MasaSettings& s);

}  // namespace vouchsafe::cli
