// Session-ticket keys kept in the asset store, so that every instance of
// the MASA on one store seals and opens the same tickets: a registrar that
// returns resumes its TLS session on any instance (issue 12).
//
// Time is cut into slots of `period`; each slot has one key. Whichever
// instance first needs a slot's key makes it and records it (the store
// keeps the first), and every instance reads the keys back: the current
// slot's seals, the previous slots' still open for `keep` more periods.
// Keys are random, live a few hours, and reach the store only sealed under
// a secret the instances hold (TicketSeal), so a copy of the store opens
// no ticket (docs/cluster.md, "A new connection per request, and
// resumption").
#pragma once

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/result.h"
#include "net/ticket_keys.h"
#include "service/ticket_seal.h"
#include "store/asset_store.h"

namespace vouchsafe::service {

struct TicketRotationOptions {
  std::chrono::seconds period{std::chrono::hours(1)};
  unsigned keep = 2;                                       // older slots still opening tickets
  std::chrono::seconds refresh{std::chrono::seconds(60)};  // how often the store is read
  std::function<std::time_t()> now;                        // std::time when unset; tests set it
  // Seals the keys this instance records and opens the ones it reads; a
  // row it cannot open (another secret, or in the clear) is not used.
  // Without one, keys are stored in the clear, and only such rows are used.
  std::shared_ptr<const TicketSeal> seal;
};

class TicketRotation {
 public:
  // Makes and loads the current keys once (an error stops start-up), then
  // refreshes them on a thread of its own until destroyed.
  static Result<std::unique_ptr<TicketRotation>> start(store::ServiceState& store,
                                                       TicketRotationOptions options);
  ~TicketRotation();
  TicketRotation(const TicketRotation&) = delete;
  TicketRotation& operator=(const TicketRotation&) = delete;

  [[nodiscard]] std::shared_ptr<const net::TicketKeyring> keyring() const { return keyring_; }
  // One refresh now: make the current slot's key if missing, reload.
  Status refresh();

 private:
  TicketRotation(store::ServiceState& store, TicketRotationOptions options);
  void run();
  // A new slot's key as the store keeps it.
  [[nodiscard]] Result<Bytes> fresh_row(std::int64_t slot) const;
  // A row's key, opened once: nullopt (said once) when it does not open.
  std::optional<net::TicketKey> key_of(const store::TicketKeyRecord& record);
  [[nodiscard]] Result<net::TicketKey> open_row(const store::TicketKeyRecord& record) const;

  store::ServiceState& store_;
  TicketRotationOptions options_;
  std::shared_ptr<net::TicketKeyring> keyring_ = std::make_shared<net::TicketKeyring>();
  struct Opened {
    Bytes row;
    std::optional<net::TicketKey> key;
  };
  std::mutex refresh_mutex_;               // one refresh at a time
  std::map<std::int64_t, Opened> opened_;  // by slot: the rows of the last refresh
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace vouchsafe::service
