// A console reporter that also keeps each benchmark's rate (items per
// second), so a program can print ratios to a raw OpenSSL baseline measured
// in the same run.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <string>

namespace vouchsafe::bench {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.real_accumulated_time <= 0) continue;
      // The runner has already turned items_per_second into a rate.
      const double rate = r.counters.count("items_per_second") != 0
                              ? r.counters.at("items_per_second").value
                              : static_cast<double>(r.iterations) / r.real_accumulated_time;
      // Best of the repetitions: noise on a shared machine only slows runs
      // down, so the fastest is the closest to what the code can do, for
      // the baseline and for us alike.
      double& best = rates[r.run_name.function_name];
      best = std::max(best, rate);
    }
  }
  // By benchmark function name, e.g. "BM_RawDigestSign".
  std::map<std::string, double> rates;
};

}  // namespace vouchsafe::bench
