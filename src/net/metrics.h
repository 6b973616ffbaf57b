// A thread-safe registry of the counters and histograms in metric_table.h,
// rendered in the Prometheus text exposition format for GET /metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/metric_table.h"

namespace vouchsafe::net {

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::span<const double> bounds);
  void observe(double seconds);

  [[nodiscard]] std::span<const double> bounds() const { return bounds_; }
  // Observations per bucket, not cumulative; the last entry is the +Inf bucket.
  [[nodiscard]] std::vector<std::uint64_t> bucket_counts() const;
  [[nodiscard]] double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::span<const double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1 buckets
  std::atomic<double> sum_{0.0};
};

class MetricsRegistry {
 public:
  // Label values in the order the table declares the label names.
  using Labels = std::initializer_list<std::string_view>;

  // Beyond this many label sets a metric folds new ones into one series whose
  // values are all "_overflow": label values such as the request path come
  // from clients and must not grow memory without bound.
  static constexpr std::size_t k_max_series_per_metric = 1000;

  MetricsRegistry();

  // The returned references stay valid for the registry's lifetime, so hot
  // paths may keep them. A name missing from the table, the wrong type or the
  // wrong number of labels is a programming error (std::logic_error).
  Counter& counter(std::string_view name, Labels labels = {});
  Histogram& histogram(std::string_view name, Labels labels = {});

  [[nodiscard]] std::string render_prometheus() const;

 private:
  using Key = std::vector<std::string>;
  struct Family {
    const MetricDefinition* definition = nullptr;
    std::map<Key, std::unique_ptr<Counter>> counters;
    std::map<Key, std::unique_ptr<Histogram>> histograms;
  };

  Family& family(std::string_view name, MetricType type, std::size_t label_count);
  template <typename Metric>
  Metric& series(std::map<Key, std::unique_ptr<Metric>>& table, const Family& f, Labels labels);

  mutable std::shared_mutex mutex_;
  std::vector<Family> families_;  // one per row of k_metric_table, same order
};

}  // namespace vouchsafe::net
