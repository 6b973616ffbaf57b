// Wiring the MASA's store, service and listeners.
#include "service/masa_server.h"

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "core/secrets.h"
#include "crypto/key_reference.h"
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

namespace {

std::int64_t newest_id(const std::vector<store::MasaSignerRecord>& records) {
  std::int64_t id = 0;
  for (const auto& r : records) id = std::max(id, r.id);
  return id;
}

// Reads the store's signer records every `interval` and, when a rollover
// added one, swaps in a key set with the new key: every instance sharing
// the store picks it up without a restart, and a request in flight keeps
// the set it started with.
class KeyRefresher {
 public:
  KeyRefresher(MasaSettings settings, store::AssetStore& store, std::shared_ptr<masa::KeyRing> ring,
               std::shared_ptr<MasaKeyOpener> keys, std::int64_t seen)
      : settings_(std::move(settings)),
        store_(store),
        ring_(std::move(ring)),
        keys_(std::move(keys)),
        seen_(seen) {
    thread_ = std::thread([this] { run(); });
  }
  ~KeyRefresher() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  KeyRefresher(const KeyRefresher&) = delete;
  KeyRefresher& operator=(const KeyRefresher&) = delete;

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, settings_.key_refresh, [this] { return stopping_; })) {
      lock.unlock();
      refresh();
      lock.lock();
    }
  }
  void refresh() {
    auto records = store_.list_masa_signers();
    if (!records || newest_id(*records) <= seen_) return;
    auto set = masa_key_set(settings_, *records, *keys_);  // derives the new key alone
    if (!set) {
      // The old keys keep signing; the operator sees why the new one does not.
      (void)std::fprintf(stderr, "vouchsafe: masa: the rolled-over key is not used: %s\n",
                         set.error().message.c_str());
      seen_ = newest_id(*records);
      return;
    }
    ring_->replace(std::move(set).value());
    seen_ = newest_id(*records);
    (void)std::fprintf(stderr, "vouchsafe: masa: signing with the key recorded by rollover %lld\n",
                       static_cast<long long>(seen_));
  }

  MasaSettings settings_;
  store::AssetStore& store_;
  std::shared_ptr<masa::KeyRing> ring_;
  std::shared_ptr<MasaKeyOpener> keys_;
  std::int64_t seen_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// What seals the session-ticket keys in the store: a key on the token of
// the MASA's signing key when it is on one, else the MASA passphrase.
Result<std::shared_ptr<const TicketSeal>> ticket_seal(const MasaSettings& settings) {
  std::string why_not_token;
  ASSIGN_OR_RETURN(auto signing, crypto::parse_key_reference(settings.signing_key));
  if (signing.on_token()) {
    auto on_token = token_ticket_seal(signing.uri);
    if (on_token) return std::shared_ptr<const TicketSeal>(std::move(on_token).value());
    why_not_token = on_token.error().message + "; ";
  }
  ASSIGN_OR_RETURN(auto pass,
                   read_passphrase(settings.passphrase_file, "VOUCHSAFE_MASA_PASSPHRASE"));
  if (pass) {
    if (!why_not_token.empty()) {
      (void)std::fprintf(stderr,
                         "vouchsafe: masa: %ssession-ticket keys are sealed under the MASA "
                         "passphrase instead\n",
                         why_not_token.c_str());
    }
    return std::shared_ptr<const TicketSeal>(passphrase_ticket_seal(std::move(*pass)));
  }
  (void)std::fprintf(stderr,
                     "vouchsafe: masa: %sno MASA passphrase either: the session-ticket keys are "
                     "kept in the store in the clear\n",
                     why_not_token.c_str());
  return std::shared_ptr<const TicketSeal>();
}

}  // namespace

// Destroyed in reverse: the listeners and the key refresher stop before
// the service and the store they call go.
struct MasaServer::Parts {
  std::unique_ptr<store::AssetStore> store;
  std::unique_ptr<TicketRotation> tickets;
  std::unique_ptr<masa::MasaService> service;
  std::unique_ptr<net::HttpsServer> public_listener;
  std::unique_ptr<net::HttpsServer> admin_listener;
  std::unique_ptr<KeyRefresher> refresher;
};

Result<std::unique_ptr<MasaServer>> MasaServer::start(const MasaSettings& settings) {
  auto parts = std::make_unique<Parts>();
  // Instances sharing a PostgreSQL store never migrate it behind each
  // other's backs: `vouchsafe masa migrate` does, once.
  ASSIGN_OR_RETURN(parts->store,
                   factory::open_store(factory::Home{settings.home, settings.store},
                                       store::SchemaChange::refuse, settings.store_read));
  ASSIGN_OR_RETURN(auto records, parts->store->list_masa_signers());
  // Every key file derived once, in parallel (a rotating-key MASA has dozens).
  ASSIGN_OR_RETURN(auto keys, open_masa_keys(settings, records));
  ASSIGN_OR_RETURN(auto config, masa_config(settings, records, *keys));
  std::shared_ptr<masa::KeyRing> ring = config.keys;
  const std::int64_t seen = newest_id(records);
  auto classes = std::make_shared<CustomerClasses>(config.customer_anchors);
  parts->service = std::make_unique<masa::MasaService>(std::move(config), *parts->store);

  // Tickets every instance on this store can open (issue 12), their keys
  // sealed in the store under a secret the instances share.
  TicketRotationOptions tickets;
  ASSIGN_OR_RETURN(tickets.seal, ticket_seal(settings));
  ASSIGN_OR_RETURN(parts->tickets, TicketRotation::start(*parts->store, std::move(tickets)));
  auto metrics = std::make_shared<net::MetricsRegistry>();
  ASSIGN_OR_RETURN(auto options, public_listener(settings, *keys));
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
      // Every key of the current set, so that a token that went away or
      // logged out shows here before vouchers fail.
      {"a signing key does not sign",
       [ring]() -> Status {
         const auto current = ring->current();
         for (const auto& [id, key] : current->keys()) {
           if (auto signed_data = key.signer->sign(as_bytes("readiness")); !signed_data) {
             return fail(ErrorCode::bad_key,
                         "MASA key '" + id + "': " + signed_data.error().message);
           }
         }
         return ok();
       }},
  };
  ASSIGN_OR_RETURN(
      parts->admin_listener,
      net::HttpsServer::start(admin_options, admin_handler(std::move(readiness), metrics)));
  parts->refresher =
      std::make_unique<KeyRefresher>(settings, *parts->store, ring, std::move(keys), seen);
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
