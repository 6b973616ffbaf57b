// Source address and prefix keys of a connection.
#include "net/detail/source_address.h"

#include <cstdint>

namespace vouchsafe::net::detail {

namespace {

namespace ip = boost::asio::ip;

SourceKeys v4_keys(const ip::address_v4& address) {
  constexpr std::uint32_t mask = ~std::uint32_t{0} << (32U - k_ipv4_prefix_bits);
  const ip::address_v4 prefix(address.to_uint() & mask);
  return {address.to_string(), prefix.to_string() + "/" + std::to_string(k_ipv4_prefix_bits)};
}

}  // namespace

SourceKeys source_keys(const ip::address& address) {
  if (address.is_v4()) return v4_keys(address.to_v4());
  const ip::address_v6 v6 = address.to_v6();
  if (v6.is_v4_mapped()) return v4_keys(ip::make_address_v4(ip::v4_mapped, v6));
  auto bytes = v6.to_bytes();
  const ip::address_v6 plain(bytes);  // without the scope id
  for (std::size_t i = k_ipv6_prefix_bits / 8; i < bytes.size(); ++i) bytes[i] = 0;
  return {plain.to_string(),
          ip::address_v6(bytes).to_string() + "/" + std::to_string(k_ipv6_prefix_bits)};
}

Result<std::vector<std::string>> source_addresses(const std::vector<std::string>& texts) {
  std::vector<std::string> out;
  for (const auto& text : texts) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(text, ec);
    if (ec) return fail(ErrorCode::usage, "'" + text + "' is not an IP address");
    out.push_back(source_keys(address).address);
  }
  return out;
}

}  // namespace vouchsafe::net::detail
