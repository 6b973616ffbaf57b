// The one table of every metric Vouchsafe exports (as Envoy declares its
// stats in one place): a metric not listed here cannot be recorded.
#pragma once

#include <array>
#include <span>
#include <string_view>

namespace vouchsafe::net {

enum class MetricType { counter, histogram };

// Upper bounds (seconds) of the latency buckets, from a fast cache hit to a
// stalled store; the implicit +Inf bucket follows.
inline constexpr std::array k_latency_buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                 0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

struct MetricDefinition {
  std::string_view name;
  MetricType type;
  std::string_view help;
  std::array<std::string_view, 4> labels;  // label names in order; unused slots empty
  std::span<const double> buckets = {};    // histograms only

  [[nodiscard]] std::size_t label_count() const {
    std::size_t n = 0;
    while (n < labels.size() && !labels[n].empty()) ++n;
    return n;
  }
};

// Add a row here to add a metric; names follow Prometheus conventions
// (unit suffix, _total for counters).
inline constexpr std::array k_metric_table = {
    MetricDefinition{"vouchsafe_http_requests_total",
                     MetricType::counter,
                     "HTTP requests answered, by endpoint (request path) and status code.",
                     {"endpoint", "status"}},
    MetricDefinition{"vouchsafe_http_request_duration_seconds",
                     MetricType::histogram,
                     "Time from a request's complete header to its response, by endpoint.",
                     {"endpoint"},
                     k_latency_buckets},
    MetricDefinition{"vouchsafe_tls_handshakes_total",
                     MetricType::counter,
                     "TLS handshakes completed, full or resumed (a session ticket).",
                     {"kind"}},
    MetricDefinition{"vouchsafe_tls_handshake_failures_total",
                     MetricType::counter,
                     "TLS handshakes that failed (no client certificate, old protocol, timeout).",
                     {}},
    MetricDefinition{"vouchsafe_http_rejected_total",
                     MetricType::counter,
                     "Requests or connections refused by the server before reaching the handler, "
                     "by reason (rate_limited, too_large, blocked, connection_cap, address_cap, "
                     "prefix_cap, handshake_evicted, handshake_timeout, timeout).",
                     {"reason"}},
};

}  // namespace vouchsafe::net
