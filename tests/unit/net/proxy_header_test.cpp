// The PROXY protocol version 2 header: what haproxy's send-proxy-v2 sends
// is read, and every malformed or oversized header is refused.
#include "net/detail/proxy_header.h"

#include <gtest/gtest.h>

#include <string>

namespace vouchsafe::net::detail {
namespace {

const Bytes k_signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

// A header with these version/command and family/transport bytes and body.
Bytes header(std::uint8_t version_command, std::uint8_t family_transport, const Bytes& body) {
  Bytes out = k_signature;
  out.push_back(version_command);
  out.push_back(family_transport);
  out.push_back(static_cast<std::uint8_t>(body.size() >> 8U));
  out.push_back(static_cast<std::uint8_t>(body.size() & 0xFFU));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// 198.51.100.7:40000 to 192.0.2.1:443.
const Bytes k_ipv4 = {198, 51, 100, 7, 192, 0, 2, 1, 0x9C, 0x40, 0x01, 0xBB};

TEST(ProxyHeader, GivesTheClientOfAProxiedTcpConnection) {
  const Bytes h = header(0x21, 0x11, k_ipv4);
  auto size = proxy_v2_size(h);
  ASSERT_TRUE(size) << size.error().message;
  EXPECT_EQ(*size, 28U);
  auto source = parse_proxy_v2(h);
  ASSERT_TRUE(source) << source.error().message;
  ASSERT_TRUE(*source);
  EXPECT_EQ((*source)->address.to_string(), "198.51.100.7");
  EXPECT_EQ((*source)->port, 40000);
}

TEST(ProxyHeader, ReadsIpv6AndSkipsTheBalancersTlvs) {
  Bytes body(36, 0);
  body[0] = 0x20;  // 2001:db8::5
  body[1] = 0x01;
  body[2] = 0x0d;
  body[3] = 0xb8;
  body[15] = 0x05;
  body[32] = 0x30;  // port 12345
  body[33] = 0x39;
  const Bytes tlv = {0x04, 0x00, 0x03, 'a', 'b', 'c'};  // PP2_TYPE_NOOP
  body.insert(body.end(), tlv.begin(), tlv.end());
  auto source = parse_proxy_v2(header(0x21, 0x21, body));
  ASSERT_TRUE(source) << source.error().message;
  ASSERT_TRUE(*source);
  EXPECT_EQ((*source)->address.to_string(), "2001:db8::5");
  EXPECT_EQ((*source)->port, 12345);
}

TEST(ProxyHeader, LeavesTheConnectionsOwnAddressForLocalUnspecifiedAndUnix) {
  for (const auto& h : {header(0x20, 0x00, {}), header(0x20, 0x11, k_ipv4), header(0x21, 0x00, {}),
                        header(0x21, 0x31, Bytes(216, 0))}) {
    auto source = parse_proxy_v2(h);
    ASSERT_TRUE(source) << source.error().message;
    EXPECT_FALSE(*source);
  }
}

TEST(ProxyHeader, RefusesWhatIsNotAWellFormedVersion2Header) {
  Bytes wrong_signature = header(0x21, 0x11, k_ipv4);
  wrong_signature[3] = 0x0B;
  Bytes version1 = header(0x11, 0x11, k_ipv4);
  const Bytes text = to_bytes("PROXY TCP4 198.51.100.7 192.0.2.1 40000 443\r\n");
  const std::pair<Bytes, std::string> cases[] = {
      {wrong_signature, "no version 2 signature"},
      {version1, "not version 2"},
      {text, "no version 2 signature"},
      {Bytes(k_signature), "shorter than 16 bytes"},
      {header(0x21, 0x11, Bytes(k_ipv4.begin(), k_ipv4.end() - 1)), "IPv4 addresses cut short"},
      {header(0x21, 0x21, k_ipv4), "IPv6 addresses cut short"},
      {header(0x21, 0x12, k_ipv4), "a transport other than TCP"},
      {header(0x22, 0x11, k_ipv4), "an unknown command"},
      {header(0x21, 0x41, k_ipv4), "an unknown address family"},
      {header(0x21, 0x11, Bytes(600, 0)), "more than the 536 accepted"},
  };
  for (const auto& [h, expected] : cases) {
    auto source = parse_proxy_v2(h);
    ASSERT_FALSE(source) << expected;
    EXPECT_EQ(source.error().code, ErrorCode::invalid_value);
    EXPECT_NE(source.error().message.find(expected), std::string::npos) << source.error().message;
  }
  // The size said and the bytes given must agree.
  Bytes longer = header(0x21, 0x11, k_ipv4);
  longer.push_back(0);
  EXPECT_FALSE(parse_proxy_v2(longer));
}

}  // namespace
}  // namespace vouchsafe::net::detail
