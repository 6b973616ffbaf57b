// A throw-away manufacturer (root, issuing CA, seed-derived devices in an
// asset store: SQLite, or a database of its own in ctest's throw-away
// PostgreSQL cluster), owner domains (a domain CA and a registrar with
// id-kp-cmcRA), a MASA signing identity, and builders for pledge and
// registrar voucher-requests in each form, made with the voucher module.
#pragma once

#include <gtest/gtest.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <tuple>

#include "crypto/keys.h"
#include "crypto/seed_derivation.h"
#include "crypto/signer.h"
#include "factory/authority.h"
#include "factory/issuance.h"
#include "masa/masa_service.h"
#include "pki/certificate_profiles.h"
#include "store/asset_store.h"
#include "support/postgres_cluster.h"
#include "support/test_support.h"
#include "voucher/artifact.h"

namespace vouchsafe::masa::testing {

namespace fs = std::filesystem;
using voucher::Form;

// The store backend a test runs against (issue 4: every MASA test runs on
// both).
enum class Backend { sqlite, postgres };
inline std::string backend_name(Backend backend) {
  return backend == Backend::sqlite ? "sqlite" : "postgres";
}
inline void PrintTo(Backend backend, std::ostream* out) {
  *out << backend_name(backend);
}

inline const std::string k_passphrase = "masa-unit-test-passphrase";
constexpr int k_device_count = 128;

inline std::string media_type(Form form) {
  switch (form) {
    case Form::cms:
      return "application/voucher-cms+json";
    case Form::jws:
      return "application/voucher-jws+json";
    case Form::cose:
      return "application/voucher+cose";
  }
  return "";
}

inline Bytes random_nonce() {
  Bytes nonce(16);
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) ADD_FAILURE() << "RAND_bytes";
  return nonce;
}

inline std::shared_ptr<const crypto::Signer> signer_for(EVP_PKEY* key) {
  auto signer = crypto::SoftwareSigner::create(crypto::share(key));
  EXPECT_TRUE(signer) << signer.error().message;
  return std::shared_ptr<const crypto::Signer>(std::move(signer).value());
}

inline std::string fingerprint_of(X509* cert) {
  return hex_encode(crypto::sha256(crypto::certificate_der(cert)));
}

// The manufacturer: made once per test binary and backend; every test takes
// devices of its own (take_device), so tests never see each other's device
// state.
class Manufacturer {
 public:
  static Manufacturer& get(Backend backend) {
    if (backend == Backend::postgres) {
      static Manufacturer postgres(Backend::postgres);
      return postgres;
    }
    static Manufacturer sqlite(Backend::sqlite);
    return sqlite;
  }
  // The running test's backend (MasaTestBase::SetUp sets it).
  static Backend& current_backend() {
    static Backend backend = Backend::sqlite;
    return backend;
  }
  static Manufacturer& get() { return get(current_backend()); }
  ~Manufacturer() {
    store_.reset();
    database_.reset();
    fs::remove_all(home_.root);
  }

  // Empty when the manufacturer was made; otherwise why not.
  [[nodiscard]] const std::string& failure() const { return failure_; }
  store::AssetStore& store() { return *store_; }
  // The device's history events of one kind, read from the database (the
  // store interface has no reader for events).
  int count_events(const std::string& serial, const std::string& event) {
    if (backend_ == Backend::postgres) {
      // Serials and event names of the tests are plain text: no quoting needed.
      auto n = database_->query("SELECT count(*) FROM device_event WHERE serial = '" + serial +
                                "' AND event = '" + event + "'");
      EXPECT_TRUE(n) << n.error().message;
      return n ? std::stoi(*n) : -1;
    }
    sqlite3* db = nullptr;
    const auto path = home_.store_file().string();
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM device_event WHERE serial = ? AND event = ?", -1,
                       &s, nullptr);
    sqlite3_bind_text(s, 1, serial.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, event.c_str(), -1, SQLITE_TRANSIENT);
    int n = -1;
    if (sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  }
  std::string take_device() {
    const int i = next_.fetch_add(1);
    if (i >= k_device_count) {
      ADD_FAILURE() << "the fixture has only " << k_device_count << " devices";
      return "";
    }
    return serial(i);
  }
  // The device's own key, derived from its seed as the device does.
  crypto::PkeyPtr device_key(const std::string& serial) {
    auto derived = crypto::derive_p256_key(seeds_.at(serial));
    EXPECT_TRUE(derived);
    auto key = crypto::derived_key_to_pkey(*derived);
    EXPECT_TRUE(key);
    return std::move(key).value();
  }
  crypto::X509Ptr idevid(const std::string& serial) {
    auto device = store_->find_device(serial);
    EXPECT_TRUE(device && *device) << serial;
    return std::move(crypto::parse_certificate_der((*device)->certificate_der)).value();
  }
  const factory::Home& home() const { return home_; }

