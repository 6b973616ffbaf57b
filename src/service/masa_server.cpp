// Wiring the MASA's store, service and listeners.
#include "service/masa_server.h"

#include "factory/authority.h"
#include "masa/masa_service.h"
#include "net/https_server.h"
#include "service/admin_endpoints.h"
#include "service/customer_classes.h"
#include "service/masa_binding.h"
#include "service/process.h"
#include "service/ticket_rotation.h"
#include "store/asset_store.h"

namespace vouchsafe::service {

// Destroyed in reverse: the listeners stop before the service and the
// store they call go.
struct MasaServer::Parts {
  std::unique_ptr<store::AssetStore> store;
  std::unique_ptr<TicketRotation> tickets;
  std::unique_ptr<masa::MasaService> service;
  std::unique_ptr<net::HttpsServer> public_listener;
  std::unique_ptr<net::HttpsServer> admin_listener;
};

Result<std::unique_ptr<MasaServer>> MasaServer::start(const MasaSettings& settings) {
  auto parts = std::make_unique<Parts>();
  ASSIGN_OR_RETURN(parts->store, settings.store.empty()
                                     ? factory::open_store(factory::Home{settings.home})
                                     : store::open_store(settings.store));
  ASSIGN_OR_RETURN(auto config, masa_config(settings));
  std::shared_ptr<const crypto::Signer> signer = config.signer;
  auto classes = std::make_shared<CustomerClasses>(config.customer_anchors);
  parts->service = std::make_unique<masa::MasaService>(std::move(config), *parts->store);

  // Tickets every instance on this store can open (issue 12).
  ASSIGN_OR_RETURN(parts->tickets, TicketRotation::start(*parts->store, {}));
  auto metrics = std::make_shared<net::MetricsRegistry>();
  ASSIGN_OR_RETURN(auto options, public_listener(settings));
  options.metrics = metrics;
  options.ticket_keys = parts->tickets->keyring();
  options.classify_client = [classes](const net::ClientCertificate& client) {
    return classes->classify(client);
  };
  auto admin_options = admin_listener(settings);
  admin_options.metrics = metrics;
  raise_descriptor_limit(options.max_connections + admin_options.max_connections + 64);

  ASSIGN_OR_RETURN(parts->public_listener,
                   net::HttpsServer::start_async(options, masa_routes(*parts->service)));
  store::AssetStore* store = parts->store.get();
  std::vector<ReadinessCheck> readiness{
      {"store unreachable", [store] { return store->ping(); }},
      // Ready means a voucher can be issued now: its audit entry must be
      // writable, not only the store readable.
      {"store not writable", [store] { return store->check_writable(); }},
      {"the signing key does not sign",
       [signer]() -> Status {
         TRY(signer->sign(as_bytes("readiness")));
         return ok();
       }},
  };
  ASSIGN_OR_RETURN(
      parts->admin_listener,
      net::HttpsServer::start(admin_options, admin_handler(std::move(readiness), metrics)));
  return std::unique_ptr<MasaServer>(new MasaServer(std::move(parts)));
}

MasaServer::MasaServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

MasaServer::~MasaServer() {
  stop();
}

unsigned short MasaServer::public_port() const {
  return parts_->public_listener->port();
}

unsigned short MasaServer::admin_port() const {
  return parts_->admin_listener->port();
}

void MasaServer::stop() {
  parts_->public_listener->stop();
  parts_->admin_listener->stop();
}

}  // namespace vouchsafe::service
