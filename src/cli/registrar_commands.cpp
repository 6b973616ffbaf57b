// `vouchsafe registrar init | serve | status`: an owner's registrar (RFC
// 8995 BRSKI and EST for its pledges, towards the MASAs named by their
// IDevIDs); and `request-voucher | request-audit-log`, which play a
// registrar towards a MASA for testing it end to end: a pledge
// voucher-request signed with the device's key, wrapped in a registrar
// voucher-request, posted over HTTPS with the registrar's client
// certificate.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/file.h"
#include "core/secrets.h"
#include "crypto/keys.h"
#include "crypto/signer.h"
#include "net/https_client.h"
#include "pki/certificate_fields.h"
#include "pledge/voucher_request.h"
#include "registrar/domain_ca.h"
#include "registrar/voucher_request.h"
#include "service/process.h"
#include "service/registrar_server.h"
#include "service/registrar_settings.h"
#include "store/registrar_store.h"
#include "voucher/artifact.h"

namespace vouchsafe::cli {
namespace {

std::string media_type(voucher::Form form) {
  switch (form) {
    case voucher::Form::cms:
      return "application/voucher-cms+json";
    case voucher::Form::cose:
      return "application/voucher+cose";
    case voucher::Form::jws:
      return "application/voucher-jws+json";
  }
  return "";
}

struct RequestArgs {
  std::string masa_url, masa_ca, registrar_cert, registrar_key, pledge_cert, pledge_key,
      form = "cms", accept, out, verify_anchor;
  bool insecure = false;
  bool nonceless = false;
};

// A key and its certificate (chain) as a signing identity.
struct LoadedIdentity {
  std::unique_ptr<crypto::SoftwareSigner> signer;
  voucher::SigningIdentity identity;
};

Result<LoadedIdentity> load_identity(const std::string& cert, const std::string& key,
                                     const char* passphrase_env) {
  ASSIGN_OR_RETURN(auto pass, read_passphrase("", passphrase_env));
  ASSIGN_OR_RETURN(auto pkey, crypto::load_private_key(key, pass));
  ASSIGN_OR_RETURN(auto certs, crypto::load_certificates(cert));
  if (X509_check_private_key(certs.front().get(), pkey.get()) != 1) {
    return fail(ErrorCode::bad_key, cert + " does not hold the public key of " + key);
  }
  LoadedIdentity out;
  ASSIGN_OR_RETURN(out.signer, crypto::SoftwareSigner::create(std::move(pkey)));
  out.identity.signer = out.signer.get();
  for (auto& c : certs) out.identity.chain.push_back(crypto::make_certificate_ref(std::move(c)));
  return out;
}

Result<Bytes> build_rvr(const RequestArgs& a, const LoadedIdentity& registrar) {
  ASSIGN_OR_RETURN(auto form, voucher::parse_form(a.form));
  ASSIGN_OR_RETURN(auto pledge,
                   load_identity(a.pledge_cert, a.pledge_key, "VOUCHSAFE_PLEDGE_PASSPHRASE"));
  pledge::PledgeRequestOptions p;
  p.form = form;
  if (!a.nonceless) p.nonce = pledge::fresh_nonce();
  // The pledge sees the registrar's TLS certificate: here the same certificate.
  ASSIGN_OR_RETURN(auto pvr, pledge::make_pledge_voucher_request(
                                 pledge.identity, registrar.identity.chain.front()->der, p));
  registrar::RegistrarRequestOptions r;
  r.form = form;
  r.nonceless = a.nonceless;
  return registrar::make_registrar_voucher_request(registrar.identity, pvr, r);
}

int request_command(const RequestArgs& a, bool audit_log) {
  auto registrar =
      load_identity(a.registrar_cert, a.registrar_key, "VOUCHSAFE_REGISTRAR_PASSPHRASE");
  if (!registrar) return report_error(registrar.error());
  auto rvr = build_rvr(a, *registrar);
  if (!rvr) return report_error(rvr.error());
  auto form = voucher::parse_form(a.form);
  auto accept = voucher::parse_form(a.accept.empty() ? a.form : a.accept);
  if (!accept) return report_error(accept.error());

  net::ClientOptions client;
  client.ca_file = a.masa_ca;
  client.insecure = a.insecure;
  client.cert_file = a.registrar_cert;
  client.key_file = a.registrar_key;
  auto pass = read_passphrase("", "VOUCHSAFE_REGISTRAR_PASSPHRASE");
  if (pass && *pass) client.key_passphrase = **pass;
  std::string url = a.masa_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += audit_log ? "/.well-known/brski/requestauditlog" : "/.well-known/brski/requestvoucher";
  auto response = net::https_post(
      url, media_type(*form), audit_log ? "application/json" : media_type(*accept), *rvr, client);
  if (!response) return report_error(response.error());
  const std::string text(response->body.begin(), response->body.end());
  if (response->status != 200) {
    std::cerr << "vouchsafe: the MASA answered " << response->status << ": " << text
              << (text.empty() || text.back() != '\n' ? "\n" : "");
    return k_exit_rejected;
  }
  if (audit_log) {
    std::cout << text << (text.empty() || text.back() != '\n' ? "\n" : "");
    return k_exit_ok;
  }
  if (!a.verify_anchor.empty()) {
    auto anchors = crypto::load_certificates(a.verify_anchor);
    if (!anchors) return report_error(anchors.error());
    auto verified = voucher::verify_artifact(
        response->body, voucher::TrustPolicy::with_anchors(std::move(anchors).value()));
    if (!verified) return report_error(verified.error());
    std::cerr << "voucher for " << verified->payload.serial_number.value_or("?") << " verified ("
              << voucher::assertion_name(
                     verified->payload.assertion.value_or(voucher::Assertion::logged))
              << ")\n";
  }
  if (a.out.empty()) {
    std::cout.write(reinterpret_cast<const char*>(response->body.data()),
                    static_cast<std::streamsize>(response->body.size()));
  } else if (auto w = write_file_atomic(a.out, response->body); !w) {
    return report_error(w.error());
  }
  return k_exit_ok;
}

// ------------------------------------------------------------------ init

namespace fs = std::filesystem;

constexpr const char* k_registrar_home_help =
    "The registrar's home (else $VOUCHSAFE_REGISTRAR_HOME, else ./var/registrar)";

fs::path registrar_home(const std::string& flag) {
  if (!flag.empty()) return fs::absolute(flag);
  if (const char* env = std::getenv("VOUCHSAFE_REGISTRAR_HOME"); env != nullptr && *env != '\0') {
    return fs::absolute(env);
  }
  return fs::absolute(fs::path("var") / "registrar");
}

std::string config_path(const fs::path& home, const std::string& flag) {
  return flag.empty() ? (home / "registrar.toml").string() : flag;
}

struct InitArgs {
  std::string home, config, passphrase_file, store, organization = "Example Owner", domain_ca,
                                                    domain_ca_key, masa_ca, masa_override,
                                                    alt_names = "DNS:localhost,IP:127.0.0.1,IP:::1";
  std::vector<std::string> manufacturer_anchors, allowed_masas;
};

Status write_key(const fs::path& path, EVP_PKEY* key, const std::string& passphrase) {
  ASSIGN_OR_RETURN(auto pem, crypto::private_key_pem(key, passphrase));
  auto done = write_file_atomic(path.string(), as_bytes(pem), 0600);
  OPENSSL_cleanse(pem.data(), pem.size());
  return done;
}

Status write_pem(const fs::path& path, const std::vector<X509*>& certs) {
  std::string pem;
  for (X509* c : certs) pem += crypto::certificate_pem(c);
  return write_file_atomic(path.string(), as_bytes(pem));
}

// Copies an operator's certificate file into the home, as PEM, so that the
// home holds everything the registrar reads.
Result<std::string> keep_certificates(const std::string& from, const fs::path& to) {
  ASSIGN_OR_RETURN(auto certs, crypto::load_certificates(from));
  std::vector<X509*> raw;
  raw.reserve(certs.size());
  for (const auto& c : certs) raw.push_back(c.get());
  TRY(write_pem(to, raw));
  return to.string();
}

Status init_registrar(const InitArgs& a, const fs::path& home, const std::string& config,
                      const std::string& passphrase) {
  TRY(create_private_directories((home / "keys").string()));
  TRY(create_private_directories((home / "certs").string()));
  TRY(create_private_directories((home / "anchors").string()));
  auto settings = service::initial_registrar_settings(home.string());
  settings.organization = a.organization;
  settings.store = a.store;
  settings.passphrase_file =
      a.passphrase_file.empty() ? "" : fs::absolute(a.passphrase_file).string();

  // The domain CA: the owner's own, imported, or a new one.
  crypto::X509Ptr ca;
  crypto::PkeyPtr ca_key;
  std::vector<X509*> ca_chain;
  std::vector<crypto::X509Ptr> imported;
  if (!a.domain_ca.empty()) {
    if (a.domain_ca_key.empty()) {
      return fail(ErrorCode::usage, "--domain-ca needs --domain-ca-key");
    }
    ASSIGN_OR_RETURN(imported, crypto::load_certificates(a.domain_ca));
    ASSIGN_OR_RETURN(ca_key, crypto::load_private_key(a.domain_ca_key, passphrase));
    ca = crypto::share(imported.front().get());
    TRY(registrar::DomainCa::create(crypto::share(ca.get()), crypto::share(ca_key.get())));
    for (const auto& c : imported) ca_chain.push_back(c.get());
  } else {
    ca_key = crypto::generate_key(crypto::KeyType::p256);
    ASSIGN_OR_RETURN(ca, registrar::make_domain_ca_certificate(ca_key.get(), a.organization));
    ca_chain.push_back(ca.get());
  }
  auto key = crypto::generate_key(crypto::KeyType::p256);
  registrar::RegistrarCertificateRequest request;
  request.organization = a.organization;
  request.common_name = a.organization + " Registrar";
  request.subject_alt_names = a.alt_names;
  ASSIGN_OR_RETURN(
      auto cert, registrar::make_registrar_certificate(key.get(), request, ca.get(), ca_key.get()));
  TRY(write_key(settings.domain_ca_key, ca_key.get(), passphrase));
  TRY(write_pem(settings.domain_ca_certificate, ca_chain));
  TRY(write_key(settings.tls_key, key.get(), passphrase));
  std::vector<X509*> tls_chain{cert.get()};
  tls_chain.insert(tls_chain.end(), ca_chain.begin(), ca_chain.end());
  TRY(write_pem(settings.tls_certificate, tls_chain));

  int n = 0;
  for (const auto& anchor : a.manufacturer_anchors) {
    ASSIGN_OR_RETURN(
        auto kept, keep_certificates(anchor, home / "anchors" /
                                                 ("manufacturer-" + std::to_string(++n) + ".pem")));
    settings.manufacturer_anchors.push_back(kept);
  }
  if (!a.masa_ca.empty()) {
    ASSIGN_OR_RETURN(settings.masa_ca,
                     keep_certificates(a.masa_ca, home / "anchors" / "masa-ca.pem"));
  }
  settings.masa_allowed = a.allowed_masas;
  settings.masa_override_url = a.masa_override;
  // The file is read back through the schema: what init writes, serve reads.
  const std::string text = service::registrar_settings_text(settings);
  TRY(service::parse_registrar_settings(text, config));
  TRY(write_file_atomic(config, as_bytes(text), 0600));
  // The store exists from the start (0600), so that `status` works at once.
  ASSIGN_OR_RETURN(auto store,
                   store::open_registrar_store(service::registrar_store_location(settings)));
  return ok();
}

int init_command(const InitArgs& a) {
  const fs::path home = registrar_home(a.home);
  const std::string config = config_path(home, a.config);
  if (fs::exists(config)) {
    std::cout << "The registrar configuration " << config << " exists; nothing changed.\n";
    return k_exit_ok;
  }
  auto pass = require_passphrase(a.passphrase_file, "VOUCHSAFE_REGISTRAR_PASSPHRASE",
                                 "the registrar keys' passphrase", "--passphrase-file");
  if (!pass) return report_error(pass.error());
  if (pass->size() < 8) {
    return report_error({ErrorCode::bad_passphrase, "the passphrase needs at least 8 characters"});
  }
  if (auto made = create_private_directories(home.string()); !made)
    return report_error(made.error());
  if (auto done = init_registrar(a, home, config, *pass); !done) return report_error(done.error());
  std::cout << "Registrar configuration written to " << config << "\n"
            << "  domain CA:   " << (home / "certs" / "domain-ca.pem").string()
            << (a.domain_ca.empty() ? " (new)" : " (imported)") << "\n"
            << "  registrar:   " << (home / "certs" / "registrar.pem").string()
            << " (id-kp-cmcRA, serverAuth, clientAuth)\n"
            << "  store:       "
            << (a.store.empty() ? (home / "registrar.db").string() : "PostgreSQL") << "\n";
  if (a.manufacturer_anchors.empty()) {
    std::cout
        << "  no manufacturer anchor yet: add [pledges] manufacturer_anchors before serving\n";
  }
  if (a.masa_ca.empty()) {
    std::cout << "  no MASA CA yet: add [masa] ca_certificates before serving\n";
  }
  std::cout << "\nNext: vouchsafe registrar serve --home " << home.string() << "\n";
  return k_exit_ok;
}

// ------------------------------------------------------------------ serve

struct ServeArgs {
  std::string home, config, listen, admin, store, ready_file;
};

int serve_command(const ServeArgs& a) {
  const fs::path home = registrar_home(a.home);
  auto settings = service::load_registrar_settings(config_path(home, a.config));
  if (!settings) return report_error(settings.error());
  if (!a.listen.empty()) {
    auto l = service::parse_listener(a.listen, "--listen");
    if (!l) return report_error(l.error());
    settings->listen = *l;
  }
  if (!a.admin.empty()) {
    auto l = service::parse_listener(a.admin, "--admin");
    if (!l) return report_error(l.error());
    settings->admin = *l;
  }
  if (!a.store.empty()) settings->store = a.store;
  if (settings->home.empty()) settings->home = home.string();
  service::block_termination_signals();
  auto server = service::RegistrarServer::start(*settings);
  if (!server) return report_error(server.error());
  std::cout << "Registrar serving https://" << settings->listen.address << ":"
            << (*server)->public_port() << "/.well-known/{brski,est}/ (admin http://"
            << settings->admin.address << ":" << (*server)->admin_port() << ")" << std::endl;
  if (!a.ready_file.empty()) {
    auto w = service::write_ready_file(a.ready_file,
                                       {(*server)->public_port(), (*server)->admin_port()});
    if (!w) return report_error(w.error());
  }
  service::wait_for_termination_signal();
  std::cout << "Registrar stopping" << std::endl;
  (*server)->stop();
  return k_exit_ok;
}

int serve_guarded(const ServeArgs& a) {
  try {
    return serve_command(a);
  } catch (const std::exception& e) {
    return report_error({ErrorCode::internal, std::string("registrar serve: ") + e.what()});
  }
}

// --------------------------------------------------------- enroll-offline

struct EnrollOfflineArgs {
  std::string home, config, store, serial, idevid, out, form = "cms";
};

// docs/enrolling-voucher.md: the owner's share for a device that need not
// be reachable, in a voucher its MASA signs; the voucher goes to --out.
int enroll_offline_command(const EnrollOfflineArgs& a) {
  const fs::path home = registrar_home(a.home);
  auto settings = service::load_registrar_settings(config_path(home, a.config));
  if (!settings) return report_error(settings.error());
  if (!a.store.empty()) settings->store = a.store;
  if (settings->home.empty()) settings->home = home.string();
  auto form = voucher::parse_form(a.form);
  if (!form) return report_error(form.error());
  auto certs = crypto::load_certificates(a.idevid);
  if (!certs) return report_error(certs.error());
  auto serial = pki::device_serial_of(certs->front().get());
  if (!serial) return report_error(serial.error());
  if (*serial != a.serial) {
    return report_error(
        {ErrorCode::usage, a.idevid + " is the IDevID of " + *serial + ", not " + a.serial});
  }
  std::vector<Bytes> chain;
  for (const auto& c : *certs) chain.push_back(crypto::certificate_der(c.get()));
  auto voucher = service::enroll_offline(*settings, chain, *form);
  if (!voucher) return report_error(voucher.error());
  if (auto w = write_file_atomic(a.out, *voucher); !w) return report_error(w.error());
  std::cout << a.serial << ": enrolling voucher written to " << a.out
            << " (hand it to the device: vouchsafe pledge apply-voucher)\n";
  return k_exit_ok;
}

// ----------------------------------------------------------------- status

struct StatusArgs {
  std::string home, config, store, serial;
  bool json = false;
};

std::string when(std::int64_t at) {
  return format_date_time(DateTime::from_unix_seconds(at));
}

int status_command(const StatusArgs& a) {
  const fs::path home = registrar_home(a.home);
  auto settings = service::load_registrar_settings(config_path(home, a.config));
  if (!settings) return report_error(settings.error());
  if (!a.store.empty()) settings->store = a.store;
  if (settings->home.empty()) settings->home = home.string();
  auto store = store::open_registrar_store(service::registrar_store_location(*settings));
  if (!store) return report_error(store.error());
  if (a.serial.empty()) {
    auto pledges = (*store)->list_pledges();
    if (!pledges) return report_error(pledges.error());
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& p : *pledges) {
      if (a.json) {
        out.push_back({{"serial", p.serial},
                       {"first_seen", when(p.first_seen)},
                       {"last_seen", when(p.last_seen)},
                       {"state", p.state},
                       {"ok", p.state_ok}});
      } else {
        std::cout << p.serial << "  " << (p.state.empty() ? "seen" : p.state)
                  << (p.state_ok ? "" : " (refused)") << "  last seen " << when(p.last_seen)
                  << "\n";
      }
    }
    if (a.json) std::cout << out.dump(2) << "\n";
    return k_exit_ok;
  }
  auto onboarding = (*store)->onboarding(a.serial);
  if (!onboarding) return report_error(onboarding.error());
  if (!*onboarding) {
    return report_error({ErrorCode::invalid_value, "this registrar has never seen " + a.serial});
  }
  const auto& o = **onboarding;
  if (a.json) {
    nlohmann::ordered_json out;
    out["serial"] = o.summary.serial;
    out["state"] = o.summary.state;
    out["ok"] = o.summary.state_ok;
    out["vouchers"] = nlohmann::ordered_json::array();
    for (const auto& v : o.vouchers) {
      out["vouchers"].push_back({{"at", when(v.at)},
                                 {"masa", v.masa_url},
                                 {"form", v.form},
                                 {"assertion", v.assertion},
                                 {"nonce", v.nonce ? nlohmann::ordered_json(*v.nonce) : nullptr},
                                 {"domainID", v.domain_id}});
    }
    out["ldevids"] = nlohmann::ordered_json::array();
    for (const auto& l : o.ldevids) {
      out["ldevids"].push_back({{"at", when(l.at)},
                                {"certificate_serial", l.certificate_serial},
                                {"not_after", when(l.not_after)},
                                {"renewal", l.renewal}});
    }
    out["events"] = nlohmann::ordered_json::array();
    for (const auto& e : o.events) {
      out["events"].push_back(
          {{"at", when(e.at)}, {"event", e.kind}, {"ok", e.ok}, {"detail", e.detail}});
    }
    std::cout << out.dump(2) << "\n";
    return k_exit_ok;
  }
  std::cout << o.summary.serial << ": " << (o.summary.state.empty() ? "seen" : o.summary.state)
            << (o.summary.state_ok ? "" : " (refused)") << "\n";
  for (const auto& e : o.events) {
    std::cout << "  " << when(e.at) << "  " << (e.ok ? "  " : "! ") << e.kind
              << (e.detail.empty() ? "" : "  " + e.detail) << "\n";
  }
  for (const auto& l : o.ldevids) {
    std::cout << "  LDevID " << l.certificate_serial << " valid until " << when(l.not_after)
              << (l.renewal ? " (renewal)" : "") << "\n";
  }
  return k_exit_ok;
}

void add_request_options(CLI::App* cmd, RequestArgs& a) {
  cmd->add_option("--masa-url", a.masa_url, "The MASA, https://host:port")->required();
  cmd->add_option("--masa-ca", a.masa_ca, "CA certificate of the MASA's TLS server");
  cmd->add_flag("--insecure", a.insecure, "Accept any MASA TLS certificate (tests only)");
  cmd->add_option("--registrar-cert", a.registrar_cert,
                  "Registrar certificate (id-kp-cmcRA) and chain, PEM; also the TLS client cert")
      ->required();
  cmd->add_option("--registrar-key", a.registrar_key,
                  "Its key (passphrase: $VOUCHSAFE_REGISTRAR_PASSPHRASE)")
      ->required();
  cmd->add_option("--pledge-cert", a.pledge_cert, "The device's IDevID, PEM")->required();
  cmd->add_option("--pledge-key", a.pledge_key,
                  "The device's key (passphrase: $VOUCHSAFE_PLEDGE_PASSPHRASE)")
      ->required();
  cmd->add_option("--form", a.form, "cms, cose or jws")
      ->check(CLI::IsMember({"cms", "cose", "jws"}))
      ->capture_default_str();
  cmd->add_flag("--nonceless", a.nonceless, "Ask for a nonceless voucher (with expires-on)");
}

}  // namespace