  // An IDevID from our issuing CA that the store does not record (a
  // device unknown to the MASA, or a reissued certificate).
  Bytes certify(const std::string& serial, EVP_PKEY* key) {
    auto config = std::move(factory::load_config(home_)).value();
    const auto profile = factory::idevid_profile(config, **config.product("widget"));
    const auto ca = **store_->find_ca("widget-line-1");
    auto ca_cert = std::move(crypto::parse_certificate_der(ca.certificate_der)).value();
    auto ca_key = crypto::load_private_key(
        (home_.keys_dir() / "issuing-widget-line-1.key.pem").string(), k_passphrase);
    EXPECT_TRUE(ca_key) << ca_key.error().message;
    auto issuer = pki::IdevidIssuer::create(profile, ca_cert.get(), signer_for(ca_key->get()));
    EXPECT_TRUE(issuer) << issuer.error().message;
    // A fresh random certificate serial makes it another certificate.
    auto der = (*issuer)->issue(serial, crypto::public_key_der(key), std::time(nullptr) - 60);
    EXPECT_TRUE(der) << der.error().message;
    return std::move(der).value();
  }

 private:
  static std::string serial(int i) {
    char text[32];
    std::snprintf(text, sizeof text, "WG-MT-%06d", i);
    return text;
  }

  explicit Manufacturer(Backend backend) : backend_(backend) {
    const std::string label = "masa-" + backend_name(backend) + "-" + std::to_string(::getpid());
    home_.root = fs::temp_directory_path() / ("vouchsafe-" + label);
    fs::remove_all(home_.root);
    factory::InitOptions init;
    init.root_key_type = crypto::KeyType::p256;
    EXPECT_TRUE(factory::init_pki(home_, init, k_passphrase));
    store_ = std::move(factory::open_store(home_)).value();
    if (backend == Backend::postgres) {
      // The home (keys, configuration) as for SQLite; the records in a
      // PostgreSQL database of this process's own, starting with the root
      // that init_pki recorded in the home's SQLite file.
      const auto root = store_->find_ca("root");
      if (!root || !*root) {
        failure_ = "init_pki recorded no root";
        return;
      }
      auto db = vouchsafe::testing::TestDatabase::create(label);
      if (!db) {
        failure_ = db.error().message;
        return;
      }
      database_.emplace(std::move(db).value());
      auto opened = store::open_postgres_store(database_->dsn());
      if (!opened) {
        failure_ = opened.error().message;
        return;
      }
      store_ = std::move(opened).value();
      if (auto added = store_->add_ca(**root); !added) {
        failure_ = added.error().message;
        return;
      }
    }
    auto config = std::move(factory::load_config(home_)).value();
    factory::IssuingCaOptions ca;
    ca.name = "widget-line-1";
    ca.product = "widget";
    auto made = factory::create_issuing_ca(home_, *store_, ca, k_passphrase);
    EXPECT_TRUE(made) << made.error().message;

    const auto seeds_path = (home_.root / "seeds.csv").string();
    {
      std::ofstream out(seeds_path);
      for (int i = 0; i < k_device_count; ++i) {
        Bytes seed(32);
        EXPECT_EQ(RAND_bytes(seed.data(), 32), 1);
        seeds_[serial(i)] = seed;
        out << serial(i) << "," << hex_encode(seed) << "\n";
      }
    }
    const auto& product = **config.product("widget");
    auto pool = factory::IssuingCaPool::load(*store_, config, product, "", "", k_passphrase);
    EXPECT_TRUE(pool) << pool.error().message;
    factory::IssueContext ctx{*store_, config, product, *pool};
    factory::BatchOptions options;
    options.quiet = true;
    auto report = factory::run_seed_batch(ctx, seeds_path, options);
    EXPECT_TRUE(report) << report.error().message;
  }

