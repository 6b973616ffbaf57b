// The PROXY protocol, version 2 (haproxy's `send-proxy-v2`): the binary
// header a TCP load balancer sends before the client's bytes, naming the
// client's address. The server reads it only from the balancers it is
// told to trust (ServerOptions::proxy_protocol_from), so that rate limits
// and logs see clients, not the balancer.
//
// Header: a 12-byte signature, version and command (0x2 and LOCAL 0x0 or
// PROXY 0x1), address family and transport, a 16-bit length of what
// follows (addresses, then type-length-value fields this server skips).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/bytes.h"
#include "core/result.h"

namespace vouchsafe::net::detail {

inline constexpr std::size_t k_proxy_v2_prefix_size = 16;
// The longest header accepted: the UNIX addresses (216 bytes) and room for
// the balancer's TLVs. The protocol allows 65,535 bytes; a trusted
// balancer that sends more is misconfigured, and the bound keeps a
// connection's unread header small.
inline constexpr std::size_t k_proxy_v2_max_size = 536;

// From the first 16 bytes: the header's whole size (prefix included).
// invalid_value when they are no version-2 header or announce more than
// k_proxy_v2_max_size.
Result<std::size_t> proxy_v2_size(ByteView prefix);

struct ProxiedSource {
  boost::asio::ip::address address;
  std::uint16_t port = 0;
};

// The whole header (proxy_v2_size bytes): the client's TCP source, or
// nullopt where the connection's own endpoints stand (the LOCAL command a
// balancer's health check sends, or an unspecified or UNIX family).
// invalid_value for a malformed header.
Result<std::optional<ProxiedSource>> parse_proxy_v2(ByteView header);

}  // namespace vouchsafe::net::detail
