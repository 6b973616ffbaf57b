// A listening address, HOST:PORT, as both services' configurations, their
// environment variables and flags take it.
#pragma once

#include <string>
#include <string_view>

#include "core/config_schema.h"
#include "core/result.h"

namespace vouchsafe::service {

struct Listener {
  std::string address = "127.0.0.1";
  unsigned short port = 8443;
  friend bool operator==(const Listener&, const Listener&) = default;
};

// An IPv4 address or a bracketed IPv6 one, and a port from 0 to 65535.
config::Type<Listener> listener_type();

// HOST:PORT from a flag or variable named `origin`.
Result<Listener> parse_listener(std::string_view text, std::string origin);

}  // namespace vouchsafe::service