  Backend backend_;
  factory::Home home_;
  std::optional<vouchsafe::testing::TestDatabase> database_;
  std::unique_ptr<store::AssetStore> store_;
  std::string failure_;
  std::map<std::string, Bytes> seeds_;
  std::atomic<int> next_{0};
};

// An owner's domain: its CA and a registrar certificate under it.
struct Domain {
  crypto::PkeyPtr ca_key;
  crypto::X509Ptr ca;
  crypto::PkeyPtr registrar_key;
  crypto::X509Ptr registrar;
  std::shared_ptr<const crypto::Signer> signer;

  [[nodiscard]] std::vector<crypto::CertificateRef> chain() const {
    return {crypto::make_certificate_ref(crypto::share(registrar.get())),
            crypto::make_certificate_ref(crypto::share(ca.get()))};
  }
  [[nodiscard]] Bytes registrar_der() const { return crypto::certificate_der(registrar.get()); }
  [[nodiscard]] Bytes ca_der() const { return crypto::certificate_der(ca.get()); }
  [[nodiscard]] Caller caller() const {
    return Caller{fingerprint_of(registrar.get()), registrar_der(), false};
  }
};

struct DomainOptions {
  bool cmc_ra = true;
  long registrar_days = 365;
  // The registrar's key, when it is to be another registrar's (one key
  // certified in two domains); null: a fresh key.
  EVP_PKEY* registrar_key = nullptr;
};

inline Domain make_domain(const std::string& name, const DomainOptions& options = {}) {
  Domain d;
  d.ca_key = crypto::generate_key(crypto::KeyType::p256);
  d.ca = vouchsafe::testing::make_certificate(d.ca_key.get(), name + " Domain CA", d.ca_key.get(),
                                              nullptr, true);
  d.registrar_key = options.registrar_key != nullptr ? crypto::share(options.registrar_key)
                                                     : crypto::generate_key(crypto::KeyType::p256);
  d.registrar = vouchsafe::testing::make_certificate(d.registrar_key.get(), name + " Registrar",
                                                     d.ca_key.get(), d.ca.get(), false,
                                                     options.registrar_days);
  if (options.cmc_ra) {
    // RFC 8995 §5.5.4: a registrar's certificate carries id-kp-cmcRA.
    X509_EXTENSION* eku = X509V3_EXT_conf_nid(nullptr, nullptr, NID_ext_key_usage, "cmcRA");
    X509_add_ext(d.registrar.get(), eku, -1);
    X509_EXTENSION_free(eku);
    X509_sign(d.registrar.get(), d.ca_key.get(), EVP_sha256());
  }
  d.signer = signer_for(d.registrar_key.get());
  return d;
}

// The MASA's own signing identity: a MASA CA and a voucher-signing cert.
struct MasaIdentity {
  vouchsafe::testing::TestPki pki = vouchsafe::testing::make_test_pki();
  std::shared_ptr<const crypto::Signer> signer = signer_for(pki.signer_key.get());

  [[nodiscard]] std::vector<crypto::CertificateRef> chain() const {
    return {crypto::make_certificate_ref(crypto::share(pki.signer.get())),
            crypto::make_certificate_ref(crypto::share(pki.root.get()))};
  }
  // What a registrar or pledge trusts to verify our vouchers.
  [[nodiscard]] voucher::TrustPolicy anchor() const {
    std::vector<crypto::X509Ptr> anchors;
    anchors.push_back(crypto::share(pki.root.get()));
    return voucher::TrustPolicy::with_anchors(std::move(anchors));
  }
};

