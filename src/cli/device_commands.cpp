// `vouchsafe device list | show | export | import | report-stolen | assign-owner |
// set-policy`: the asset store for the sales and asset systems, and the MASA's
// view of each device.
#include <array>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/date_time.h"
#include "crypto/keys.h"
#include "factory/authority.h"
#include "factory/device_import.h"
#include "factory/owner_import.h"
#include "factory/serial_list.h"

namespace vouchsafe::cli {
namespace {

using nlohmann::json;

json device_json(const store::DeviceRecord& d, bool with_certificate) {
  json j = {{"serial", d.serial},
            {"product", d.product},
            {"issuing_ca", d.issuing_ca},
            {"key_mode", std::string(store::key_mode_name(d.key_mode))},
            {"issued_at", format_date_time(DateTime::from_unix_seconds(d.issued_at))},
            {"reissue_count", d.reissue_count},
            {"certificate_sha256", hex_encode(crypto::sha256(d.certificate_der))},
            // The MASA key its firmware trusts (architecture rotating); "" : its product's.
            {"masa_key_id", d.masa_key_id}};
  if (!d.reissue_reason.empty()) j["reissue_reason"] = d.reissue_reason;
  if (with_certificate) j["certificate"] = base64_encode(d.certificate_der);
  return j;
}

// RFC 4180: quote a field that holds a comma, quote or line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

struct ListArgs {
  std::string home, product, issuing_ca, format = "text", out, serial, serials_file;
  bool json_output = false;
  bool pem = false;
};

// One device as a JSON array member, a CSV row or a text line.
class DeviceWriter {
 public:
  DeviceWriter(std::ostream& out, std::string format, bool full_export)
      : out_(out), format_(std::move(format)), full_export_(full_export) {
    if (format_ == "json") out_ << "[";
    if (format_ == "csv") {
      out_ << "serial,product,issuing_ca,key_mode,issued_at,reissue_count,certificate_sha256"
           << (full_export_ ? ",certificate" : "") << "\r\n";
    }
  }

  bool write(const store::DeviceRecord& d) {
    const json j = device_json(d, full_export_);
    if (format_ == "json") {
      out_ << (first_ ? "\n  " : ",\n  ") << j.dump();
    } else if (format_ == "csv") {
      out_ << csv_field(d.serial) << "," << csv_field(d.product) << "," << csv_field(d.issuing_ca)
           << "," << j["key_mode"].get<std::string>() << "," << j["issued_at"].get<std::string>()
           << "," << d.reissue_count << "," << j["certificate_sha256"].get<std::string>();
      if (full_export_) out_ << "," << base64_encode(d.certificate_der);
      out_ << "\r\n";
    } else {
      out_ << d.serial << "\t" << d.product << "\t" << d.issuing_ca << "\t"
           << j["key_mode"].get<std::string>() << "\t" << j["issued_at"].get<std::string>() << "\n";
    }
    first_ = false;
    return static_cast<bool>(out_);
  }

  void finish() {
    if (format_ == "json") out_ << (first_ ? "]\n" : "\n]\n");
    out_.flush();
  }

