// The HTTPS server's abuse limits over real TLS: sizes, rate per client,
// class, address and prefix, invalid-request blocking, read and idle
// timeouts, connection cap.
#include <gtest/gtest.h>

#include <algorithm>

#include "net/https_server.h"
#include "unit/net/server_fixture.h"

namespace vouchsafe::net::testing {
namespace {

using ServerLimitsTest = ServerTest;
using std::chrono::milliseconds;

constexpr std::size_t k_body_limit = 64 * 1024U;

long count_of(const std::vector<std::string>& values, const std::string& value) {
  return std::count(values.begin(), values.end(), value);
}

TEST_F(ServerLimitsTest, RefusesABodyOverTheLimitFromItsContentLength) {
  auto o = options();
  o.max_body_bytes = k_body_limit;
  start(o, echo_handler());
  const auto file = write("big.bin", std::string(k_body_limit + k_body_limit / 2, 'x'));
  const auto result = run_command(curl(&client_a_) + "--data-binary @" + file +
                                  " -w ' %{http_code} %{content_type}' " + url("/upload"));
  EXPECT_EQ(result.output, o.refusals.too_large + " 413 text/plain; charset=utf-8");
  EXPECT_EQ(log_.calls.load(), 0);
  EXPECT_EQ(counter("vouchsafe_http_rejected_total", {"too_large"}), 1U);
}

TEST_F(ServerLimitsTest, RefusesAChunkedBodyOverTheLimitWhileReadingIt) {
  auto o = options();
  o.max_body_bytes = k_body_limit;
  start(o, echo_handler());
  const auto file = write("big.bin", std::string(k_body_limit + k_body_limit / 2, 'x'));
  const auto result =
      run_command(curl(&client_a_) + "-H 'Transfer-Encoding: chunked' --data-binary @" + file +
                  " -o /dev/null -w '%{http_code}' " + url("/upload"));
  EXPECT_EQ(result.output, "413");
  EXPECT_EQ(log_.calls.load(), 0);
}

TEST_F(ServerLimitsTest, AcceptsABodyAtTheLimit) {
  auto o = options();
  o.max_body_bytes = k_body_limit;
  start(o, echo_handler());
  const auto file = write("exact.bin", std::string(k_body_limit, 'x'));
  const auto result = run_command(curl(&client_a_) + "--data-binary @" + file +
                                  " -o /dev/null -w '%{http_code}' " + url("/upload"));
  EXPECT_EQ(result.output, "200");
}

TEST_F(ServerLimitsTest, RefusesAHeaderOverTheLimit) {
  auto o = options();
  o.max_header_bytes = 8192;
  start(o, echo_handler());
  const auto result = run_command(curl(&client_a_) + "-H 'X-Padding: " + std::string(9000, 'p') +
                                  "' -w ' %{http_code}' " + url("/hello"));
  EXPECT_EQ(result.output, o.refusals.too_large + " 413");
  EXPECT_EQ(log_.calls.load(), 0);
}

TEST_F(ServerLimitsTest, AnswersMalformedRequestsWith400) {
  start(options(), echo_handler());
  RawTlsClient client(server_->port(), client_a_);
  client.send("GET /x HTTP/1.1\r\nHost: t\r\nContent-Length: nope\r\n\r\n");
  EXPECT_TRUE(client.seconds_until_closed(milliseconds(3000)).has_value());
  EXPECT_EQ(client.received().rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0U) << client.received();
  EXPECT_EQ(log_.calls.load(), 0);
}

TEST_F(ServerLimitsTest, RateLimitsEachClientWith429AndRetryAfter) {
  auto o = options();
  o.rate_limit = {.per_second = 0.5, .burst = 5, .enabled = true};
  start(o, echo_handler());
  // 30 requests on one kept-alive connection, each status on its own line.
  const auto result = run_command(curl(&client_a_) + "-o '" + (dir_ / "out_#1").string() +
                                  "' -w '%{http_code}\\n' '" + url("/r[1-30]") + "'");
  const auto codes = lines(result.output);
  ASSERT_EQ(codes.size(), 30U);
  EXPECT_EQ(std::vector<std::string>(codes.begin(), codes.begin() + 5),
            std::vector<std::string>(5, "200"));
  EXPECT_LE(count_of(codes, "200"), 6);
  EXPECT_GE(count_of(codes, "429"), 24);
  EXPECT_GE(counter("vouchsafe_http_rejected_total", {"rate_limited"}), 24U);

  const auto refused = run_command(curl(&client_a_) + "-i " + url("/again"));
  EXPECT_NE(refused.output.find("429"), std::string::npos);
  EXPECT_NE(refused.output.find("Retry-After: 2\r\n"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find(o.refusals.rate_limited), std::string::npos);

  // Another client certificate has a bucket of its own.
  const auto other =
      run_command(curl(&client_b_) + "-o /dev/null -w '%{http_code}' " + url("/other"));
  EXPECT_EQ(other.output, "200");
}

TEST_F(ServerLimitsTest, BlocksAClientThatKeepsSendingInvalidRequests) {
  auto o = options();
  o.rate_limit.enabled = false;
  o.max_invalid_before_block = 3;
  std::atomic<int> calls{0};
  start(o, [&](const HttpRequest& request) {
    ++calls;
    // 404 says nothing about the client; 400 does.
    return request.target.starts_with("/missing") ? text_response(404, "no such device")
                                                  : text_response(400, "bad voucher request");
  });
  const auto missing = run_command(curl(&client_a_) + "-o '" + (dir_ / "out_#1").string() +
                                   "' -w '%{http_code}\\n' '" + url("/missing?[1-4]") + "'");
  EXPECT_EQ(lines(missing.output), std::vector<std::string>(4, "404"));

  const auto result = run_command(curl(&client_a_) + "-o '" + (dir_ / "out_#1").string() +
                                  "' -w '%{http_code}\\n' '" + url("/bad[1-8]") + "'");
  const std::vector<std::string> expected = {"400", "400", "400", "400",
                                             "403", "403", "403", "403"};
  EXPECT_EQ(lines(result.output), expected);
  EXPECT_EQ(calls.load(), 4 + 4);  // the four 404s, then four 400s: the rest never reached it

  const auto refused = run_command(curl(&client_a_) + url("/bad"));
  EXPECT_EQ(refused.output, o.refusals.blocked);
  EXPECT_EQ(calls.load(), 8);
  EXPECT_EQ(counter("vouchsafe_http_rejected_total", {"blocked"}), 5U);

  // Another client is not affected.
  const auto other =
      run_command(curl(&client_b_) + "-o /dev/null -w '%{http_code}' " + url("/bad"));
  EXPECT_EQ(other.output, "400");
}

// A classifier that knows one customer: everyone else shares a bucket.
ClientClassifier knows_only(const std::string& customer_fingerprint) {
  return [customer_fingerprint](const ClientCertificate& client) {
    return client.fingerprint == customer_fingerprint ? ClientClass{}
                                                      : ClientClass{"unknown-registrars"};
  };
}

TEST_F(ServerLimitsTest, ClientsTheServiceDoesNotKnowShareOneAllowance) {
  auto o = options();
  o.rate_limit = {.per_second = 0.01, .burst = 100, .enabled = true};
  o.shared_rate_limit = {.per_second = 0.01, .burst = 3, .enabled = true};
  o.classify_client = knows_only(client_a_.fingerprint);
  start(o, echo_handler());
  const auto client_c = make_client("registrar-c");
  const auto status = [&](const ClientIdentity& client) {
    return run_command(curl(&client) + "-o /dev/null -w '%{http_code}' " + url("/x")).output;
  };
  EXPECT_EQ(status(client_b_), "200");
  EXPECT_EQ(status(client_b_), "200");
  EXPECT_EQ(status(client_c), "200");
  // A fresh certificate brings no fresh allowance...
  const auto refused = run_command(curl(&client_c) + "-i " + url("/x"));
  EXPECT_NE(refused.output.find("HTTP/1.1 429"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find(o.refusals.shared_rate_limited), std::string::npos);
  EXPECT_EQ(status(make_client("registrar-d")), "429");
  // ...and the known customer keeps its own.
  EXPECT_EQ(status(client_a_), "200");
  EXPECT_EQ(log_lines_with_error("rate_limited:shared").size(), 2U);
}

TEST_F(ServerLimitsTest, RateLimitsAnAddressWhateverCertificatesItPresents) {
  auto o = options();
  o.address_rate_limit = {.per_second = 0.01, .burst = 3, .enabled = true};
  start(o, echo_handler());
  std::vector<std::string> codes;
  for (int i = 0; i < 4; ++i) {
    const auto client = make_client("rotating-" + std::to_string(i));
    codes.push_back(
        run_command(curl(&client) + "-o /dev/null -w '%{http_code}' " + url("/x")).output);
  }
  EXPECT_EQ(codes, (std::vector<std::string>{"200", "200", "200", "429"}));
  EXPECT_EQ(log_lines_with_error("rate_limited:address").size(), 1U);
}

TEST_F(ServerLimitsTest, BlocksAnAddressWhoseClientsRotateCertificates) {
  auto o = options();
  o.rate_limit.enabled = false;
  o.max_invalid_before_block = 100;
  o.max_invalid_per_address_before_block = 3;
  start(o, [](const HttpRequest&) { return text_response(400, "bad voucher request"); });
  std::vector<std::string> codes;
  for (int i = 0; i < 5; ++i) {
    const auto client = make_client("rotating-" + std::to_string(i));
    codes.push_back(
        run_command(curl(&client) + "-o /dev/null -w '%{http_code}' " + url("/x")).output);
  }
  EXPECT_EQ(codes, (std::vector<std::string>{"400", "400", "400", "400", "403"}));
  EXPECT_EQ(log_lines_with_error("blocked:address").size(), 1U);
}

TEST_F(ServerLimitsTest, ReportInvalidCountsTowardsTheBlock) {
  auto o = options();
  o.max_invalid_before_block = 2;
  start(o, echo_handler());
  for (int i = 0; i < 3; ++i) server_->report_invalid(client_a_.fingerprint);
  const auto result = run_command(curl(&client_a_) + "-w ' %{http_code}' " + url("/x"));
  EXPECT_EQ(result.output, o.refusals.blocked + " 403");
  EXPECT_EQ(log_.calls.load(), 0);
}

TEST_F(ServerLimitsTest, CutsAClientThatSendsHalfAHeader) {
  auto o = options();
  o.read_timeout = milliseconds(800);
  start(o, echo_handler());
  RawTlsClient slow(server_->port(), client_a_);
  slow.send("GET /slow HTTP/1.1\r\nHost: te");
  const auto closed = slow.seconds_until_closed(milliseconds(5000));
  ASSERT_TRUE(closed.has_value()) << "the server kept a slow client";
  EXPECT_GE(*closed, 0.6) << slow.close_reason();
  EXPECT_LT(*closed, 2.5);
  EXPECT_EQ(log_.calls.load(), 0);
  // The client may see the close before the server's completion handler ran.
  EXPECT_TRUE(
      eventually([&] { return counter("vouchsafe_http_rejected_total", {"timeout"}) == 1; }));
}

TEST_F(ServerLimitsTest, CutsAClientThatNeverSendsARequest) {
  auto o = options();
  o.read_timeout = milliseconds(800);
  start(o, echo_handler());
  RawTlsClient silent(server_->port(), client_a_);
  const auto closed = silent.seconds_until_closed(milliseconds(5000));
  ASSERT_TRUE(closed.has_value());
  EXPECT_LT(*closed, 2.5);
}

TEST_F(ServerLimitsTest, ClosesAnIdleKeptAliveConnection) {
  auto o = options();
  o.idle_timeout = milliseconds(800);
  o.read_timeout = milliseconds(5000);
  start(o, echo_handler());
  RawTlsClient idle(server_->port(), client_a_);
  idle.send("GET /once HTTP/1.1\r\nHost: t\r\n\r\n");
  const auto closed = idle.seconds_until_closed(milliseconds(5000));
  ASSERT_TRUE(closed.has_value());
  EXPECT_GE(*closed, 0.6);
  EXPECT_LT(*closed, 2.5);
  EXPECT_NE(idle.received().find("hello /once"), std::string::npos);
  EXPECT_EQ(idle.received().find("Connection: close"), std::string::npos);
}

TEST_F(ServerLimitsTest, ClosesConnectionsBeyondTheCap) {
  auto o = options();
  o.max_connections = 2;
  start(o, echo_handler());
  // Both past their handshakes on the server's side too, so neither can be
  // pushed out for the newcomer.
  std::optional<RawTlsClient> first(std::in_place, server_->port(), client_a_);
  ASSERT_TRUE(first->round_trip("/first", "hello /first"));
  RawTlsClient second(server_->port(), client_a_);
  ASSERT_TRUE(second.round_trip("/second", "hello /second"));

  const auto refused = run_command(curl(&client_a_) + url("/third"));
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(eventually(
      [&] { return counter("vouchsafe_http_rejected_total", {"connection_cap"}) == 1; }));

  // A freed place is taken again (the server notices the close at once).
  first.reset();
  std::string code;
  for (int attempt = 0; attempt < 20 && code != "200"; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(milliseconds(50));
    code = run_command(curl(&client_a_) + "-o /dev/null -w '%{http_code}' " + url("/later")).output;
  }
  EXPECT_EQ(code, "200");
}

}  // namespace
}  // namespace vouchsafe::net::testing
