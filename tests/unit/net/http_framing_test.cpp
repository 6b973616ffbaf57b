// Request framing by Transfer-Encoding and Content-Length (RFC 9112 §6.1,
// §6.3; issue 9, item 6): a request whose body length is in doubt gets its
// refusal and the connection ends, so that nothing after it is read as a
// request of its own.
#include <gtest/gtest.h>

#include <string>

#include "net/https_server.h"
#include "unit/net/server_fixture.h"

namespace vouchsafe::net::testing {
namespace {

using HttpFramingTest = ServerTest;
using std::chrono::milliseconds;

// A POST with the given framing headers and body, then a second request
// pipelined behind it: what a smuggling attempt looks like.
std::string smuggle(const std::string& framing, const std::string& body) {
  return "POST /first HTTP/1.1\r\nHost: t\r\n" + framing + "\r\n" + body +
         "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
}

struct Outcome {
  std::string received;
  bool closed = false;
};

Outcome exchange(unsigned short port, const ClientIdentity& client, const std::string& bytes) {
  RawTlsClient raw(port, client);
  raw.send(bytes);
  const bool closed = raw.seconds_until_closed(milliseconds(3000)).has_value();
  return {raw.received(), closed};
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

TEST_F(HttpFramingTest, RefusesAnUnknownTransferEncodingWithAContentLength) {
  start(options(), echo_handler());
  const auto out = exchange(server_->port(), client_a_,
                            smuggle("Transfer-Encoding: gzip\r\nContent-Length: 5\r\n", "hello"));
  EXPECT_TRUE(starts_with(out.received, "HTTP/1.1 400 Bad Request\r\n")) << out.received;
  EXPECT_NE(out.received.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(out.closed);
  EXPECT_EQ(out.received.find("smuggled"), std::string::npos);
  EXPECT_EQ(log_.calls.load(), 0);
}

TEST_F(HttpFramingTest, RefusesATransferEncodingWhoseFinalCodingIsNotChunked) {
  start(options(), echo_handler());
  const auto out =
      exchange(server_->port(), client_a_, smuggle("Transfer-Encoding: chunked, gzip\r\n", ""));
  EXPECT_TRUE(starts_with(out.received, "HTTP/1.1 400 Bad Request\r\n")) << out.received;
  EXPECT_TRUE(out.closed);
  EXPECT_EQ(out.received.find("smuggled"), std::string::npos);
  EXPECT_EQ(log_.calls.load(), 0);
}

TEST_F(HttpFramingTest, AnswersATransferCodingItDoesNotKnowWith501) {
  start(options(), echo_handler());
  const auto out =
      exchange(server_->port(), client_a_,
               smuggle("Transfer-Encoding: gzip, chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"));
  EXPECT_TRUE(starts_with(out.received, "HTTP/1.1 501 Not Implemented\r\n")) << out.received;
  EXPECT_TRUE(out.closed);
  EXPECT_EQ(out.received.find("smuggled"), std::string::npos);
  EXPECT_EQ(log_.calls.load(), 0);
}

TEST_F(HttpFramingTest, BeastRefusesChunkedAppliedTwice) {
  start(options(), echo_handler());
  const auto out = exchange(
      server_->port(), client_a_,
      smuggle("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"));
  EXPECT_TRUE(starts_with(out.received, "HTTP/1.1 400 Bad Request\r\n")) << out.received;
  EXPECT_TRUE(out.closed);
  EXPECT_EQ(log_.calls.load(), 0);
}

TEST_F(HttpFramingTest, RefusesATransferEncodingInAnHttp10Request) {
  start(options(), echo_handler());
  const auto out =
      exchange(server_->port(), client_a_,
               "POST /first HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_TRUE(starts_with(out.received, "HTTP/1.0 400 Bad Request\r\n")) << out.received;
  EXPECT_TRUE(out.closed);
  EXPECT_EQ(log_.calls.load(), 0);
}

// Beast's own checks, which the server relies on: a Content-Length and a
// chunked Transfer-Encoding together, in either order, end in a 400 and a
// close.
TEST_F(HttpFramingTest, BeastRefusesContentLengthAndChunkedTogetherInEitherOrder) {
  start(options(), echo_handler());
  for (const std::string framing : {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                                    "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"}) {
    const auto out = exchange(server_->port(), client_a_, smuggle(framing, "0\r\n\r\n"));
    EXPECT_TRUE(starts_with(out.received, "HTTP/1.1 400 Bad Request\r\n"))
        << framing << out.received;
    EXPECT_TRUE(out.closed) << framing;
    EXPECT_EQ(out.received.find("smuggled"), std::string::npos) << framing;
  }
  EXPECT_EQ(log_.calls.load(), 0);
}

TEST_F(HttpFramingTest, StillServesAChunkedBodyAndKeepsTheConnection) {
  start(options(), echo_handler());
  RawTlsClient raw(server_->port(), client_a_);
  raw.send(
      "POST /first HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\n");
  EXPECT_TRUE(raw.round_trip("/second", "hello /second"));
  EXPECT_EQ(log_.calls.load(), 2);
  EXPECT_EQ(log_.snapshot().front().body, to_bytes("hello"));
}

}  // namespace
}  // namespace vouchsafe::net::testing
