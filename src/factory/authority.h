// The manufacturer's certificate authorities on disk and in the asset
// store: `pki init`, issuing CA creation and retirement, and choosing which
// issuing CA signs the next device.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "crypto/key_reference.h"
#include "crypto/keys.h"
#include "factory/home.h"
#include "pki/certificate_profiles.h"
#include "store/asset_store.h"

namespace vouchsafe::factory {

struct InitOptions {
  crypto::KeyType root_key_type = crypto::KeyType::p384;
  std::string organization = "Example Devices Inc.";
  std::string masa_url = "masa.example.com:8443";
  // Where the root key is made: "" for an encrypted file in HOME/keys, or a
  // pkcs11: URI naming a token (crypto::parse_key_store).
  std::string key_store;
};

struct InitOutcome {
  bool created = false;  // false: the home was initialised already; nothing changed
  std::string root_subject;
};

// Creates the home, its configuration, the root CA key (on the token the
// key store names, or encrypted with passphrase in HOME/keys) and
// self-signed certificate, and records the root by its key reference.
// Idempotent. If a step fails, nothing it made remains.
Result<InitOutcome> init_pki(const Home& home, const InitOptions& options,
                             const std::optional<std::string>& passphrase);

// The root CA's certificate and its key reference, as recorded.
Result<store::CaRecord> root_record(store::CaRegistry& store);

// A signer for a recorded CA key: a file decrypted with passphrase, or the
// key on its token. A root split among officers says how to hold the
// ceremony instead.
Result<std::shared_ptr<const crypto::Signer>> open_ca_signer(
    const store::CaRecord& ca, const std::optional<std::string>& passphrase);

// The home's asset store (store_location): the SQLite file in the home, or
// the PostgreSQL store its configuration or $VOUCHSAFE_STORE names.
// read_dsn: a streaming replica for device reads (store::open_store).
Result<std::unique_ptr<store::AssetStore>> open_store(
    const Home& home, store::SchemaChange schema_change = store::SchemaChange::migrate,
    const std::string& read_dsn = {});

struct IssuingCaOptions {
  std::string name;
  std::string factory;
  std::string product;
  crypto::KeyType key_type = crypto::KeyType::p256;
  std::int64_t max_certificates = -1;  // -1: take the configured default
  std::int64_t max_age_days = -1;
  std::string key_store;  // "" : an encrypted file in HOME/keys; else a pkcs11: token URI
};

// Creates an issuing CA signed by the root; its key goes to the key store
// (a file key is encrypted with `passphrase`, as the root's is).
Result<store::CaRecord> create_issuing_ca(const Home& home, store::CaRegistry& store,
                                          const IssuingCaOptions& options,
                                          const std::optional<std::string>& passphrase);
// The same with the root's signer in hand (a key rebuilt from its shares).
Result<store::CaRecord> create_issuing_ca(const Home& home, store::CaRegistry& store,
                                          const IssuingCaOptions& options,
                                          const crypto::Signer& root_signer,
                                          const std::optional<std::string>& passphrase);

// Stops issuance from the CA and destroys its private key (overwritten,
// then unlinked). The certificate stays in the store and in certs/.
Status retire_issuing_ca(store::CaRegistry& store, const std::string& name);

struct ImportCaOptions {
  std::string name;
  std::string certificate_path;  // one CA certificate, PEM or DER
  std::string factory;
  std::string product;
};

// Records an issuing CA made by someone else (another vendor, a contract
// manufacturer) by its certificate alone: the MASA then trusts the IDevIDs
// it signed, and issuance never uses it, having no key.
Result<store::CaRecord> import_issuing_ca(const Home& home, store::CaRegistry& store,
                                          const ImportCaOptions& options);

// Whether a CA record is an imported one: active yet keyless (a CA we
// created loses its key only when it is retired).
bool is_imported(const store::CaRecord& ca);

// One active issuing CA, decrypted and ready to sign.
struct ActiveCa {
  store::CaRecord record;
  std::unique_ptr<pki::IdevidIssuer> issuer;
  std::int64_t issued = 0;  // certificates signed, including this run's
};

// Round-robin among the active issuing CAs of a product (and factory);
// a CA that reaches its certificate count or age is skipped, and retired
// once its certificates are committed (retire_exhausted).
class IssuingCaPool {
 public:
  // ca_name, when given, selects exactly that CA, which must be an active
  // issuing CA allowed for the product.
  static Result<IssuingCaPool> load(store::CaRegistry& store, const FactoryConfig& config,
                                    const ProductConfig& product, const std::string& factory,
                                    const std::string& ca_name,
                                    const std::optional<std::string>& passphrase);
  // The next CA to sign with, or an error when every CA is exhausted.
  Result<ActiveCa*> next();
  // Retires CAs that reached their limits; call after committing a batch.
  Status retire_exhausted(store::CaRegistry& store);
  [[nodiscard]] std::size_t size() const { return cas_.size(); }

 private:
  std::vector<std::unique_ptr<ActiveCa>> cas_;
  std::size_t cursor_ = 0;
  [[nodiscard]] static bool exhausted(const ActiveCa& ca);
};

pki::IdevidProfile idevid_profile(const FactoryConfig& config, const ProductConfig& product);

}  // namespace vouchsafe::factory
