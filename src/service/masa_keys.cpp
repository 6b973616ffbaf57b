// The MASA's keys: made per architecture, rolled over, and their anchors.
#include "service/masa_keys.h"

#include <openssl/pem.h>

#include <ctime>
#include <filesystem>

#include "core/file.h"
#include "crypto/key_reference.h"
#include "pki/certificate_profiles.h"

namespace vouchsafe::service {
namespace {

namespace fs = std::filesystem;

// What init made so far, removed again if a later step fails: a half-made
// MASA (a key without its certificate, a token key nothing names) would
// only confuse the next attempt.
class Undo {
 public:
  Undo() = default;
  Undo(const Undo&) = delete;
  Undo& operator=(const Undo&) = delete;
  ~Undo() {
    if (done_) return;
    for (const auto& k : keys_) (void)crypto::destroy_key(k);
    for (const auto& f : files_) {
      std::error_code ec;
      fs::remove(f, ec);
    }
  }
  void key(const crypto::KeyReference& ref) { keys_.push_back(ref); }
  void file(const std::string& path) { files_.push_back(path); }
  void commit() { done_ = true; }

 private:
  std::vector<crypto::KeyReference> keys_;
  std::vector<std::string> files_;
  bool done_ = false;
};

Status write_pem(const std::string& path, const std::vector<X509*>& certs, Undo& undo) {
  std::string pem;
  for (X509* c : certs) pem += crypto::certificate_pem(c);
  TRY(create_private_directories(fs::path(path).parent_path().string()));
  undo.file(path);
  return write_file_atomic(path, as_bytes(pem));
}

struct Maker {
  const MasaInitOptions& options;
  crypto::KeyStore store;
  std::string dir;
  Undo& undo;

