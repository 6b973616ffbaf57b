// Registrar settings: the schema of registrar.toml, the environment, and
// their translation into the service's and the listeners' configuration.
#include "service/registrar_settings.h"


#include <cstdlib>
#include <filesystem>

#include "core/config_schema.h"
#include "core/file.h"
#include "core/secrets.h"
#include "crypto/keys.h"
#include "crypto/signer.h"

namespace vouchsafe::service {
namespace {

using namespace std::chrono_literals;

// HOST:PORT, as masa.toml's listeners (see masa_settings.cpp).
// RFC 8995 §2.3.2: an authority, "host[:port]", no scheme, no path.
config::Type<std::string> authority() {
  return config::string_where("a MASA authority such as masa.example.com:443 (no scheme, no path)",
                              [](std::string_view s) -> std::optional<std::string> {
                                if (s.empty() || s.size() > 255) return "1 to 255 characters";
                                for (const char c : s) {
                                  if (c <= 0x20 || c >= 0x7F || c == '/')
                                    return "printable ASCII without '/' or spaces";
                                }
                                return std::nullopt;
                              });
}

config::Type<std::string> https_url_or_empty() {
  return config::string_where("\"\" or an https:// URL",
                              [](std::string_view s) -> std::optional<std::string> {
                                if (s.empty()) return std::nullopt;
                                if (!net::parse_https_url(std::string(s))) {
                                  return "not an https://host[:port] URL";
                                }
                                return std::nullopt;
                              });
}

config::Schema<RegistrarSettings> make_schema() {
  using S = RegistrarSettings;
  using config::integer;
  config::Schema<S> schema;
  auto* s = &schema;
  s->section("registrar")
      .key("home", &S::home, config::directory_path(true),
           "The registrar's home directory (its keys, certificates and store).")
      .key("store", &S::store, config::string(),
           "A PostgreSQL DSN (postgresql://...), or \"\": HOME/registrar.db (SQLite).")
      .key("passphrase_file", &S::passphrase_file, config::file_path(true),
           "The keys' passphrase: this file's first line, else $VOUCHSAFE_REGISTRAR_PASSPHRASE.")
      .key("organization", &S::organization, config::text(0, 64),
           "Subject O of the LDevIDs the domain CA issues; \"\": none.");
  s->section("listen")
      .key("public", &S::listen, listener_type(),
           "Pledges: HTTPS, their IDevID required as client certificate. Port 0: any free "
           "port.")
      .key("admin", &S::admin, listener_type(),
           "/healthz /readyz /metrics: plain HTTP, keep it on loopback.");
  s->section("tls")
      .key("certificate", &S::tls_certificate, config::file_path(false),
           "The registrar's certificate (id-kp-cmcRA, serverAuth, clientAuth), then its chain "
           "(PEM): the TLS server pledges see, the TLS client and the signer of voucher-requests "
           "towards MASAs.")
      .required()
      .key("key", &S::tls_key, config::file_path(false), "Its private key (PEM, encrypted).")
      .required();
  s->section("domain_ca")
      .key("certificate", &S::domain_ca_certificate, config::file_path(false),
           "The owner's domain CA (PEM): what vouchers pin, the issuer of LDevIDs.")
      .required()
      .key("key", &S::domain_ca_key, config::file_path(false), "Its private key (PEM, encrypted).")
      .required();
  s->section("pledges").key(
      "manufacturer_anchors", &S::manufacturer_anchors, config::array_of(config::file_path(false)),
      "PEM files of the manufacturers' CAs (root or issuing) whose IDevIDs this registrar "
      "accepts; others fail the TLS handshake.");
  s->section("masa")
      .key("ca_certificates", &S::masa_ca, config::file_path(true),
           "PEM file of the CAs that MASAs' TLS certificates chain to.")
      .key("allowed", &S::masa_allowed, config::array_of(authority()),
           "MASA authorities (the IDevID's MASA URL extension, RFC 8995 §2.3.2) this registrar "
           "asks for vouchers; a pledge naming another is refused.")
      .key("override_url", &S::masa_override_url, https_url_or_empty(),
           "Send every voucher-request here, whatever the IDevID names; \"\": none.")
      .key("timeout", &S::masa_timeout, config::duration<std::int64_t, std::ratio<1>>(1s, 5min),
           "How long a MASA may take to answer.");
  s->section("audit_log")
      .key("allow_other_domains", &S::allow_other_domains, config::boolean(),
           "Accept a device the MASA has vouched to other domains (a previous owner). RFC 8995 "
           "§5.8.3: refused by default.")
      .key("accepted_domains", &S::accepted_domains, config::array_of(config::text(1, 128)),
           "domainIDs (base64, as the audit log names them) whose vouchers are accepted all "
           "the same, e.g. the previous owner that sold you the device.")
      .key("allow_nonceless_other_domains", &S::allow_nonceless_other_domains, config::boolean(),
           "Accept a device with a nonceless voucher for another domain (valid wherever the "
           "device goes, until it expires). Refused by default.")
      .key("nonceless_domains", &S::nonceless_domains, config::array_of(config::text(1, 128)),
           "domainIDs whose nonceless vouchers are accepted all the same.")
      .key("max_arbitrary_truncation", &S::max_arbitrary_truncation,
           integer<std::int64_t>(0, 1'000'000),
           "How many entries the MASA may leave out of the log without saying whose "
           "(\"arbitrary\" truncation) before the device is refused.");
  s->section("enroll")
      .key("ldevid_validity", &S::ldevid_validity,
           config::duration<std::int64_t, std::ratio<1>>(1h, 36500 * 24h),
           "How long an LDevID is valid (never beyond the domain CA).")
      .key("key_type", &S::ldevid_key_type,
           config::one_of<crypto::KeyType>(
               {{"p256", crypto::KeyType::p256}, {"p384", crypto::KeyType::p384}}),
           "The LDevID key csrattrs asks for: ECDSA P-256 or P-384.");
  s->section("limits")
      .key("rate_per_second", &S::rate_per_second, config::positive_number(1e9),
           "Requests per second each pledge (client certificate) may make, on average.")
      .key("rate_burst", &S::rate_burst, config::number(1, 1e9),
           "Requests a pledge may make at once, above that rate.")
      .key("address_rate_multiple", &S::address_rate_multiple, config::number(1, 1e6),
           "One source address's allowance, in multiples of a pledge's (pledges behind one "
           "NAT share an address).")
      .key("prefix_rate_multiple", &S::prefix_rate_multiple, config::number(1, 1e6),
           "One /24 (IPv4) or /64 (IPv6) prefix's allowance, in multiples of a pledge's.")
      .key("max_connections", &S::max_connections, integer<std::size_t>(1, 1'000'000),
           "Open connections at most.")
      .key("max_connections_per_address", &S::max_connections_per_address,
           integer<std::size_t>(1, 1'000'000), "Open connections from one source address.")
      .key("max_body_bytes", &S::max_body_bytes, integer<std::size_t>(1024, std::size_t{16} << 20U),
           "The largest request body; larger ones get 413.")
      .key("read_timeout", &S::read_timeout, config::duration<std::int64_t, std::milli>(100ms, 1h),
           "Bounds the TLS handshake, each request from its first byte, and each response.")
      .key("idle_timeout", &S::idle_timeout, config::duration<std::int64_t, std::milli>(100ms, 1h),
           "Bounds the wait for the next request on a kept-alive connection.")
      .key("threads", &S::threads, integer(0U, 1024U), "Network threads; 0: one per core.")
      .key("workers", &S::workers, integer(1U, 4096U),
           "Requests handled at once; each may wait on the MASA.");
  return schema;
}

const config::Schema<RegistrarSettings>& schema() {
  static const auto k_schema = make_schema();
  return k_schema;
}

constexpr std::string_view k_preamble =
    "# Vouchsafe registrar configuration. Flags override VOUCHSAFE_REGISTRAR_*\n"
    "# environment variables, which override this file. Every key is checked:\n"
    "# one that is unknown, of the wrong type or out of range stops\n"
    "# `vouchsafe registrar serve`.\n";

Result<std::vector<crypto::X509Ptr>> load_all(const std::vector<std::string>& paths) {
  std::vector<crypto::X509Ptr> out;
  for (const auto& path : paths) {
    ASSIGN_OR_RETURN(auto certs, crypto::load_certificates(path));
    for (auto& c : certs) out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

Result<RegistrarSettings> parse_registrar_settings(std::string_view toml_text,
                                                   std::string_view origin) {
  return config::parse(schema(), toml_text, origin);
}

Result<RegistrarSettings> load_registrar_settings(const std::string& path) {
  auto text = read_file(path, 1U << 20U);
  if (!text) {
    const bool missing = !std::filesystem::exists(path);
    return fail(
        ErrorCode::usage,
        text.error().message + (missing ? " (write one with `vouchsafe registrar init`)" : ""));
  }
  ASSIGN_OR_RETURN(auto s, parse_registrar_settings(as_text(*text), path));
  if (const char* v = std::getenv("VOUCHSAFE_REGISTRAR_LISTEN")) {
    ASSIGN_OR_RETURN(s.listen,
                     config::parse_text(listener_type(), v, "VOUCHSAFE_REGISTRAR_LISTEN"));
  }
  if (const char* v = std::getenv("VOUCHSAFE_REGISTRAR_ADMIN")) {
    ASSIGN_OR_RETURN(s.admin, config::parse_text(listener_type(), v, "VOUCHSAFE_REGISTRAR_ADMIN"));
  }
  if (const char* v = std::getenv("VOUCHSAFE_REGISTRAR_STORE")) s.store = v;
  return s;
}

RegistrarSettings initial_registrar_settings(const std::string& home) {
  RegistrarSettings s;
  s.home = home;
  s.tls_certificate = home + "/certs/registrar.pem";
  s.tls_key = home + "/keys/registrar.key.pem";
  s.domain_ca_certificate = home + "/certs/domain-ca.pem";
  s.domain_ca_key = home + "/keys/domain-ca.key.pem";
  return s;
}

std::string registrar_settings_text(const RegistrarSettings& settings) {
  return schema().write(settings, k_preamble);
}

Result<std::optional<std::string>> registrar_passphrase(const RegistrarSettings& s) {
  return read_passphrase(s.passphrase_file, "VOUCHSAFE_REGISTRAR_PASSPHRASE");
}

Result<registrar::RegistrarConfig> registrar_config(const RegistrarSettings& s) {
  ASSIGN_OR_RETURN(auto pass, registrar_passphrase(s));
  registrar::RegistrarConfig c;
  ASSIGN_OR_RETURN(auto key, crypto::load_private_key(s.tls_key, pass));
  ASSIGN_OR_RETURN(auto certs, crypto::load_certificates(s.tls_certificate));
  if (X509_check_private_key(certs.front().get(), key.get()) != 1) {
    return fail(ErrorCode::bad_key,
                s.tls_certificate + " does not hold the public key of " + s.tls_key);
  }
  ASSIGN_OR_RETURN(auto signer, crypto::SoftwareSigner::create(std::move(key)));
  c.signer = std::shared_ptr<const crypto::Signer>(std::move(signer));
  for (auto& cert : certs) c.chain.push_back(crypto::make_certificate_ref(std::move(cert)));

  ASSIGN_OR_RETURN(auto ca_key, crypto::load_private_key(s.domain_ca_key, pass));
  ASSIGN_OR_RETURN(auto ca_certs, crypto::load_certificates(s.domain_ca_certificate));
  crypto::X509Ptr ca = std::move(ca_certs.front());
  ca_certs.erase(ca_certs.begin());
  ASSIGN_OR_RETURN(auto domain_ca, registrar::DomainCa::create(std::move(ca), std::move(ca_key),
                                                               std::move(ca_certs)));
  c.domain_ca = std::move(domain_ca);
  c.ldevid.organization = s.organization;
  c.ldevid.validity = s.ldevid_validity;
  c.ldevid_key_type = s.ldevid_key_type;
  ASSIGN_OR_RETURN(c.manufacturer_anchors, load_all(s.manufacturer_anchors));
  c.masa.allowed_authorities = s.masa_allowed;
  c.masa.override_url = s.masa_override_url;
  c.audit_log.allow_other_domains = s.allow_other_domains;
  c.audit_log.accepted_domains = s.accepted_domains;
  c.audit_log.allow_nonceless_other_domains = s.allow_nonceless_other_domains;
  c.audit_log.nonceless_domains = s.nonceless_domains;
  c.audit_log.max_arbitrary_truncation = static_cast<std::uint64_t>(s.max_arbitrary_truncation);
  c.max_request_bytes = s.max_body_bytes;
  return c;
}

Result<net::ClientOptions> masa_client_options(const RegistrarSettings& s) {
  ASSIGN_OR_RETURN(auto pass, registrar_passphrase(s));
  net::ClientOptions o;
  o.ca_file = s.masa_ca;
  o.cert_file = s.tls_certificate;
  o.key_file = s.tls_key;
  o.key_passphrase = pass;
  o.timeout = s.masa_timeout;
  return o;
}

Result<net::ServerOptions> registrar_listener(const RegistrarSettings& s) {
  ASSIGN_OR_RETURN(auto pass, registrar_passphrase(s));
  net::ServerOptions o;
  o.address = s.listen.address;
  o.port = s.listen.port;
  o.cert_file = s.tls_certificate;
  o.key_file = s.tls_key;
  o.key_passphrase = pass;
  o.require_client_certificate = true;
  ASSIGN_OR_RETURN(auto anchors, load_all(s.manufacturer_anchors));
  ASSIGN_OR_RETURN(auto domain, crypto::load_certificates(s.domain_ca_certificate));
  for (auto& c : domain) anchors.push_back(std::move(c));
  if (s.manufacturer_anchors.empty()) {
    return fail(ErrorCode::usage,
                "[pledges] manufacturer_anchors is empty: no pledge could "
                "onboard (give `registrar init --manufacturer-anchor`)");
  }
  for (const auto& a : anchors) o.client_anchors.push_back(crypto::certificate_der(a.get()));
  o.threads = s.threads;
  o.max_body_bytes = s.max_body_bytes;
  o.read_timeout = s.read_timeout;
  o.idle_timeout = s.idle_timeout;
  o.max_connections = s.max_connections;
  o.max_connections_per_address = std::min(s.max_connections_per_address, s.max_connections);
  o.max_connections_per_prefix = s.max_connections;
  o.rate_limit =
      net::RateLimit{.per_second = s.rate_per_second, .burst = s.rate_burst, .enabled = true};
  o.address_rate_limit = net::RateLimit{.per_second = s.rate_per_second * s.address_rate_multiple,
                                        .burst = s.rate_burst * s.address_rate_multiple,
                                        .enabled = true};
  o.prefix_rate_limit = net::RateLimit{.per_second = s.rate_per_second * s.prefix_rate_multiple,
                                       .burst = s.rate_burst * s.prefix_rate_multiple,
                                       .enabled = true};
  o.metric_endpoints = {"/.well-known/brski/requestvoucher", "/.well-known/brski/voucher_status",
                        "/.well-known/brski/enrollstatus",   "/.well-known/est/cacerts",
                        "/.well-known/est/csrattrs",         "/.well-known/est/simpleenroll",
                        "/.well-known/est/simplereenroll"};
  const auto text = [](registrar::RegistrarError e) {
    const auto body = registrar::refusal_response({e, {}}).body;
    return std::string(body.begin(), body.end());
  };
  o.refusals.too_large = text(registrar::RegistrarError::request_too_large);
  return o;
}

net::ServerOptions registrar_admin_listener(const RegistrarSettings& s) {
  net::ServerOptions o;
  o.address = s.admin.address;
  o.port = s.admin.port;
  o.tls = false;
  o.require_client_certificate = false;
  o.threads = 1;
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