// The pledge's voucher-request fields (RFC 8995 §3.3 example 1).
inline voucher::Voucher pvr_fields(const std::string& serial, X509* proximity_registrar,
                                   const std::optional<Bytes>& nonce) {
  voucher::Voucher v;
  v.kind = voucher::ArtifactKind::voucher_request;
  v.assertion = voucher::Assertion::proximity;
  v.created_on = now_date_time();
  v.serial_number = serial;
  v.nonce = nonce;
  if (proximity_registrar != nullptr) {
    v.proximity_registrar_cert = crypto::certificate_der(proximity_registrar);
  }
  return v;
}

inline Bytes sign_as_device(const voucher::Voucher& v, const std::string& serial, Form form) {
  auto& m = Manufacturer::get();
  auto key = m.device_key(serial);
  auto signer = signer_for(key.get());
  voucher::SigningIdentity identity{signer.get(), {crypto::make_certificate_ref(m.idevid(serial))}};
  auto signed_pvr = voucher::sign_artifact(v, form, identity);
  EXPECT_TRUE(signed_pvr) << signed_pvr.error().message;
  return signed_pvr ? *signed_pvr : Bytes{};
}

// The registrar's voucher-request fields (RFC 8995 §3.3 example 2).
inline voucher::Voucher rvr_fields(const std::string& serial, const std::optional<Bytes>& nonce,
                                   const Bytes& pvr) {
  voucher::Voucher v;
  v.kind = voucher::ArtifactKind::voucher_request;
  v.created_on = now_date_time();
  v.serial_number = serial;
  v.nonce = nonce;
  v.prior_signed_voucher_request = pvr;
  return v;
}

inline Bytes sign_as_registrar(const voucher::Voucher& v, const Domain& domain, Form form) {
  voucher::SigningIdentity identity{domain.signer.get(), domain.chain()};
  auto signed_rvr = voucher::sign_artifact(v, form, identity);
  EXPECT_TRUE(signed_rvr) << signed_rvr.error().message;
  return signed_rvr ? *signed_rvr : Bytes{};
}

inline MasaRequest voucher_request(Bytes body, Form form, const Domain& caller,
                                   const std::string& accept = "") {
  MasaRequest r;
  r.endpoint = std::string(k_request_voucher);
  r.content_type = media_type(form);
  r.accept = accept;
  r.body = std::move(body);
  r.caller = caller.caller();
  return r;
}

// A well-formed request for a device, as a registrar of `domain` sends it.
inline MasaRequest good_request(const std::string& serial, const Domain& domain, Form form,
                                const std::optional<Bytes>& nonce = random_nonce()) {
  const Bytes pvr = sign_as_device(pvr_fields(serial, domain.registrar.get(), nonce), serial, form);
  return voucher_request(sign_as_registrar(rvr_fields(serial, nonce, pvr), domain, form), form,
                         domain);
}

inline std::string body_text(const MasaResponse& r) {
  return std::string(r.body.begin(), r.body.end());
}

// A refusal with this status, as plain text that says reason_part.
inline void expect_refusal(const MasaResponse& r, int status, const std::string& reason_part) {
  EXPECT_EQ(r.status, status) << body_text(r);
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_NE(body_text(r).find(reason_part), std::string::npos) << body_text(r);
}

// A MASA over the shared manufacturer's store of the test's backend, with
// the test's settings.
// A store that passes every call to a real one; tests override the calls
// they make fail or wait. Asynchronous appends take the base class's
// synchronous path through append_audit.
class ForwardingStore : public store::AssetStore {
 public:
  explicit ForwardingStore(store::AssetStore& real) : real_(real) {}

