// MASA settings: the schema of masa.toml, the environment, and their
// translation into the service's and the listeners' configuration.
#include "service/masa_settings.h"

#include <boost/asio/ip/address.hpp>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "core/config_schema.h"
#include "core/file.h"
#include "core/secrets.h"
#include "crypto/key_reference.h"
#include "crypto/keys.h"
#include "crypto/signer.h"

namespace vouchsafe::service {
namespace {

using namespace std::chrono_literals;

// A key reference: a pkcs11: URI (checked for syntax here; the token is
// reached when the key is opened), or the path of a key file that exists.
config::Type<std::string> key_reference() {
  return config::string_where(
      "an encrypted key file that exists, or a pkcs11: URI (RFC 7512)",
      [](std::string_view text) -> std::optional<std::string> {
        auto ref = crypto::parse_key_reference(text);
        if (!ref) return ref.error().message;
        if (!ref->on_token() && !std::filesystem::is_regular_file(ref->path)) return "no such file";
        return std::nullopt;
      });
}

// A key reference that may be "" and whose file need not exist now: the
// certifying CA's key is often kept offline, or split among officers.
config::Type<std::string> optional_key_reference() {
  return config::string_where("\"\", a key file path or a pkcs11: URI (RFC 7512)",
                              [](std::string_view text) -> std::optional<std::string> {
                                if (text.empty()) return std::nullopt;
                                auto ref = crypto::parse_key_reference(text);
                                if (!ref) return ref.error().message;
                                return std::nullopt;
                              });
}

config::Type<masa::KeyArchitecture> key_architecture() {
  return config::one_of<masa::KeyArchitecture>({{"offline-ca", masa::KeyArchitecture::offline_ca},
                                                {"per-product", masa::KeyArchitecture::per_product},
                                                {"idevid-root", masa::KeyArchitecture::idevid_root},
                                                {"rotating", masa::KeyArchitecture::rotating}});
}

// An IPv4 or IPv6 address, without a port.
config::Type<std::string> ip_address() {
  return config::string_where("an IPv4 or IPv6 address",
                              [](std::string_view text) -> std::optional<std::string> {
                                boost::system::error_code ec;
                                (void)boost::asio::ip::make_address(std::string(text), ec);
                                if (ec) return "not an IP address";
                                return std::nullopt;
                              });
}

config::Type<net::TlsLibrary> tls_library() {
  return config::one_of<net::TlsLibrary>(
      {{"gnutls", net::TlsLibrary::gnutls}, {"openssl", net::TlsLibrary::openssl}});
}

config::Type<store::OwnershipPolicy> ownership() {
  return config::one_of<store::OwnershipPolicy>(
      {{"open", store::OwnershipPolicy::open},
       {"known-customer", store::OwnershipPolicy::known_customer}});
}

// Every key of masa.toml. A new key is one more line here and a member of
// MasaSettings; `masa init` writes it with its comment.
config::Schema<MasaSettings> make_schema() {
  using S = MasaSettings;
  using config::integer;
  config::Schema<S> schema;
  auto* s = &schema;
  s->section("masa")
      .key("home", &S::home, config::directory_path(true),
           "The manufacturer home whose asset store the MASA reads; \"\": $VOUCHSAFE_HOME.")
      .key("store", &S::store, config::string(),
           "A PostgreSQL DSN (postgresql://...) to share one store among instances; \"\": "
           "the home's SQLite store.")
      .key("store_read", &S::store_read, config::string(),
           "A streaming replica of that store (a DSN): device and ownership reads go there "
           "first; the audit log, writes and devices the replica lacks go to the primary. "
           "\"\": none.")
      .key("passphrase_file", &S::passphrase_file, config::file_path(true),
           "The TLS and signing keys' passphrase: this file's first line, else "
           "$VOUCHSAFE_MASA_PASSPHRASE.");
  s->section("listen")
      .key("public", &S::listen, listener_type(),
           "Registrars: HTTPS, a client certificate required. Port 0: any free port.")
      .key("admin", &S::admin, listener_type(),
           "/healthz /readyz /metrics: plain HTTP, keep it on loopback.")
      .key("proxy_protocol_from", &S::proxy_protocol_from, config::array_of(ip_address()),
           "Load balancers (IP addresses) that begin each connection with a PROXY protocol v2 "
           "header (haproxy: send-proxy-v2): their clients' addresses are what the rate limits "
           "and logs see. [] : none.");
  s->section("tls")
      .key("certificate", &S::tls_certificate, config::file_path(false),
           "The TLS certificate, then its chain (PEM).")
      .required()
      .key("key", &S::tls_key, key_reference(),
           "Its private key: an encrypted PEM file, or a pkcs11: URI (with library = "
           "\"gnutls\").")
      .required()
      .key("library", &S::tls_library, tls_library(),
           "The TLS library of the public listener: \"gnutls\" costs about half the CPU per "
           "new or resumed connection (docs/cluster.md); \"openssl\" is the other.");
  s->section("signing")
      .key("key", &S::signing_key, key_reference(),
           "The voucher-signing key (the default one): an encrypted PEM file or a pkcs11: URI.")
      .required()
      .key("certificate", &S::signing_certificate, config::file_path(false),
           "Its certificate (PEM).")
      .required()
      .key("chain", &S::signing_chain, config::file_path(true),
           "The certificates above it, up to the anchor pledges pin (PEM).")
      .key("architecture", &S::architecture, key_architecture(),
           "The MASA key architecture (docs/masa-keys.md): one offline MASA CA and an online "
           "signer (offline-ca), a key and anchor per product (per-product), signers certified "
           "under the IDevID root with the voucher-authority policy (idevid-root), or several "
           "keys per product, each device bound to one (rotating).")
      .key("ca_key", &S::signing_ca_key, optional_key_reference(),
           "The key of the CA that certifies the signing key, for `vouchsafe masa key "
           "rollover`; \"\" when it is kept elsewhere (give rollover --ca-key).")
      .key("refresh", &S::key_refresh, config::duration<std::int64_t, std::milli>(100ms, 1h),
           "How often the store is read for keys `vouchsafe masa key rollover` made active.");
  config::Schema<MasaKeySettings> key_item;
  key_item.key("key", &MasaKeySettings::key, key_reference())
      .required()
      .key("certificate", &MasaKeySettings::certificate, config::file_path(false))
      .required()
      .key("chain", &MasaKeySettings::chain, config::file_path(true))
      .key("ca_key", &MasaKeySettings::ca_key, optional_key_reference());
  s->tables("masa_keys", &S::masa_keys, key_item,
            "Keys besides the default, by id: a product's name (architecture per-product) or "
            "a key slot PRODUCT-SLOT (rotating). Each has key (a key reference), certificate "
            "and chain (PEM files).");
  s->section("policy")
      .key("default_ownership", &S::default_ownership, ownership(),
           "Who gets vouchers for a device that has no policy of its own or of its product: "
           "any registrar (open) or its recorded owners only (known-customer).")
      .key("pinning", &S::pinning,
           config::one_of<masa::MasaConfig::Pinning>(
               {{"domain-ca", masa::MasaConfig::Pinning::domain_ca},
                {"registrar-certificate", masa::MasaConfig::Pinning::registrar_certificate}}),
           "What the voucher pins: the registrar's domain CA or its own certificate.")
      .key("fallback_assertion", &S::fallback_assertion,
           config::one_of<std::optional<voucher::Assertion>>(
               {{"", std::nullopt},
                {"verified", voucher::Assertion::verified},
                {"logged", voucher::Assertion::logged},
                {"proximity", voucher::Assertion::proximity}}),
           "The assertion when the pledge's proximity to the registrar is not shown; \"\" "
           "refuses the request (RFC 8995 §5.5.5).")
      .key("allow_nonceless", &S::allow_nonceless, config::boolean(),
           "Nonceless vouchers for open devices, to authenticated registrars only.")
      .key("max_nonceless_lifetime", &S::max_nonceless_lifetime,
           config::duration<std::int64_t, std::ratio<1>>(1min, 366 * 24h),
           "How long a nonceless voucher is valid.")
      .legacy_key("max_nonceless_days", &S::max_nonceless_lifetime,
                  config::count_of(std::chrono::seconds(24h), "days", 1, 366),
                  "max_nonceless_lifetime")
      .key("customer_anchors", &S::customer_anchors, config::array_of(config::file_path(false)),
           "PEM files of known customers' CAs: their registrars are authenticated.")
      .key("audit_log_max_entries", &S::audit_log_max_entries, integer<std::size_t>(1, 1'000'000),
           "The most entries a requestauditlog answer holds, the newest kept.")
      .key("products", &S::product_ownership, config::table_of(ownership()),
           "Per-product ownership, e.g. widget = \"known-customer\".")
      .key("bind_request_to_tls_client", &S::bind_request_to_tls_client, config::boolean(),
           "Refuse a registrar voucher-request not signed by the key of the TLS client "
           "certificate that posts it, so that a captured request is worthless to others.")
      .key("max_request_age", &S::max_request_age,
           config::duration<std::int64_t, std::ratio<1>>(1min, 30 * 24h),
           "Refuse a registrar voucher-request whose created-on is older than this.")
      .key("voucher_idevid_issuer", &S::voucher_idevid_issuer, config::boolean(),
           "Put idevid-issuer in vouchers: only where device serial numbers are not unique "
           "across your issuing CAs.");
  s->section("limits")
      .key("rate_per_second", &S::rate_per_second, config::positive_number(1e9),
           "Requests per second each client certificate may make, on average.")
      .key("rate_burst", &S::rate_burst, config::number(1, 1e9),
           "Requests a client certificate may make at once, above that rate.")
      .key("address_rate_multiple", &S::address_rate_multiple, config::number(1, 1e6),
           "One source address's allowance, in multiples of a client certificate's.")
      .key("prefix_rate_multiple", &S::prefix_rate_multiple, config::number(1, 1e6),
           "One /24 (IPv4) or /64 (IPv6) prefix's allowance, in multiples of a client's.")
      .key("shared_rate_multiple", &S::shared_rate_multiple, config::number(1, 1e6),
           "The allowance all registrars that are not known customers share, in multiples of "
           "a client's.")
      .key("max_connections", &S::max_connections, integer<std::size_t>(1, 1'000'000),
           "Open connections at most; more are closed at once.")
      .key("max_connections_per_address", &S::max_connections_per_address,
           integer<std::size_t>(1, 1'000'000), "Open connections from one source address.")
      .key("max_connections_per_prefix", &S::max_connections_per_prefix,
           integer<std::size_t>(1, 1'000'000),
           "Open connections from one /24 (IPv4) or /64 (IPv6) prefix.")
      .key("handshake_share", &S::handshake_share, config::number(0.01, 1),
           "The share of max_connections that connections still in their TLS handshake may "
           "hold; a newcomer pushes out the oldest of the busiest prefix.")
      .key("handshake_timeout", &S::handshake_timeout,
           config::duration<std::int64_t, std::milli>(100ms, 1min),
           "The TLS handshake must end this long after the accept.")
      .key("max_body_bytes", &S::max_body_bytes, integer<std::size_t>(1024, std::size_t{16} << 20U),
           "The largest request body; larger ones get 413.")
      .key("read_timeout", &S::read_timeout, config::duration<std::int64_t, std::milli>(100ms, 1h),
           "Bounds the TLS handshake, each request from its first byte, and each response.")
      .legacy_key("read_timeout_ms", &S::read_timeout,
                  config::count_of(std::chrono::milliseconds(1), "milliseconds", 100, 3'600'000),
                  "read_timeout")
      .key("idle_timeout", &S::idle_timeout, config::duration<std::int64_t, std::milli>(100ms, 1h),
           "Bounds the wait for the next request on a kept-alive connection.")
      .legacy_key("idle_timeout_ms", &S::idle_timeout,
                  config::count_of(std::chrono::milliseconds(1), "milliseconds", 100, 3'600'000),
                  "idle_timeout")
      .key("max_invalid_before_block", &S::max_invalid_before_block,
           integer<std::size_t>(0, 1'000'000),
           "Invalid requests (4xx but 404 and 429) a client certificate may make before it is "
           "blocked for block_time; 0: never blocked.")
      .key("max_invalid_per_address", &S::max_invalid_per_address,
           integer<std::size_t>(0, 1'000'000),
           "The same for a source address, whatever certificates it shows; 0: never blocked.")
      .key("block_time", &S::block_time, config::duration<std::int64_t, std::ratio<1>>(1s, 24h),
           "How long a blocked client or address is refused.")
      .key("threads", &S::threads, integer(0U, 1024U), "Worker threads; 0: one per core.");
  return schema;
}

const config::Schema<MasaSettings>& schema() {
  static const auto k_schema = make_schema();
  return k_schema;
}

constexpr std::string_view k_preamble =
    "# Vouchsafe MASA configuration. Flags override VOUCHSAFE_* environment\n"
    "# variables, which override this file. Every key is checked: one that is\n"
    "# unknown, of the wrong type or out of range stops `vouchsafe masa serve`.\n";

}  // namespace

Result<MasaSettings> parse_masa_settings(std::string_view toml_text, std::string_view origin) {
  return config::parse(schema(), toml_text, origin);
}

Result<MasaSettings> load_masa_settings(const std::string& path) {
  auto text = read_file(path, 1U << 20U);
  if (!text) {
    const bool missing = !std::filesystem::exists(path);
    return fail(ErrorCode::usage,
                text.error().message + (missing ? " (write one with `vouchsafe masa init`)" : ""));
  }
  ASSIGN_OR_RETURN(auto s, parse_masa_settings(as_text(*text), path));

  // The environment overrides the file, by the same rules.
  if (const char* v = std::getenv("VOUCHSAFE_MASA_LISTEN")) {
    ASSIGN_OR_RETURN(s.listen, parse_listener(v, "VOUCHSAFE_MASA_LISTEN"));
  }
  if (const char* v = std::getenv("VOUCHSAFE_MASA_ADMIN")) {
    ASSIGN_OR_RETURN(s.admin, parse_listener(v, "VOUCHSAFE_MASA_ADMIN"));
  }
  if (const char* v = std::getenv("VOUCHSAFE_STORE")) s.store = v;
  if (const char* v = std::getenv("VOUCHSAFE_STORE_READ")) s.store_read = v;
  if (const char* v = std::getenv("VOUCHSAFE_HOME"); v != nullptr && *v != '\0' && s.home.empty()) {
    ASSIGN_OR_RETURN(s.home,
                     config::parse_text(config::directory_path(false), v, "VOUCHSAFE_HOME"));
  }
  return s;
}

MasaSettings initial_masa_settings(const std::string& home, const std::string& masa_dir) {
  MasaSettings s;
  s.home = home;
  s.tls_certificate = masa_dir + "/tls.pem";
  s.tls_key = masa_dir + "/tls.key.pem";
  s.signing_key = masa_dir + "/signing.key.pem";
  s.signing_certificate = masa_dir + "/signing.pem";
  s.signing_chain = masa_dir + "/masa-ca.pem";
  return s;
}

std::string masa_settings_text(const MasaSettings& settings) {
  return schema().write(settings, k_preamble);
}

namespace {

Result<std::vector<crypto::CertificateRef>> certificate_refs(std::vector<crypto::X509Ptr> certs) {
  std::vector<crypto::CertificateRef> out;
  out.reserve(certs.size());
  for (auto& cert : certs) out.push_back(crypto::make_certificate_ref(std::move(cert)));
  return out;
}

Status check_holds_key(const masa::MasaKey& key, const std::string& what) {
  if (key.chain.empty() ||
      EVP_PKEY_eq(key.chain.front()->public_key.get(), key.signer->public_key()) != 1) {
    return fail(ErrorCode::bad_key,
                what + " does not hold the public key of MASA key '" + key.id + "'");
  }
  return ok();
}

}  // namespace

Result<masa::MasaKey> load_masa_key(const std::string& id, const std::string& key_reference,
                                    const std::string& certificate, const std::string& chain,
                                    MasaKeyOpener& keys) {
  masa::MasaKey key;
  key.id = id;
  ASSIGN_OR_RETURN(key.signer, keys.signer(key_reference));
  ASSIGN_OR_RETURN(auto certs, crypto::load_certificates(certificate));
  ASSIGN_OR_RETURN(key.chain, certificate_refs(std::move(certs)));
  if (!chain.empty()) {
    ASSIGN_OR_RETURN(auto above, crypto::load_certificates(chain));
    for (auto& cert : above) key.chain.push_back(crypto::make_certificate_ref(std::move(cert)));
  }
  TRY(check_holds_key(key, certificate));
  return key;
}

namespace {

// The id of the configured key a signer record of `scope` replaces.
std::string replaced_id(const std::string& scope) {
  return scope.empty() ? std::string(masa::k_default_key_id) : scope;
}

// The voucher-signing keys in use: the store's newest signer record of
// each scope, and the configured keys no record replaces; with the TLS key
// when the listener signs through a signer.
std::vector<std::string> key_references(
    const MasaSettings& s, const std::map<std::string, store::MasaSignerRecord>& active) {
  std::vector<std::string> out;
  std::set<std::string> replaced;
  for (const auto& [scope, record] : active) {
    out.push_back(record.key_reference);
    replaced.insert(replaced_id(scope));
  }
  if (!replaced.contains(std::string(masa::k_default_key_id))) out.push_back(s.signing_key);
  for (const auto& [id, k] : s.masa_keys) {
    if (!replaced.contains(id)) out.push_back(k.key);
  }
  if (s.tls_library == net::TlsLibrary::gnutls) out.push_back(s.tls_key);
  return out;
}

}  // namespace

Result<std::shared_ptr<MasaKeyOpener>> open_masa_keys(
    const MasaSettings& s, const std::vector<store::MasaSignerRecord>& records) {
  ASSIGN_OR_RETURN(auto pass, read_passphrase(s.passphrase_file, "VOUCHSAFE_MASA_PASSPHRASE"));
  auto keys = std::make_shared<MasaKeyOpener>(std::move(pass));
  TRY(keys->open(key_references(s, masa::active_signers(records))));
  return keys;
}

Result<std::shared_ptr<const masa::KeySet>> masa_key_set(
    const MasaSettings& s, const std::vector<store::MasaSignerRecord>& records,
    MasaKeyOpener& keys) {
  const auto active = masa::active_signers(records);
  TRY(keys.open(key_references(s, active)));  // in parallel, those not open yet
  std::map<std::string, masa::MasaKey> set;
  // Rollover: the newest signer the store records for a scope replaces the
  // configured key; the anchor stays, so earlier vouchers still verify.
  for (const auto& [scope, record] : active) {
    masa::MasaKey key;
    key.id = replaced_id(scope);
    ASSIGN_OR_RETURN(key.signer, keys.signer(record.key_reference));
    ASSIGN_OR_RETURN(auto certs, crypto::parse_certificates(as_bytes(record.chain_pem)));
    ASSIGN_OR_RETURN(key.chain, certificate_refs(std::move(certs)));
    TRY(check_holds_key(key, "the store's signer record " + std::to_string(record.id)));
    set[key.id] = std::move(key);
  }
  const std::string default_id(masa::k_default_key_id);
  if (!set.contains(default_id)) {
    ASSIGN_OR_RETURN(set[default_id], load_masa_key(default_id, s.signing_key,
                                                    s.signing_certificate, s.signing_chain, keys));
  }
  for (const auto& [id, k] : s.masa_keys) {
    if (!set.contains(id)) {
      ASSIGN_OR_RETURN(set[id], load_masa_key(id, k.key, k.certificate, k.chain, keys));
    }
  }
  return std::make_shared<const masa::KeySet>(s.architecture, std::move(set));
}

Result<masa::MasaConfig> masa_config(const MasaSettings& s,
                                     const std::vector<store::MasaSignerRecord>& records,
                                     MasaKeyOpener& keys) {
  masa::MasaConfig c;
  ASSIGN_OR_RETURN(auto key_set, masa_key_set(s, records, keys));
  const auto& default_key = key_set->keys().at(std::string(masa::k_default_key_id));
  c.signer = default_key.signer;
  c.signer_chain = default_key.chain;
  c.keys = std::make_shared<masa::KeyRing>(std::move(key_set));
  c.default_ownership = s.default_ownership;
  c.product_ownership = s.product_ownership;
  c.pinning = s.pinning;
  c.fallback_assertion = s.fallback_assertion;
  c.allow_nonceless = s.allow_nonceless;
  c.max_nonceless_lifetime = s.max_nonceless_lifetime;
  for (const auto& path : s.customer_anchors) {
    ASSIGN_OR_RETURN(auto anchors, crypto::load_certificates(path));
    for (auto& a : anchors) c.customer_anchors.push_back(std::move(a));
  }
  c.audit_log_max_entries = s.audit_log_max_entries;
  c.max_request_bytes = s.max_body_bytes;
  c.bind_request_to_tls_client = s.bind_request_to_tls_client;
  c.max_request_age = s.max_request_age;
  c.voucher_idevid_issuer = s.voucher_idevid_issuer;
  return c;
}

Result<net::ServerOptions> public_listener(const MasaSettings& s, MasaKeyOpener& keys) {
  ASSIGN_OR_RETURN(auto pass, read_passphrase(s.passphrase_file, "VOUCHSAFE_MASA_PASSPHRASE"));
  net::ServerOptions o;
  o.address = s.listen.address;
  o.port = s.listen.port;
  o.cert_file = s.tls_certificate;
  o.key_passphrase = pass;
  o.tls_library = s.tls_library;
  o.proxy_protocol_from = s.proxy_protocol_from;
  ASSIGN_OR_RETURN(auto tls_key, crypto::parse_key_reference(s.tls_key));
  if (s.tls_library == net::TlsLibrary::gnutls) {
    // Through a signer, so that the key may stay on a token.
    ASSIGN_OR_RETURN(o.key_signer, keys.signer(s.tls_key));
  } else if (tls_key.on_token()) {
    return fail(ErrorCode::usage,
                "[tls] key: a key on a token needs [tls] library = \"gnutls\" "
                "(the OpenSSL listener reads a key file)");
  } else {
    o.key_file = tls_key.path;
  }
  o.require_client_certificate = true;
  o.threads = s.threads;
  o.max_body_bytes = s.max_body_bytes;
  o.read_timeout = s.read_timeout;
  o.idle_timeout = s.idle_timeout;
  o.max_connections = s.max_connections;
  o.rate_limit.per_second = s.rate_per_second;
  o.rate_limit.burst = s.rate_burst;
  const auto times = [&s](double multiple) {
    return net::RateLimit{.per_second = s.rate_per_second * multiple,
                          .burst = s.rate_burst * multiple,
                          .enabled = true};
  };
  o.address_rate_limit = times(s.address_rate_multiple);
  o.prefix_rate_limit = times(s.prefix_rate_multiple);
  o.shared_rate_limit = times(s.shared_rate_multiple);
  o.max_connections_per_address = std::min(s.max_connections_per_address, s.max_connections);
  o.max_connections_per_prefix = std::min(s.max_connections_per_prefix, s.max_connections);
  o.handshake_share = s.handshake_share;
  o.handshake_timeout = s.handshake_timeout;
  o.max_invalid_before_block = s.max_invalid_before_block;
  o.max_invalid_per_address_before_block = s.max_invalid_per_address;
  o.block_time = s.block_time;
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
  // Loopback-only and unauthenticated: no rate limits, no blocking.
  for (auto* limit :
       {&o.rate_limit, &o.shared_rate_limit, &o.address_rate_limit, &o.prefix_rate_limit}) {
    limit->enabled = false;
  }
  o.max_invalid_before_block = 0;
  o.max_invalid_per_address_before_block = 0;
  o.metric_endpoints = {"/healthz", "/readyz", "/metrics"};
  return o;
}

}  // namespace vouchsafe::service
