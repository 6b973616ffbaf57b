// `vouchsafe pki init | issuing-ca create | issuing-ca import | issuing-ca retire |
// issuing-ca list`.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/secrets.h"
#include "core/date_time.h"
#include "crypto/keys.h"
#include "factory/authority.h"

namespace vouchsafe::cli {
namespace {

using nlohmann::json;

struct InitArgs {
  std::string home;
  std::string curve = "p384";
  std::string organization = "Example Devices Inc.";
  std::string masa_url = "masa.example.com:8443";
  std::string passphrase_file;
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
  auto pass = ca_passphrase(a.passphrase_file);
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
            << "Keep the passphrase safe: it decrypts the CA keys in " << home.keys_dir().string()
            << ".\n";
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
  auto pass = ca_passphrase(a.passphrase_file);
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
  init->footer(
      std::string("\nEXAMPLES:\n"
                  "  VOUCHSAFE_CA_PASSPHRASE=... vouchsafe pki init --home /srv/vouchsafe \\\n"
                  "      --organization \"Acme Devices\" --masa-url masa.acme.example:443\n") +
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
