// `vouchsafe pki init | issuing-ca create | issuing-ca import | issuing-ca retire |
// issuing-ca list`.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/date_time.h"
#include "core/file.h"
#include "core/secrets.h"
#include "crypto/key_reference.h"
#include "crypto/keys.h"
#include "factory/authority.h"
#include "factory/ceremony.h"
#include "service/masa_keys.h"
#include "service/masa_settings.h"

namespace vouchsafe::cli {
namespace {

constexpr const char* k_key_store_help =
    "Where the new key is made: a pkcs11: URI naming a token (the key is generated there and "
    "never leaves it; its PIN from pin-source=file:... or $VOUCHSAFE_PKCS11_PIN), or empty for "
    "an encrypted file in HOME/keys";

using nlohmann::json;

struct InitArgs {
  std::string home;
  std::string curve = "p384";
  std::string organization = "Example Devices Inc.";
  std::string masa_url = "masa.example.com:8443";
  std::string passphrase_file;
  std::string key_store;
};

int init_command(const InitArgs& a) {
  const auto home = factory::resolve_home(a.home);
  factory::InitOptions options;
  auto type = crypto::parse_key_type(a.curve);
  if (!type) return report_error(type.error());
  if (*type != crypto::KeyType::p384 && *type != crypto::KeyType::p256) {
    return report_error({ErrorCode::usage, "the root CA key is p384 (default) or p256"});
  }
  options.root_key_type = *type;
  if (auto checked = factory::check_init_values(a.organization, a.masa_url); !checked) {
    return report_error(checked.error());
  }
  options.organization = a.organization;
  options.masa_url = a.masa_url;
  options.key_store = a.key_store;
  // A root key on a token needs the token's PIN, not a passphrase.
  auto pass = read_passphrase(a.passphrase_file, "VOUCHSAFE_CA_PASSPHRASE");
  if (pass && !*pass && a.key_store.empty()) {
    return report_error(ca_passphrase(a.passphrase_file).error());
  }
  if (!pass) return report_error(pass.error());
  auto outcome = factory::init_pki(home, options, *pass);
  if (!outcome) return report_error(outcome.error());
  if (!outcome->created) {
    std::cout << "Home " << home.root.string() << " is initialised already (root CA "
              << outcome->root_subject << "); nothing changed.\n";
    return k_exit_ok;
  }
  std::cout << "Initialised " << home.root.string() << "\n"
            << "  root CA:       " << outcome->root_subject << "\n"
            << "  certificate:   " << home.root_cert_file().string() << "\n"
            << "  configuration: " << home.config_file().string() << "\n\n"
            << "Next steps:\n"
            << "  1. Describe your products (hwType OID, serial prefix) in "
            << home.config_file().string() << "\n"
            << "  2. vouchsafe pki issuing-ca create --name NAME --product PRODUCT [--factory F]\n"
            << "  3. vouchsafe idevid issue --csr device.csr --serial PREFIX-FACTORY-0001\n"
            << "     or vouchsafe idevid batch --seeds seeds.csv --product PRODUCT\n"
            << (a.key_store.empty()
                    ? "Keep the passphrase safe: it decrypts the CA keys in " +
                          home.keys_dir().string() + ".\n"
                    : std::string("The root key was generated on the token and never leaves "
                                  "it.\n"));
  return k_exit_ok;
}

struct CreateArgs {
  std::string home;
  factory::IssuingCaOptions options;
  std::string curve = "p256";
  std::string passphrase_file;
};

int create_command(CreateArgs a) {
  const auto home = factory::resolve_home(a.home);
  auto type = crypto::parse_key_type(a.curve);
  if (!type) return report_error(type.error());
  a.options.key_type = *type;
  auto pass = read_passphrase(a.passphrase_file, "VOUCHSAFE_CA_PASSPHRASE");
  if (!pass) return report_error(pass.error());
  auto store = factory::open_store(home);
  if (!store) return report_error(store.error());
  auto ca = factory::create_issuing_ca(home, **store, a.options, *pass);
  if (!ca) return report_error(ca.error());
  std::cout << "Issuing CA " << ca->name << " created"
            << (ca->product.empty() ? "" : " for product " + ca->product)
            << (ca->factory.empty() ? "" : " at factory " + ca->factory) << ".\n"
            << "Next: vouchsafe idevid issue --csr device.csr --serial SERIAL\n";
  return k_exit_ok;
}

struct ImportArgs {
  std::string home;
  factory::ImportCaOptions options;
};

int import_command(const ImportArgs& a) {
  const auto home = factory::resolve_home(a.home);
  auto store = factory::open_store(home);
  if (!store) return report_error(store.error());
  auto ca = factory::import_issuing_ca(home, **store, a.options);
  if (!ca) return report_error(ca.error());
  auto cert = crypto::parse_certificate_der(ca->certificate_der);
  if (!cert) return report_error(cert.error());
  std::cout << "Issuing CA " << ca->name << " imported ("
            << crypto::certificate_subject(cert->get()) << ")"
            << (ca->product.empty() ? "" : " for product " + ca->product)
            << (ca->factory.empty() ? "" : " at factory " + ca->factory)
            << ": certificate only, so it never issues here; the MASA trusts the IDevIDs it "
               "signed.\n"
            << "Next: vouchsafe device import --certificate idevids.pem --product PRODUCT\n";
  return k_exit_ok;
}

int retire_command(const std::string& home_flag, const std::string& name) {
  const auto home = factory::resolve_home(home_flag);
  auto store = factory::open_store(home);
  if (!store) return report_error(store.error());
  if (auto r = factory::retire_issuing_ca(**store, name); !r) return report_error(r.error());
  std::cout << "Issuing CA " << name
            << " retired: it issues no more certificates and its private key is destroyed; its "
               "certificate stays for verification.\n";
  return k_exit_ok;
}

int list_command(const std::string& home_flag, bool as_json) {
  const auto home = factory::resolve_home(home_flag);
  auto store = factory::open_store(home);
  if (!store) return report_error(store.error());
  auto cas = (*store)->list_cas();
  if (!cas) return report_error(cas.error());
  json out = json::array();
  for (const auto& ca : *cas) {
    // imported: active, but a certificate only (trusted for IDevIDs, never issues).
    const char* status = ca.status == store::CaStatus::retired ? "retired"
                         : factory::is_imported(ca)            ? "imported"
                                                               : "active";
    out.push_back({{"name", ca.name},
                   {"role", ca.role == store::CaRole::root ? "root" : "issuing"},
                   {"status", status},
                   {"product", ca.product},
                   {"factory", ca.factory},
                   {"issued", ca.issued_count},
                   {"created", format_date_time(DateTime::from_unix_seconds(ca.created_at))}});
  }
  if (as_json) {
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& c : out) {
      std::cout << c["name"].get<std::string>() << "\t" << c["role"].get<std::string>() << "\t"
                << c["status"].get<std::string>() << "\tproduct=" << c["product"].get<std::string>()
                << "\tfactory=" << c["factory"].get<std::string>() << "\tissued=" << c["issued"]
                << "\n";
    }
  }
  return k_exit_ok;
}

// --- key ceremonies

struct SplitArgs {
  std::string home, key = "root", out, passphrase_file, config;
  unsigned shares = 7, threshold = 4;
  std::vector<std::string> holder_passphrase_files;
};

Result<std::vector<std::string>> read_passphrases(const std::vector<std::string>& files,
                                                  const std::string& flag) {
  std::vector<std::string> out;
  for (const auto& f : files) {
    ASSIGN_OR_RETURN(auto p, read_passphrase(f, ""));
    if (!p) return fail(ErrorCode::usage, flag + " " + f + ": empty");
    out.push_back(std::move(*p));
  }
  return out;
}

std::string masa_config_path(const factory::Home& home, const std::string& flag) {
  return flag.empty() ? (home.root / "masa.toml").string() : flag;
}

int split_command(const SplitArgs& a) {
  const auto home = factory::resolve_home(a.home);
  auto holders = read_passphrases(a.holder_passphrase_files, "--holder-passphrase-file");
  if (!holders) return report_error(holders.error());
  // Which key, and where it is now: only a key kept in a file can be split
  // (a token key never leaves its token; back it up with the HSM's tools).
  std::string reference;
  const char* pass_env = a.key == "root" ? "VOUCHSAFE_CA_PASSPHRASE" : "VOUCHSAFE_MASA_PASSPHRASE";
  std::unique_ptr<store::AssetStore> store;
  std::optional<service::MasaSettings> masa;
  if (a.key == "root") {
    auto opened = factory::open_store(home);
    if (!opened) return report_error(opened.error());
    store = std::move(opened).value();
    auto root = factory::root_record(*store);
    if (!root) return report_error(root.error());
    reference = root->key_reference;
  } else {
    auto settings = service::load_masa_settings(masa_config_path(home, a.config));
    if (!settings) return report_error(settings.error());
    masa = *settings;
    reference = masa->signing_ca_key;
  }
  if (reference.starts_with("split:")) {
    return report_error(
        {ErrorCode::usage, "the " + a.key + " key is split already (" + reference + ")"});
  }
  if (reference.empty() || reference.starts_with("pkcs11:")) {
    return report_error(
        {ErrorCode::usage,
         "the " + a.key + " key is " +
             (reference.empty() ? std::string("not recorded") : "on a token (" + reference + ")") +
             ": only a key kept in a file can be split; a token key never "
             "leaves its token (back it up with the HSM's own tools)"});
  }
  auto pass = read_passphrase(a.passphrase_file, pass_env);
  if (!pass) return report_error(pass.error());
  auto key = crypto::load_private_key(reference, *pass);
  if (!key) return report_error(key.error());
  auto der = factory::pkcs8_der(key->get());
  if (!der) return report_error(der.error());
  factory::SplitOptions options;
  options.key_name = a.key;
  options.shares = a.shares;
  options.threshold = a.threshold;
  options.holder_passphrases = std::move(*holders);
  options.out_dir = a.out.empty() ? (home.root / "shares").string() : a.out;
  auto split = factory::split_key(der->view(), key->get(), options);
  if (!split) return report_error(split.error());
  const std::string split_reference = "split:" + split->split_id;
  // Record where the key now is before destroying the file: if recording
  // fails the shares go and the key file stays.
  Status recorded = ok();
  if (store) {
    recorded = store->set_ca_key_reference("root", split_reference);
  } else {
    for (auto& [id, k] : masa->masa_keys) {
      if (k.ca_key == masa->signing_ca_key) k.ca_key = split_reference;
    }
    masa->signing_ca_key = split_reference;
    recorded = write_file_atomic(masa_config_path(home, a.config),
                                 as_bytes(service::masa_settings_text(*masa)));
  }
  if (!recorded) {
    for (const auto& f : split->paths) (void)crypto::destroy_key_file(f);
    return report_error(recorded.error());
  }
  if (auto destroyed = crypto::destroy_key_file(reference); !destroyed) {
    return report_error(destroyed.error());
  }
  std::cout << "The " << a.key << " key (fingerprint " << crypto::key_fingerprint(key->get())
            << ") is split into " << a.shares << " shares, any " << a.threshold
            << " of which rebuild it:\n";
  for (const auto& f : split->paths) std::cout << "  " << f << "\n";
  std::cout << "The key file " << reference << " is destroyed. Hand each share to its holder and "
            << "remove it from this machine.\n";
  return k_exit_ok;
}

struct RecoverArgs {
  std::string home, key = "root", config, passphrase_file, masa_passphrase_file;
  std::vector<std::string> shares, share_passphrase_files;
  std::string issuing_ca, product, factory, curve = "p256", key_store;
  bool rollover = false;
  std::string rollover_product;
};

int recover_command(const RecoverArgs& a) {
  const auto home = factory::resolve_home(a.home);
  if (a.shares.size() != a.share_passphrase_files.size()) {
    return report_error(
        {ErrorCode::usage, "give one --share-passphrase-file per --share, in the same order (" +
                               std::to_string(a.shares.size()) + " shares, " +
                               std::to_string(a.share_passphrase_files.size()) + " passphrases)"});
  }
  auto passes = read_passphrases(a.share_passphrase_files, "--share-passphrase-file");
  if (!passes) return report_error(passes.error());
  std::vector<factory::ShareInput> inputs;
  for (std::size_t i = 0; i < a.shares.size(); ++i) inputs.push_back({a.shares[i], (*passes)[i]});
  // The key exists in this process's memory only, for this one operation.
  auto signer = factory::recover_key(inputs, a.key);
  if (!signer) return report_error(signer.error());
  std::cout << "The shares rebuild the " << a.key << " key (fingerprint "
            << crypto::key_fingerprint((*signer)->public_key()) << ").\n";
  if (!a.issuing_ca.empty()) {
    if (a.key != "root") {
      return report_error({ErrorCode::usage, "--issuing-ca needs the root key's shares"});
    }
    auto pass = read_passphrase(a.passphrase_file, "VOUCHSAFE_CA_PASSPHRASE");
    if (!pass) return report_error(pass.error());
    auto store = factory::open_store(home);
    if (!store) return report_error(store.error());
    auto root = factory::root_record(**store);
    if (!root) return report_error(root.error());
    auto cert = crypto::parse_certificate_der(root->certificate_der);
    if (!cert) return report_error(cert.error());
    if (EVP_PKEY_eq(X509_get0_pubkey(cert->get()), (*signer)->public_key()) != 1) {
      return report_error(
          {ErrorCode::invalid_value, "the shares rebuild a key that is not this home's root key"});
    }
    factory::IssuingCaOptions options;
    options.name = a.issuing_ca;
    options.product = a.product;
    options.factory = a.factory;
    options.key_store = a.key_store;
    auto type = crypto::parse_key_type(a.curve);
    if (!type) return report_error(type.error());
    options.key_type = *type;
    auto ca = factory::create_issuing_ca(home, **store, options, **signer, *pass);
    if (!ca) return report_error(ca.error());
    std::cout << "Issuing CA " << ca->name << " created under the rebuilt root key.\n";
  }
  if (a.rollover) {
    if (a.key != "masa-ca") {
      return report_error({ErrorCode::usage, "--rollover needs the MASA CA key's shares"});
    }
    auto settings = service::load_masa_settings(masa_config_path(home, a.config));
    if (!settings) return report_error(settings.error());
    if (settings->home.empty()) settings->home = home.root.string();
    auto store = factory::open_store(factory::Home{settings->home, settings->store});
    if (!store) return report_error(store.error());
    auto pass = read_passphrase(a.masa_passphrase_file, "VOUCHSAFE_MASA_PASSPHRASE");
    if (!pass) return report_error(pass.error());
    service::RolloverOptions options;
    options.scope = a.rollover_product;
    options.ca_signer = signer->get();
    options.passphrase = *pass;
    auto record = service::rollover_signer(*settings, **store, options);
    if (!record) return report_error(record.error());
    std::cout << "New voucher-signing key " << record->key_reference
              << " certified by the rebuilt MASA CA key and recorded.\n";
  }
  return k_exit_ok;
}

}  // namespace

