// The HTTP bindings without a socket: the refusal name the MASA hands to
// the log, and the admin endpoints' readiness.
#include <gtest/gtest.h>

#include "service/admin_endpoints.h"
#include "service/masa_binding.h"

namespace vouchsafe::service {
namespace {

std::string text(const net::HttpResponse& r) {
  return {r.body.begin(), r.body.end()};
}

net::HttpRequest get(const std::string& target, const std::string& method = "GET") {
  net::HttpRequest r;
  r.method = method;
  r.target = target;
  return r;
}

TEST(AdminEndpoints, ReadyzNamesTheFirstConditionThatFails) {
  bool store_writable = true;
  auto handler = admin_handler(
      {{"store unreachable", [] { return ok(); }},
       {"store not writable",
        [&]() -> Status {
          if (store_writable) return ok();
          return fail(ErrorCode::io_error, "disk full");
        }},
       {"never asked", []() -> Status { return fail(ErrorCode::internal, "unreachable"); }}},
      std::make_shared<net::MetricsRegistry>());
  // The third condition fails from the start: the order is the report.
  auto r = handler(get("/readyz"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(text(r), "never asked: unreachable\n");
  store_writable = false;
  r = handler(get("/readyz"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(text(r), "store not writable: disk full\n");
}

TEST(AdminEndpoints, ReadyWhenEveryConditionHolds) {
  auto handler = admin_handler({{"a", [] { return ok(); }}, {"b", [] { return ok(); }}},
                               std::make_shared<net::MetricsRegistry>());
  EXPECT_EQ(handler(get("/readyz")).status, 200);
  EXPECT_EQ(handler(get("/healthz")).status, 200);
  EXPECT_EQ(handler(get("/nope")).status, 404);
  const auto post = handler(get("/readyz", "POST"));
  EXPECT_EQ(post.status, 405);
  ASSERT_EQ(post.headers.size(), 1U);
  EXPECT_EQ(post.headers[0].second, "GET, HEAD");
}

TEST(AdminEndpoints, MetricsAreThePrometheusRendering) {
  auto metrics = std::make_shared<net::MetricsRegistry>();
  metrics->counter("vouchsafe_http_requests_total", {"/x", "200"}).inc();
  auto handler = admin_handler({}, metrics);
  const auto r = handler(get("/metrics"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4");
  EXPECT_EQ(text(r), metrics->render_prometheus());
}

TEST(MasaBinding, ARefusalKeepsItsNameForTheLogButNotOnTheWire) {
  masa::MasaResponse refused = masa::refusal_response(masa::MasaError::device_stolen);
  const auto http = to_http(refused);
  EXPECT_EQ(http.status, 403);
  EXPECT_EQ(http.log_error, "device_stolen");
  EXPECT_EQ(http.body, refused.body);
  for (const auto& [name, value] : http.headers) EXPECT_NE(value, "device_stolen");
}

TEST(MasaBinding, AStoreFailureTellsTheRegistrarWhenToRetry) {
  const auto http = to_http(masa::refusal_response(masa::MasaError::store_failure));
  EXPECT_EQ(http.status, 503);
  const std::pair<std::string, std::string> retry{"Retry-After", "1"};
  EXPECT_EQ(http.headers, std::vector{retry});
}

TEST(MasaBinding, OtherRefusalsSayNothingOfRetrying) {
  const auto http = to_http(masa::refusal_response(masa::MasaError::device_stolen));
  EXPECT_TRUE(http.headers.empty());
}

}  // namespace
}  // namespace vouchsafe::service
