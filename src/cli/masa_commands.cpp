// `vouchsafe masa init | serve`: the MASA on embedded defaults.
#include <sys/resource.h>

#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <unordered_map>

#include "cli/commands.h"
#include "cli/masa_settings.h"
#include "cli/secrets.h"
#include "core/file.h"
#include "crypto/keys.h"
#include "crypto/trust_store.h"
#include "factory/authority.h"
#include "masa/masa_service.h"
#include "net/https_server.h"
#include "net/metrics.h"
#include "pki/certificate_profiles.h"

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
  const auto text =
      masa_settings_text(initial_masa_settings(fs::absolute(home.root).string(), dir.string()));
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

// Rate-limit classes (issue 9, item 3): a registrar whose TLS certificate
// chains to one of the customer anchors keeps an allowance of its own;
// every other one also draws from one allowance shared by all of them, so
// that a fresh self-signed certificate brings no fresh allowance. The
// verdict is kept per fingerprint for a while, within bounds.
class CustomerClasses {
 public:
  static constexpr std::string_view k_unknown = "unknown-registrars";

  explicit CustomerClasses(const std::vector<crypto::X509Ptr>& anchors) {
    if (anchors.empty()) return;
    std::vector<crypto::X509Ptr> copies;
    copies.reserve(anchors.size());
    for (const auto& a : anchors) copies.push_back(crypto::share(a.get()));
    customers_ = std::make_unique<crypto::TrustStore>(std::move(copies));
  }

  net::ClientClass classify(const net::ClientCertificate& client) {
    if (!customers_) return {std::string(k_unknown)};
    const std::time_t now = std::time(nullptr);
    const std::string fingerprint(client.fingerprint);
    {
      const std::lock_guard lock(mutex_);
      if (auto it = verdicts_.find(fingerprint);
          it != verdicts_.end() && now - it->second.checked < k_verdict_lifetime) {
        return it->second.known ? net::ClientClass{} : net::ClientClass{std::string(k_unknown)};
      }
    }
    const bool known = chains_to_a_customer(client, now);
    const std::lock_guard lock(mutex_);
    if (verdicts_.size() >= k_max_verdicts) verdicts_.clear();
    verdicts_[fingerprint] = {known, now};
    return known ? net::ClientClass{} : net::ClientClass{std::string(k_unknown)};
  }

 private:
  // Long enough to spare a registrar's reconnections the path validation,
  // short enough that an expired certificate soon loses its class.
  static constexpr std::time_t k_verdict_lifetime = 300;
  static constexpr std::size_t k_max_verdicts = 4096;

  struct Verdict {
    bool known = false;
    std::time_t checked = 0;
  };

  [[nodiscard]] bool chains_to_a_customer(const net::ClientCertificate& client,
                                          std::time_t now) const {
    auto leaf = crypto::read_certificate(client.der);
    if (!leaf) return false;
    std::vector<crypto::CertificateRef> untrusted;
    for (const Bytes& der : client.chain) {
      if (auto cert = crypto::read_certificate(der)) untrusted.push_back(*cert);
    }
    return customers_->validate(*leaf, untrusted, now).has_value();
  }

  std::unique_ptr<crypto::TrustStore> customers_;  // null: no known customers
  std::mutex mutex_;
  std::unordered_map<std::string, Verdict> verdicts_;
};

// Every connection holds a file descriptor: under a soft limit below the
// connection caps, accept fails (EMFILE) before the caps and the push-out
// of idle handshakes ever act. Raised to the hard limit, as servers do.
void raise_descriptor_limit(std::size_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted) {
    std::cerr << "vouchsafe: warning: the file descriptor limit (" << limit.rlim_max
              << ") is below the " << wanted
              << " the listeners may hold; raise it (e.g. LimitNOFILE) or lower max_connections\n";
  }
}

net::HttpResponse to_http(masa::MasaResponse r) {
  net::HttpResponse out;
  out.status = r.status;
  out.content_type = std::move(r.content_type);
  out.body = std::move(r.body);
  out.log_error = std::move(r.error);  // the refusal log names the MASA's reason
  return out;
}

