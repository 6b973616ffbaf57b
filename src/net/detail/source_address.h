// The source of a connection as the abuse limits count it: its address, and
// the prefix it shares with the other hosts one party is likely to hold.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <string>
#include <vector>

#include "core/result.h"

namespace vouchsafe::net::detail {

// A /24 of IPv4 is the usual smallest routed block; a /64 of IPv6 is one
// subnet, which a single host may fill with addresses at will.
inline constexpr unsigned k_ipv4_prefix_bits = 24;
inline constexpr unsigned k_ipv6_prefix_bits = 64;

struct SourceKeys {
  std::string address;  // "192.0.2.7", "2001:db8::1"
  std::string prefix;   // "192.0.2.0/24", "2001:db8::/64"
};

// An IPv4-mapped IPv6 address (a dual-stack listener's view of an IPv4
// client) counts as the IPv4 address it maps; an IPv6 scope id is dropped.
SourceKeys source_keys(const boost::asio::ip::address& address);

// Configured addresses (text) as source_keys spells them, to compare with
// a connection's; usage naming the first that is no IP address.
Result<std::vector<std::string>> source_addresses(const std::vector<std::string>& texts);

}  // namespace vouchsafe::net::detail