 private:
  std::ostream& out_;
  std::string format_;
  bool full_export_;
  bool first_ = true;
};

// The devices named in a file, one serial per line, in its order: a
// shipment's devices out of millions, each found by its key. A serial the
// store lacks is an error once the others are written.
Status export_listed(store::AssetStore& store, const std::string& path, DeviceWriter& writer) {
  std::ifstream in(path);
  if (!in) return fail(ErrorCode::io_error, "cannot read " + path);
  factory::SerialListReader serials(in, path);
  std::size_t missing = 0;
  std::string first_missing;
  while (true) {
    ASSIGN_OR_RETURN(auto serial, serials.next());
    if (!serial) break;
    ASSIGN_OR_RETURN(auto device, store.find_device(*serial));
    if (!device) {
      if (missing++ == 0) first_missing = *serial;
      continue;
    }
    if (!writer.write(*device)) return fail(ErrorCode::io_error, "write failed");
  }
  if (missing != 0) {
    return fail(ErrorCode::invalid_value, std::to_string(missing) + " serial(s) of " + path +
                                              " not in the store, the first: " + first_missing);
  }
  return {};
}

int list_command(const ListArgs& a, bool full_export) {
  auto store = factory::open_store(factory::resolve_home(a.home));
  if (!store) return report_error(store.error());
  std::ofstream file;
  if (!a.out.empty()) {
    file.open(a.out, std::ios::trunc);
    if (!file) return report_error({ErrorCode::io_error, "cannot write " + a.out});
  }
  std::ostream& out = a.out.empty() ? std::cout : file;
  DeviceWriter writer(out, a.json_output ? "json" : a.format, full_export);
  // Streams: an export of millions of devices never sits in memory.
  const auto status =
      a.serials_file.empty()
          ? (*store)->for_each_device({a.product, a.issuing_ca},
                                      [&](const store::DeviceRecord& d) { return writer.write(d); })
          : export_listed(**store, a.serials_file, writer);
  writer.finish();
  if (!status) return report_error(status.error());
  if (!out) return report_error({ErrorCode::io_error, "write failed"});
  return k_exit_ok;
}

int show_command(const ListArgs& a) {
  auto store = factory::open_store(factory::resolve_home(a.home));
  if (!store) return report_error(store.error());
  auto device = (*store)->find_device(a.serial);
  if (!device) return report_error(device.error());
  if (!*device)
    return report_error({ErrorCode::invalid_value, "no device with serial " + a.serial});
  const auto& d = **device;
  if (a.pem) {
    auto cert = crypto::parse_certificate_der(d.certificate_der);
    if (!cert) return report_error(cert.error());
    std::cout << crypto::certificate_pem(cert->get());
    return k_exit_ok;
  }
  const json j = device_json(d, true);
  if (a.json_output) {
    std::cout << j.dump(2) << "\n";
    return k_exit_ok;
  }
  for (const auto& [k, v] : j.items()) {
    if (k != "certificate")
      std::cout << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
  }
  auto cert = crypto::parse_certificate_der(d.certificate_der);
  if (cert) std::cout << "subject: " << crypto::certificate_subject(cert->get()) << "\n";
  return k_exit_ok;
}

int report_stolen_command(const std::string& home, const std::string& serial,
                          const std::string& reason, bool undo) {
  auto store = factory::open_store(factory::resolve_home(home));
  if (!store) return report_error(store.error());
  if (auto r = (*store)->set_stolen(serial, !undo, reason, std::time(nullptr)); !r) {
    return report_error(r.error());
  }
  std::cout << "Device " << serial
            << (undo ? " is no longer reported stolen; the MASA issues vouchers for it again.\n"
                     : " reported stolen: the MASA refuses its vouchers (403) and logs each "
                       "attempt. Undo with --undo.\n");
  return k_exit_ok;
}

int set_policy_command(const std::string& home, const std::string& serial,
                       const std::string& policy_name) {
  std::optional<store::OwnershipPolicy> policy;
  if (policy_name != "product") {
    auto parsed = store::parse_ownership_policy(policy_name);
    if (!parsed) return report_error({ErrorCode::usage, parsed.error().message + " or product"});
    policy = *parsed;
  }
  auto store = factory::open_store(factory::resolve_home(home));
  if (!store) return report_error(store.error());
  if (auto r = (*store)->set_ownership_policy(serial, policy); !r) return report_error(r.error());
  std::cout << "Device " << serial << " follows "
            << (policy ? "its own policy: " + policy_name : std::string("its product's policy"))
            << ".\n";
  return k_exit_ok;
}

// Every line of the sales system's file, parsed (factory/owner_import.h),
// and each serial recorded, before anything is written.
Result<std::vector<factory::OwnerAssignment>> read_owner_file(store::AssetStore& store,
                                                              const std::string& path) {
  std::ifstream in(path);
  if (!in) return fail(ErrorCode::io_error, "cannot open " + path);
  ASSIGN_OR_RETURN(auto out, factory::read_owner_assignments(in, path));
  for (const auto& a : out) {
    ASSIGN_OR_RETURN(auto device, store.find_device(a.serial));
    if (!device) {
      return fail(ErrorCode::invalid_value,
                  path + ":" + std::to_string(a.line) + ": no device with serial " + a.serial);
    }
  }
  return out;
}

int assign_owner_command(const std::string& home, const std::string& serial,
                         const std::string& anchor_file, const std::string& import_file,
                         bool replace) {
  if (serial.empty() == import_file.empty()) {
    return report_error({ErrorCode::usage, "give SERIAL --anchor CERT, or --import FILE"});
  }
  auto store = factory::open_store(factory::resolve_home(home));
  if (!store) return report_error(store.error());
  std::vector<factory::OwnerAssignment> assignments;
  if (!import_file.empty()) {
    auto read = read_owner_file(**store, import_file);
    if (!read) return report_error(read.error());
    assignments = std::move(read).value();
  } else {
    if (anchor_file.empty()) return report_error({ErrorCode::usage, "--anchor CERT is needed"});
    auto certs = crypto::load_certificates(anchor_file);
    if (!certs) return report_error(certs.error());
    for (auto& c : *certs) assignments.push_back({0, serial, crypto::certificate_der(c.get())});
  }
  // Every line is checked before the first is applied; each assignment is
  // idempotent, so a re-run after a failure is safe.
  std::string previous;
  for (const auto& a : assignments) {
    const bool first_of_device = a.serial != previous;
    if (auto r = (*store)->add_owner_anchor(a.serial, a.anchor_der, replace && first_of_device);
        !r) {
      return report_error(r.error());
    }
    previous = a.serial;
  }
  std::cout << assignments.size() << " owner anchor(s) recorded. Devices under the known-customer "
            << "policy get vouchers only for registrars under their owner's anchors.\n";
  return k_exit_ok;
}

struct ImportArgs {
  std::string home;
  factory::DeviceImportOptions options;
  bool json_output = false;
};

int import_command(const ImportArgs& a) {
  const auto home = factory::resolve_home(a.home);
  auto store = factory::open_store(home);
  if (!store) return report_error(store.error());
  auto report = factory::import_devices(home, **store, a.options);
  if (!report) return report_error(report.error());
  for (const auto& note : report->notes) std::cerr << "vouchsafe: note: " << note << "\n";
  if (a.json_output) {
    json out = json::array();
    for (const auto& d : report->devices) out.push_back(device_json(d, false));
    std::cout << out.dump(2) << "\n";
    return k_exit_ok;
  }
  for (const auto& d : report->devices) {
    std::cout << d.serial << "\t" << d.product << "\t" << d.issuing_ca << "\timported\n";
  }
  std::cerr << report->devices.size() << " device(s) imported for product " << a.options.product
            << ". The MASA issues vouchers for them from now on.\n";
  return k_exit_ok;
}

}  // namespace

void add_device_commands(CLI::App& app, Action& action) {
  auto* noun = app.add_subcommand("device", "Devices and their IDevIDs in the asset store");
  noun->require_subcommand(1);
  noun->footer(k_exit_codes_help);

  auto la = std::make_shared<ListArgs>();
  auto* list = noun->add_subcommand("list", "List devices (serial, product, CA, key mode, date)");
  list->add_option("--home", la->home, k_home_help);
  list->add_option("--product", la->product, "Only this product");
  list->add_option("--issuing-ca", la->issuing_ca, "Only devices signed by this CA");
  list->add_flag("--json", la->json_output, "Machine-readable output");
  list->footer(std::string("\nEXAMPLES:\n  vouchsafe device list --product widget\n") +
               k_exit_codes_help);
  list->callback([&action, la] { action = [la] { return list_command(*la, false); }; });

  auto sa = std::make_shared<ListArgs>();
  auto* show = noun->add_subcommand("show", "Show one device and its IDevID");
  show->add_option("--home", sa->home, k_home_help);
  show->add_option("SERIAL", sa->serial, "Device serial number")->required();
  show->add_flag("--json", sa->json_output, "Machine-readable output (certificate in base64)");
  show->add_flag("--pem", sa->pem, "Print only the IDevID certificate, PEM");
  show->footer(
      std::string(
          "\nEXAMPLES:\n  vouchsafe device show WG-SZ1-00000042 --pem | openssl x509 -text\n") +
      k_exit_codes_help);
  show->callback([&action, sa] { action = [sa] { return show_command(*sa); }; });

  auto ea = std::make_shared<ListArgs>();
  ea->format = "json";
  auto* exp = noun->add_subcommand(
      "export", "Export every device with its certificate, as JSON or CSV (RFC 4180), streaming");
  exp->add_option("--home", ea->home, k_home_help);
  exp->add_option("--format", ea->format, "json or csv")
      ->check(CLI::IsMember({"json", "csv"}))
      ->capture_default_str();
  exp->add_option("--out", ea->out, "Output file (default: standard output)");
  exp->add_option("--product", ea->product, "Only this product");
  exp->add_option("--serials", ea->serials_file,
                  "Only the devices named in FILE, one serial per line, in its order; a serial\n"
                  "the store lacks is reported after the others are written (exit 1)")
      ->excludes("--product");
  exp->footer(
      std::string(
          "\nEXAMPLES:\n  vouchsafe device export --format csv --out devices.csv\n"
          "  vouchsafe device export --format csv --serials shipment.txt --out shipment.csv\n") +
      k_exit_codes_help);
  exp->callback([&action, ea] { action = [ea] { return list_command(*ea, true); }; });
  auto ia = std::make_shared<ImportArgs>();
  auto* import_cmd = noun->add_subcommand(
      "import",
      "Record devices whose IDevIDs someone else issued (key mode imported), so that the\n"
      "MASA issues vouchers for them. Each end-entity certificate in the file (PEM, one or\n"
      "more, or DER) becomes a device: its serial is the subject serialNumber, its issuing\n"
      "CA the recorded one whose key signed it (record a foreign CA first with `vouchsafe\n"
      "pki issuing-ca import`). The product must be configured in vouchsafe.toml; its\n"
      "serial prefix applies to serials made here, not to imported ones. All or nothing:\n"
      "a certificate no recorded CA signed, without a serial, or with a serial recorded\n"
      "already leaves the store unchanged.");
  import_cmd->add_option("--home", ia->home, k_home_help);
  import_cmd
      ->add_option("--certificate", ia->options.certificate_path,
                   "The IDevID certificate(s), PEM or DER")
      ->required();
  import_cmd->add_option("--product", ia->options.product, "Product line of the devices")
      ->required();
  import_cmd->add_option("--issuing-ca", ia->options.issuing_ca,
                         "The issuing CA that signed them (default: found by signature)");
  import_cmd->add_option("--serial", ia->options.serial,
                         "Serial for a single certificate (default: its subject serialNumber)");
  import_cmd->add_flag("--json", ia->json_output, "Machine-readable output");
  import_cmd->footer(
      std::string("\nEXAMPLES:\n"
                  "  vouchsafe pki issuing-ca import --name highway-vendor "
                  "--certificate vendor-ca.pem\n"
                  "  vouchsafe device import --certificate idevids.pem --product "
                  "highway\n"
                  "  vouchsafe device import --certificate dev.der --product highway "
                  "--serial HW-0001\n") +
      k_exit_codes_help);
  import_cmd->callback([&action, ia] { action = [ia] { return import_command(*ia); }; });

  auto stolen_args = std::make_shared<std::array<std::string, 3>>();  // home, serial, reason
  auto stolen_undo = std::make_shared<bool>(false);
  auto* stolen = noun->add_subcommand(
      "report-stolen",
      "Mark a device stolen: the MASA refuses vouchers for it (403) and logs every attempt.");
  stolen->add_option("--home", (*stolen_args)[0], k_home_help);
  stolen->add_option("SERIAL", (*stolen_args)[1], "Device serial number")->required();
  stolen->add_option("--reason", (*stolen_args)[2], "Why (police report, customer call...)");
  stolen->add_flag("--undo", *stolen_undo, "Withdraw the report");
  stolen->footer(std::string("\nEXAMPLES:\n  vouchsafe device report-stolen WG-SZ1-00000042 "
                             "--reason \"case 1234\"\n  vouchsafe device report-stolen "
                             "WG-SZ1-00000042 --undo --reason \"recovered\"\n") +
                 k_exit_codes_help);
  stolen->callback([&action, stolen_args, stolen_undo] {
    action = [stolen_args, stolen_undo] {
      return report_stolen_command((*stolen_args)[0], (*stolen_args)[1], (*stolen_args)[2],
                                   *stolen_undo);
    };
  });

  auto owner_args = std::make_shared<std::array<std::string, 4>>();  // home, serial, anchor, file
  auto owner_replace = std::make_shared<bool>(false);
  auto* owner = noun->add_subcommand(
      "assign-owner",
      "Record the owner's CA certificate(s) for a device, or many devices from the sales\n"
      "system (--import: CSV lines SERIAL,BASE64_DER_CERTIFICATE; every line is checked\n"
      "before any is applied). Under the known-customer policy only registrars under these\n"
      "anchors get vouchers.");
  owner->add_option("--home", (*owner_args)[0], k_home_help);
  owner->add_option("SERIAL", (*owner_args)[1], "Device serial number");
  owner->add_option("--anchor", (*owner_args)[2], "The owner's CA certificate(s), PEM or DER");
  owner->add_option("--import", (*owner_args)[3], "CSV file from the sales system");
  owner->add_flag("--replace", *owner_replace, "Replace the device's anchors (resale)");
  owner->footer(std::string("\nEXAMPLES:\n  vouchsafe device assign-owner WG-SZ1-00000042 "
                            "--anchor acme-ca.pem\n  vouchsafe device assign-owner --import "
                            "sales-2026-11.csv\n") +
                k_exit_codes_help);
  owner->callback([&action, owner_args, owner_replace] {
    action = [owner_args, owner_replace] {
      return assign_owner_command((*owner_args)[0], (*owner_args)[1], (*owner_args)[2],
                                  (*owner_args)[3], *owner_replace);
    };
  });

  auto policy_args = std::make_shared<std::array<std::string, 3>>();  // home, serial, policy
  auto* policy = noun->add_subcommand(
      "set-policy",
      "Set a device's ownership policy: open (any registrar, trust on first use, logged),\n"
      "known-customer (only registrars under its owner anchors), or product (follow the\n"
      "product's policy).");
  policy->add_option("--home", (*policy_args)[0], k_home_help);
  policy->add_option("SERIAL", (*policy_args)[1], "Device serial number")->required();
  policy->add_option("POLICY", (*policy_args)[2], "open, known-customer or product")
      ->required()
      ->check(CLI::IsMember({"open", "known-customer", "product"}));
  policy->footer(std::string("\nEXAMPLES:\n  vouchsafe device set-policy WG-SZ1-00000042 "
                             "known-customer\n") +
                 k_exit_codes_help);
  policy->callback([&action, policy_args] {
    action = [policy_args] {
      return set_policy_command((*policy_args)[0], (*policy_args)[1], (*policy_args)[2]);
    };
  });
}

}  // namespace vouchsafe::cli