void add_pki_commands(CLI::App& app, Action& action) {
  auto* noun =
      app.add_subcommand("pki", "The manufacturer's three-tier ECDSA PKI (root, issuing CAs)");
  noun->require_subcommand(1);
  noun->footer(k_exit_codes_help);

  auto init_args = std::make_shared<InitArgs>();
  auto* init = noun->add_subcommand(
      "init",
      "Create the root CA (self-signed, no expiry) and the home's configuration and asset\n"
      "store. Run again on an initialised home, it changes nothing and says so.");
  init->add_option("--home", init_args->home, k_home_help);
  init->add_option("--curve", init_args->curve, "Root key: p384 or p256")->capture_default_str();
  init->add_option("--organization", init_args->organization, "Subject O of the CAs and IDevIDs")
      ->capture_default_str();
  init->add_option("--masa-url", init_args->masa_url,
                   "MASA authority written into IDevIDs (host[:port])")
      ->capture_default_str();
  init->add_option("--passphrase-file", init_args->passphrase_file, k_ca_passphrase_help);
  init->add_option("--key-store", init_args->key_store, k_key_store_help);
  init->footer(
      std::string("\nEXAMPLES:\n"
                  "  VOUCHSAFE_CA_PASSPHRASE=... vouchsafe pki init --home /srv/vouchsafe \\\n"
                  "      --organization \"Acme Devices\" --masa-url masa.acme.example:443\n"
                  "  VOUCHSAFE_PKCS11_PIN=... vouchsafe pki init --key-store \\\n"
                  "      'pkcs11:token=vouchsafe?module-path=/usr/lib/softhsm/libsofthsm2.so'\n") +
      k_exit_codes_help);
  init->callback(
      [&action, init_args] { action = [init_args] { return init_command(*init_args); }; });

  auto* ca_noun = noun->add_subcommand("issuing-ca", "Issuing CAs per factory and product line");
  ca_noun->require_subcommand(1);
  ca_noun->footer(k_exit_codes_help);

  auto create_args = std::make_shared<CreateArgs>();
  auto* create = ca_noun->add_subcommand(
      "create",
      "Create an issuing CA (pathlen 0) under the root. Several active CAs of one product\n"
      "are used round-robin; a CA retires itself after --max-certificates or --max-age-days.");
  create->add_option("--home", create_args->home, k_home_help);
  create->add_option("--name", create_args->options.name, "A one-word name, e.g. sz1-widget-2026a")
      ->required();
  create->add_option("--factory", create_args->options.factory, "Factory this CA serves");
  create->add_option("--product", create_args->options.product, "Product line this CA serves");
  create->add_option("--curve", create_args->curve, "Key: p256 or p384")->capture_default_str();
  // -1, the "take the configuration" default, is not for the operator to give.
  create
      ->add_option("--max-certificates", create_args->options.max_certificates,
                   "Retire after this many certificates; 0: never (default: configuration)")
      ->check(CLI::Range(std::int64_t{0}, factory::k_max_issuing_ca_certificates));
  create
      ->add_option("--max-age-days", create_args->options.max_age_days,
                   "Retire after this many days; 0: never (default: configuration)")
      ->check(CLI::Range(std::int64_t{0}, factory::k_max_issuing_ca_age_days));
  create->add_option("--passphrase-file", create_args->passphrase_file, k_ca_passphrase_help);
  create->add_option("--key-store", create_args->options.key_store, k_key_store_help);
  create->footer(std::string("\nEXAMPLES:\n"
                             "  vouchsafe pki issuing-ca create --name sz1-widget --factory SZ1 "
                             "--product widget\n") +
                 k_exit_codes_help);
  create->callback(
      [&action, create_args] { action = [create_args] { return create_command(*create_args); }; });

  auto import_args = std::make_shared<ImportArgs>();
  auto* import_cmd = ca_noun->add_subcommand(
      "import",
      "Record an issuing CA made by someone else (another vendor, a contract manufacturer)\n"
      "by its certificate alone, with no key: the MASA trusts the IDevIDs it signed (see\n"
      "`vouchsafe device import`), and issuance never uses it. The certificate must be a\n"
      "CA certificate (basicConstraints CA:TRUE) not recorded before.");
  import_cmd->add_option("--home", import_args->home, k_home_help);
  import_cmd
      ->add_option("--name", import_args->options.name, "A one-word name, e.g. highway-vendor")
      ->required();
  import_cmd
      ->add_option("--certificate", import_args->options.certificate_path,
                   "The CA certificate, PEM or DER (one certificate)")
      ->required();
  import_cmd->add_option("--product", import_args->options.product,
                         "Product line whose IDevIDs it signed");
  import_cmd->add_option("--factory", import_args->options.factory, "Factory it serves");
  import_cmd->footer(std::string("\nEXAMPLES:\n"
                                 "  vouchsafe pki issuing-ca import --name highway-vendor \\\n"
                                 "      --certificate vendor-ca.pem --product highway\n") +
                     k_exit_codes_help);
  import_cmd->callback(
      [&action, import_args] { action = [import_args] { return import_command(*import_args); }; });

  auto* root_noun = noun->add_subcommand(
      "root", "Key ceremonies: the root (or a MASA CA) key split k-of-n among officers");
  root_noun->require_subcommand(1);
  root_noun->footer(k_exit_codes_help);
  auto sa = std::make_shared<SplitArgs>();
  auto* split = root_noun->add_subcommand(
      "split",
      "Split the root CA key (or, with --key masa-ca, the MASA CA key) with Shamir secret\n"
      "sharing over GF(2^8) into --shares files, any --threshold of which rebuild it\n"
      "(the operations draft suggests 4-5 of 7-9). Each share names its index, the\n"
      "threshold, the split and the key's fingerprint, carries a checksum, and is encrypted\n"
      "(AES-256-GCM, scrypt N=2^17 r=8 p=1) to its holder's own passphrase, one\n"
      "--holder-passphrase-file per share. The key file is then destroyed; the key exists\n"
      "again only in the memory of a `pki root recover` ceremony. Format: docs/key-ceremony.md.");
  split->add_option("--home", sa->home, k_home_help);
  split->add_option("--key", sa->key, "root or masa-ca")
      ->check(CLI::IsMember({"root", "masa-ca"}))
      ->capture_default_str();
  split->add_option("--shares", sa->shares, "Number of shares (2-255)")
      ->check(CLI::Range(2U, 255U))
      ->capture_default_str();
  split->add_option("--threshold", sa->threshold, "Shares needed to rebuild the key")
      ->check(CLI::Range(2U, 255U))
      ->capture_default_str();
  split
      ->add_option("--holder-passphrase-file", sa->holder_passphrase_files,
                   "A share holder's passphrase file; one per share, in share order")
      ->required();
  split->add_option("--out", sa->out, "Directory of the share files (default: HOME/shares)");
  split->add_option("--passphrase-file", sa->passphrase_file,
                    "The key file's passphrase (else $VOUCHSAFE_CA_PASSPHRASE, or "
                    "$VOUCHSAFE_MASA_PASSPHRASE for masa-ca)");
  split->add_option("--config", sa->config, "masa-ca: the MASA configuration (HOME/masa.toml)");
  split->footer(std::string("\nEXAMPLES:\n"
                            "  vouchsafe pki root split --shares 7 --threshold 4 \\\n"
                            "      --holder-passphrase-file alice.pass --holder-passphrase-file "
                            "bob.pass ...\n") +
                k_exit_codes_help);
  split->callback([&action, sa] { action = [sa] { return split_command(*sa); }; });

  auto ra = std::make_shared<RecoverArgs>();
  auto* recover = root_noun->add_subcommand(
      "recover",
      "A ceremony: rebuild a split key in memory from --threshold of its shares (each with\n"
      "its holder's --share-passphrase-file, in the same order) and run one operation with\n"
      "it: --issuing-ca NAME (a new issuing CA under the root) or --rollover (a new MASA\n"
      "signer under the MASA CA). Without an operation it only checks that the shares\n"
      "rebuild the key. Refused, naming the file: fewer shares than the threshold, a\n"
      "corrupted share, one from another split, a repeated index, a wrong passphrase.");
  recover->add_option("--home", ra->home, k_home_help);
  recover->add_option("--key", ra->key, "root or masa-ca")
      ->check(CLI::IsMember({"root", "masa-ca"}))
      ->capture_default_str();
  recover->add_option("--share", ra->shares, "A share file; repeat")->required();
  recover->add_option("--share-passphrase-file", ra->share_passphrase_files,
                      "Its holder's passphrase file; one per --share, same order");
  recover->add_option("--issuing-ca", ra->issuing_ca, "Create this issuing CA under the root");
  recover->add_option("--product", ra->product, "The issuing CA's product");
  recover->add_option("--factory", ra->factory, "The issuing CA's factory");
  recover->add_option("--curve", ra->curve, "The issuing CA's key: p256 or p384")
      ->capture_default_str();
  recover->add_option("--key-store", ra->key_store, k_key_store_help);
  recover->add_option("--passphrase-file", ra->passphrase_file,
                      "The new issuing CA key's passphrase (else $VOUCHSAFE_CA_PASSPHRASE)");
  recover->add_flag("--rollover", ra->rollover, "masa-ca: make a new MASA signer (rollover)");
  recover->add_option("--rollover-product", ra->rollover_product,
                      "--rollover: the product's key instead of the default");
  recover->add_option("--masa-passphrase-file", ra->masa_passphrase_file,
                      "--rollover: the MASA keys' passphrase (else $VOUCHSAFE_MASA_PASSPHRASE)");
  recover->add_option("--config", ra->config, "masa-ca: the MASA configuration (HOME/masa.toml)");
  recover->footer(std::string("\nEXAMPLES:\n"
                              "  vouchsafe pki root recover --share a.json --share-passphrase-file "
                              "a.pass \\\n"
                              "      --share b.json --share-passphrase-file b.pass ... "
                              "--issuing-ca sz2-widget --product widget\n") +
                  k_exit_codes_help);
  recover->callback([&action, ra] { action = [ra] { return recover_command(*ra); }; });

  auto retire_home = std::make_shared<std::string>();
  auto retire_name = std::make_shared<std::string>();
  auto* retire = ca_noun->add_subcommand(
      "retire",
      "Stop issuance from an issuing CA and destroy its private key. Its certificate stays,\n"
      "so the IDevIDs it signed still verify.");
  retire->add_option("--home", *retire_home, k_home_help);
  retire->add_option("NAME", *retire_name, "The issuing CA")->required();
  retire->footer(std::string("\nEXAMPLES:\n  vouchsafe pki issuing-ca retire sz1-widget\n") +
                 k_exit_codes_help);
  retire->callback([&action, retire_home, retire_name] {
    action = [retire_home, retire_name] { return retire_command(*retire_home, *retire_name); };
  });

  auto list_home = std::make_shared<std::string>();
  auto list_json = std::make_shared<bool>(false);
  auto* list = ca_noun->add_subcommand(
      "list",
      "List the CAs with their status and counts. Status: active (issues), imported\n"
      "(certificate only: trusted for IDevIDs, never issues) or retired.");
  list->add_option("--home", *list_home, k_home_help);
  list->add_flag("--json", *list_json, "Machine-readable output");
  list->footer(std::string("\nEXAMPLES:\n  vouchsafe pki issuing-ca list --json | jq '.[] | "
                           "select(.status == \"active\")'\n") +
               k_exit_codes_help);
  list->callback([&action, list_home, list_json] {
    action = [list_home, list_json] { return list_command(*list_home, *list_json); };
  });
}

}  // namespace vouchsafe::cli
