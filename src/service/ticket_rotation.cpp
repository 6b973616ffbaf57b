// Ticket keys: made once per slot by whichever instance comes first.
#include "service/ticket_rotation.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
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
  const std::lock_guard refreshing(refresh_mutex_);
  const std::time_t now = options_.now ? options_.now() : std::time(nullptr);
  const std::int64_t slot = static_cast<std::int64_t>(now) / options_.period.count();
  ASSIGN_OR_RETURN(auto records, store_.ticket_keys(slot - options_.keep));
  if (records.empty() || records.front().slot < slot) {
    ASSIGN_OR_RETURN(auto row, fresh_row(slot));
    TRY(store_.add_ticket_key({slot, std::move(row)}, slot - options_.keep));
    // Read back: another instance may have recorded the slot first.
    ASSIGN_OR_RETURN(records, store_.ticket_keys(slot - options_.keep));
  }
  std::vector<net::TicketKey> keys;
  for (const auto& record : records) {
    if (auto key = key_of(record)) keys.push_back(*key);
  }
  std::erase_if(opened_, [&records](const auto& entry) {
    return std::none_of(records.begin(), records.end(),
                        [&entry](const auto& r) { return r.slot == entry.first; });
  });
  keyring_->replace(std::move(keys));
  return ok();
}

Result<Bytes> TicketRotation::fresh_row(std::int64_t slot) const {
  crypto::SecretBytes material(net::TicketKey::k_material_size);
  if (RAND_bytes(material.data(), static_cast<int>(material.size())) != 1) {
    return fail(ErrorCode::internal, "no randomness for a session-ticket key");
  }
  if (!options_.seal) return Bytes(material.view().begin(), material.view().end());
  auto row = options_.seal->seal(slot, material.view());
  if (!row) {
    return fail(row.error().code, "cannot seal a session-ticket key under " +
                                      options_.seal->describe() + ": " + row.error().message);
  }
  return row;
}

std::optional<net::TicketKey> TicketRotation::key_of(const store::TicketKeyRecord& record) {
  // A slot's row never changes once recorded: each is opened (and a
  // passphrase derived for it) once.
  if (auto seen = opened_.find(record.slot);
      seen != opened_.end() && seen->second.row == record.material) {
    return seen->second.key;
  }
  auto key = open_row(record);
  if (!key) {
    std::cerr << "vouchsafe: the session-ticket key of slot " << record.slot
              << " is not used: " << key.error().message << "\n";
  }
  return opened_
      .insert_or_assign(record.slot,
                        Opened{record.material, key ? std::optional(*key) : std::nullopt})
      .first->second.key;
}

Result<net::TicketKey> TicketRotation::open_row(const store::TicketKeyRecord& record) const {
  const bool in_the_clear = record.material.size() == net::TicketKey::k_material_size;
  if (!options_.seal) {
    if (!in_the_clear) {
      return fail(ErrorCode::bad_key,
                  "it is sealed, and this instance has nothing to open it with (give it the "
                  "MASA passphrase or token the other instances have)");
    }
    return net::TicketKey::from_material(record.material);
  }
  if (in_the_clear) {
    // Whoever can write the store could choose it, and anyone who can read
    // the store knows it.
    return fail(ErrorCode::bad_key,
                "it is stored in the clear (by an instance that has no seal, or an older "
                "version); a sealed key follows with the next slot");
  }
  auto material = options_.seal->open(record.slot, record.material);
  if (!material) {
    if (material.error().code == ErrorCode::bad_passphrase) {
      return fail(ErrorCode::bad_key,
                  "it does not open under " + options_.seal->describe() +
                      ": an instance with another passphrase or token sealed it, or the row "
                      "was altered");
    }
    return fail(material.error());
  }
  return net::TicketKey::from_material(material->view());
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