  Status append_audit(const std::string& s, const store::AuditEntry& e) override {
    return real_.append_audit(s, e);
  }
  Status add_ca(const store::CaRecord& ca) override { return real_.add_ca(ca); }
  Result<std::optional<store::CaRecord>> find_ca(const std::string& n) override {
    return real_.find_ca(n);
  }
  Result<std::vector<store::CaRecord>> list_cas() override { return real_.list_cas(); }
  Status retire_ca(const std::string& n, std::int64_t w) override { return real_.retire_ca(n, w); }
  Status add_devices(std::span<const store::DeviceRecord> d) override {
    return real_.add_devices(d);
  }
  Status reissue_device(const store::DeviceRecord& d, const std::string& r) override {
    return real_.reissue_device(d, r);
  }
  Result<std::optional<store::DeviceRecord>> find_device(const std::string& s) override {
    return real_.find_device(s);
  }
  Result<std::vector<std::string>> existing_serials(std::span<const std::string> s) override {
    return real_.existing_serials(s);
  }
  Status for_each_device(const store::DeviceFilter& f,
                         const std::function<bool(const store::DeviceRecord&)>& v) override {
    return real_.for_each_device(f, v);
  }
  Result<std::int64_t> count_devices() override { return real_.count_devices(); }
  Result<store::DeviceStatus> device_status(const std::string& s) override {
    return real_.device_status(s);
  }
  Status set_stolen(const std::string& s, bool b, const std::string& r, std::int64_t w) override {
    return real_.set_stolen(s, b, r, w);
  }
  Status set_ownership_policy(const std::string& s,
                              std::optional<store::OwnershipPolicy> p) override {
    return real_.set_ownership_policy(s, p);
  }
  Status add_owner_anchor(const std::string& s, const Bytes& c, bool r) override {
    return real_.add_owner_anchor(s, c, r);
  }
  Status record_event(const std::string& s, const std::string& e, const std::string& d,
                      std::int64_t w) override {
    return real_.record_event(s, e, d, w);
  }
  Result<std::vector<store::AuditEntry>> audit_log(const std::string& s) override {
    return real_.audit_log(s);
  }
  Result<bool> audited_for_domain(const std::string& s, const std::string& d) override {
    return real_.audited_for_domain(s, d);
  }
  Status set_ca_key_reference(const std::string& n, const std::string& r) override {
    return real_.set_ca_key_reference(n, r);
  }
  Status add_masa_signer(const store::MasaSignerRecord& r) override {
    return real_.add_masa_signer(r);
  }
  Result<std::vector<store::MasaSignerRecord>> list_masa_signers() override {
    return real_.list_masa_signers();
  }
  Status ping() override { return real_.ping(); }
  Status check_writable() override { return real_.check_writable(); }
  Result<std::vector<store::TicketKeyRecord>> ticket_keys(std::int64_t from) override {
    return real_.ticket_keys(from);
  }
  Status add_ticket_key(const store::TicketKeyRecord& key, std::int64_t drop_before) override {
    return real_.add_ticket_key(key, drop_before);
  }

 private:
  store::AssetStore& real_;
};

class MasaTestBase : public ::testing::Test {
 protected:
  [[nodiscard]] virtual Backend backend() const = 0;
  void SetUp() override {
    Manufacturer::current_backend() = backend();
    ASSERT_EQ(Manufacturer::get().failure(), "");
  }
  MasaConfig config() {
    MasaConfig c;
    c.signer = masa_.signer;
    c.signer_chain = masa_.chain();
    return c;
  }
  store::AssetStore& store() { return Manufacturer::get().store(); }
  std::string device() { return Manufacturer::get().take_device(); }

  // Verifies a voucher as a pledge would, with the MASA's anchor.
  voucher::Voucher open_voucher(const MasaResponse& r) {
    EXPECT_EQ(r.status, 200) << body_text(r);
    auto verified = voucher::verify_artifact(r.body, masa_.anchor());
    EXPECT_TRUE(verified) << verified.error().message;
    if (!verified) return {};
    EXPECT_EQ(verified->payload.kind, voucher::ArtifactKind::voucher);
    return verified->payload;
  }

  MasaIdentity masa_;
  Domain domain_ = make_domain("Owner");
};

class MasaTest : public MasaTestBase, public ::testing::WithParamInterface<Backend> {
 protected:
  [[nodiscard]] Backend backend() const override { return GetParam(); }
};

// Names a test instance after its backend ("postgres" in the name attaches
// ctest's PostgreSQL cluster fixture).
inline std::string backend_test_name(const ::testing::TestParamInfo<Backend>& info) {
  return backend_name(info.param);
}

}  // namespace vouchsafe::masa::testing
