// A running MASA process: its asset store, the service, the public HTTPS
// listener and the admin listener, wired from the settings.
#pragma once

#include <memory>

#include "core/result.h"
#include "service/masa_settings.h"

namespace vouchsafe::service {

class MasaServer {
 public:
  // Opens the store (the home's SQLite file, or settings.store), loads the
  // keys, and starts both listeners. Errors name what to fix.
  static Result<std::unique_ptr<MasaServer>> start(const MasaSettings& settings);
  ~MasaServer();  // stops
  MasaServer(const MasaServer&) = delete;
  MasaServer& operator=(const MasaServer&) = delete;

  [[nodiscard]] unsigned short public_port() const;
  [[nodiscard]] unsigned short admin_port() const;
  // Stops accepting and answers what is in flight. Idempotent.
  void stop();

 private:
  struct Parts;
  explicit MasaServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace vouchsafe::service
