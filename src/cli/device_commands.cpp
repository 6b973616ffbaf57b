// `vouchsafe device list | show | export`: the asset store for the sales and
// asset systems.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/date_time.h"
#include "crypto/keys.h"
#include "factory/authority.h"

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
            {"certificate_sha256", hex_encode(crypto::sha256(d.certificate_der))}};
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
  std::string home, product, issuing_ca, format = "text", out, serial;
  bool json_output = false;
  bool pem = false;
};

int list_command(const ListArgs& a, bool full_export) {
  auto store = factory::open_store(factory::resolve_home(a.home));
  if (!store) return report_error(store.error());
  std::ofstream file;
  if (!a.out.empty()) {
    file.open(a.out, std::ios::trunc);
    if (!file) return report_error({ErrorCode::io_error, "cannot write " + a.out});
  }
  std::ostream& out = a.out.empty() ? std::cout : file;
  const std::string format = a.json_output ? "json" : a.format;
  bool first = true;
  if (format == "json") out << "[";
  if (format == "csv") {
    out << "serial,product,issuing_ca,key_mode,issued_at,reissue_count,certificate_sha256"
        << (full_export ? ",certificate" : "") << "\r\n";
  }
  // Streams: an export of millions of devices never sits in memory.
  auto status =
      (*store)->for_each_device({a.product, a.issuing_ca}, [&](const store::DeviceRecord& d) {
        const json j = device_json(d, full_export);
        if (format == "json") {
          out << (first ? "\n  " : ",\n  ") << j.dump();
        } else if (format == "csv") {
          out << csv_field(d.serial) << "," << csv_field(d.product) << ","
              << csv_field(d.issuing_ca) << "," << j["key_mode"].get<std::string>() << ","
              << j["issued_at"].get<std::string>() << "," << d.reissue_count << ","
              << j["certificate_sha256"].get<std::string>();
          if (full_export) out << "," << base64_encode(d.certificate_der);
          out << "\r\n";
        } else {
          out << d.serial << "\t" << d.product << "\t" << d.issuing_ca << "\t"
              << j["key_mode"].get<std::string>() << "\t" << j["issued_at"].get<std::string>()
              << "\n";
        }
        first = false;
        return static_cast<bool>(out);
      });
  if (format == "json") out << (first ? "]\n" : "\n]\n");
  if (!status) return report_error(status.error());
  out.flush();
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
  exp->footer(
      std::string("\nEXAMPLES:\n  vouchsafe device export --format csv --out devices.csv\n") +
      k_exit_codes_help);
  exp->callback([&action, ea] { action = [ea] { return list_command(*ea, true); }; });
}

}  // namespace vouchsafe::cli
