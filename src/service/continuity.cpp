// Continuity bundles.
#include "service/continuity.h"

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/file.h"
#include "factory/authority.h"
#include "store/asset_store.h"

namespace vouchsafe::service {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view k_format = "vouchsafe-masa-continuity";
constexpr std::string_view k_aad = "vouchsafe-masa-continuity|1";

Unexpected bad(const std::string& why) {
  return fail(ErrorCode::invalid_value, "not a valid continuity bundle: " + why);
}

// The home's files a MASA needs: configuration, CA keys (encrypted) and
// certificates, and HOME/masa. Not the store (carried as records), not
// share files (they belong to their holders, not to any machine).
std::vector<fs::path> home_files(const factory::Home& home) {
  std::vector<fs::path> out;
  for (const auto& f : {home.config_file(), home.root / "masa.toml"}) {
    if (fs::is_regular_file(f)) out.push_back(f);
  }
  for (const auto& dir : {home.keys_dir(), home.certs_dir(), home.root / "masa"}) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_regular_file()) out.push_back(e.path());
    }
  }
  return out;
}

std::string toml_escaped(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string rebase(const std::string& value, const std::string& from, const std::string& to) {
  if (!from.empty() && value.starts_with(from)) return to + value.substr(from.size());
  return value;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

json ca_json(const store::CaRecord& ca) {
  return {{"name", ca.name},
          {"role", ca.role == store::CaRole::root ? "root" : "issuing"},
          {"factory", ca.factory},
          {"product", ca.product},
          {"certificate", base64_encode(ca.certificate_der)},
          {"key_reference", ca.key_reference},
          {"status", ca.status == store::CaStatus::active ? "active" : "retired"},
          {"created_at", ca.created_at},
          {"retired_at", ca.retired_at ? json(*ca.retired_at) : json(nullptr)},
          {"max_certificates", ca.max_certificates},
          {"max_age_seconds", ca.max_age_seconds}};
}

// Strict readers for the bundle's members.
Result<const json*> member(const json& j, const char* name, json::value_t type) {
  const auto it = j.find(name);
  if (it == j.end() || it->type() != type) {
    // An unsigned number is also an integer where one is asked for.
    if (it != j.end() && type == json::value_t::number_integer && it->is_number_unsigned()) {
      return &*it;
    }
    return bad(std::string("member \"") + name + "\" missing or of the wrong type");
  }
  return &*it;
}
Result<std::string> text(const json& j, const char* name) {
  ASSIGN_OR_RETURN(const json* v, member(j, name, json::value_t::string));
  return v->get<std::string>();
}
Result<std::int64_t> integer(const json& j, const char* name) {
  ASSIGN_OR_RETURN(const json* v, member(j, name, json::value_t::number_integer));
  return v->get<std::int64_t>();
}
Result<Bytes> bytes(const json& j, const char* name) {
  ASSIGN_OR_RETURN(auto t, text(j, name));
  auto b = base64_decode(t);
  if (!b) return bad(std::string("member \"") + name + "\" is not base64");
  return std::move(b).value();
}
Result<const json*> array(const json& j, const char* name) {
  return member(j, name, json::value_t::array);
}

Result<store::CaRecord> read_ca(const json& j, const std::string& from, const std::string& to) {
  if (!j.is_object()) return bad("a CA is not an object");
  store::CaRecord ca;
  ASSIGN_OR_RETURN(ca.name, text(j, "name"));
  ASSIGN_OR_RETURN(auto role, text(j, "role"));
  ca.role = role == "root" ? store::CaRole::root : store::CaRole::issuing;
  ASSIGN_OR_RETURN(ca.factory, text(j, "factory"));
  ASSIGN_OR_RETURN(ca.product, text(j, "product"));
  ASSIGN_OR_RETURN(ca.certificate_der, bytes(j, "certificate"));
  ASSIGN_OR_RETURN(auto ref, text(j, "key_reference"));
  ca.key_reference = rebase(ref, from, to);
  ASSIGN_OR_RETURN(auto status, text(j, "status"));
  ca.status = status == "active" ? store::CaStatus::active : store::CaStatus::retired;
  ASSIGN_OR_RETURN(ca.created_at, integer(j, "created_at"));
  if (j.contains("retired_at") && !j["retired_at"].is_null()) {
    ASSIGN_OR_RETURN(ca.retired_at, integer(j, "retired_at"));
  }
  ASSIGN_OR_RETURN(ca.max_certificates, integer(j, "max_certificates"));
  ASSIGN_OR_RETURN(ca.max_age_seconds, integer(j, "max_age_seconds"));
  return ca;
}

}  // namespace

Result<ContinuityCounts> export_continuity(const factory::Home& home,
                                           const std::string& masa_config, const std::string& out,
                                           const std::string& passphrase,
                                           const crypto::ScryptCost& cost) {
  if (passphrase.size() < 8) {
    return fail(ErrorCode::bad_passphrase, "the bundle passphrase needs at least 8 characters");
  }
  if (!fs::is_regular_file(masa_config)) {
    return fail(ErrorCode::usage, "no MASA in " + home.root.string() + " (" + masa_config +
                                      "): run `vouchsafe masa init` first");
  }
  if (fs::exists(out)) return fail(ErrorCode::usage, out + " exists; refusing to overwrite it");
  ContinuityCounts counts;
  const std::string root = fs::absolute(home.root).lexically_normal().string();
  json b;
  b["format"] = k_format;
  b["version"] = 1;
  b["created_at"] = static_cast<std::int64_t>(std::time(nullptr));
  b["home"] = root;
  json files = json::array();
  for (const auto& path : home_files(home)) {
    ASSIGN_OR_RETURN(auto data, read_file(path.string(), 16U << 20U));
    const auto relative = fs::relative(path, home.root).string();
    const auto perms = fs::status(path).permissions();
    files.push_back({{"path", relative},
                     {"mode", static_cast<int>(perms & fs::perms::mask)},
                     {"data", base64_encode(data)}});
    ++counts.files;
  }
  if (fs::path(masa_config).parent_path() != home.root &&
      fs::absolute(masa_config) != fs::absolute(home.root / "masa.toml")) {
    ASSIGN_OR_RETURN(auto data, read_file(masa_config, 1U << 20U));
    files.push_back({{"path", "masa.toml"}, {"mode", 0600}, {"data", base64_encode(data)}});
    ++counts.files;
  }
  b["files"] = std::move(files);

  ASSIGN_OR_RETURN(auto store, factory::open_store(home));
  ASSIGN_OR_RETURN(auto cas, store->list_cas());
  json ca_list = json::array();
  for (const auto& ca : cas) ca_list.push_back(ca_json(ca));
  counts.cas = cas.size();
  b["cas"] = std::move(ca_list);

  json devices = json::array();
  Status failed = ok();
  TRY(store->for_each_device({}, [&](const store::DeviceRecord& d) {
    json j = {{"serial", d.serial},
              {"product", d.product},
              {"issuing_ca", d.issuing_ca},
              {"certificate", base64_encode(d.certificate_der)},
              {"key_mode", std::string(store::key_mode_name(d.key_mode))},
              {"issued_at", d.issued_at},
              {"reissue_count", d.reissue_count},
              {"reissue_reason", d.reissue_reason},
              {"masa_key_id", d.masa_key_id}};
    auto status = store->device_status(d.serial);
    auto log = store->audit_log(d.serial);
    if (!status || !log) {
      failed = !status ? Status(fail(status.error())) : Status(fail(log.error()));
      return false;
    }
    j["stolen"] = status->stolen;
    j["ownership"] = status->ownership
                         ? json(std::string(store::ownership_policy_name(*status->ownership)))
                         : json(nullptr);
    json anchors = json::array();
    for (const auto& a : status->owner_anchors) anchors.push_back(base64_encode(a));
    j["owner_anchors"] = std::move(anchors);
    json audit = json::array();
    for (const auto& e : *log) {
      audit.push_back({{"date", e.date},
                       {"domain_id", e.domain_id},
                       {"nonce", e.nonce ? json(*e.nonce) : json(nullptr)},
                       {"assertion", e.assertion},
                       {"registrar", e.registrar_fingerprint}});
      ++counts.audit_entries;
    }
    j["audit"] = std::move(audit);
    devices.push_back(std::move(j));
    ++counts.devices;
    return true;
  }));
  TRY(failed);
  b["devices"] = std::move(devices);

  ASSIGN_OR_RETURN(auto signers, store->list_masa_signers());
  json signer_list = json::array();
  for (const auto& s : signers) {
    signer_list.push_back({{"scope", s.scope},
                           {"key_reference", s.key_reference},
                           {"chain_pem", s.chain_pem},
                           {"created_at", s.created_at}});
  }
  counts.signers = signers.size();
  b["masa_signers"] = std::move(signer_list);

  const std::string plain = b.dump();
  ASSIGN_OR_RETURN(auto box, crypto::seal(as_bytes(plain), passphrase, as_bytes(k_aad), cost));
  const json envelope = {{"format", k_format},
                         {"version", 1},
                         {"kdf",
                          {{"name", "scrypt"},
                           {"n", box.cost.n},
                           {"r", box.cost.r},
                           {"p", box.cost.p},
                           {"salt", base64_encode(box.salt)}}},
                         {"cipher",
                          {{"name", "AES-256-GCM"},
                           {"nonce", base64_encode(box.nonce)},
                           {"tag", base64_encode(box.tag)}}},
                         {"ciphertext", base64_encode(box.ciphertext)}};
  TRY(write_file_atomic(out, as_bytes(envelope.dump()), 0600));
  return counts;
}

Result<ContinuityCounts> import_continuity(const factory::Home& home, const std::string& bundle,
                                           const std::string& passphrase,
                                           const std::string& store_location) {
  ASSIGN_OR_RETURN(auto raw, read_file(bundle, k_max_continuity_bundle));
  // The envelope first: nothing inside is parsed before it authenticates.
  const json envelope = json::parse(raw.begin(), raw.end(), nullptr, false);
  if (envelope.is_discarded() || !envelope.is_object()) return bad("not JSON");
  ASSIGN_OR_RETURN(auto format, text(envelope, "format"));
  if (format != k_format) return bad("format is not " + std::string(k_format));
  ASSIGN_OR_RETURN(const json* kdf, member(envelope, "kdf", json::value_t::object));
  ASSIGN_OR_RETURN(const json* cipher, member(envelope, "cipher", json::value_t::object));
  crypto::SealedBox box;
  ASSIGN_OR_RETURN(auto n, integer(*kdf, "n"));
  ASSIGN_OR_RETURN(auto r, integer(*kdf, "r"));
  ASSIGN_OR_RETURN(auto p, integer(*kdf, "p"));
  if (n <= 0 || r <= 0 || p <= 0 || r > 16 || p > 4) return bad("scrypt parameters out of range");
  box.cost = {static_cast<std::uint64_t>(n), static_cast<std::uint32_t>(r),
              static_cast<std::uint32_t>(p)};
  ASSIGN_OR_RETURN(box.salt, bytes(*kdf, "salt"));
  ASSIGN_OR_RETURN(box.nonce, bytes(*cipher, "nonce"));
  ASSIGN_OR_RETURN(box.tag, bytes(*cipher, "tag"));
  ASSIGN_OR_RETURN(box.ciphertext, bytes(envelope, "ciphertext"));
  auto plain = crypto::open_box(box, passphrase, as_bytes(k_aad));
  if (!plain) {
    if (plain.error().code == ErrorCode::bad_passphrase) {
      return fail(ErrorCode::bad_passphrase,
                  "cannot open " + bundle + ": wrong bundle passphrase, or the bundle was altered");
    }
    return bad(plain.error().message);
  }
  const json b = json::parse(plain->data(), plain->data() + plain->size(), nullptr, false);
  if (b.is_discarded() || !b.is_object()) return bad("its contents are not JSON");

  // A fresh home only: restoring over a live PKI or MASA would mix two.
  if (fs::exists(home.config_file()) || fs::exists(home.root / "masa.toml")) {
    return fail(ErrorCode::usage,
                home.root.string() + " holds a PKI or MASA already: import into a fresh home");
  }
  ASSIGN_OR_RETURN(auto old_root, text(b, "home"));
  const std::string new_root = fs::absolute(home.root).lexically_normal().string();
  TRY(create_private_directories(new_root));
  std::vector<std::string> written;
  const auto undo = [&written] {
    for (const auto& f : written) {
      std::error_code ec;
      fs::remove(f, ec);
    }
  };
  ContinuityCounts counts;
  auto restore_files = [&]() -> Status {
    ASSIGN_OR_RETURN(const json* files, array(b, "files"));
    for (const auto& f : *files) {
      if (!f.is_object()) return bad("a file entry is not an object");
      ASSIGN_OR_RETURN(auto relative, text(f, "path"));
      const fs::path rel(relative);
      // Only paths inside the home: no "..", nothing absolute.
      if (rel.is_absolute() || rel.empty() ||
          std::any_of(rel.begin(), rel.end(), [](const fs::path& part) { return part == ".."; })) {
        return bad("file path '" + relative.substr(0, 64) + "' leaves the home");
      }
      ASSIGN_OR_RETURN(auto data, bytes(f, "data"));
      ASSIGN_OR_RETURN(auto mode, integer(f, "mode"));
      const fs::path target = fs::path(new_root) / rel;
      TRY(create_private_directories(target.parent_path().string()));
      if (relative == "masa.toml") {
        // Paths under the old home now live under the new one.
        std::string text_data(data.begin(), data.end());
        text_data = replace_all(text_data, "\"" + toml_escaped(old_root) + "/",
                                "\"" + toml_escaped(new_root) + "/");
        text_data = replace_all(text_data, "\"" + toml_escaped(old_root) + "\"",
                                "\"" + toml_escaped(new_root) + "\"");
        data = to_bytes(text_data);
      }
      TRY(write_file_atomic(target.string(), data, static_cast<unsigned>(mode) & 0777U));
      written.push_back(target.string());
      ++counts.files;
    }
    return ok();
  };
  if (auto restored = restore_files(); !restored) {
    undo();
    return fail(restored.error());
  }
  // The records, into the new home's store (or the one named).
  auto restore_records = [&]() -> Status {
    ASSIGN_OR_RETURN(auto store, store_location.empty() ? factory::open_store(home)
                                                        : store::open_store(store_location));
    if (!store_location.empty()) {
      ASSIGN_OR_RETURN(auto existing, store->count_devices());
      if (existing != 0) return fail(ErrorCode::usage, "the store holds devices already");
    }
    ASSIGN_OR_RETURN(const json* cas, array(b, "cas"));
    for (const auto& c : *cas) {
      ASSIGN_OR_RETURN(auto ca, read_ca(c, old_root, new_root));
      TRY(store->add_ca(ca));
      ++counts.cas;
    }
    ASSIGN_OR_RETURN(const json* devices, array(b, "devices"));
    for (const auto& j : *devices) {
      if (!j.is_object()) return bad("a device is not an object");
      store::DeviceRecord d;
      ASSIGN_OR_RETURN(d.serial, text(j, "serial"));
      ASSIGN_OR_RETURN(d.product, text(j, "product"));
      ASSIGN_OR_RETURN(d.issuing_ca, text(j, "issuing_ca"));
      ASSIGN_OR_RETURN(d.certificate_der, bytes(j, "certificate"));
      ASSIGN_OR_RETURN(auto mode, text(j, "key_mode"));
      ASSIGN_OR_RETURN(d.key_mode, store::parse_key_mode(mode));
      ASSIGN_OR_RETURN(d.issued_at, integer(j, "issued_at"));
      ASSIGN_OR_RETURN(auto reissues, integer(j, "reissue_count"));
      d.reissue_count = static_cast<int>(reissues);
      ASSIGN_OR_RETURN(d.reissue_reason, text(j, "reissue_reason"));
      ASSIGN_OR_RETURN(d.masa_key_id, text(j, "masa_key_id"));
      TRY(store->add_devices(std::span<const store::DeviceRecord>(&d, 1)));
      ASSIGN_OR_RETURN(const json* stolen, member(j, "stolen", json::value_t::boolean));
      if (stolen->get<bool>()) {
        TRY(store->set_stolen(d.serial, true, "restored from a continuity bundle",
                              static_cast<std::int64_t>(std::time(nullptr))));
      }
      if (j.contains("ownership") && !j["ownership"].is_null()) {
        ASSIGN_OR_RETURN(auto name, text(j, "ownership"));
        ASSIGN_OR_RETURN(auto policy, store::parse_ownership_policy(name));
        TRY(store->set_ownership_policy(d.serial, policy));
      }
      ASSIGN_OR_RETURN(const json* anchors, array(j, "owner_anchors"));
      for (const auto& a : *anchors) {
        if (!a.is_string()) return bad("an owner anchor is not text");
        auto der = base64_decode(a.get<std::string>());
        if (!der) return bad("an owner anchor is not base64");
        TRY(store->add_owner_anchor(d.serial, *der, false));
      }
      ASSIGN_OR_RETURN(const json* audit, array(j, "audit"));
      for (const auto& e : *audit) {
        if (!e.is_object()) return bad("an audit entry is not an object");
        store::AuditEntry entry;
        ASSIGN_OR_RETURN(entry.date, integer(e, "date"));
        ASSIGN_OR_RETURN(entry.domain_id, text(e, "domain_id"));
        if (e.contains("nonce") && !e["nonce"].is_null()) {
          ASSIGN_OR_RETURN(entry.nonce, text(e, "nonce"));
        }
        ASSIGN_OR_RETURN(entry.assertion, text(e, "assertion"));
        ASSIGN_OR_RETURN(entry.registrar_fingerprint, text(e, "registrar"));
        TRY(store->append_audit(d.serial, entry));
        ++counts.audit_entries;
      }
      ++counts.devices;
    }
    ASSIGN_OR_RETURN(const json* signers, array(b, "masa_signers"));
    for (const auto& s : *signers) {
      if (!s.is_object()) return bad("a signer record is not an object");
      store::MasaSignerRecord record;
      ASSIGN_OR_RETURN(record.scope, text(s, "scope"));
      ASSIGN_OR_RETURN(auto ref, text(s, "key_reference"));
      record.key_reference = rebase(ref, old_root, new_root);
      ASSIGN_OR_RETURN(record.chain_pem, text(s, "chain_pem"));
      ASSIGN_OR_RETURN(record.created_at, integer(s, "created_at"));
      TRY(store->add_masa_signer(record));
      ++counts.signers;
    }
    return ok();
  };
  if (auto restored = restore_records(); !restored) {
    undo();
    if (store_location.empty()) {
      for (const auto* suffix : {"", "-wal", "-shm"}) {
        std::error_code ec;
        fs::remove(home.store_file().string() + suffix, ec);
      }
    }
    return fail(restored.error());
  }
  return counts;
}

}  // namespace vouchsafe::service
