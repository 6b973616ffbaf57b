// MASA settings: TOML, environment, and their translation.
#include "cli/masa_settings.h"

#include <toml++/toml.h>

#include <cstdlib>

#include "cli/secrets.h"
#include "crypto/keys.h"
#include "crypto/signer.h"

namespace vouchsafe::cli {
namespace {

template <typename T>
void read(const toml::table& doc, std::string_view section, std::string_view key, T& out) {
  if (auto v = doc[section][key].value<T>()) out = *v;
}

}  // namespace

Result<Listener> parse_listener(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return fail(ErrorCode::usage, "expected HOST:PORT, got " + text);
  Listener l;
  l.address = text.substr(0, colon);
  if (l.address.size() > 2 && l.address.front() == '[' && l.address.back() == ']') {
    l.address = l.address.substr(1, l.address.size() - 2);
  }
  try {
    const int port = std::stoi(text.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    l.port = static_cast<unsigned short>(port);
  } catch (const std::exception&) {
    return fail(ErrorCode::usage, "bad port in " + text);
  }
  return l;
}

Result<MasaSettings> load_masa_settings(const std::string& path) {
  toml::table doc;
  try {
    doc = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return fail(ErrorCode::usage, path + ":" + std::to_string(e.source().begin.line) + ": " +
                                      std::string(e.description()) +
                                      " (write one with `vouchsafe masa init`)");
  }
  MasaSettings s;
  read(doc, "masa", "home", s.home);
  read(doc, "masa", "store", s.store);
  read(doc, "masa", "passphrase_file", s.passphrase_file);
  std::string listen, admin;
  read(doc, "listen", "public", listen);
  read(doc, "listen", "admin", admin);
  if (!listen.empty()) {
    ASSIGN_OR_RETURN(s.listen, parse_listener(listen));
  }
  if (!admin.empty()) {
    ASSIGN_OR_RETURN(s.admin, parse_listener(admin));
  }
  read(doc, "tls", "certificate", s.tls_certificate);
  read(doc, "tls", "key", s.tls_key);
  read(doc, "signing", "key", s.signing_key);
  read(doc, "signing", "certificate", s.signing_certificate);
  read(doc, "signing", "chain", s.signing_chain);
  read(doc, "policy", "default_ownership", s.default_ownership);
  read(doc, "policy", "pinning", s.pinning);
  read(doc, "policy", "fallback_assertion", s.fallback_assertion);
  read(doc, "policy", "allow_nonceless", s.allow_nonceless);
  read(doc, "policy", "max_nonceless_days", s.max_nonceless_days);
  if (const auto* anchors = doc["policy"]["customer_anchors"].as_array()) {
    for (const auto& a : *anchors) {
      if (auto text = a.value<std::string>()) s.customer_anchors.push_back(*text);
    }
  }
  if (const auto* products = doc["policy"]["products"].as_table()) {
    for (const auto& [name, value] : *products) {
      if (auto text = value.value<std::string>()) {
        s.product_ownership.emplace_back(std::string(name.str()), *text);
      }
    }
  }
  std::int64_t entries = static_cast<std::int64_t>(s.audit_log_max_entries);
  read(doc, "policy", "audit_log_max_entries", entries);
  s.audit_log_max_entries = static_cast<std::size_t>(entries);
  read(doc, "limits", "rate_per_second", s.rate_per_second);
  read(doc, "limits", "rate_burst", s.rate_burst);
  std::int64_t connections = static_cast<std::int64_t>(s.max_connections);
  std::int64_t body = static_cast<std::int64_t>(s.max_body_bytes);
  std::int64_t threads = 0;
  read(doc, "limits", "max_connections", connections);
  read(doc, "limits", "max_body_bytes", body);
  read(doc, "limits", "read_timeout_ms", s.read_timeout_ms);
  read(doc, "limits", "idle_timeout_ms", s.idle_timeout_ms);
  read(doc, "limits", "threads", threads);
  s.max_connections = static_cast<std::size_t>(connections);
  s.max_body_bytes = static_cast<std::size_t>(body);
  s.threads = static_cast<unsigned>(threads);

  // The environment overrides the file.
  if (const char* v = std::getenv("VOUCHSAFE_MASA_LISTEN")) {
    ASSIGN_OR_RETURN(s.listen, parse_listener(v));
  }
  if (const char* v = std::getenv("VOUCHSAFE_MASA_ADMIN")) {
    ASSIGN_OR_RETURN(s.admin, parse_listener(v));
  }
  if (const char* v = std::getenv("VOUCHSAFE_STORE")) s.store = v;
  if (const char* v = std::getenv("VOUCHSAFE_HOME"); v != nullptr && s.home.empty()) s.home = v;
  return s;
}

std::string masa_settings_text(const std::string& home, const std::string& masa_dir) {
  return "# Vouchsafe MASA configuration. Flags override VOUCHSAFE_* environment\n"
         "# variables, which override this file.\n\n"
         "[masa]\n"
         "home = \"" +
         home +
         "\"\n"
         "# A PostgreSQL DSN (postgresql://...) to share one store among instances;\n"
         "# empty: the home's SQLite store.\n"
         "store = \"\"\n"
         "# The TLS and signing keys' passphrase: this file, else $VOUCHSAFE_MASA_PASSPHRASE.\n"
         "passphrase_file = \"\"\n\n"
         "[listen]\n"
         "public = \"127.0.0.1:8443\"   # registrars (HTTPS, client certificate required)\n"
         "admin = \"127.0.0.1:8444\"    # /healthz /readyz /metrics (plain HTTP, keep it local)\n\n"
         "[tls]\n"
         "certificate = \"" +
         masa_dir +
         "/tls.pem\"\n"
         "key = \"" +
         masa_dir +
         "/tls.key.pem\"\n\n"
         "[signing]\n"
         "key = \"" +
         masa_dir +
         "/signing.key.pem\"\n"
         "certificate = \"" +
         masa_dir +
         "/signing.pem\"\n"
         "chain = \"" +
         masa_dir +
         "/masa-ca.pem\"\n\n"
         "[policy]\n"
         "default_ownership = \"open\"      # or known-customer\n"
         "pinning = \"domain-ca\"           # or registrar-certificate\n"
         "fallback_assertion = \"\"         # e.g. logged; empty refuses without proximity\n"
         "allow_nonceless = true\n"
         "max_nonceless_days = 30\n"
         "customer_anchors = []           # PEM files of known customers' CAs\n"
         "audit_log_max_entries = 1024\n"
         "[policy.products]               # per-product ownership, e.g. widget = "
         "\"known-customer\"\n\n"
         "[limits]\n"
         "rate_per_second = 50\n"
         "rate_burst = 100\n"
         "max_connections = 1024\n"
         "max_body_bytes = 65536\n"
         "read_timeout_ms = 10000\n"
         "idle_timeout_ms = 30000\n"
         "threads = 0                     # 0: one per core\n";
}

Result<masa::MasaConfig> masa_config(const MasaSettings& s) {
  ASSIGN_OR_RETURN(auto pass, read_passphrase(s.passphrase_file, "VOUCHSAFE_MASA_PASSPHRASE"));
  masa::MasaConfig c;
  ASSIGN_OR_RETURN(auto key, crypto::load_private_key(s.signing_key, pass));
  ASSIGN_OR_RETURN(auto certs, crypto::load_certificates(s.signing_certificate));
  if (X509_check_private_key(certs.front().get(), key.get()) != 1) {
    return fail(ErrorCode::bad_key,
                s.signing_certificate + " does not hold the public key of " + s.signing_key);
  }
  ASSIGN_OR_RETURN(auto signer, crypto::SoftwareSigner::create(std::move(key)));
  c.signer = std::shared_ptr<const crypto::Signer>(std::move(signer));
  for (auto& cert : certs) c.signer_chain.push_back(crypto::make_certificate_ref(std::move(cert)));
  if (!s.signing_chain.empty()) {
    ASSIGN_OR_RETURN(auto chain, crypto::load_certificates(s.signing_chain));
    for (auto& cert : chain)
      c.signer_chain.push_back(crypto::make_certificate_ref(std::move(cert)));
  }
  ASSIGN_OR_RETURN(c.default_ownership, store::parse_ownership_policy(s.default_ownership));
  for (const auto& [product, policy] : s.product_ownership) {
    ASSIGN_OR_RETURN(c.product_ownership[product], store::parse_ownership_policy(policy));
  }
  if (s.pinning == "domain-ca") {
    c.pinning = masa::MasaConfig::Pinning::domain_ca;
  } else if (s.pinning == "registrar-certificate") {
    c.pinning = masa::MasaConfig::Pinning::registrar_certificate;
  } else {
    return fail(ErrorCode::usage,
                "pinning is domain-ca or registrar-certificate, not " + s.pinning);
  }
  if (!s.fallback_assertion.empty()) {
    ASSIGN_OR_RETURN(c.fallback_assertion, voucher::parse_assertion(s.fallback_assertion));
  }
  c.allow_nonceless = s.allow_nonceless;
  c.max_nonceless_lifetime = std::chrono::hours(24 * s.max_nonceless_days);
  for (const auto& path : s.customer_anchors) {
    ASSIGN_OR_RETURN(auto anchors, crypto::load_certificates(path));
    for (auto& a : anchors) c.customer_anchors.push_back(std::move(a));
  }
  c.audit_log_max_entries = s.audit_log_max_entries;
  c.max_request_bytes = s.max_body_bytes;
  return c;
}

Result<net::ServerOptions> public_listener(const MasaSettings& s) {
  ASSIGN_OR_RETURN(auto pass, read_passphrase(s.passphrase_file, "VOUCHSAFE_MASA_PASSPHRASE"));
  net::ServerOptions o;
  o.address = s.listen.address;
  o.port = s.listen.port;
  o.cert_file = s.tls_certificate;
  o.key_file = s.tls_key;
  o.key_passphrase = pass;
  o.require_client_certificate = true;
  o.threads = s.threads;
  o.max_body_bytes = s.max_body_bytes;
  o.read_timeout = std::chrono::milliseconds(s.read_timeout_ms);
  o.idle_timeout = std::chrono::milliseconds(s.idle_timeout_ms);
  o.max_connections = s.max_connections;
  o.rate_limit.per_second = s.rate_per_second;
  o.rate_limit.burst = s.rate_burst;
  o.metric_endpoints = {"/.well-known/brski/requestvoucher", "/.well-known/brski/requestauditlog"};
  // The server's own refusals read as the MASA's status table says.
  const auto text = [](masa::MasaError e) {
    const auto body = masa::refusal_response(e).body;
    return std::string(body.begin(), body.end());
  };
  o.refusals.too_large = text(masa::MasaError::request_too_large);
  o.refusals.rate_limited = text(masa::MasaError::rate_limited);
  return o;
}

net::ServerOptions admin_listener(const MasaSettings& s) {
  net::ServerOptions o;
  o.address = s.admin.address;
  o.port = s.admin.port;
  o.tls = false;
  o.require_client_certificate = false;
  o.threads = 1;
  o.rate_limit.enabled = false;
  o.max_invalid_before_block = 0;
  o.metric_endpoints = {"/healthz", "/readyz", "/metrics"};
  return o;
}

}  // namespace vouchsafe::cli
