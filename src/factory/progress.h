// Progress of a long batch on stderr: a bar with rate and ETA on a terminal,
// plain periodic lines otherwise (logs, CI).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace vouchsafe::factory {

class Progress {
 public:
  // total may be 0 when unknown (no percentage or ETA then).
  Progress(std::string label, std::int64_t total, bool quiet = false);
  // Devices done so far in all.
  void update(std::int64_t done);
  void finish();

 private:
  void draw(bool final);
  std::string label_;
  std::int64_t total_;
  std::int64_t done_ = 0;
  bool tty_;
  bool quiet_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace vouchsafe::factory
