// PROXY protocol version 2, read with bounds checked at every step.
#include "net/detail/proxy_header.h"

#include <algorithm>
#include <array>

namespace vouchsafe::net::detail {

namespace {

constexpr std::array<std::uint8_t, 12> k_signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::uint8_t k_version = 0x2;
constexpr std::uint8_t k_local = 0x0;
constexpr std::uint8_t k_proxy = 0x1;
constexpr std::uint8_t k_unspec = 0x0;
constexpr std::uint8_t k_inet = 0x1;
constexpr std::uint8_t k_inet6 = 0x2;
constexpr std::uint8_t k_unix = 0x3;
constexpr std::uint8_t k_stream = 0x1;

Unexpected malformed(const std::string& what) {
  return fail(ErrorCode::invalid_value, "PROXY protocol header: " + what);
}

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8U) | p[1]);
}

// The source of an address block: source address, destination address,
// source port, destination port, for Address (address_v4 or address_v6).
template <typename Address>
Result<std::optional<ProxiedSource>> source_of(ByteView addresses, const char* family) {
  typename Address::bytes_type bytes{};
  if (addresses.size() < 2 * bytes.size() + 4) {
    return malformed(std::string(family) + " addresses cut short");
  }
  std::copy_n(addresses.begin(), bytes.size(), bytes.begin());
  return std::optional<ProxiedSource>(
      ProxiedSource{Address(bytes), be16(&addresses[2 * bytes.size()])});
}

}  // namespace

Result<std::size_t> proxy_v2_size(ByteView prefix) {
  if (prefix.size() < k_proxy_v2_prefix_size) return malformed("shorter than 16 bytes");
  if (!std::equal(k_signature.begin(), k_signature.end(), prefix.begin())) {
    return malformed("no version 2 signature (is the balancer sending send-proxy-v2?)");
  }
  if ((prefix[12] >> 4U) != k_version) return malformed("not version 2");
  const std::size_t size = k_proxy_v2_prefix_size + be16(&prefix[14]);
  if (size > k_proxy_v2_max_size) {
    return malformed(std::to_string(size) + " bytes, more than the " +
                     std::to_string(k_proxy_v2_max_size) + " accepted");
  }
  return size;
}

Result<std::optional<ProxiedSource>> parse_proxy_v2(ByteView header) {
  ASSIGN_OR_RETURN(const std::size_t size, proxy_v2_size(header));
  if (header.size() != size) return malformed("its length field does not match its size");
  const std::uint8_t command = header[12] & 0x0FU;
  const std::uint8_t family = header[13] >> 4U;
  const std::uint8_t transport = header[13] & 0x0FU;
  const ByteView addresses = header.subspan(k_proxy_v2_prefix_size);
  if (command == k_local) return std::optional<ProxiedSource>();
  if (command != k_proxy) return malformed("an unknown command");
  if (family == k_unspec || family == k_unix) return std::optional<ProxiedSource>();
  if (transport != k_stream) return malformed("a transport other than TCP");
  if (family == k_inet) return source_of<boost::asio::ip::address_v4>(addresses, "IPv4");
  if (family == k_inet6) return source_of<boost::asio::ip::address_v6>(addresses, "IPv6");
  return malformed("an unknown address family");
}

}  // namespace vouchsafe::net::detail