void add_registrar_commands(CLI::App& app, Action& action) {
  auto* noun = app.add_subcommand(
      "registrar",
      "An owner's registrar (RFC 8995): onboards pledges through their MASA, enrols them (EST)");
  noun->require_subcommand(1);
  noun->footer(k_exit_codes_help);

  auto ia = std::make_shared<InitArgs>();
  auto* init = noun->add_subcommand(
      "init",
      "Make a registrar home: the owner's domain CA (or --domain-ca to import one), the\n"
      "registrar's certificate under it (id-kp-cmcRA, serverAuth, clientAuth), keys encrypted\n"
      "under $VOUCHSAFE_REGISTRAR_PASSPHRASE, its store, and registrar.toml. Idempotent.");
  init->add_option("--home", ia->home, k_registrar_home_help);
  init->add_option("--config", ia->config, "Where to write it (default: HOME/registrar.toml)");
  init->add_option("--passphrase-file", ia->passphrase_file,
                   "File whose first line is the keys' passphrase");
  init->add_option("--store", ia->store,
                   "PostgreSQL DSN of the registrar's store (default: HOME/registrar.db)");
  init->add_option("--organization", ia->organization, "The owner's name (CA subject, LDevID O)")
      ->capture_default_str();
  init->add_option("--domain-ca", ia->domain_ca, "Import this domain CA certificate (PEM)");
  init->add_option("--domain-ca-key", ia->domain_ca_key,
                   "Its key (PEM; if encrypted, under the registrar passphrase)");
  init->add_option("--manufacturer-anchor", ia->manufacturer_anchors,
                   "A manufacturer's CA whose IDevIDs to accept (repeatable)");
  init->add_option("--masa-ca", ia->masa_ca, "CA certificate(s) of the MASAs' TLS servers");
  init->add_option("--allow-masa", ia->allowed_masas,
                   "A MASA authority (host:port) pledges may name (repeatable)");
  init->add_option("--masa-url", ia->masa_override,
                   "Send every voucher-request to this MASA (https://host:port)");
  init->add_option("--alt-names", ia->alt_names, "The registrar certificate's subjectAltName")
      ->capture_default_str();
  init->footer(
      std::string(
          "\nEXAMPLES:\n"
          "  VOUCHSAFE_REGISTRAR_PASSPHRASE=... vouchsafe registrar init --organization Acme \\\n"
          "      --manufacturer-anchor maker-root.pem --masa-ca masa-ca.pem \\\n"
          "      --allow-masa masa.maker.example:443\n") +
      k_exit_codes_help);
  init->callback([&action, ia] { action = [ia] { return init_command(*ia); }; });

  auto sa = std::make_shared<ServeArgs>();
  auto* serve = noun->add_subcommand(
      "serve",
      "Serve pledges over HTTPS: /.well-known/brski/{requestvoucher,voucher_status,enrollstatus}\n"
      "and /.well-known/est/{cacerts,csrattrs,simpleenroll,simplereenroll}; the pledge's IDevID\n"
      "is required as client certificate and must chain to a manufacturer anchor. /healthz,\n"
      "/readyz, /metrics on the admin listener. Runs until SIGINT or SIGTERM.");
  serve->add_option("--home", sa->home, k_registrar_home_help);
  serve->add_option("--config", sa->config, "Configuration (default: HOME/registrar.toml)");
  serve->add_option("--listen", sa->listen, "HOST:PORT for pledges (port 0: any free port)");
  serve->add_option("--admin", sa->admin, "HOST:PORT for health and metrics");
  serve->add_option("--store", sa->store, "PostgreSQL DSN or SQLite path of the registrar store");
  serve->add_option("--ready-file", sa->ready_file,
                    "Write \"PUBLIC_PORT ADMIN_PORT\" here once listening");
  serve->footer(std::string("\nEXAMPLES:\n  vouchsafe registrar serve --listen 0.0.0.0:9443\n") +
                k_exit_codes_help);
  serve->callback([&action, sa] { action = [sa] { return serve_guarded(*sa); }; });

  auto st = std::make_shared<StatusArgs>();
  auto* status = noun->add_subcommand(
      "status", "A pledge's onboarding as this registrar saw it (every pledge without SERIAL)");
  status->add_option("SERIAL", st->serial, "The device serial number");
  status->add_option("--home", st->home, k_registrar_home_help);
  status->add_option("--config", st->config, "Configuration (default: HOME/registrar.toml)");
  status->add_option("--store", st->store, "PostgreSQL DSN or SQLite path of the registrar store");
  status->add_flag("--json", st->json, "JSON output");
  status->footer(std::string("\nEXAMPLES:\n  vouchsafe registrar status WG-SZ1-00000001\n") +
                 k_exit_codes_help);
  status->callback([&action, st] { action = [st] { return status_command(*st); }; });

  auto eo = std::make_shared<EnrollOfflineArgs>();
  auto* offline = noun->add_subcommand(
      "enroll-offline",
      "Enrol a device with no round trip (docs/enrolling-voucher.md): from its IDevID, pick\n"
      "the owner's share y, issue the LDevID for Z = X + Y (marked co-generated), seal y to the\n"
      "device, and ask its MASA for a nonceless voucher carrying both. The MASA answers a known\n"
      "customer for a device recorded as its own. The voucher travels to the device as a file.");
  offline->add_option("SERIAL", eo->serial, "The device serial number")->required();
  offline
      ->add_option("--idevid", eo->idevid,
                   "The device's IDevID (PEM, then its CA certificates), e.g. from the sales "
                   "records")
      ->required();
  offline->add_option("--out", eo->out, "Where to write the voucher")->required();
  offline->add_option("--form", eo->form, "Voucher form: cms, cose or jws")
      ->check(CLI::IsMember({"cms", "cose", "jws"}))
      ->capture_default_str();
  offline->add_option("--home", eo->home, k_registrar_home_help);
  offline->add_option("--config", eo->config, "Configuration (default: HOME/registrar.toml)");
  offline->add_option("--store", eo->store, "PostgreSQL DSN or SQLite path of the registrar store");
  offline->footer(std::string("\nEXAMPLES:\n"
                              "  vouchsafe registrar enroll-offline WG-SZ1-00000042 --idevid "
                              "wg42.pem --out wg42.voucher\n") +
                  k_exit_codes_help);
  offline->callback([&action, eo] { action = [eo] { return enroll_offline_command(*eo); }; });

  auto ra = std::make_shared<RequestArgs>();
  auto* request = noun->add_subcommand(
      "request-voucher",
      "Build a pledge voucher-request with the device's key and a registrar voucher-request\n"
      "with the registrar's, post it to the MASA, and write the voucher it returns.");
  add_request_options(request, *ra);
  request->add_option("--accept", ra->accept, "Voucher form wanted (default: --form)")
      ->check(CLI::IsMember({"cms", "cose", "jws"}));
  request->add_option("--out", ra->out, "Write the voucher here (default: standard output)");
  request->add_option("--verify-anchor", ra->verify_anchor,
                      "Verify the voucher against this MASA anchor before writing it");
  request->footer(
      std::string(
          "\nEXAMPLES:\n"
          "  vouchsafe registrar request-voucher --masa-url https://127.0.0.1:8443 \\\n"
          "      --masa-ca masa/masa-ca.pem --registrar-cert reg.pem --registrar-key reg.key \\\n"
          "      --pledge-cert dev.pem --pledge-key dev.key --out voucher.cms\n") +
      k_exit_codes_help);
  request->callback([&action, ra] { action = [ra] { return request_command(*ra, false); }; });

  auto la = std::make_shared<RequestArgs>();
  auto* log = noun->add_subcommand(
      "request-audit-log",
      "Ask the MASA for a device's audit log (RFC 8995 §5.8) and print its JSON.");
  add_request_options(log, *la);
  log->footer(
      std::string(
          "\nEXAMPLES:\n"
          "  vouchsafe registrar request-audit-log --masa-url https://127.0.0.1:8443 \\\n"
          "      --masa-ca masa/masa-ca.pem --registrar-cert reg.pem --registrar-key reg.key \\\n"
          "      --pledge-cert dev.pem --pledge-key dev.key | jq .events\n") +
      k_exit_codes_help);
  log->callback([&action, la] { action = [la] { return request_command(*la, true); }; });
}

}  // namespace vouchsafe::cli
