// Connection exhaustion (issue 9, item 1) over real sockets on loopback:
// caps per source address and prefix, the handshake deadline, and room for
// clients that complete a handshake while idle connections flood the server.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/https_server.h"
#include "unit/net/server_fixture.h"

namespace vouchsafe::net::testing {
namespace {

using ConnectionLimitsTest = ServerTest;
using std::chrono::milliseconds;
namespace ip = boost::asio::ip;

// Plain TCP connections that never start TLS, all opened before the checks.
std::vector<ip::tcp::socket> connect_many(boost::asio::io_context& io,
                                          const std::vector<std::string>& sources,
                                          unsigned short port) {
  std::vector<ip::tcp::socket> sockets;
  for (const auto& source : sources) sockets.push_back(connect_from(io, source, port));
  return sockets;
}

std::size_t count_closed(std::vector<ip::tcp::socket>& sockets) {
  std::size_t closed = 0;
  for (auto& s : sockets) closed += closed_by_server(s, milliseconds(300)) ? 1 : 0;
  return closed;
}

TEST_F(ConnectionLimitsTest, ClosesConnectionsPastThePerAddressCap) {
  auto o = options();
  o.max_connections_per_address = 3;
  o.handshake_timeout = milliseconds(20000);  // only the cap may close them here
  start(o, echo_handler());
  boost::asio::io_context io;
  auto sockets = connect_many(io, std::vector<std::string>(5, "127.0.0.2"), server_->port());
  EXPECT_TRUE(
      eventually([&] { return counter("vouchsafe_http_rejected_total", {"address_cap"}) == 2; }));
  EXPECT_EQ(count_closed(sockets), 2U);
  // Another address of the same prefix is not held back by it.
  auto other = connect_from(io, "127.0.0.3", server_->port());
  EXPECT_FALSE(closed_by_server(other, milliseconds(300)));
  EXPECT_EQ(counter("vouchsafe_http_rejected_total", {"address_cap"}), 2U);
}

TEST_F(ConnectionLimitsTest, ClosesConnectionsPastThePerPrefixCap) {
  auto o = options();
  o.max_connections_per_address = 2;
  o.max_connections_per_prefix = 3;
  o.handshake_timeout = milliseconds(20000);
  start(o, echo_handler());
  boost::asio::io_context io;
  auto sockets =
      connect_many(io, {"127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.4"}, server_->port());
  EXPECT_TRUE(
      eventually([&] { return counter("vouchsafe_http_rejected_total", {"prefix_cap"}) == 1; }));
  EXPECT_EQ(count_closed(sockets), 1U);
  // Another /24 has its own count.
  auto elsewhere = connect_from(io, "127.0.1.2", server_->port());
  EXPECT_FALSE(closed_by_server(elsewhere, milliseconds(300)));
}

TEST_F(ConnectionLimitsTest, ClosesAConnectionThatNeverStartsItsHandshake) {
  auto o = options();
  o.handshake_timeout = milliseconds(600);
  o.read_timeout = milliseconds(10000);
  start(o, echo_handler());
  boost::asio::io_context io;
  auto silent = connect_from(io, "127.0.0.2", server_->port());
  const auto opened = std::chrono::steady_clock::now();
  ASSERT_TRUE(closed_by_server(silent, milliseconds(3000))) << "still open after 3 s";
  const std::chrono::duration<double> after = std::chrono::steady_clock::now() - opened;
  EXPECT_GE(after.count(), 0.4);
  EXPECT_TRUE(eventually(
      [&] { return counter("vouchsafe_http_rejected_total", {"handshake_timeout"}) == 1; }));
  // The line is written after the socket is closed: wait for it too.
  EXPECT_TRUE(eventually([&] { return log_lines_with_error("handshake_timeout").size() == 1U; }));
}

TEST_F(ConnectionLimitsTest, EndsAConnectionThatSendsGarbageForAClientHelloAndServesOn) {
  start(options(), echo_handler());
  boost::asio::io_context io;
  // Application data before any handshake; then bytes that are not even a
  // TLS record.
  const std::string garbage[] = {std::string("\x17\x03\x03\x00\x10", 5) + std::string(16, 'Z'),
                                 "GET / HTTP/1.1\r\nHost: t\r\n\r\n"};
  for (std::size_t i = 0; i < std::size(garbage); ++i) {
    auto socket = connect_from(io, "127.0.0.3", server_->port());
    boost::asio::write(socket, boost::asio::buffer(garbage[i]));
    // Whatever the server answers (an alert, or nothing), it then closes.
    boost::system::error_code ec;
    std::array<char, 256> reply{};
    pollfd p{socket.native_handle(), POLLIN, 0};
    while (!ec && ::poll(&p, 1, 3000) > 0) socket.read_some(boost::asio::buffer(reply), ec);
    EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset)
        << i << ": " << ec.message();
    EXPECT_TRUE(eventually([&] {
      return counter("vouchsafe_tls_handshake_failures_total") == i + 1;
    })) << i
        << ": " << counter("vouchsafe_tls_handshake_failures_total");
  }
  // One line: the log keeps one per error and second (RefusalLog).
  const auto lines = log_lines_with_error("handshake_failed");
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_NE(lines[0].find("\"remote\":\"127.0.0.3:"), std::string::npos) << lines[0];
  // The server goes on serving.
  EXPECT_EQ(run_command(curl(&client_a_) + "-o /dev/null -w '%{http_code}' " + url("/")).output,
            "200");
}

TEST_F(ConnectionLimitsTest, RejectsCapsThatWouldMeanUnlimited) {
  for (const auto& change : std::vector<std::function<void(ServerOptions&)>>{
           [](ServerOptions& o) { o.max_connections = 0; },
           [](ServerOptions& o) { o.max_connections_per_address = 0; },
           [](ServerOptions& o) { o.max_connections_per_prefix = 0; },
           [](ServerOptions& o) { o.handshake_share = 0; },
           [](ServerOptions& o) { o.handshake_share = 1.5; },
           [](ServerOptions& o) { o.handshake_timeout = milliseconds(0); }}) {
    auto o = options();
    change(o);
    const auto server = HttpsServer::start(o, echo_handler());
    ASSERT_FALSE(server);
    EXPECT_EQ(server.error().code, ErrorCode::usage);
  }
}

// 8 prefixes x 4 addresses x 6 idle connections, reopened as the server
// closes them, against 64 places: far more than the server holds.
std::vector<std::string> flood_sources() {
  std::vector<std::string> sources;
  for (int prefix = 1; prefix <= 8; ++prefix) {
    for (int host = 1; host <= 4; ++host) {
      sources.push_back("127.0." + std::to_string(prefix) + "." + std::to_string(host));
    }
  }
  return sources;
}

ServerOptions flood_options(ServerOptions o) {
  o.max_connections = 64;
  o.handshake_share = 0.5;
  o.max_connections_per_address = 4;
  o.max_connections_per_prefix = 16;
  // Longer than the test: only pushing out can make room.
  o.handshake_timeout = milliseconds(20000);
  o.read_timeout = milliseconds(20000);
  return o;
}

TEST_F(ConnectionLimitsTest, RealClientsGetThroughAFloodOfIdleConnections) {
  start(flood_options(options()), echo_handler());
  IdleFlood flood(server_->port(), flood_sources(), 6, milliseconds(15000));
  // The server is full before the real client comes.
  ASSERT_TRUE(eventually([&] { return flood.connected() >= 128; })) << flood.connected();

  // The real client, from 127.0.0.1 (another prefix), on new connections.
  std::vector<std::string> codes;
  for (int i = 0; i < 8; ++i) {
    codes.push_back(
        run_command(curl(&client_a_) + "-o /dev/null -w '%{http_code}' " + url("/real")).output);
  }
  flood.stop();
  EXPECT_EQ(codes, std::vector<std::string>(8, "200"));
  EXPECT_GT(counter("vouchsafe_http_rejected_total", {"handshake_evicted"}), 0U);
  EXPECT_GT(counter("vouchsafe_http_rejected_total", {"address_cap"}), 0U);
  EXPECT_GT(flood.closed_by_server(), 0U);
}

TEST_F(ConnectionLimitsTest, NeverPushesOutAClientPastItsHandshake) {
  auto o = flood_options(options());
  o.max_connections = 8;  // 4 places for handshakes
  start(o, echo_handler());
  RawTlsClient kept(server_->port(), client_a_);
  ASSERT_TRUE(kept.round_trip("/before", "hello /before"));
  IdleFlood flood(server_->port(), flood_sources(), 2, milliseconds(15000));
  ASSERT_TRUE(eventually(
      [&] { return counter("vouchsafe_http_rejected_total", {"handshake_evicted"}) >= 20; }));
  EXPECT_TRUE(kept.round_trip("/during", "hello /during"));
  flood.stop();
}

}  // namespace
}  // namespace vouchsafe::net::testing
