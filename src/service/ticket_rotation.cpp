// Ticket keys: made once per slot by whichever instance comes first.
#include "service/ticket_rotation.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <iostream>

namespace vouchsafe::service {

TicketRotation::TicketRotation(store::ServiceState& store, TicketRotationOptions options)
    : store_(store), options_(std::move(options)) {}

Result<std::unique_ptr<TicketRotation>> TicketRotation::start(store::ServiceState& store,
                                                              TicketRotationOptions options) {
  if (options.period.count() <= 0) {
    return fail(ErrorCode::usage, "the session-ticket key period must be positive");
  }
  std::unique_ptr<TicketRotation> rotation(new TicketRotation(store, std::move(options)));
  TRY(rotation->refresh());
  rotation->thread_ = std::thread([r = rotation.get()] { r->run(); });
  return rotation;
}

TicketRotation::~TicketRotation() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status TicketRotation::refresh() {
  const std::time_t now = options_.now ? options_.now() : std::time(nullptr);
  const std::int64_t slot = static_cast<std::int64_t>(now) / options_.period.count();
  ASSIGN_OR_RETURN(auto records, store_.ticket_keys(slot - options_.keep));
  if (records.empty() || records.front().slot < slot) {
    store::TicketKeyRecord fresh{slot, Bytes(net::TicketKey::k_material_size)};
    if (RAND_bytes(fresh.material.data(), static_cast<int>(fresh.material.size())) != 1) {
      return fail(ErrorCode::internal, "no randomness for a session-ticket key");
    }
    auto added = store_.add_ticket_key(fresh, slot - options_.keep);
    OPENSSL_cleanse(fresh.material.data(), fresh.material.size());
    TRY(added);
    // Read back: another instance may have recorded the slot first.
    ASSIGN_OR_RETURN(records, store_.ticket_keys(slot - options_.keep));
  }
  std::vector<net::TicketKey> keys;
  for (auto& record : records) {
    auto key = net::TicketKey::from_material(record.material);
    OPENSSL_cleanse(record.material.data(), record.material.size());
    if (!key)
      return fail(key.error().code,
                  "slot " + std::to_string(record.slot) + ": " + key.error().message);
    keys.push_back(*key);
  }
  keyring_->replace(std::move(keys));
  return ok();
}

void TicketRotation::run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, options_.refresh, [this] { return stopping_; })) {
    lock.unlock();
    // A store that is down now keeps the keys loaded before; tickets keep
    // working until their slots age out, and the next refresh catches up.
    if (auto done = refresh(); !done) {
      std::cerr << "vouchsafe: session-ticket keys not refreshed: " << done.error().message << "\n";
    }
    lock.lock();
  }
}

}  // namespace vouchsafe::service
