// Home resolution and factory configuration (TOML).
#include "factory/home.h"

#include <cctype>
#include <cstdlib>

#include "core/config_schema.h"
#include "core/file.h"
#include "crypto/der.h"
#include "crypto/keys.h"

namespace vouchsafe::factory {

Home resolve_home(const std::string& flag) {
  Home home{std::filesystem::path("var") / "vouchsafe", {}};
  if (!flag.empty()) {
    home.root = flag;
  } else if (const char* env = std::getenv("VOUCHSAFE_HOME"); env != nullptr && *env != '\0') {
    home.root = env;
  }
  if (const char* env = std::getenv("VOUCHSAFE_STORE"); env != nullptr) home.store = env;
  return home;
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

namespace {

// RFC 8995 §2.3.2: the id-pe-masa-url extension holds only the authority
// ("masa.example.com:443"); the pledge adds the scheme and the path.
std::optional<std::string> masa_url_problem(std::string_view url) {
  if (url.empty()) return "empty";
  if (url.size() > 255) return "longer than 255 characters";
  for (const char c : url) {
    if (c <= 0x20 || c >= 0x7F) return "not printable ASCII without spaces";
    if (c == '/') return "a URL, not an authority: drop the scheme and the path";
  }
  return std::nullopt;
}

std::optional<std::string> oid_problem(std::string_view oid) {
  if (!crypto::der::oid_from_text(oid)) return "not a dotted OID";
  return std::nullopt;
}

// Serials are PREFIX-FACTORY-SEQUENCE in a PrintableString: letters and
// digits keep the prefix unambiguous and printable.
std::optional<std::string> prefix_problem(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > 16) return "not 1 to 16 characters";
  for (const char c : prefix) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) return "not letters and digits only";
  }
  return std::nullopt;
}

config::Type<std::string> organization_type() {
  return config::text(1, 64);
}

config::Type<std::string> masa_url_type() {
  return config::string_where(
      "an authority such as \"masa.example.com:443\", at most 255 printable characters",
      masa_url_problem);
}

