// A listener behind a TCP load balancer that speaks the PROXY protocol
// (version 2): connections from the balancer's address begin with the
// header, and the client it names is who the rate limits and the handler
// see; a balancer connection without a header is cut. The balancer is
// played from 127.0.0.2 with the header written by hand.
#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <string>

#include "server_fixture.h"

namespace vouchsafe::net::testing {
namespace {

namespace asio = boost::asio;

// A PROXY v2 header for a TCP/IPv4 client a.b.c.d:port.
std::string proxy_header(std::array<std::uint8_t, 4> client, std::uint16_t port) {
  std::string h("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A\x21\x11\x00\x0C", 16);
  for (auto b : client) h.push_back(static_cast<char>(b));
  h += std::string("\x7F\x00\x00\x01", 4);  // the balancer's own listening address
  h.push_back(static_cast<char>(port >> 8U));
  h.push_back(static_cast<char>(port & 0xFFU));
  h += std::string("\x01\xBB", 2);
  return h;
}

class ProxyProtocolTest : public ServerTest {
 protected:
  // One GET through the "balancer": the header, then TLS and the request.
  // Returns the response's status line, or the error that ended it.
  std::string request_via_balancer(const std::string& header) {
    asio::io_context io;
    auto socket = connect_from(io, "127.0.0.2", server_->port());
    if (!header.empty()) asio::write(socket, asio::buffer(header));
    asio::ssl::context context(asio::ssl::context::tls_client);
    context.use_certificate_file(client_a_.cert_file, asio::ssl::context::pem);
    context.use_private_key_file(client_a_.key_file, asio::ssl::context::pem);
    asio::ssl::stream<asio::ip::tcp::socket> stream(std::move(socket), context);
    boost::system::error_code ec;
    stream.handshake(asio::ssl::stream_base::client, ec);
    if (ec) return "handshake: " + ec.message();
    asio::write(
        stream,
        asio::buffer(std::string("GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")), ec);
    std::string response;
    std::array<char, 1024> buffer{};
    while (!ec) {
      const std::size_t n = stream.read_some(asio::buffer(buffer), ec);
      response.append(buffer.data(), n);
    }
    return response.substr(0, response.find("\r\n"));
  }

  ServerOptions behind_balancer() const {
    auto o = options();
    o.proxy_protocol_from = {"127.0.0.2"};
    // One request per address and client certificate: the second from one
    // address is refused, whatever the balancer.
    o.address_rate_limit = {.per_second = 0.001, .burst = 1, .enabled = true};
    o.rate_limit.enabled = false;
    return o;
  }
};

TEST_F(ProxyProtocolTest, TheClientTheBalancerNamesIsWhoTheLimitsAndTheHandlerSee) {
  start(behind_balancer(), echo_handler());
  EXPECT_EQ(request_via_balancer(proxy_header({198, 51, 100, 7}, 40000)), "HTTP/1.1 200 OK");
  // Another client through the same balancer has an allowance of its own...
  EXPECT_EQ(request_via_balancer(proxy_header({203, 0, 113, 9}, 40001)), "HTTP/1.1 200 OK");
  // ...and the first one has used its own.
  EXPECT_EQ(request_via_balancer(proxy_header({198, 51, 100, 7}, 40002)),
            "HTTP/1.1 429 Too Many Requests");
  const auto seen = log_.snapshot();
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0].remote_address, "198.51.100.7:40000");
  EXPECT_EQ(seen[1].remote_address, "203.0.113.9:40001");
  EXPECT_EQ(seen[0].client_fingerprint, client_a_.fingerprint);
  // The refusal names the client, not the balancer.
  const auto refused = log_lines_with_error("rate_limited:address");
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_NE(refused[0].find("\"remote\":\"198.51.100.7:40002\""), std::string::npos) << refused[0];
}

TEST_F(ProxyProtocolTest, AHealthChecksLocalHeaderLeavesTheBalancersOwnAddress) {
  start(behind_balancer(), echo_handler());
  const std::string local("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A\x20\x00\x00\x00", 16);
  EXPECT_EQ(request_via_balancer(local), "HTTP/1.1 200 OK");
  const auto seen = log_.snapshot();
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].remote_address.rfind("127.0.0.2:", 0), 0U) << seen[0].remote_address;
}

TEST_F(ProxyProtocolTest, ABalancerConnectionWithoutAHeaderIsCut) {
  start(behind_balancer(), echo_handler());
  EXPECT_NE(request_via_balancer("").rfind("handshake: ", 0), std::string::npos);
  EXPECT_TRUE(
      eventually([&] { return counter("vouchsafe_http_rejected_total", {"proxy_header"}) == 1; }));
  EXPECT_TRUE(eventually([&] { return log_lines_with_error("proxy_header").size() == 1U; }));
  EXPECT_EQ(log_.calls.load(), 0);
  // Anyone else connects directly, without a header.
  EXPECT_EQ(run_command(curl(&client_a_) + "-o /dev/null -w '%{http_code}' " + url("/")).output,
            "200");
}

TEST_F(ProxyProtocolTest, ABalancerAddressMustBeAnIpAddress) {
  auto o = options();
  o.proxy_protocol_from = {"balancer.example"};
  auto server = HttpsServer::start(o, echo_handler());
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error().code, ErrorCode::usage);
  EXPECT_NE(server.error().message.find("'balancer.example' is not an IP address"),
            std::string::npos);
}

}  // namespace
}  // namespace vouchsafe::net::testing
