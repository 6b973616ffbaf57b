// Wiring the registrar's store, MASA client, service and listeners.
#include "service/registrar_server.h"

#include <boost/asio/thread_pool.hpp>

#include "net/https_server.h"
#include "service/admin_endpoints.h"
#include "service/masa_client.h"
#include "service/process.h"
#include "service/registrar_binding.h"

namespace vouchsafe::service {

// Destroyed in reverse: the listeners stop, then the workers finish, before
// the service, the client and the store they call go.
struct RegistrarServer::Parts {
  std::unique_ptr<store::RegistrarStore> store;
  std::unique_ptr<HttpsMasaClient> masa;
  std::unique_ptr<registrar::RegistrarService> service;
  std::unique_ptr<boost::asio::thread_pool> workers;
  std::unique_ptr<net::HttpsServer> public_listener;
  std::unique_ptr<net::HttpsServer> admin_listener;
  bool stopped = false;
};

Result<Bytes> enroll_offline(const RegistrarSettings& settings,
                             const std::vector<Bytes>& idevid_chain, voucher::Form form) {
  ASSIGN_OR_RETURN(auto store, store::open_registrar_store(registrar_store_location(settings)));
  ASSIGN_OR_RETURN(auto client_options, masa_client_options(settings));
  ASSIGN_OR_RETURN(auto masa, HttpsMasaClient::create(client_options));
  ASSIGN_OR_RETURN(auto config, registrar_config(settings));
  registrar::RegistrarService service(std::move(config), *store, *masa);
  auto voucher = service.enroll_offline(idevid_chain, form);
  if (!voucher) {
    const auto& entry = registrar::status_entry(voucher.refusal().error);
    return fail(ErrorCode::invalid_value, std::string(entry.name) + ": " +
                                              std::string(entry.reason) +
                                              (voucher.refusal().detail.empty()
                                                   ? std::string()
                                                   : " (" + voucher.refusal().detail + ")"));
  }
  return std::move(voucher).value();
}

std::string registrar_store_location(const RegistrarSettings& settings) {
  return settings.store.empty() ? settings.home + "/registrar.db" : settings.store;
}

Result<std::unique_ptr<RegistrarServer>> RegistrarServer::start(const RegistrarSettings& settings) {
  auto parts = std::make_unique<Parts>();
  ASSIGN_OR_RETURN(parts->store, store::open_registrar_store(registrar_store_location(settings)));
  ASSIGN_OR_RETURN(auto client_options, masa_client_options(settings));
  ASSIGN_OR_RETURN(parts->masa, HttpsMasaClient::create(client_options));
  ASSIGN_OR_RETURN(auto config, registrar_config(settings));
  parts->service =
      std::make_unique<registrar::RegistrarService>(std::move(config), *parts->store, *parts->masa);
  parts->workers = std::make_unique<boost::asio::thread_pool>(settings.workers);

  auto metrics = std::make_shared<net::MetricsRegistry>();
  ASSIGN_OR_RETURN(auto options, registrar_listener(settings));
  options.metrics = metrics;
  auto admin_options = registrar_admin_listener(settings);
  admin_options.metrics = metrics;
  raise_descriptor_limit(options.max_connections + admin_options.max_connections + 64);
  ASSIGN_OR_RETURN(
      parts->public_listener,
      net::HttpsServer::start_async(options, registrar_routes(*parts->service, *parts->workers)));
  store::RegistrarStore* store = parts->store.get();
  std::vector<ReadinessCheck> readiness{
      {"store unreachable", [store] { return store->ping(); }},
      // Ready means a voucher can be recorded, and so forwarded, now.
      {"store not writable", [store] { return store->check_writable(); }},
  };
  ASSIGN_OR_RETURN(
      parts->admin_listener,
      net::HttpsServer::start(admin_options, admin_handler(std::move(readiness), metrics)));
  return std::unique_ptr<RegistrarServer>(new RegistrarServer(std::move(parts)));
}

RegistrarServer::RegistrarServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

RegistrarServer::~RegistrarServer() {
  stop();
}

unsigned short RegistrarServer::public_port() const {
  return parts_->public_listener->port();
}

unsigned short RegistrarServer::admin_port() const {
  return parts_->admin_listener->port();
}

void RegistrarServer::stop() {
  if (parts_->stopped) return;
  parts_->stopped = true;
  parts_->public_listener->stop();
  parts_->admin_listener->stop();
  parts_->workers->join();
}

}  // namespace vouchsafe::service
