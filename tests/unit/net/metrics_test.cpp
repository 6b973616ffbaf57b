// The metric registry and its Prometheus text rendering.
#include "net/metrics.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

namespace vouchsafe::net {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Metrics, RendersEveryDeclaredMetricWithHelpAndType) {
  MetricsRegistry registry;
  const std::string text = registry.render_prometheus();
  for (const auto& definition : k_metric_table) {
    const std::string name(definition.name);
    EXPECT_TRUE(contains(text, "# HELP " + name + " ")) << name;
    EXPECT_TRUE(contains(text, "# TYPE " + name + " ")) << name;
  }
  // A label-less counter shows before its first increment.
  EXPECT_TRUE(contains(text, "\nvouchsafe_tls_handshake_failures_total 0\n"));
}

TEST(Metrics, CountsPerLabelSet) {
  MetricsRegistry registry;
  registry.counter("vouchsafe_http_requests_total", {"/a", "200"}).inc();
  registry.counter("vouchsafe_http_requests_total", {"/a", "200"}).inc(2);
  registry.counter("vouchsafe_http_requests_total", {"/a", "404"}).inc();
  const std::string text = registry.render_prometheus();
  EXPECT_TRUE(contains(text, "vouchsafe_http_requests_total{endpoint=\"/a\",status=\"200\"} 3\n"));
  EXPECT_TRUE(contains(text, "vouchsafe_http_requests_total{endpoint=\"/a\",status=\"404\"} 1\n"));
}

TEST(Metrics, RendersHistogramsCumulatively) {
  MetricsRegistry registry;
  auto& h = registry.histogram("vouchsafe_http_request_duration_seconds", {"/v"});
  h.observe(0.0004);
  h.observe(0.003);
  h.observe(0.003);
  h.observe(20.0);
  const std::string text = registry.render_prometheus();
  const std::string name = "vouchsafe_http_request_duration_seconds";
  EXPECT_TRUE(contains(text, "# TYPE " + name + " histogram\n"));
  EXPECT_TRUE(contains(text, name + "_bucket{endpoint=\"/v\",le=\"0.0005\"} 1\n")) << text;
  EXPECT_TRUE(contains(text, name + "_bucket{endpoint=\"/v\",le=\"0.0025\"} 1\n"));
  EXPECT_TRUE(contains(text, name + "_bucket{endpoint=\"/v\",le=\"0.005\"} 3\n"));
  EXPECT_TRUE(contains(text, name + "_bucket{endpoint=\"/v\",le=\"10\"} 3\n"));
  EXPECT_TRUE(contains(text, name + "_bucket{endpoint=\"/v\",le=\"+Inf\"} 4\n"));
  EXPECT_TRUE(contains(text, name + "_sum{endpoint=\"/v\"} 20.0064\n")) << text;
  EXPECT_TRUE(contains(text, name + "_count{endpoint=\"/v\"} 4\n"));
}

TEST(Metrics, EscapesLabelValues) {
  MetricsRegistry registry;
  registry.counter("vouchsafe_http_requests_total", {"/a\"b\\c\nd", "200"}).inc();
  EXPECT_TRUE(
      contains(registry.render_prometheus(), "{endpoint=\"/a\\\"b\\\\c\\nd\",status=\"200\"} 1\n"));
}

TEST(Metrics, FoldsLabelSetsBeyondTheCap) {
  MetricsRegistry registry;
  for (std::size_t i = 0; i < MetricsRegistry::k_max_series_per_metric + 50; ++i) {
    registry.counter("vouchsafe_http_rejected_total", {"reason-" + std::to_string(i)}).inc();
  }
  EXPECT_EQ(registry.counter("vouchsafe_http_rejected_total", {"_overflow"}).value(), 50U);
  EXPECT_EQ(registry.counter("vouchsafe_http_rejected_total", {"reason-0"}).value(), 1U);
}

TEST(Metrics, RefusesMetricsMissingFromTheTable) {
  MetricsRegistry registry;
  EXPECT_THROW(registry.counter("vouchsafe_no_such_total"), std::logic_error);
  EXPECT_THROW(registry.histogram("vouchsafe_http_requests_total", {"/a", "200"}),
               std::logic_error);
  EXPECT_THROW(registry.counter("vouchsafe_http_requests_total", {"/a"}), std::logic_error);
}

TEST(Metrics, CountsFromManyThreads) {
  MetricsRegistry registry;
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&registry, t] {
      for (int i = 0; i < 1000; ++i) {
        registry.counter("vouchsafe_http_requests_total", {"/t", std::to_string(t % 2)}).inc();
        registry.histogram("vouchsafe_http_request_duration_seconds", {"/t"}).observe(0.01);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(registry.counter("vouchsafe_http_requests_total", {"/t", "0"}).value(), 2000U);
  EXPECT_TRUE(contains(registry.render_prometheus(),
                       "vouchsafe_http_request_duration_seconds_count{endpoint=\"/t\"} 4000\n"));
}

}  // namespace
}  // namespace vouchsafe::net
