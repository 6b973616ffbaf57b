// `vouchsafe masa init | serve`: the MASA on embedded defaults.
#include <openssl/pem.h>

#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "core/file.h"
#include "core/secrets.h"
#include "crypto/keys.h"
#include "factory/authority.h"
#include "masa/key_set.h"
#include "pki/certificate_profiles.h"
#include "service/continuity.h"
#include "service/masa_keys.h"
#include "service/masa_server.h"
#include "service/masa_settings.h"
#include "service/process.h"

namespace vouchsafe::cli {
namespace {

namespace fs = std::filesystem;

std::string default_config_path(const factory::Home& home) {
  return (home.root / "masa.toml").string();
}

struct InitArgs {
  std::string home, config, passphrase_file, key_store, architecture = "offline-ca",
                                                        ca_passphrase_file;
};

int init_command(const InitArgs& a) {
  const auto home = factory::resolve_home(a.home);
  const std::string config = a.config.empty() ? default_config_path(home) : a.config;
  if (fs::exists(config)) {
    std::cout << "The MASA configuration " << config << " exists; nothing changed.\n";
    return k_exit_ok;
  }
  auto architecture = masa::parse_key_architecture(a.architecture);
  if (!architecture) return report_error(architecture.error());
  auto factory_config = factory::load_config(home);
  if (!factory_config) return report_error(factory_config.error());
  auto pass = require_passphrase(a.passphrase_file, "VOUCHSAFE_MASA_PASSPHRASE",
                                 "the MASA keys' passphrase", "--passphrase-file");
  if (!pass) return report_error(pass.error());
  if (pass->size() < 8) {
    return report_error({ErrorCode::bad_passphrase, "the passphrase needs at least 8 characters"});
  }
  service::MasaInitOptions options;
  options.architecture = *architecture;
  options.key_store = a.key_store;
  options.passphrase = *pass;
  std::shared_ptr<const crypto::Signer> root_signer;
  if (*architecture == masa::KeyArchitecture::idevid_root) {
    // The voucher authority is certified by the manufacturer root.
    auto store = factory::open_store(home);
    if (!store) return report_error(store.error());
    auto root = factory::root_record(**store);
    if (!root) return report_error(root.error());
    auto ca_pass = read_passphrase(a.ca_passphrase_file, "VOUCHSAFE_CA_PASSPHRASE");
    if (!ca_pass) return report_error(ca_pass.error());
    auto signer = factory::open_ca_signer(*root, *ca_pass);
    if (!signer) return report_error(signer.error());
    root_signer = *signer;
    options.root_signer = root_signer.get();
  }
  const fs::path dir = fs::absolute(home.root) / "masa";
  auto made = service::init_masa_keys(home, dir.string(), *factory_config, options);
  if (!made) return report_error(made.error());
  const auto text = service::masa_settings_text(made->settings);
  if (auto w = write_file_atomic(config, as_bytes(text)); !w) return report_error(w.error());
  std::cout << "MASA configuration written to " << config << " (key architecture "
            << masa::key_architecture_name(*architecture) << ")\n"
            << "  voucher-signing key: " << made->settings.signing_key << "\n"
            << "  anchors pledges and registrars pin:\n";
  for (const auto& anchor : made->anchors) std::cout << "    " << anchor << "\n";
  std::cout << "  TLS certificate:     " << made->settings.tls_certificate << "\n\n"
            << "Next: vouchsafe masa serve --config " << config << "\n";
  return k_exit_ok;
}

struct ServeArgs {
  std::string home, config, listen, admin, store, store_read, ready_file;
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
  if (!a.store_read.empty()) settings->store_read = a.store_read;
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

struct KeyArgs {
  std::string home, config, scope, ca_key, passphrase_file, key_id;
  bool fingerprint = false;
  bool pubkey = false;
};

Result<service::MasaSettings> settings_for(const KeyArgs& a, factory::Home& home) {
  home = factory::resolve_home(a.home);
  ASSIGN_OR_RETURN(auto settings, service::load_masa_settings(
                                      a.config.empty() ? default_config_path(home) : a.config));
  if (settings.home.empty()) settings.home = home.root.string();
  return settings;
}

int rollover_command(const KeyArgs& a) {
  factory::Home home;
  auto settings = settings_for(a, home);
  if (!settings) {
    if (!fs::exists(a.config.empty() ? default_config_path(home) : a.config)) {
      return report_error({ErrorCode::usage, "no MASA in " + home.root.string() +
                                                 ": run `vouchsafe masa init` first"});
    }
    return report_error(settings.error());
  }
  auto store = factory::open_store(factory::Home{settings->home, settings->store});
  if (!store) return report_error(store.error());
  auto pass =
      read_passphrase(a.passphrase_file.empty() ? settings->passphrase_file : a.passphrase_file,
                      "VOUCHSAFE_MASA_PASSPHRASE");
  if (!pass) return report_error(pass.error());
  service::RolloverOptions options;
  options.scope = a.scope;
  options.ca_key = a.ca_key;
  options.passphrase = *pass;
  if (settings->architecture == masa::KeyArchitecture::idevid_root) {
    auto config = factory::load_config(factory::Home{settings->home, settings->store});
    if (!config) return report_error(config.error());
    options.voucher_authority_oid = config->voucher_authority_oid;
  }
  auto record = service::rollover_signer(*settings, **store, options);
  if (!record) return report_error(record.error());
  std::cout << "New voucher-signing key " << record->key_reference << " recorded (signer "
            << record->id << (a.scope.empty() ? "" : ", scope " + a.scope)
            << "): every MASA on this store signs with it within " << settings->key_refresh.count()
            << " ms. The anchor is unchanged, so vouchers "
            << "signed before still verify.\n";
  return k_exit_ok;
}

int anchor_command(const KeyArgs& a) {
  factory::Home home;
  auto settings = settings_for(a, home);
  if (!settings) return report_error(settings.error());
  if (a.pubkey) {
    // Architecture 4: the bare public key a device's firmware holds.
    const std::string id = a.key_id.empty() ? std::string(masa::k_default_key_id) : a.key_id;
    const std::string cert_file =
        id == masa::k_default_key_id
            ? settings->signing_certificate
            : (settings->masa_keys.contains(id) ? settings->masa_keys.at(id).certificate
                                                : std::string());
    if (cert_file.empty()) return report_error({ErrorCode::usage, "no MASA key '" + id + "'"});
    auto key = crypto::load_public_key(cert_file);
    if (!key) return report_error(key.error());
    crypto::BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PUBKEY(bio.get(), key->get());
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    std::cout << std::string(data, static_cast<std::size_t>(len));
    return k_exit_ok;
  }
  auto anchor = service::masa_anchor(*settings, a.key_id);
  if (!anchor) return report_error(anchor.error());
  if (a.fingerprint) {
    // Trust on first use (masa-considerations §3.1): a registrar operator
    // compares this with what the vendor publishes.
    std::cout << "SHA256 Fingerprint="
              << hex_encode(crypto::sha256(crypto::certificate_der(anchor->get()))) << "  "
              << crypto::certificate_subject(anchor->get()) << "\n";
  } else {
    std::cout << crypto::certificate_pem(anchor->get());
  }
  return k_exit_ok;
}

struct ContinuityArgs {
  std::string home, config, file, passphrase_file, store;
};

Result<std::string> bundle_passphrase(const std::string& file) {
  return require_passphrase(file, "VOUCHSAFE_CONTINUITY_PASSPHRASE", "the bundle's passphrase",
                            "--passphrase-file");
}

int export_continuity_command(const ContinuityArgs& a) {
  const auto home = factory::resolve_home(a.home);
  auto pass = bundle_passphrase(a.passphrase_file);
  if (!pass) return report_error(pass.error());
  auto counts = service::export_continuity(
      home, a.config.empty() ? default_config_path(home) : a.config, a.file, *pass);
  if (!counts) return report_error(counts.error());
  std::cout << "Continuity bundle " << a.file << " written: " << counts->files << " files, "
            << counts->cas << " CAs, " << counts->devices << " devices, " << counts->audit_entries
            << " audit entries, " << counts->signers << " signer records.\n"
            << "File keys travel encrypted under their own passphrases; token keys as references:\n"
            << "the new home needs the same token (or a clone) and its PIN.\n"
            << "Next, on the new home: vouchsafe masa import-continuity --home NEW --in " << a.file
            << "\n";
  return k_exit_ok;
}

int import_continuity_command(const ContinuityArgs& a) {
  const auto home = factory::resolve_home(a.home);
  auto pass = bundle_passphrase(a.passphrase_file);
  if (!pass) return report_error(pass.error());
  auto counts = service::import_continuity(home, a.file, *pass, a.store);
  if (!counts) return report_error(counts.error());
  std::cout << "Restored into " << home.root.string() << ": " << counts->files << " files, "
            << counts->cas << " CAs, " << counts->devices << " devices, " << counts->audit_entries
            << " audit entries, " << counts->signers << " signer records.\n"
            << "Next: vouchsafe masa serve --home " << home.root.string() << "\n";
  return k_exit_ok;
}

}  // namespace

// The MASA's store: masa.toml's `store` (under $VOUCHSAFE_STORE and
// --store), else the home's selection.
int migrate_command(const KeyArgs& a) {
  auto home = factory::resolve_home(a.home);
  if (fs::exists(a.config.empty() ? default_config_path(home) : a.config)) {
    auto settings = settings_for(a, home);
    if (!settings) return report_error(settings.error());
    home = factory::Home{settings->home, settings->store};
  }
  auto location = factory::store_location(home);
  if (!location) return report_error(location.error());
  return migrate_store_command(*location);
}

void add_masa_commands(CLI::App& app, Action& action) {
  auto* noun = app.add_subcommand("masa", "The MASA: the voucher service registrars call");
  noun->require_subcommand(1);
  noun->footer(k_exit_codes_help);

  auto init_args = std::make_shared<InitArgs>();
  auto* init = noun->add_subcommand(
      "init",
      "Write a working MASA configuration for a home (embedded default: its SQLite store),\n"
      "with the keys of the chosen key architecture (draft-richardson-anima-masa-\n"
      "considerations §3): offline-ca (a MASA CA certifying one online signer; default),\n"
      "per-product (a MASA CA and signer per product), idevid-root (the signer certified\n"
      "under the manufacturer root by a voucher authority carrying [pki]\n"
      "voucher_authority_oid), rotating (keys PRODUCT-SLOT per product; each device is\n"
      "bound at manufacture to slot = its serial's trailing number mod masa_key_slots, or\n"
      "the date window, as [products.P] masa_key_rule says). Keys go to --key-store (a\n"
      "token: generated there, never leaving it) or are encrypted under\n"
      "$VOUCHSAFE_MASA_PASSPHRASE (or --passphrase-file). The TLS key is always a file.\n"
      "Idempotent.");
  init->add_option("--home", init_args->home, k_home_help);
  init->add_option("--config", init_args->config, "Where to write it (default: HOME/masa.toml)");
  init->add_option("--passphrase-file", init_args->passphrase_file,
                   "File whose first line is the MASA keys' passphrase");
  init->add_option("--architecture", init_args->architecture,
                   "offline-ca, per-product, idevid-root or rotating")
      ->check(CLI::IsMember({"offline-ca", "per-product", "idevid-root", "rotating"}))
      ->capture_default_str();
  init->add_option("--key-store", init_args->key_store,
                   "A pkcs11: URI naming the token to make the keys on (PIN from pin-source or "
                   "$VOUCHSAFE_PKCS11_PIN); default: encrypted files in HOME/masa");
  init->add_option("--ca-passphrase-file", init_args->ca_passphrase_file,
                   "idevid-root: the root CA key's passphrase (else $VOUCHSAFE_CA_PASSPHRASE)");
  init->footer(
      std::string("\nEXAMPLES:\n  VOUCHSAFE_MASA_PASSPHRASE=... vouchsafe masa init\n"
                  "  vouchsafe masa init --architecture rotating --key-store \\\n"
                  "      'pkcs11:token=masa?module-path=/usr/lib/softhsm/libsofthsm2.so'\n") +
      k_exit_codes_help);
  init->callback(
      [&action, init_args] { action = [init_args] { return init_command(*init_args); }; });

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
  serve->add_option("--store-read", sa->store_read,
                    "A streaming replica's DSN: device and ownership reads go there first "
                    "(the audit log and writes always go to --store)");
  serve->add_option("--ready-file", sa->ready_file,
                    "Write \"PUBLIC_PORT ADMIN_PORT\" here once listening");
  serve->footer(std::string("\nEXAMPLES:\n  vouchsafe masa serve\n"
                            "  vouchsafe masa serve --listen 0.0.0.0:443 --store "
                            "postgresql://masa@db/vouchsafe\n") +
                k_exit_codes_help);
  serve->callback([&action, sa] { action = [sa] { return serve_guarded(*sa); }; });

  auto aa = std::make_shared<KeyArgs>();
  auto* anchor = noun->add_subcommand(
      "anchor",
      "Print the anchor certificate a key's vouchers chain to (PEM), its SHA-256\n"
      "fingerprint for trust on first use (--fingerprint), or a key's bare public key for\n"
      "device firmware (--pubkey; architecture rotating).");
  anchor->add_option("--home", aa->home, k_home_help);
  anchor->add_option("--config", aa->config, "Configuration (default: HOME/masa.toml)");
  anchor->add_option("--key", aa->key_id,
                     "The key: default, a product (per-product) or PRODUCT-SLOT (rotating)");
  anchor->add_flag("--fingerprint", aa->fingerprint, "Print the anchor's SHA-256 fingerprint");
  anchor->add_flag("--pubkey", aa->pubkey, "Print the key's public key (PEM)");
  anchor->footer(
      std::string("\nEXAMPLES:\n  vouchsafe masa anchor --fingerprint\n"
                  "  vouchsafe masa anchor --key widget > widget-masa-ca.pem\n"
                  "  vouchsafe masa anchor --key widget-3 --pubkey > firmware-key.pem\n") +
      k_exit_codes_help);
  anchor->callback([&action, aa] { action = [aa] { return anchor_command(*aa); }; });

  auto ea = std::make_shared<ContinuityArgs>();
  auto* export_cmd = noun->add_subcommand(
      "export-continuity",
      "Write one encrypted bundle holding this MASA: configuration, anchors and\n"
      "certificates, keys (file keys still encrypted under their passphrases; token keys as\n"
      "references), CAs, devices with status and owners, signer records and audit logs.\n"
      "AES-256-GCM under scrypt from $VOUCHSAFE_CONTINUITY_PASSPHRASE (or --passphrase-file).");
  export_cmd->add_option("--home", ea->home, k_home_help);
  export_cmd->add_option("--config", ea->config, "Configuration (default: HOME/masa.toml)");
  export_cmd->add_option("--out", ea->file, "The bundle to write")->required();
  export_cmd->add_option("--passphrase-file", ea->passphrase_file,
                         "The bundle's passphrase (else $VOUCHSAFE_CONTINUITY_PASSPHRASE)");
  export_cmd->footer(
      std::string("\nEXAMPLES:\n  vouchsafe masa export-continuity --out masa.vsc\n") +
      k_exit_codes_help);
  export_cmd->callback([&action, ea] { action = [ea] { return export_continuity_command(*ea); }; });
  auto ia = std::make_shared<ContinuityArgs>();
  auto* import_cmd = noun->add_subcommand(
      "import-continuity",
      "Restore a bundle from export-continuity on a fresh home: the MASA it makes signs\n"
      "vouchers the same devices accept and returns the same audit logs. Paths under the\n"
      "old home are rewritten to the new one. Nothing is left behind if it fails.");
  import_cmd->add_option("--home", ia->home, k_home_help);
  import_cmd->add_option("--in", ia->file, "The bundle")->required();
  import_cmd->add_option("--passphrase-file", ia->passphrase_file,
                         "The bundle's passphrase (else $VOUCHSAFE_CONTINUITY_PASSPHRASE)");
  import_cmd->add_option("--store", ia->store,
                         "A PostgreSQL DSN to restore the records into (default: the home's "
                         "SQLite store)");
  import_cmd->footer(
      std::string(
          "\nEXAMPLES:\n  vouchsafe masa import-continuity --home /srv/new --in masa.vsc\n") +
      k_exit_codes_help);
  import_cmd->callback([&action, ia] { action = [ia] { return import_continuity_command(*ia); }; });

  auto* key_noun = noun->add_subcommand("key", "The MASA's voucher-signing keys");
  key_noun->require_subcommand(1);
  key_noun->footer(k_exit_codes_help);
  auto ra = std::make_shared<KeyArgs>();
  auto* rollover = key_noun->add_subcommand(
      "rollover",
      "Make a new online voucher-signing key under the same anchor and record it in the\n"
      "store: every running MASA on the store signs with it from its next key refresh\n"
      "([signing] refresh), without a restart; requests in flight finish with the old key,\n"
      "and vouchers signed before still verify. The new key is made where the current one\n"
      "is (its token, or an encrypted file beside it) and certified by the same CA.");
  rollover->add_option("--home", ra->home, k_home_help);
  rollover->add_option("--config", ra->config, "Configuration (default: HOME/masa.toml)");
  rollover->add_option("--product", ra->scope,
                       "Roll the product's key over (per-product) instead of the default");
  rollover->add_option("--ca-key", ra->ca_key,
                       "The certifying CA's key reference (default: [signing] ca_key)");
  rollover->add_option("--passphrase-file", ra->passphrase_file,
                       "The MASA keys' passphrase (else $VOUCHSAFE_MASA_PASSPHRASE)");
  rollover->footer(std::string("\nEXAMPLES:\n  vouchsafe masa key rollover\n"
                               "  vouchsafe masa key rollover --product widget\n") +
                   k_exit_codes_help);
  rollover->callback([&action, ra] { action = [ra] { return rollover_command(*ra); }; });

  auto ma = std::make_shared<KeyArgs>();
  auto* migrate = noun->add_subcommand(
      "migrate",
      "Bring the MASA's store schema up to date, once, before starting or upgrading its\n"
      "instances. On PostgreSQL it runs under an advisory lock, and `masa serve` refuses to\n"
      "start on an older schema (it never runs DDL itself); a current schema is left alone.\n"
      "An embedded SQLite store migrates whenever it is opened.");
  migrate->add_option("--home", ma->home, k_home_help);
  migrate->add_option("--config", ma->config, "Configuration (default: HOME/masa.toml)");
  migrate->footer(std::string("\nEXAMPLES:\n"
                              "  vouchsafe masa migrate --store 'postgresql://masa@db/assets'\n") +
                  k_exit_codes_help);
  migrate->callback([&action, ma] { action = [ma] { return migrate_command(*ma); }; });
}

}  // namespace vouchsafe::cli
