// A console reporter that also keeps each benchmark's rate (items per
// second), so a program can print ratios to a raw OpenSSL baseline measured
// in the same run.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

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

// benchmark::Initialize with interleaved repetitions by default, so that the
// machine's speed drifting during a run hits the baseline and our code
// alike (the reporter keeps the best of each); flags given override.
inline void initialize_interleaved(int argc, char** argv, int repetitions) {
  static std::string reps = "--benchmark_repetitions=" + std::to_string(repetitions);
  static std::string interleave = "--benchmark_enable_random_interleaving=true";
  static std::vector<char*> args;
  args = {argv[0], reps.data(), interleave.data()};
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
}

}  // namespace vouchsafe::bench
