// `vouchsafe masa init | serve`: the MASA on embedded defaults.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "core/file.h"
#include "core/secrets.h"
#include "crypto/keys.h"
#include "factory/authority.h"
#include "pki/certificate_profiles.h"
#include "service/masa_server.h"
#include "service/masa_settings.h"
#include "service/process.h"

namespace vouchsafe::cli {
namespace {

namespace fs = std::filesystem;

std::string default_config_path(const factory::Home& home) {
  return (home.root / "masa.toml").string();
}

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

// The MASA's own keys (SPEC.md §6, key architecture 3.1): an offline MASA
// CA that certifies the online voucher-signing key and the TLS key.
Status make_masa_keys(const fs::path& dir, const std::string& organization,
                      const std::string& passphrase) {
  TRY(create_private_directories(dir.string()));
  auto ca_key = crypto::generate_key(crypto::KeyType::p256);
  ASSIGN_OR_RETURN(
      auto ca, pki::make_root_certificate(ca_key.get(), {organization, organization + " MASA CA"}));
  auto signing_key = crypto::generate_key(crypto::KeyType::p256);
  ASSIGN_OR_RETURN(auto signing,
                   pki::make_service_certificate(
                       signing_key.get(), {organization, organization + " MASA voucher signing"},
                       ca.get(), ca_key.get(), {}));
  auto tls_key = crypto::generate_key(crypto::KeyType::p256);
  pki::ServiceProfile tls_profile;
  tls_profile.extended_key_usage = "serverAuth";
  tls_profile.subject_alt_names = "DNS:localhost,IP:127.0.0.1,IP:::1";
  tls_profile.validity_days = 825;
  ASSIGN_OR_RETURN(
      auto tls, pki::make_service_certificate(tls_key.get(), {organization, "localhost"}, ca.get(),
                                              ca_key.get(), tls_profile));
  TRY(write_key(dir / "masa-ca.key.pem", ca_key.get(), passphrase));
  TRY(write_key(dir / "signing.key.pem", signing_key.get(), passphrase));
  TRY(write_key(dir / "tls.key.pem", tls_key.get(), passphrase));
  TRY(write_pem(dir / "masa-ca.pem", {ca.get()}));
  TRY(write_pem(dir / "signing.pem", {signing.get()}));
  return write_pem(dir / "tls.pem", {tls.get(), ca.get()});
}

int init_command(const std::string& home_flag, const std::string& config_flag,
                 const std::string& passphrase_file) {
  const auto home = factory::resolve_home(home_flag);
  const std::string config = config_flag.empty() ? default_config_path(home) : config_flag;
  if (fs::exists(config)) {
    std::cout << "The MASA configuration " << config << " exists; nothing changed.\n";
    return k_exit_ok;
  }
  auto factory_config = factory::load_config(home);
  if (!factory_config) return report_error(factory_config.error());
  auto pass = require_passphrase(passphrase_file, "VOUCHSAFE_MASA_PASSPHRASE",
                                 "the MASA keys' passphrase", "--passphrase-file");
  if (!pass) return report_error(pass.error());
  if (pass->size() < 8) {
    return report_error({ErrorCode::bad_passphrase, "the passphrase needs at least 8 characters"});
  }
  const fs::path dir = fs::absolute(home.root) / "masa";
  if (auto made = make_masa_keys(dir, factory_config->organization, *pass); !made) {
    return report_error(made.error());
  }
  const auto text = service::masa_settings_text(
      service::initial_masa_settings(fs::absolute(home.root).string(), dir.string()));
  if (auto w = write_file_atomic(config, as_bytes(text)); !w) return report_error(w.error());
  std::cout << "MASA configuration written to " << config << "\n"
            << "  voucher-signing key: " << (dir / "signing.pem").string() << " (under "
            << (dir / "masa-ca.pem").string() << ", the anchor pledges and registrars pin)\n"
            << "  TLS certificate:     " << (dir / "tls.pem").string() << "\n\n"
            << "Next: vouchsafe masa serve --config " << config << "\n";
  return k_exit_ok;
}

struct ServeArgs {
  std::string home, config, listen, admin, store, ready_file;
};

int serve_command(const ServeArgs& a) {
  const auto home = factory::resolve_home(a.home);
  auto settings =
      service::load_masa_settings(a.config.empty() ? default_config_path(home) : a.config);
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
  // No home in the file or $VOUCHSAFE_HOME: the one --home or the default names.
  if (settings->home.empty()) settings->home = home.root.string();

  // Before any thread starts, so that every thread inherits the mask and
  // the signal reaches the wait below.
  service::block_termination_signals();
  auto server = service::MasaServer::start(*settings);
  if (!server) return report_error(server.error());
  std::cout << "MASA serving https://" << settings->listen.address << ":"
            << (*server)->public_port() << "/.well-known/brski/ (admin http://"
            << settings->admin.address << ":" << (*server)->admin_port() << ")" << std::endl;
  if (!a.ready_file.empty()) {
    auto w = service::write_ready_file(a.ready_file,
                                       {(*server)->public_port(), (*server)->admin_port()});
    if (!w) return report_error(w.error());
  }
  service::wait_for_termination_signal();
  std::cout << "MASA stopping" << std::endl;
  (*server)->stop();
  return k_exit_ok;
}

// Every configuration value is checked before anything starts; what a
// library may still throw while starting (a socket, a thread) ends the
// command with a message and exit 2, not an abort.
int serve_guarded(const ServeArgs& a) {
  try {
    return serve_command(a);
  } catch (const std::exception& e) {
    return report_error({ErrorCode::internal, std::string("masa serve: ") + e.what()});
  }
}

}  // namespace

void add_masa_commands(CLI::App& app, Action& action) {
  auto* noun = app.add_subcommand("masa", "The MASA: the voucher service registrars call");
  noun->require_subcommand(1);
  noun->footer(k_exit_codes_help);

  auto init_args = std::make_shared<std::array<std::string, 3>>();  // home, config, passphrase file
  auto* init = noun->add_subcommand(
      "init",
      "Write a working MASA configuration for a home (embedded default: its SQLite store),\n"
      "with a MASA CA, the voucher-signing key it certifies and a TLS key, all encrypted\n"
      "under $VOUCHSAFE_MASA_PASSPHRASE (or --passphrase-file). Idempotent.");
  init->add_option("--home", (*init_args)[0], k_home_help);
  init->add_option("--config", (*init_args)[1], "Where to write it (default: HOME/masa.toml)");
  init->add_option("--passphrase-file", (*init_args)[2],
                   "File whose first line is the MASA keys' passphrase");
  init->footer(std::string("\nEXAMPLES:\n  VOUCHSAFE_MASA_PASSPHRASE=... vouchsafe masa init\n") +
               k_exit_codes_help);
  init->callback([&action, init_args] {
    action = [init_args] {
      return init_command((*init_args)[0], (*init_args)[1], (*init_args)[2]);
    };
  });

  auto sa = std::make_shared<ServeArgs>();
  auto* serve = noun->add_subcommand(
      "serve",
      "Serve POST /.well-known/brski/requestvoucher and requestauditlog over HTTPS (a client\n"
      "certificate is required on every connection), and /healthz, /readyz, /metrics on the\n"
      "admin listener. Runs until SIGINT or SIGTERM. Flags override VOUCHSAFE_MASA_LISTEN,\n"
      "VOUCHSAFE_MASA_ADMIN and VOUCHSAFE_STORE, which override the file.");
  serve->add_option("--home", sa->home, k_home_help);
  serve->add_option("--config", sa->config, "Configuration (default: HOME/masa.toml)");
  serve->add_option("--listen", sa->listen, "HOST:PORT for registrars (port 0: any free port)");
  serve->add_option("--admin", sa->admin, "HOST:PORT for health and metrics");
  serve->add_option("--store", sa->store, "PostgreSQL DSN or SQLite path of the asset store");
  serve->add_option("--ready-file", sa->ready_file,
                    "Write \"PUBLIC_PORT ADMIN_PORT\" here once listening");
  serve->footer(std::string("\nEXAMPLES:\n  vouchsafe masa serve\n"
                            "  vouchsafe masa serve --listen 0.0.0.0:443 --store "
                            "postgresql://masa@db/vouchsafe\n") +
                k_exit_codes_help);
  serve->callback([&action, sa] { action = [sa] { return serve_guarded(*sa); }; });
}

}  // namespace vouchsafe::cli
