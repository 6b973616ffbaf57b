// HOST:PORT listeners for the services' configurations.
#include "service/listener.h"

#include <arpa/inet.h>

namespace vouchsafe::service {
namespace {

Result<Listener> read_listener(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return fail(ErrorCode::usage, "no :PORT");
  Listener l;
  l.address = std::string(text.substr(0, colon));
  const bool bracketed =
      l.address.size() > 2 && l.address.front() == '[' && l.address.back() == ']';
  if (bracketed) {
    l.address = l.address.substr(1, l.address.size() - 2);
  } else if (l.address.find(':') != std::string::npos) {
    return fail(ErrorCode::usage, "an IPv6 address goes in brackets, as in [::1]:8443");
  }
  in6_addr ignored{};
  const int family = bracketed ? AF_INET6 : AF_INET;
  if (::inet_pton(family, l.address.c_str(), &ignored) != 1) {
    return fail(ErrorCode::usage, "not an IP address");
  }
  const auto port = config::detail::parse_int64(text.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535 || text.substr(colon + 1).size() > 5) {
    return fail(ErrorCode::usage, "the port is not a number from 0 to 65535");
  }
  l.port = static_cast<unsigned short>(*port);
  return l;
}

std::string format_listener(const Listener& l) {
  const bool v6 = l.address.find(':') != std::string::npos;
  return (v6 ? "[" + l.address + "]" : l.address) + ":" + std::to_string(l.port);
}

}  // namespace

config::Type<Listener> listener_type() {
  return config::parsed<Listener>(
      "HOST:PORT with an IPv4 address or a bracketed IPv6 one, and a port from 0 to 65535",
      read_listener, format_listener);
}

Result<Listener> parse_listener(std::string_view text, std::string origin) {
  return config::parse_text(listener_type(), text, std::move(origin));
}

}  // namespace vouchsafe::service