int serve_command(const ServeArgs& a) {
  const auto home = factory::resolve_home(a.home);
  auto settings = load_masa_settings(a.config.empty() ? default_config_path(home) : a.config);
  if (!settings) return report_error(settings.error());
  if (!a.listen.empty()) {
    auto l = parse_listener(a.listen, "--listen");
    if (!l) return report_error(l.error());
    settings->listen = *l;
  }
  if (!a.admin.empty()) {
    auto l = parse_listener(a.admin, "--admin");
    if (!l) return report_error(l.error());
    settings->admin = *l;
  }
  if (!a.store.empty()) settings->store = a.store;
  // No home in the file or $VOUCHSAFE_HOME: the one --home or the default names.
  if (settings->home.empty()) settings->home = home.root.string();

  auto store = settings->store.empty() ? factory::open_store(factory::Home{settings->home})
                                       : store::open_store(settings->store);
  if (!store) return report_error(store.error());
  auto config = masa_config(*settings);
  if (!config) return report_error(config.error());
  auto signer = config->signer;
  auto classes = std::make_shared<CustomerClasses>(config->customer_anchors);
  masa::MasaService service(std::move(config).value(), **store);

  auto options = public_listener(*settings);
  if (!options) return report_error(options.error());
  auto metrics = std::make_shared<net::MetricsRegistry>();
  options->metrics = metrics;
  options->classify_client = [classes](const net::ClientCertificate& client) {
    return classes->classify(client);
  };
  auto admin_options = admin_listener(*settings);
  admin_options.metrics = metrics;
  raise_descriptor_limit(options->max_connections + admin_options.max_connections + 64);
  // Asynchronous: a worker thread goes on to the next request while a
  // voucher's audit entry is synced; the voucher leaves once it is durable.
  auto server = net::HttpsServer::start_async(*options, [&service](const net::HttpRequest& request,
                                                                   const net::Respond& respond) {
    constexpr std::string_view prefix = "/.well-known/brski/";
    if (request.target.rfind(prefix, 0) != 0) {
      auto not_found = net::text_response(404, "not found\n");
      not_found.log_error = "unknown_endpoint";
      return respond(std::move(not_found));
    }
    if (request.method != "POST") {
      return respond(net::HttpResponse{.status = 405,
                                       .content_type = std::string(net::k_text_plain),
                                       .body = to_bytes("use POST\n"),
                                       .headers = {{"Allow", "POST"}},
                                       .log_error = "method_not_allowed"});
    }
    masa::MasaRequest m;
    m.endpoint = request.target.substr(prefix.size());
    m.content_type = request.content_type;
    m.accept = request.accept;
    m.body = request.body;
    m.caller.fingerprint = request.client_fingerprint;
    m.caller.certificate_der = request.client_certificate_der;
    service.handle_async(m, [respond](masa::MasaResponse r) { respond(to_http(std::move(r))); });
  });
  if (!server) return report_error(server.error());

  auto* store_ptr = store->get();
  auto admin = net::HttpsServer::start(admin_options, [store_ptr, signer,
                                                       metrics](const net::HttpRequest& request) {
    if (request.method != "GET" && request.method != "HEAD") {
      return net::HttpResponse{
          405, std::string(net::k_text_plain), to_bytes("use GET\n"), {{"Allow", "GET, HEAD"}}};
    }
    if (request.target == "/healthz") return net::text_response(200, "ok\n");
    if (request.target == "/readyz") {
      if (auto ping = store_ptr->ping(); !ping) {
        return net::text_response(503, "store unreachable: " + ping.error().message + "\n");
      }
      // Ready means a voucher can be issued now: its audit entry must be
      // writable, not only the store readable.
      if (auto writable = store_ptr->check_writable(); !writable) {
        return net::text_response(503, "store not writable: " + writable.error().message + "\n");
      }
      if (auto sig = signer->sign(as_bytes("readiness")); !sig) {
        return net::text_response(503, "the signing key does not sign\n");
      }
      return net::text_response(200, "ready\n");
    }
    if (request.target == "/metrics") {
      return net::HttpResponse{
          200, "text/plain; version=0.0.4", to_bytes(metrics->render_prometheus()), {}};
    }
    return net::text_response(404, "not found\n");
  });
  if (!admin) return report_error(admin.error());

  std::cout << "MASA serving https://" << settings->listen.address << ":" << (*server)->port()
            << "/.well-known/brski/ (admin http://" << settings->admin.address << ":"
            << (*admin)->port() << ")" << std::endl;
  if (!a.ready_file.empty()) {
    const std::string ports =
        std::to_string((*server)->port()) + " " + std::to_string((*admin)->port()) + "\n";
    if (auto w = write_file_atomic(a.ready_file, as_bytes(ports)); !w)
      return report_error(w.error());
  }
  // Serve until SIGINT or SIGTERM.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  int received = 0;
  sigwait(&signals, &received);
  std::cout << "MASA stopping" << std::endl;
  (*server)->stop();
  (*admin)->stop();
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
