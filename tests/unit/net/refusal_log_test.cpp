// The refusal log (issue 9, item 14): one JSON line per response with
// status >= 400 and per refused connection, with the reason and the
// client's fingerprint, and nothing that is not meant for it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "net/https_server.h"
#include "unit/net/server_fixture.h"

namespace vouchsafe::net::testing {
namespace {

using RefusalLogTest = ServerTest;
using nlohmann::json;
using std::chrono::milliseconds;

json only_line(const std::vector<std::string>& lines) {
  EXPECT_EQ(lines.size(), 1U);
  return lines.empty() ? json() : json::parse(lines.front());
}

TEST_F(RefusalLogTest, LogsAServerRefusalWithWhoAndWhy) {
  auto o = options();
  o.rate_limit = {.per_second = 0.01, .burst = 1, .enabled = true};
  start(o, echo_handler());
  run_command(curl(&client_a_) + "-o /dev/null " + url("/first"));
  run_command(curl(&client_a_) + "-o /dev/null " + url("/second?q=1"));
  ASSERT_TRUE(eventually([&] { return !refusal_log_->snapshot().empty(); }));
  // The 200 is not logged; the 429 is.
  const auto line = only_line(refusal_log_->snapshot());
  EXPECT_TRUE(std::regex_match(line["time"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)")))
      << line["time"];
  EXPECT_EQ(line["listener"], "127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_TRUE(line["remote"].get<std::string>().starts_with("127.0.0.1:"));
  EXPECT_EQ(line["fingerprint"], client_a_.fingerprint);
  EXPECT_EQ(line["method"], "GET");
  EXPECT_EQ(line["endpoint"], "/second");
  EXPECT_EQ(line["status"], 429);
  EXPECT_EQ(line["reason"], o.refusals.rate_limited);
  EXPECT_EQ(line["error"], "rate_limited:client");
}

TEST_F(RefusalLogTest, LogsTheHandlersErrorNameButNeverSendsIt) {
  start(options(), [](const HttpRequest& request) {
    if (request.target == "/broken") return text_response(500, "internal error");
    auto response = text_response(403, "bad \x01signature\x1b[31m\nsecond line, not logged");
    response.log_error = "rvr_signature_invalid";
    return response;
  });
  const auto wire = run_command(curl(&client_a_) + "-i " + url("/refused"));
  EXPECT_NE(wire.output.find("403"), std::string::npos);
  EXPECT_EQ(wire.output.find("rvr_signature_invalid"), std::string::npos) << wire.output;
  run_command(curl(&client_a_) + "-o /dev/null " + url("/broken"));
  ASSERT_TRUE(eventually([&] { return refusal_log_->snapshot().size() == 2; }));

  const auto lines = refusal_log_->snapshot();
  // Control characters are escaped: a line is one line, whatever the reason.
  EXPECT_EQ(lines[0].find('\x01'), std::string::npos);
  EXPECT_EQ(lines[0].find('\x1b'), std::string::npos);
  const auto refused = json::parse(lines[0]);
  EXPECT_EQ(refused["status"], 403);
  EXPECT_EQ(refused["reason"], "bad \x01signature\x1b[31m");
  EXPECT_EQ(refused["error"], "rvr_signature_invalid");
  const auto broken = json::parse(lines[1]);
  EXPECT_EQ(broken["status"], 500);
  EXPECT_FALSE(broken.contains("error"));
}

TEST_F(RefusalLogTest, CutsALongReasonAndLeavesOutBodiesThatAreNotText) {
  start(options(), [](const HttpRequest& request) {
    if (request.target == "/json") {
      return HttpResponse{400, "application/json", to_bytes(R"({"secret":"do not log"})"), {}};
    }
    return text_response(400, std::string(1000, 'r'));
  });
  run_command(curl(&client_a_) + "-o /dev/null " + url("/long"));
  run_command(curl(&client_a_) + "-o /dev/null " + url("/json"));
  ASSERT_TRUE(eventually([&] { return refusal_log_->snapshot().size() == 2; }));
  const auto lines = refusal_log_->snapshot();
  EXPECT_EQ(json::parse(lines[0])["reason"], std::string(200, 'r'));
  EXPECT_FALSE(json::parse(lines[1]).contains("reason"));
  EXPECT_EQ(lines[1].find("do not log"), std::string::npos);
}

TEST_F(RefusalLogTest, LogsRefusedConnectionsAtMostOncePerSecondPerReason) {
  auto o = options();
  o.max_connections_per_address = 1;
  o.handshake_timeout = milliseconds(20000);
  start(o, echo_handler());
  boost::asio::io_context io;
  auto held = connect_from(io, "127.0.0.2", server_->port());
  std::vector<boost::asio::ip::tcp::socket> refused;
  for (int i = 0; i < 5; ++i) refused.push_back(connect_from(io, "127.0.0.2", server_->port()));
  ASSERT_TRUE(
      eventually([&] { return counter("vouchsafe_http_rejected_total", {"address_cap"}) == 5; }));
  // Counted before logged: wait for the line as well.
  ASSERT_TRUE(eventually([&] { return !log_lines_with_error("address_cap").empty(); }));
  const auto first = only_line(log_lines_with_error("address_cap"));
  EXPECT_EQ(first["remote"].get<std::string>().rfind("127.0.0.2:", 0), 0U);
  EXPECT_FALSE(first.contains("suppressed"));

  std::this_thread::sleep_for(milliseconds(1100));
  auto late = connect_from(io, "127.0.0.2", server_->port());
  ASSERT_TRUE(eventually([&] { return log_lines_with_error("address_cap").size() == 2; }));
  EXPECT_EQ(json::parse(log_lines_with_error("address_cap")[1])["suppressed"], 4);
}

}  // namespace
}  // namespace vouchsafe::net::testing
