// An owner's registrar in process: a domain CA and registrar certificate
// made by `registrar init`'s functions, a RegistrarService over a
// throw-away SQLite registrar store, reaching a real MasaService (over the
// MASA fixture's manufacturer) through the MasaClient interface; and a
// pledge's view of it through the RegistrarTransport interface.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>

#include "pledge/bootstrap.h"
#include "pledge/identity.h"
#include "pledge/registrar_transport.h"
#include "registrar/domain_ca.h"
#include "registrar/registrar_service.h"
#include "store/registrar_store.h"
#include "unit/masa/masa_fixture.h"

namespace vouchsafe::registrar::testing {

namespace fs = std::filesystem;
using masa::testing::Backend;
using masa::testing::Manufacturer;

// The owner's PKI as `registrar init` makes it.
struct Owner {
  crypto::PkeyPtr ca_key = crypto::generate_key(crypto::KeyType::p256);
  crypto::X509Ptr ca;
  crypto::PkeyPtr registrar_key = crypto::generate_key(crypto::KeyType::p256);
  crypto::X509Ptr registrar;
  std::shared_ptr<const crypto::Signer> signer;

  explicit Owner(const std::string& organization = "Owner Inc.") {
    ca = std::move(make_domain_ca_certificate(ca_key.get(), organization)).value();
    RegistrarCertificateRequest request;
    request.organization = organization;
    registrar =
        std::move(make_registrar_certificate(registrar_key.get(), request, ca.get(), ca_key.get()))
            .value();
    signer = masa::testing::signer_for(registrar_key.get());
  }
  [[nodiscard]] std::vector<crypto::CertificateRef> chain() const {
    return {crypto::make_certificate_ref(crypto::share(registrar.get())),
            crypto::make_certificate_ref(crypto::share(ca.get()))};
  }
  [[nodiscard]] std::vector<Bytes> tls_chain() const {
    return {crypto::certificate_der(registrar.get()), crypto::certificate_der(ca.get())};
  }
  [[nodiscard]] std::shared_ptr<const DomainCa> domain_ca() const {
    return std::move(DomainCa::create(crypto::share(ca.get()), crypto::share(ca_key.get())))
        .value();
  }
};

// A MasaService behind the MasaClient interface, the registrar's TLS
// client certificate as its caller. Counts the posts and can be told to
// answer an endpoint itself.
class InProcessMasa : public MasaClient {
 public:
  InProcessMasa(masa::MasaService& service, X509* registrar_certificate)
      : service_(service), registrar_der_(crypto::certificate_der(registrar_certificate)) {}

  Result<MasaReply> post(const MasaPost& request) override {
    ++posts;
    {
      std::lock_guard lock(mutex_);
      last_[request.endpoint] = request.body;
      last_url = request.base_url;
      if (auto it = answers_.find(request.endpoint); it != answers_.end()) return it->second;
    }
    masa::MasaRequest m;
    m.endpoint = request.endpoint;
    m.content_type = request.content_type;
    m.accept = request.accept;
    m.body = request.body;
    m.caller.certificate_der = registrar_der_;
    m.caller.fingerprint = hex_encode(crypto::sha256(registrar_der_));
    const masa::MasaResponse r = service_.handle(m);
    return MasaReply{r.status, r.content_type, r.body};
  }
  // The body last posted to an endpoint.
  Bytes last(const std::string& endpoint) {
    std::lock_guard lock(mutex_);
    return last_[endpoint];
  }
  void answer(const std::string& endpoint, MasaReply reply) {
    std::lock_guard lock(mutex_);
    answers_[endpoint] = std::move(reply);
  }
  std::atomic<int> posts{0};
  std::string last_url;

 private:
  masa::MasaService& service_;
  Bytes registrar_der_;
  std::mutex mutex_;
  std::map<std::string, Bytes> last_;
  std::map<std::string, MasaReply> answers_;
};

inline std::optional<Endpoint> endpoint_of(std::string_view path) {
  static const std::map<std::string, Endpoint, std::less<>> k_paths{
      {"/.well-known/brski/requestvoucher", Endpoint::request_voucher},
      {"/.well-known/brski/voucher_status", Endpoint::voucher_status},
      {"/.well-known/brski/enrollstatus", Endpoint::enroll_status},
      {"/.well-known/est/cacerts", Endpoint::cacerts},
      {"/.well-known/est/csrattrs", Endpoint::csrattrs},
      {"/.well-known/est/simpleenroll", Endpoint::simple_enroll},
      {"/.well-known/est/simplereenroll", Endpoint::simple_reenroll}};
  auto it = k_paths.find(path);
  if (it == k_paths.end()) return std::nullopt;
  return it->second;
}

// The pledge's connection to a RegistrarService: the TLS layer's part
// (the registrar's chain, the client certificate) played in process.
class InProcessRegistrar : public pledge::RegistrarTransport {
 public:
  InProcessRegistrar(RegistrarService& service, std::vector<Bytes> registrar_chain, Caller caller)
      : service_(service), chain_(std::move(registrar_chain)), caller_(std::move(caller)) {}

  [[nodiscard]] std::vector<Bytes> registrar_chain() const override { return chain_; }
  Result<pledge::TransportReply> post(std::string_view path, std::string_view content_type,
                                      std::string_view accept, ByteView body) override {
    return call(path, content_type, accept, body);
  }
  Result<pledge::TransportReply> get(std::string_view path, std::string_view accept) override {
    return call(path, "", accept, {});
  }
  // Every exchange, in order: path and status.
  std::vector<std::pair<std::string, int>> exchanges;
  // Lets a test replace an answer: called with the path and the real reply.
  std::function<void(std::string_view, pledge::TransportReply&)> tamper;

