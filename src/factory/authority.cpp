// CA life cycle.
#include "factory/authority.h"

#include <fcntl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <utility>

#include "core/file.h"
#include "crypto/signer.h"

namespace vouchsafe::factory {
namespace {

namespace fs = std::filesystem;

std::int64_t now_seconds() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

Status make_private_dirs(const Home& home) {
  TRY(create_private_directories(home.keys_dir().string()));
  return create_private_directories(home.certs_dir().string());
}

// A home made before its modes were set, or loosened since, still works,
// with a warning: the operator may share it on purpose, so the modes are not
// changed behind their back.
void warn_if_readable_by_others(const Home& home) {
  for (const auto& [path, wanted] :
       {std::pair(home.root.string(), 0700U), std::pair(home.store_file().string(), 0600U)}) {
    const auto mode = file_mode(path);
    if (!mode || (*mode & 077U) == 0) continue;
    (void)std::fprintf(
        stderr,
        "vouchsafe: warning: %s has mode %04o; it holds the audit log and customers' "
        "domain IDs, so only its owner should read it: chmod %o %s\n",
        path.c_str(), *mode, wanted, path.c_str());
  }
}

Result<crypto::X509Ptr> root_certificate(store::CaRegistry& store) {
  ASSIGN_OR_RETURN(auto cas, store.list_cas());
  for (const auto& ca : cas) {
    if (ca.role == store::CaRole::root) return crypto::parse_certificate_der(ca.certificate_der);
  }
  return fail(ErrorCode::usage, "no root CA in this home: run `vouchsafe pki init` first");
}

// A new CA key in the key store the options name (HOME/keys by default).
Result<crypto::GeneratedKey> new_ca_key(const Home& home, const std::string& key_store,
                                        crypto::KeyType type, const std::string& name,
                                        const std::optional<std::string>& passphrase) {
  crypto::KeyStore where{
      crypto::KeyReference{crypto::KeyReference::Kind::file, home.keys_dir().string(), {}}};
  if (!key_store.empty()) {
    ASSIGN_OR_RETURN(where, crypto::parse_key_store(key_store));
  }
  if (!where.on_token() && !passphrase) {
    return fail(ErrorCode::bad_passphrase,
                "the CA keys' passphrase is needed for a key kept in a file: --passphrase-file "
                "FILE or $VOUCHSAFE_CA_PASSPHRASE (or keep the key on a token: --key-store "
                "pkcs11:...)");
  }
  return crypto::generate_key_in(where, type, name, passphrase);
}

Status check_new_ca_name(store::CaRegistry& store, const std::string& name) {
  if (name.empty() || name.find_first_of("/\\ ") != std::string::npos) {
    return fail(ErrorCode::usage, "an issuing CA name is one word without '/' or spaces");
  }
  ASSIGN_OR_RETURN(auto existing, store.find_ca(name));
  if (existing) return fail(ErrorCode::duplicate_member, "a CA named " + name + " exists");
  return ok();
}

// RFC 5280 §4.2.1.9: only a certificate whose basicConstraints say cA may
// sign certificates; §4.2.1.3: if it has a keyUsage, keyCertSign must be set.
Status check_ca_certificate(X509* cert, const std::string& path) {
  const auto subject = crypto::certificate_subject(cert);
  if ((X509_get_extension_flags(cert) & EXFLAG_INVALID) != 0) {
    return fail(ErrorCode::malformed_der,
                path + ": the certificate " + subject + " has extensions that cannot be decoded");
  }
  if ((X509_get_extension_flags(cert) & EXFLAG_CA) == 0) {
    return fail(ErrorCode::invalid_value,
                path + ": " + subject +
                    " is not a CA certificate (no basicConstraints CA:TRUE); give the "
                    "certificate of the CA that signed the IDevIDs, and import the devices "
                    "themselves with `vouchsafe device import`");
  }
  if ((X509_get_extension_flags(cert) & EXFLAG_KUSAGE) != 0 &&
      (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) == 0) {
    return fail(ErrorCode::invalid_value,
                path + ": " + subject + " is a CA certificate whose keyUsage lacks keyCertSign");
  }
  return ok();
}

}  // namespace

Result<std::unique_ptr<store::AssetStore>> open_store(const Home& home,
                                                      store::SchemaChange schema_change,
                                                      const std::string& read_dsn) {
  TRY(create_private_directories(home.root.string()));
  warn_if_readable_by_others(home);
  ASSIGN_OR_RETURN(const auto location, store_location(home));
  return store::open_store(location, schema_change, read_dsn);
}

Result<InitOutcome> init_pki(const Home& home, const InitOptions& options,
                             const std::optional<std::string>& passphrase) {
  TRY(make_private_dirs(home));
  ASSIGN_OR_RETURN(auto store, open_store(home));
  if (auto existing = root_certificate(*store)) {
    return InitOutcome{false, crypto::certificate_subject(existing->get())};
  }
  if (options.key_store.empty() && (!passphrase || passphrase->size() < 8)) {
    return fail(ErrorCode::bad_passphrase, "the CA key passphrase must have at least 8 characters");
  }
  const bool wrote_config = !fs::exists(home.config_file());
  if (wrote_config) {
    const auto text = default_config_text(options.organization, options.masa_url);
    // Never write a file the next command would refuse.
    TRY(parse_config(text, home.config_file().string()));
    TRY(write_file_atomic(home.config_file().string(), as_bytes(text)));
  }
  // Whatever fails from here undoes what was made, so that a retry starts clean.
  auto undo = [&](const crypto::KeyReference* key) {
    if (key != nullptr) (void)crypto::destroy_key(*key);
    std::error_code ec;
    fs::remove(home.root_cert_file(), ec);
    if (wrote_config) fs::remove(home.config_file(), ec);
  };
  auto key = new_ca_key(home, options.key_store, options.root_key_type, "root-ca", passphrase);
  if (!key) {
    undo(nullptr);
    return fail(key.error());
  }
  auto cert = pki::make_root_certificate(*key->signer,
                                         {options.organization, options.organization + " Root CA"});
  Status written = cert ? write_file_atomic(home.root_cert_file().string(),
                                            as_bytes(crypto::certificate_pem(cert->get())))
                        : Status(fail(cert.error()));
  if (!written) {
    undo(&key->reference);
    return fail(written.error());
  }
  store::CaRecord record;
  record.name = "root";
  record.role = store::CaRole::root;
  record.certificate_der = crypto::certificate_der(cert->get());
  record.key_reference = key->reference.text();
  record.created_at = now_seconds();
  if (auto added = store->add_ca(record); !added) {
    undo(&key->reference);
    return fail(added.error());
  }
  return InitOutcome{true, crypto::certificate_subject(cert->get())};
}

Result<store::CaRecord> root_record(store::CaRegistry& store) {
  ASSIGN_OR_RETURN(auto root, store.find_ca("root"));
  if (!root)
    return fail(ErrorCode::usage, "no root CA in this home: run `vouchsafe pki init` first");
  return *root;
}

Result<std::shared_ptr<const crypto::Signer>> open_ca_signer(
    const store::CaRecord& ca, const std::optional<std::string>& passphrase) {
  if (ca.key_reference.starts_with("split:")) {
    return fail(ErrorCode::usage,
                "the " + ca.name + " CA key is split among officers (" + ca.key_reference +
                    "): hold the ceremony, e.g. `vouchsafe pki root recover --share FILE ... "
                    "--issuing-ca NAME`");
  }
  if (ca.key_reference.empty()) {
    return fail(ErrorCode::usage, "the " + ca.name + " CA has no key (retired or imported)");
  }
  if (!passphrase && !ca.key_reference.starts_with("pkcs11:")) {
    return fail(ErrorCode::bad_passphrase,
                "the CA keys' passphrase is needed: --passphrase-file FILE or "
                "$VOUCHSAFE_CA_PASSPHRASE");
  }
  return crypto::open_signer(ca.key_reference, passphrase);
}

Result<store::CaRecord> create_issuing_ca(const Home& home, store::CaRegistry& store,
                                          const IssuingCaOptions& options,
                                          const std::optional<std::string>& passphrase) {
  TRY(check_new_ca_name(store, options.name));
  ASSIGN_OR_RETURN(auto root, root_record(store));
  ASSIGN_OR_RETURN(auto root_signer, open_ca_signer(root, passphrase));
  return create_issuing_ca(home, store, options, *root_signer, passphrase);
}

Result<store::CaRecord> create_issuing_ca(const Home& home, store::CaRegistry& store,
                                          const IssuingCaOptions& options,
                                          const crypto::Signer& root_signer,
                                          const std::optional<std::string>& passphrase) {
  TRY(check_new_ca_name(store, options.name));
  ASSIGN_OR_RETURN(auto config, load_config(home));
  if (!options.product.empty()) TRY(config.product(options.product));
  ASSIGN_OR_RETURN(auto root, root_certificate(store));

  ASSIGN_OR_RETURN(auto key, new_ca_key(home, options.key_store, options.key_type,
                                        "issuing-" + options.name, passphrase));
  std::string cn = config.organization + " Issuing CA " + options.name;
  auto cert = pki::make_issuing_ca_certificate(key.signer->public_key(), {config.organization, cn},
                                               root.get(), root_signer);
  const std::string cert_path = (home.certs_dir() / ("issuing-" + options.name + ".pem")).string();
  Status written =
      cert ? write_file_atomic(cert_path, as_bytes(crypto::certificate_pem(cert->get())))
           : Status(fail(cert.error()));
  if (!written) {
    (void)crypto::destroy_key(key.reference);
    return fail(written.error());
  }

  store::CaRecord record;
  record.name = options.name;
  record.role = store::CaRole::issuing;
  record.factory = options.factory;
  record.product = options.product;
  record.certificate_der = crypto::certificate_der(cert->get());
  record.key_reference = key.reference.text();
  record.created_at = now_seconds();
  record.max_certificates =
      options.max_certificates >= 0 ? options.max_certificates : config.issuing_ca_max_certificates;
  const auto days =
      options.max_age_days >= 0 ? options.max_age_days : config.issuing_ca_max_age_days;
  record.max_age_seconds = days * 86400;
  if (auto added = store.add_ca(record); !added) {
    (void)crypto::destroy_key(key.reference);
    fs::remove(cert_path);
    return fail(added.error());
  }
  return record;
}

Status retire_issuing_ca(store::CaRegistry& store, const std::string& name) {
  ASSIGN_OR_RETURN(auto ca, store.find_ca(name));
  if (!ca) return fail(ErrorCode::usage, "no CA named " + name);
  if (ca->role == store::CaRole::root)
    return fail(ErrorCode::usage, "the root CA cannot be retired here");
  if (ca->status == store::CaStatus::retired) return ok();
  // Record first: if destroying the key failed, no further issuance uses it.
  TRY(store.retire_ca(name, now_seconds()));
  if (ca->key_reference.empty()) return ok();
  ASSIGN_OR_RETURN(auto ref, crypto::parse_key_reference(ca->key_reference));
  return crypto::destroy_key(ref);
}

Result<store::CaRecord> import_issuing_ca(const Home& home, store::CaRegistry& store,
                                          const ImportCaOptions& options) {
  TRY(check_new_ca_name(store, options.name));
  if (!options.product.empty()) {
    ASSIGN_OR_RETURN(auto config, load_config(home));
    TRY(config.product(options.product));
  }
  ASSIGN_OR_RETURN(auto certs, crypto::load_certificates(options.certificate_path));
  if (certs.size() != 1) {
    return fail(ErrorCode::usage, options.certificate_path + " holds " +
                                      std::to_string(certs.size()) +
                                      " certificates: import one CA certificate per --name");
  }
  X509* cert = certs.front().get();
  TRY(check_ca_certificate(cert, options.certificate_path));
  const Bytes der = crypto::certificate_der(cert);
  ASSIGN_OR_RETURN(auto cas, store.list_cas());
  for (const auto& ca : cas) {
    if (ca.certificate_der == der) {
      return fail(ErrorCode::duplicate_member,
                  options.certificate_path + ": this certificate is recorded already, as CA " +
                      ca.name + " (see `vouchsafe pki issuing-ca list`)");
    }
  }
  store::CaRecord record;
  record.name = options.name;
  record.role = store::CaRole::issuing;
  record.factory = options.factory;
  record.product = options.product;
  record.certificate_der = der;
  record.created_at = now_seconds();  // no key, no limits: it never issues here
  TRY(store.add_ca(record));
  return record;
}

bool is_imported(const store::CaRecord& ca) {
  return ca.role == store::CaRole::issuing && ca.status == store::CaStatus::active &&
         ca.key_reference.empty();
}

pki::IdevidProfile idevid_profile(const FactoryConfig& config, const ProductConfig& product) {
  pki::IdevidProfile p;
  p.organization = config.organization;
  p.organizational_unit = config.idevid_organizational_unit;
  p.common_name = config.idevid_common_name;
  p.masa_url = config.masa_url;
  p.hw_type_oid = product.hw_type_oid;
  return p;
}

Result<IssuingCaPool> IssuingCaPool::load(store::CaRegistry& store, const FactoryConfig& config,
                                          const ProductConfig& product, const std::string& factory,
                                          const std::string& ca_name,
                                          const std::optional<std::string>& passphrase) {
  ASSIGN_OR_RETURN(auto cas, store.list_cas());
  if (!ca_name.empty()) {
    ASSIGN_OR_RETURN(auto named, store.find_ca(ca_name));
    if (!named || named->role != store::CaRole::issuing) {
      return fail(ErrorCode::usage,
                  "no issuing CA named " + ca_name + " (see `vouchsafe pki issuing-ca list`)");
    }
    if (named->status == store::CaStatus::retired) {
      return fail(ErrorCode::usage, "issuing CA " + ca_name + " is retired and issues no more");
    }
    if (is_imported(*named)) {
      return fail(ErrorCode::usage, "issuing CA " + ca_name +
                                        " was imported: an imported CA has no key; it cannot "
                                        "issue. Name a CA made with `vouchsafe pki issuing-ca "
                                        "create`");
    }
    if (!named->product.empty() && named->product != product.name) {
      return fail(ErrorCode::usage, "issuing CA " + ca_name + " serves product " + named->product +
                                        ", not " + product.name);
    }
    cas = {*named};
  }
  IssuingCaPool pool;
  for (auto& ca : cas) {
    if (ca.role != store::CaRole::issuing || ca.status != store::CaStatus::active) continue;
    if (is_imported(ca)) continue;  // a certificate only: nothing to sign with
    if (!ca.product.empty() && ca.product != product.name) continue;
    if (!factory.empty() && !ca.factory.empty() && ca.factory != factory) continue;
    auto active = std::make_unique<ActiveCa>();
    active->issued = ca.issued_count;
    active->record = ca;
    if (IssuingCaPool::exhausted(*active)) continue;
    ASSIGN_OR_RETURN(auto signer, open_ca_signer(ca, passphrase));
    ASSIGN_OR_RETURN(auto cert, crypto::parse_certificate_der(ca.certificate_der));
    ASSIGN_OR_RETURN(active->issuer, pki::IdevidIssuer::create(idevid_profile(config, product),
                                                               cert.get(), std::move(signer)));
    pool.cas_.push_back(std::move(active));
  }
  if (pool.cas_.empty()) {
    return fail(ErrorCode::usage, "no active issuing CA for product " + product.name +
                                      (factory.empty() ? "" : " at factory " + factory) +
                                      ": create one with `vouchsafe pki issuing-ca create --name "
                                      "NAME --product " +
                                      product.name + "`");
  }
  return pool;
}

bool IssuingCaPool::exhausted(const ActiveCa& ca) {
  const auto& r = ca.record;
  if (r.max_certificates > 0 && ca.issued >= r.max_certificates) return true;
  return r.max_age_seconds > 0 && now_seconds() - r.created_at >= r.max_age_seconds;
}

Result<ActiveCa*> IssuingCaPool::next() {
  for (std::size_t tried = 0; tried < cas_.size(); ++tried) {
    ActiveCa* ca = cas_[cursor_ % cas_.size()].get();
    ++cursor_;
    if (!exhausted(*ca)) {
      ++ca->issued;
      return ca;
    }
  }
  return fail(ErrorCode::usage,
              "every issuing CA for this product has reached its limit: create "
              "another with `vouchsafe pki issuing-ca create`");
}

Status IssuingCaPool::retire_exhausted(store::CaRegistry& store) {
  for (const auto& ca : cas_) {
    if (exhausted(*ca)) TRY(retire_issuing_ca(store, ca->record.name));
  }
  return ok();
}

}  // namespace vouchsafe::factory