config::Schema<FactoryConfig> make_schema() {
  using S = FactoryConfig;
  config::Schema<ProductConfig> product;
  product
      .key("hw_type", &ProductConfig::hw_type_oid,
           config::string_where("a dotted OID such as \"1.3.6.1.4.1.99999.1.1\"", oid_problem))
      .required()
      .key("serial_prefix", &ProductConfig::serial_prefix,
           config::string_where("1 to 16 letters and digits", prefix_problem))
      .required()
      .key("masa_key_slots", &ProductConfig::masa_key_slots, config::integer<std::int64_t>(0, 1000))
      .key("masa_key_rule", &ProductConfig::masa_key_rule,
           config::one_of<MasaKeyRule>({{"serial-modulo", MasaKeyRule::serial_modulo},
                                        {"date-window", MasaKeyRule::date_window}}))
      .key("masa_key_window_days", &ProductConfig::masa_key_window_days,
           config::integer<std::int64_t>(1, 36'500));
  config::Schema<S> s;
  s.section("pki")
      .key("organization", &S::organization, organization_type(),
           "The organization (subject O) of the CAs and IDevIDs.")
      .key("masa_url", &S::masa_url, masa_url_type(),
           "The MASA's authority, written into every IDevID (RFC 8995 §2.3.2).")
      .key("voucher_authority_oid", &S::voucher_authority_oid,
           config::string_where("a dotted OID such as \"1.3.6.1.4.1.99999.2.1\"", oid_problem),
           "The certificate policy that marks MASA voucher signers certified under the IDevID "
           "root (MASA key architecture 3): an OID of your private enterprise arc.")
      .key("store", &S::store, config::text(0, 4096),
           "The asset store every command uses, shared with the MASA: a PostgreSQL DSN "
           "(postgresql://...); \"\": assets.db in this home. $VOUCHSAFE_STORE and --store "
           "override it.");
  s.section("idevid")
      .key("organizational_unit", &S::idevid_organizational_unit, config::text(0, 64),
           "The IDevIDs' subject OU; \"\": none.")
      .key("common_name", &S::idevid_common_name, config::text(0, 64),
           "{serial} is replaced by the device serial number; \"\": no CN.");
  s.section("issuing_ca", "Automatic retirement of issuing CAs; 0 means never.")
      .key("max_certificates", &S::issuing_ca_max_certificates,
           config::integer<std::int64_t>(0, k_max_issuing_ca_certificates),
           "Certificates an issuing CA signs before it retires.")
      .key("max_age_days", &S::issuing_ca_max_age_days,
           config::integer<std::int64_t>(0, k_max_issuing_ca_age_days),
           "Days after which an issuing CA retires.");
  s.tables("products", &S::products, product,
           "One table per product line: hw_type, the hardwareModuleName hwType OID (from your "
           "private enterprise arc), and serial_prefix, unique per product and none the prefix "
           "of another. Rotating MASA keys (architecture 4): masa_key_slots = N binds each device "
           "at manufacture to key \"PRODUCT-SLOT\" by masa_key_rule: \"serial-modulo\" (the "
           "serial's trailing number mod N) or \"date-window\" (whole masa_key_window_days "
           "windows since 1970, mod N).");
  return s;
}

const config::Schema<FactoryConfig>& schema() {
  static const auto k_schema = make_schema();
  return k_schema;
}

}  // namespace

Status check_init_values(const std::string& organization, const std::string& masa_url) {
  TRY(config::parse_text(organization_type(), organization, "--organization"));
  TRY(config::parse_text(masa_url_type(), masa_url, "--masa-url"));
  return ok();
}

std::string config_text(const FactoryConfig& config) {
  return schema().write(config,
                        "# Vouchsafe manufacturer configuration. Every key is checked: one that\n"
                        "# is unknown, of the wrong type or out of range stops every command.\n");
}

std::string default_config_text(const std::string& organization, const std::string& masa_url) {
  FactoryConfig c;
  c.organization = organization;
  c.masa_url = masa_url;
  c.idevid_common_name = "{serial}";
  c.products["widget"] = {"widget", "1.3.6.1.4.1.99999.1.1", "WG"};
  return config_text(c);
}

Result<FactoryConfig> parse_config(std::string_view toml_text, std::string_view origin) {
  ASSIGN_OR_RETURN(const auto doc, config::parse_toml(toml_text, origin));
  FactoryConfig config;
  TRY(schema().read(doc, origin, config));
  // Two products whose prefixes overlap could issue the same serial.
  const auto line = [&doc](const std::string& name) {
    const auto* node = doc["products"][name]["serial_prefix"].node();
    return node != nullptr ? node->source().begin.line : 0U;
  };
  for (auto& [name, p] : config.products) p.name = name;
  for (const auto& [name, p] : config.products) {
    for (const auto& [other_name, other] : config.products) {
      if (other_name >= name) break;
      const auto& a = p.serial_prefix;
      const auto& b = other.serial_prefix;
      if (a.rfind(b, 0) != 0 && b.rfind(a, 0) != 0) continue;
      // Named at the later of the two in the file: the one just added.
      const bool later = line(name) >= line(other_name);
      const auto& [here, there] = later ? std::pair(&p, &other) : std::pair(&other, &p);
      const config::Place at(std::string(origin), config::detail::join_path("products", here->name),
                             "serial_prefix", "");
      return fail(ErrorCode::usage,
                  at.prefix(line(here->name)) + config::quote(here->serial_prefix) + " and " +
                      config::quote(there->serial_prefix) + " of " +
                      config::detail::header(config::detail::join_path("products", there->name)) +
                      " overlap; each product needs a prefix of its own");
    }
  }
  return config;
}

Result<FactoryConfig> load_config(const Home& home) {
  const auto path = home.config_file().string();
  auto text = read_file(path, 1U << 20U);
  if (!text) {
    return fail(ErrorCode::usage,
                text.error().message +
                    (std::filesystem::exists(path) ? "" : " (run `vouchsafe pki init`)"));
  }
  return parse_config(as_text(*text), path);
}

Result<std::string> store_location(const Home& home) {
  if (!home.store.empty()) return home.store;
  if (std::filesystem::exists(home.config_file())) {
    ASSIGN_OR_RETURN(auto config, load_config(home));
    if (!config.store.empty()) return config.store;
  }
  return home.store_file().string();
}

std::string masa_key_id(const ProductConfig& product, const std::string& serial,
                        std::int64_t issued_at) {
  if (product.masa_key_slots <= 0) return {};
  const auto slots = static_cast<std::uint64_t>(product.masa_key_slots);
  std::uint64_t slot = 0;
  if (product.masa_key_rule == MasaKeyRule::date_window) {
    const std::int64_t window = product.masa_key_window_days * 86400;
    slot = static_cast<std::uint64_t>(std::max<std::int64_t>(issued_at, 0) / window) % slots;
  } else {
    // The trailing digits, read modulo N as they come so any length fits.
    std::size_t first = serial.size();
    while (first > 0 && std::isdigit(static_cast<unsigned char>(serial[first - 1])) != 0) --first;
    if (first < serial.size()) {
      for (std::size_t i = first; i < serial.size(); ++i) {
        slot = (slot * 10 + static_cast<std::uint64_t>(serial[i] - '0')) % slots;
      }
    } else {
      const Bytes digest = crypto::sha256(as_bytes(serial));
      std::uint64_t v = 0;
      for (std::size_t i = 0; i < 8; ++i) v = (v << 8U) | digest[i];
      slot = v % slots;
    }
  }
  return product.name + "-" + std::to_string(slot);
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