 private:
  Result<pledge::TransportReply> call(std::string_view path, std::string_view content_type,
                                      std::string_view accept, ByteView body) {
    auto endpoint = endpoint_of(path);
    if (!endpoint) return fail(ErrorCode::usage, "no endpoint " + std::string(path));
    RegistrarRequest r;
    r.endpoint = *endpoint;
    r.content_type = std::string(content_type);
    r.accept = std::string(accept);
    r.body = Bytes(body.begin(), body.end());
    r.caller = caller_;
    RegistrarResponse response = service_.handle(r);
    pledge::TransportReply reply{response.status, response.content_type, response.body};
    if (tamper) tamper(path, reply);
    exchanges.emplace_back(std::string(path), reply.status);
    return reply;
  }
  RegistrarService& service_;
  std::vector<Bytes> chain_;
  Caller caller_;
};

// A device of the manufacturer fixture as the pledge holds it.
inline pledge::PledgeIdentity device_identity(const std::string& serial) {
  auto& m = Manufacturer::get(Backend::sqlite);
  std::vector<crypto::X509Ptr> chain;
  chain.push_back(m.idevid(serial));
  const auto ca = m.store().find_ca("widget-line-1");
  chain.push_back(std::move(crypto::parse_certificate_der((*ca)->certificate_der)).value());
  auto identity = pledge::identity_from_key(m.device_key(serial), std::move(chain));
  EXPECT_TRUE(identity) << identity.error().message;
  return std::move(identity).value();
}

inline Caller caller_of(const pledge::PledgeIdentity& identity) {
  Caller c;
  c.certificate_der = crypto::certificate_der(identity.chain.front().get());
  for (std::size_t i = 1; i < identity.chain.size(); ++i) {
    c.chain_der.push_back(crypto::certificate_der(identity.chain[i].get()));
  }
  return c;
}

// The manufacturer's root, as a registrar is configured to accept.
inline std::vector<crypto::X509Ptr> manufacturer_anchors() {
  auto& m = Manufacturer::get(Backend::sqlite);
  auto root = crypto::load_certificates(m.home().root_cert_file().string());
  EXPECT_TRUE(root) << root.error().message;
  return std::move(root).value();
}

// The whole arrangement: manufacturer, MASA, owner, registrar.
class OnboardingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Manufacturer::current_backend() = Backend::sqlite;
    ASSERT_EQ(Manufacturer::get().failure(), "");
    dir_ = fs::temp_directory_path() /
           ("vouchsafe-registrar-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto opened = store::open_sqlite_registrar_store((dir_ / "registrar.db").string());
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(opened).value();
    masa_service_ = std::make_unique<masa::MasaService>(masa_config(), Manufacturer::get().store());
    masa_client_ = std::make_unique<InProcessMasa>(*masa_service_, owner_.registrar.get());
    service_ = std::make_unique<RegistrarService>(registrar_config(), *store_, *masa_client_);
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  virtual masa::MasaConfig masa_config() {
    masa::MasaConfig c;
    c.signer = masa_.signer;
    c.signer_chain = masa_.chain();
    return c;
  }
  virtual RegistrarConfig registrar_config() {
    RegistrarConfig c;
    c.signer = owner_.signer;
    c.chain = owner_.chain();
    c.domain_ca = owner_.domain_ca();
    c.ldevid.organization = "Owner Inc.";
    c.manufacturer_anchors = manufacturer_anchors();
    c.masa.override_url = "https://masa.test";
    return c;
  }
  // Rebuilds the registrar with another configuration.
  void reconfigure(const std::function<void(RegistrarConfig&)>& change) {
    auto c = registrar_config();
    change(c);
    service_ = std::make_unique<RegistrarService>(std::move(c), *store_, *masa_client_);
  }

  std::string device() { return Manufacturer::get().take_device(); }
  InProcessRegistrar connect(const pledge::PledgeIdentity& identity) {
    return InProcessRegistrar(*service_, owner_.tls_chain(), caller_of(identity));
  }
  pledge::MasaTrust masa_trust() const {
    pledge::MasaTrust t;
    t.anchors.push_back(crypto::share(masa_.pki.root.get()));
    return t;
  }

  masa::testing::MasaIdentity masa_;
  Owner owner_;
  fs::path dir_;
  std::unique_ptr<store::RegistrarStore> store_;
  std::unique_ptr<masa::MasaService> masa_service_;
  std::unique_ptr<InProcessMasa> masa_client_;
  std::unique_ptr<RegistrarService> service_;
};

inline std::string text_of(const Bytes& body) {
  return {body.begin(), body.end()};
}

// The kinds of a pledge's events in the registrar's store, in order.
inline std::vector<std::string> event_kinds(store::RegistrarStore& store,
                                            const std::string& serial) {
  std::vector<std::string> out;
  auto onboarding = store.onboarding(serial);
  EXPECT_TRUE(onboarding) << onboarding.error().message;
  if (!onboarding || !*onboarding) return out;
  for (const auto& e : (*onboarding)->events) out.push_back(e.kind + (e.ok ? "" : "!"));
  return out;
}

}  // namespace vouchsafe::registrar::testing
