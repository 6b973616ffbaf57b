// Home resolution and factory configuration (TOML).
#include "factory/home.h"

#include <toml++/toml.h>

#include <cstdlib>

namespace vouchsafe::factory {

Home resolve_home(const std::string& flag) {
  if (!flag.empty()) return Home{flag};
  if (const char* env = std::getenv("VOUCHSAFE_HOME"); env != nullptr && *env != '\0') {
    return Home{env};
  }
  return Home{std::filesystem::path("var") / "vouchsafe"};
}

Result<const ProductConfig*> FactoryConfig::product(const std::string& name) const {
  auto it = products.find(name);
  if (it == products.end()) {
    std::string known;
    for (const auto& [n, p] : products) known += (known.empty() ? "" : ", ") + n;
    return fail(ErrorCode::usage, "unknown product '" + name +
                                      "' (configured: " + (known.empty() ? "none" : known) +
                                      "); add it under [products." + name + "] in vouchsafe.toml");
  }
  return &it->second;
}

Result<const ProductConfig*> FactoryConfig::product_for_serial(const std::string& serial) const {
  for (const auto& [name, p] : products) {
    if (serial.rfind(p.serial_prefix + "-", 0) == 0) return &p;
  }
  return fail(ErrorCode::invalid_value, "serial '" + serial.substr(0, 64) +
                                            "' carries no configured product prefix "
                                            "(PREFIX-FACTORY-SEQUENCE); give --product");
}

std::string default_config_text(const std::string& organization, const std::string& masa_url) {
  return "# Vouchsafe manufacturer configuration.\n"
         "\n"
         "[pki]\n"
         "organization = \"" +
         organization +
         "\"\n"
         "# The MASA's authority, written into every IDevID (RFC 8995 §2.3.2).\n"
         "masa_url = \"" +
         masa_url +
         "\"\n"
         "\n"
         "[idevid]\n"
         "organizational_unit = \"\"\n"
         "# {serial} is replaced by the device serial number; empty for no CN.\n"
         "common_name = \"{serial}\"\n"
         "\n"
         "[issuing_ca]\n"
         "# Automatic retirement; 0 means never.\n"
         "max_certificates = 0\n"
         "max_age_days = 0\n"
         "\n"
         "# One table per product line: the hardwareModuleName hwType OID (from\n"
         "# your private enterprise arc) and the serial prefix, unique per product.\n"
         "[products.widget]\n"
         "hw_type = \"1.3.6.1.4.1.99999.1.1\"\n"
         "serial_prefix = \"WG\"\n";
}

Result<FactoryConfig> load_config(const Home& home) {
  const auto path = home.config_file().string();
  toml::table doc;
  try {
    doc = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return fail(ErrorCode::usage,
                path + ":" + std::to_string(where.line) + ": " + std::string(e.description()) +
                    (std::filesystem::exists(path) ? "" : " (run `vouchsafe pki init`)"));
  }
  FactoryConfig config;
  config.organization = doc["pki"]["organization"].value_or(config.organization);
  config.masa_url = doc["pki"]["masa_url"].value_or(config.masa_url);
  config.idevid_organizational_unit = doc["idevid"]["organizational_unit"].value_or(std::string());
  config.idevid_common_name = doc["idevid"]["common_name"].value_or(std::string());
  config.issuing_ca_max_certificates =
      doc["issuing_ca"]["max_certificates"].value_or(std::int64_t{0});
  config.issuing_ca_max_age_days = doc["issuing_ca"]["max_age_days"].value_or(std::int64_t{0});
  if (config.masa_url.find('/') != std::string::npos) {
    return fail(ErrorCode::usage, path +
                                      ": masa_url is an authority (host[:port]), without '/' "
                                      "(RFC 8995 §2.3.2)");
  }
  if (const auto* products = doc["products"].as_table()) {
    for (const auto& [name, node] : *products) {
      ProductConfig p;
      p.name = std::string(name.str());
      if (const auto* table = node.as_table(); table != nullptr) {
        p.hw_type_oid = (*table)["hw_type"].value_or(std::string());
        p.serial_prefix = (*table)["serial_prefix"].value_or(std::string());
      }
      if (p.hw_type_oid.empty() || p.serial_prefix.empty()) {
        return fail(ErrorCode::usage,
                    path + ": product '" + p.name + "' needs hw_type (an OID) and serial_prefix");
      }
      for (const auto& [other_name, other] : config.products) {
        const auto& a = p.serial_prefix;
        const auto& b = other.serial_prefix;
        if (a.rfind(b, 0) == 0 || b.rfind(a, 0) == 0) {
          return fail(ErrorCode::usage, path + ": serial prefixes of '" + p.name + "' and '" +
                                            other_name + "' overlap; each product needs its own");
        }
      }
      config.products.emplace(p.name, std::move(p));
    }
  }
  return config;
}

Status check_structured_serial(const ProductConfig& product, const std::string& serial) {
  const std::string prefix = product.serial_prefix + "-";
  if (serial.rfind(prefix, 0) != 0 || serial.size() == prefix.size()) {
    return fail(ErrorCode::invalid_value,
                "serial '" + serial.substr(0, 64) + "' does not belong to product " + product.name +
                    ": it must read " + product.serial_prefix + "-<factory>-<sequence>");
  }
  return ok();
}

}  // namespace vouchsafe::factory
