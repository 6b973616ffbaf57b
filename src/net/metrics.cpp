// Metric registry and Prometheus text rendering
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
#include "net/metrics.h"

#include <charconv>
#include <mutex>
#include <stdexcept>

namespace vouchsafe::net {

namespace {

// Label values: backslash, double quote and line feed are escaped.
void append_label_value(std::string& out, std::string_view value) {
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// HELP text: backslash and line feed are escaped.
void append_help(std::string& out, std::string_view help) {
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_number(std::string& out, double value) {
  char buffer[64];
  // Fixed notation: le="0.0005" as Prometheus clients write it, not "5e-04".
  const auto result =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed);
  out.append(buffer, result.ptr);
}

void append_number(std::string& out, std::uint64_t value) {
  out += std::to_string(value);
}

// {a="x",b="y"} plus an optional trailing le label; nothing when empty.
void append_labels(std::string& out, const MetricDefinition& definition,
                   const std::vector<std::string>& values, std::string_view le = {}) {
  if (values.empty() && le.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += definition.labels[i];
    out += "=\"";
    append_label_value(out, values[i]);
    out += '"';
  }
  if (!le.empty()) {
    if (!values.empty()) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

}  // namespace

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), counts_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::observe(double seconds) {
  std::size_t bucket = 0;
  while (bucket < bounds_.size() && seconds > bounds_[bucket]) ++bucket;
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(seconds, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::bucket_counts() const {
  std::vector<std::uint64_t> counts(bounds_.size() + 1);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    counts[i] = counts_[i].load(std::memory_order_relaxed);
  }
  return counts;
}

MetricsRegistry::MetricsRegistry() {
  families_.resize(k_metric_table.size());
  for (std::size_t i = 0; i < k_metric_table.size(); ++i) {
    families_[i].definition = &k_metric_table[i];
  }
}

MetricsRegistry::Family& MetricsRegistry::family(std::string_view name, MetricType type,
                                                 std::size_t label_count) {
  for (auto& f : families_) {
    if (f.definition->name != name) continue;
    if (f.definition->type != type) {
      throw std::logic_error("metric " + std::string(name) + " used as the wrong type");
    }
    if (f.definition->label_count() != label_count) {
      throw std::logic_error("metric " + std::string(name) + " given the wrong number of labels");
    }
    return f;
  }
  throw std::logic_error("metric " + std::string(name) + " is not in metric_table.h");
}

template <typename Metric>
Metric& MetricsRegistry::series(std::map<Key, std::unique_ptr<Metric>>& table, const Family& f,
                                Labels labels) {
  Key key(labels.begin(), labels.end());
  {
    const std::shared_lock lock(mutex_);
    if (auto it = table.find(key); it != table.end()) return *it->second;
  }
  const std::unique_lock lock(mutex_);
  if (auto it = table.find(key); it != table.end()) return *it->second;
  if (table.size() >= k_max_series_per_metric) {
    key.assign(key.size(), "_overflow");
    if (auto it = table.find(key); it != table.end()) return *it->second;
  }
  std::unique_ptr<Metric> metric;
  if constexpr (std::is_same_v<Metric, Histogram>) {
    metric = std::make_unique<Histogram>(f.definition->buckets);
  } else {
    metric = std::make_unique<Metric>();
  }
  return *table.emplace(std::move(key), std::move(metric)).first->second;
}

Counter& MetricsRegistry::counter(std::string_view name, Labels labels) {
  Family& f = family(name, MetricType::counter, labels.size());
  return series(f.counters, f, labels);
}

Histogram& MetricsRegistry::histogram(std::string_view name, Labels labels) {
  Family& f = family(name, MetricType::histogram, labels.size());
  return series(f.histograms, f, labels);
}

std::string MetricsRegistry::render_prometheus() const {
  const std::shared_lock lock(mutex_);
  std::string out;
  for (const auto& f : families_) {
    const MetricDefinition& d = *f.definition;
    out += "# HELP ";
    out += d.name;
    out += ' ';
    append_help(out, d.help);
    out += "\n# TYPE ";
    out += d.name;
    out += d.type == MetricType::counter ? " counter\n" : " histogram\n";

    if (d.type == MetricType::counter) {
      // A label-less counter is shown at 0 before its first increment, so a
      // dashboard sees it exist.
      if (f.counters.empty() && d.label_count() == 0) {
        out += d.name;
        out += " 0\n";
      }
      for (const auto& [key, c] : f.counters) {
        out += d.name;
        append_labels(out, d, key);
        out += ' ';
        append_number(out, c->value());
        out += '\n';
      }
      continue;
    }

    for (const auto& [key, h] : f.histograms) {
      const auto counts = h->bucket_counts();
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < counts.size(); ++i) {
        cumulative += counts[i];
        std::string le = "+Inf";
        if (i < h->bounds().size()) {
          le.clear();
          append_number(le, h->bounds()[i]);
        }
        out += d.name;
        out += "_bucket";
        append_labels(out, d, key, le);
        out += ' ';
        append_number(out, cumulative);
        out += '\n';
      }
      out += d.name;
      out += "_sum";
      append_labels(out, d, key);
      out += ' ';
      append_number(out, h->sum());
      out += '\n';
      out += d.name;
      out += "_count";
      append_labels(out, d, key);
      out += ' ';
      append_number(out, cumulative);
      out += '\n';
    }
  }
  return out;
}

}  // namespace vouchsafe::net