  // A P-256 key: on the token (label `label`), or dir/`file`.key.pem.
  Result<crypto::GeneratedKey> key(const std::string& label, const std::string& file) {
    crypto::KeyStore where = store;
    std::string name = label;
    if (!where.on_token()) {
      where.location.path = (fs::path(dir) / fs::path(file).parent_path()).string();
      name = fs::path(file).filename().string();
    }
    ASSIGN_OR_RETURN(
        auto made, crypto::generate_key_in(where, crypto::KeyType::p256, name, options.passphrase));
    undo.key(made.reference);
    return made;
  }
  [[nodiscard]] std::string path(const std::string& relative) const {
    return (fs::path(dir) / relative).string();
  }
};

// A self-signed MASA CA and the signer it certifies, written as
// `prefix`masa-ca.pem and `prefix`signing.pem.
struct CaAndSigner {
  crypto::GeneratedKey ca_key;
  crypto::X509Ptr ca;
  crypto::GeneratedKey signer_key;
  MasaKeySettings signer;
};

Result<CaAndSigner> ca_and_signer(Maker& m, const std::string& organization,
                                  const std::string& label_suffix, const std::string& prefix,
                                  const std::string& cn_suffix) {
  CaAndSigner out;
  ASSIGN_OR_RETURN(out.ca_key, m.key("masa-ca" + label_suffix, prefix + "masa-ca"));
  ASSIGN_OR_RETURN(
      out.ca, pki::make_root_certificate(*out.ca_key.signer,
                                         {organization, organization + " MASA CA" + cn_suffix}));
  ASSIGN_OR_RETURN(out.signer_key, m.key("masa-signing" + label_suffix, prefix + "signing"));
  ASSIGN_OR_RETURN(auto cert,
                   pki::make_service_certificate(
                       out.signer_key.signer->public_key(),
                       {organization, organization + " MASA voucher signing" + cn_suffix},
                       out.ca.get(), *out.ca_key.signer, {}));
  TRY(write_pem(m.path(prefix + "masa-ca.pem"), {out.ca.get()}, m.undo));
  TRY(write_pem(m.path(prefix + "signing.pem"), {cert.get()}, m.undo));
  out.signer.key = out.signer_key.reference.text();
  out.signer.certificate = m.path(prefix + "signing.pem");
  out.signer.chain = m.path(prefix + "masa-ca.pem");
  out.signer.ca_key = out.ca_key.reference.text();
  return out;
}

}  // namespace

Result<MasaInitOutcome> init_masa_keys(const factory::Home& home, const std::string& masa_dir,
                                       const factory::FactoryConfig& config,
                                       const MasaInitOptions& options) {
  if (options.passphrase.size() < 8) {
    return fail(ErrorCode::bad_passphrase, "the MASA keys' passphrase needs at least 8 characters");
  }
  crypto::KeyStore store{crypto::KeyReference{crypto::KeyReference::Kind::file, masa_dir, {}}};
  if (!options.key_store.empty()) {
    ASSIGN_OR_RETURN(store, crypto::parse_key_store(options.key_store));
  }
  TRY(create_private_directories(masa_dir));
  Undo undo;
  Maker m{options, store, masa_dir, undo};
  const std::string& org = config.organization;
  MasaInitOutcome out;
  out.settings = initial_masa_settings(fs::absolute(home.root).string(), masa_dir);
  out.settings.architecture = options.architecture;

  ASSIGN_OR_RETURN(auto main, ca_and_signer(m, org, "", "", ""));
  out.settings.signing_key = main.signer.key;
  out.settings.signing_certificate = main.signer.certificate;
  out.settings.signing_chain = main.signer.chain;
  out.settings.signing_ca_key = main.signer.ca_key;
  out.anchors.push_back(main.signer.chain);

  switch (options.architecture) {
    case masa::KeyArchitecture::offline_ca:
      break;
    case masa::KeyArchitecture::per_product:
      // §3.2: a MASA CA per product line, so one product's key never
      // speaks for another's devices.
      for (const auto& [name, product] : config.products) {
        ASSIGN_OR_RETURN(auto pair, ca_and_signer(m, org, "-" + name, "products/" + name + "/",
                                                  " (" + name + ")"));
        out.settings.masa_keys[name] = pair.signer;
        out.anchors.push_back(pair.signer.chain);
      }
      break;
    case masa::KeyArchitecture::idevid_root: {
      // §3.3: the signer chains to the IDevID root through an intermediate
      // marked with the voucher-authority policy; issuing CAs never carry
      // it, so an IDevID key cannot sign a voucher a pledge accepts.
      if (options.root_signer == nullptr) {
        return fail(ErrorCode::usage, "idevid-root needs the manufacturer root's key");
      }
      ASSIGN_OR_RETURN(auto roots, crypto::load_certificates(home.root_cert_file().string()));
      X509* root = roots.front().get();
      ASSIGN_OR_RETURN(auto va_key, m.key("masa-voucher-authority", "voucher-authority"));
      ASSIGN_OR_RETURN(
          auto va, pki::make_issuing_ca_certificate(
                       va_key.signer->public_key(), {org, org + " MASA voucher authority"}, root,
                       *options.root_signer, config.voucher_authority_oid));
      ASSIGN_OR_RETURN(auto signer_key, m.key("masa-signing-va", "signing-va"));
      pki::ServiceProfile profile;
      profile.certificate_policy = config.voucher_authority_oid;
      ASSIGN_OR_RETURN(auto cert,
                       pki::make_service_certificate(signer_key.signer->public_key(),
                                                     {org, org + " MASA voucher signing"}, va.get(),
                                                     *va_key.signer, profile));
      TRY(write_pem(m.path("signing-va.pem"), {cert.get()}, undo));
      TRY(write_pem(m.path("voucher-authority.pem"), {va.get(), root}, undo));
      out.settings.signing_key = signer_key.reference.text();
      out.settings.signing_certificate = m.path("signing-va.pem");
      out.settings.signing_chain = m.path("voucher-authority.pem");
      out.settings.signing_ca_key = va_key.reference.text();
      out.anchors = {home.root_cert_file().string()};
      break;
    }
    case masa::KeyArchitecture::rotating:
      // §3.4: the keys a device may be bound to, each certified by the
      // MASA CA (CMS and JWS vouchers still carry a chain); COSE vouchers
      // name them by kid only, for firmware that holds the bare key.
      for (const auto& [name, product] : config.products) {
        for (std::int64_t slot = 0; slot < product.masa_key_slots; ++slot) {
          const std::string id = name + "-" + std::to_string(slot);
          ASSIGN_OR_RETURN(auto key, m.key("masa-slot-" + id, "keys/" + id));
          ASSIGN_OR_RETURN(auto cert, pki::make_service_certificate(
                                          key.signer->public_key(), {org, org + " MASA key " + id},
                                          main.ca.get(), *main.ca_key.signer, {}));
          TRY(write_pem(m.path("keys/" + id + ".pem"), {cert.get()}, undo));
          const std::string pub = m.path("keys/" + id + ".pub.pem");
          undo.file(pub);
          crypto::BioPtr bio(BIO_new(BIO_s_mem()));
          PEM_write_bio_PUBKEY(bio.get(), key.signer->public_key());
          char* data = nullptr;
          const long len = BIO_get_mem_data(bio.get(), &data);
          TRY(write_file_atomic(pub, ByteView(reinterpret_cast<const std::uint8_t*>(data),
                                              static_cast<std::size_t>(len))));
          out.settings.masa_keys[id] = {key.reference.text(), m.path("keys/" + id + ".pem"),
                                        main.signer.chain, main.signer.ca_key};
        }
      }
      break;
  }

  // The TLS key goes where the others go, on the token when there is one:
  // the GnuTLS listener signs its handshakes through it.
  ASSIGN_OR_RETURN(auto tls_key, m.key("masa-tls", "tls"));
  pki::ServiceProfile tls_profile;
  tls_profile.extended_key_usage = "serverAuth";
  tls_profile.subject_alt_names = "DNS:localhost,IP:127.0.0.1,IP:::1";
  tls_profile.validity_days = 825;
  ASSIGN_OR_RETURN(auto tls,
                   pki::make_service_certificate(tls_key.signer->public_key(), {org, "localhost"},
                                                 main.ca.get(), *main.ca_key.signer, tls_profile));
  TRY(write_pem(m.path("tls.pem"), {tls.get(), main.ca.get()}, undo));
  out.settings.tls_key = tls_key.reference.text();
  out.settings.tls_certificate = m.path("tls.pem");
  undo.commit();
  return out;
}

Result<store::MasaSignerRecord> rollover_signer(const MasaSettings& settings,
                                                store::AssetStore& store,
                                                const RolloverOptions& options) {
  // The key being replaced: the store's newest for the scope, else the
  // configured one.
  std::string current_key = settings.signing_key;
  std::string ca_key = settings.signing_ca_key;
  std::vector<crypto::X509Ptr> chain;
  if (options.scope.empty()) {
    ASSIGN_OR_RETURN(chain, crypto::load_certificates(settings.signing_certificate));
    if (!settings.signing_chain.empty()) {
      ASSIGN_OR_RETURN(auto above, crypto::load_certificates(settings.signing_chain));
      for (auto& c : above) chain.push_back(std::move(c));
    }
  } else {
    auto it = settings.masa_keys.find(options.scope);
    if (it == settings.masa_keys.end()) {
      return fail(ErrorCode::usage, "no MASA key '" + options.scope + "' in masa.toml");
    }
    current_key = it->second.key;
    ca_key = it->second.ca_key;
    ASSIGN_OR_RETURN(chain, crypto::load_certificates(it->second.certificate));
    if (!it->second.chain.empty()) {
      ASSIGN_OR_RETURN(auto above, crypto::load_certificates(it->second.chain));
      for (auto& c : above) chain.push_back(std::move(c));
    }
  }
  ASSIGN_OR_RETURN(auto records, store.list_masa_signers());
  if (auto active = masa::active_signers(records); active.contains(options.scope)) {
    const auto& r = active.at(options.scope);
    current_key = r.key_reference;
    ASSIGN_OR_RETURN(chain, crypto::parse_certificates(as_bytes(r.chain_pem)));
  }
  if (!options.ca_key.empty()) ca_key = options.ca_key;
  if (options.ca_signer == nullptr && ca_key.starts_with("split:")) {
    return fail(ErrorCode::usage,
                "the MASA CA key is split among officers (" + ca_key +
                    "): hold the ceremony, `vouchsafe pki root recover --key masa-ca --share FILE "
                    "... --rollover`");
  }
  if (options.ca_signer == nullptr && ca_key.empty()) {
    return fail(ErrorCode::usage,
                "the key of the CA that certifies the MASA signer is not recorded: give --ca-key "
                "(a key file or pkcs11: URI)");
  }
  if (chain.size() < 2) {
    return fail(ErrorCode::usage,
                "the signer's chain has no issuer certificate to certify a new key under");
  }
  std::shared_ptr<const crypto::Signer> opened;
  if (options.ca_signer == nullptr) {
    ASSIGN_OR_RETURN(opened, crypto::open_signer(ca_key, options.passphrase));
  }
  const crypto::Signer* ca_signer = options.ca_signer != nullptr ? options.ca_signer : opened.get();
  X509* issuer = chain[1].get();
  if (EVP_PKEY_eq(X509_get0_pubkey(issuer), ca_signer->public_key()) != 1) {
    return fail(ErrorCode::bad_key, "--ca-key is not the key of " +
                                        crypto::certificate_subject(issuer) +
                                        ", which certified the current signer");
  }
  // The new key lives where the current one does: on its token, or as an
  // encrypted file in its directory.
  ASSIGN_OR_RETURN(auto current, crypto::parse_key_reference(current_key));
  const std::string stamp = std::to_string(std::time(nullptr));
  const std::string name =
      "masa-signing" + (options.scope.empty() ? "" : "-" + options.scope) + "-" + stamp;
  crypto::KeyStore where;
  if (current.on_token()) {
    where.location = current;
    where.location.uri.object.clear();
    where.location.uri.id.reset();
  } else {
    where.location.path = fs::path(current.path).parent_path().string();
  }
  ASSIGN_OR_RETURN(auto key,
                   crypto::generate_key_in(where, crypto::KeyType::p256, name, options.passphrase));
  const auto subject = crypto::certificate_subject(chain.front().get());
  pki::ServiceProfile profile;
  profile.certificate_policy = options.voucher_authority_oid;
  X509_NAME* old_name = X509_get_subject_name(chain.front().get());
  std::string organization;
  std::string common_name;
  const auto text_of = [old_name](int nid) {
    const int at = X509_NAME_get_index_by_NID(old_name, nid, -1);
    if (at < 0) return std::string();
    const ASN1_STRING* v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(old_name, at));
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(v)),
                       static_cast<std::size_t>(ASN1_STRING_length(v)));
  };
  organization = text_of(NID_organizationName);
  common_name = text_of(NID_commonName);
  auto cert = pki::make_service_certificate(key.signer->public_key(), {organization, common_name},
                                            issuer, *ca_signer, profile);
  if (!cert) {
    (void)crypto::destroy_key(key.reference);
    return fail(cert.error());
  }
  store::MasaSignerRecord record;
  record.scope = options.scope;
  record.key_reference = key.reference.text();
  record.chain_pem = crypto::certificate_pem(cert->get());
  for (std::size_t i = 1; i < chain.size(); ++i) {
    record.chain_pem += crypto::certificate_pem(chain[i].get());
  }
  record.created_at = static_cast<std::int64_t>(std::time(nullptr));
  if (auto added = store.add_masa_signer(record); !added) {
    (void)crypto::destroy_key(key.reference);
    return fail(added.error());
  }
  ASSIGN_OR_RETURN(auto after, store.list_masa_signers());
  return masa::active_signers(after).at(options.scope);
}

Result<crypto::X509Ptr> masa_anchor(const MasaSettings& settings, const std::string& key_id) {
  std::string certificate = settings.signing_certificate;
  std::string chain = settings.signing_chain;
  if (!key_id.empty() && key_id != masa::k_default_key_id) {
    auto it = settings.masa_keys.find(key_id);
    if (it == settings.masa_keys.end()) {
      return fail(ErrorCode::usage, "no MASA key '" + key_id + "' in masa.toml");
    }
    certificate = it->second.certificate;
    chain = it->second.chain;
  }
  ASSIGN_OR_RETURN(auto certs, crypto::load_certificates(chain.empty() ? certificate : chain));
  return std::move(certs.back());
}

}  // namespace vouchsafe::service
