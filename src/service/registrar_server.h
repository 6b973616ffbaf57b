// A running registrar process: its store, the MASA client, the service,
// the pledges' HTTPS listener and the admin listener, wired from the
// settings.
#pragma once

#include <memory>

#include "core/result.h"
#include "voucher/trust_policy.h"
#include "service/registrar_settings.h"

namespace vouchsafe::service {

class RegistrarServer {
 public:
  // Opens the store (HOME/registrar.db, or settings.store), loads the
  // keys, and starts both listeners. Errors name what to fix.
  static Result<std::unique_ptr<RegistrarServer>> start(const RegistrarSettings& settings);
  ~RegistrarServer();  // stops
  RegistrarServer(const RegistrarServer&) = delete;
  RegistrarServer& operator=(const RegistrarServer&) = delete;

  [[nodiscard]] unsigned short public_port() const;
  [[nodiscard]] unsigned short admin_port() const;
  // Stops accepting and answers what is in flight. Idempotent.
  void stop();

 private:
  struct Parts;
  explicit RegistrarServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// One enrolling voucher (docs/enrolling-voucher.md) outside a running
// server: the home's store, keys and MASA client, for the device whose
// IDevID (then its CA certificates) is given. Returns the voucher as the
// MASA signed it; a refusal is an invalid_value error naming it.
Result<Bytes> enroll_offline(const RegistrarSettings& settings,
                             const std::vector<Bytes>& idevid_chain, voucher::Form form);

// Where a registrar home keeps its store.
std::string registrar_store_location(const RegistrarSettings& settings);

}  // namespace vouchsafe::service
