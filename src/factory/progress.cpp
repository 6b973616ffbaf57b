// Progress reporting.
#include "factory/progress.h"

#include <unistd.h>

#include <cstdio>

namespace vouchsafe::factory {

Progress::Progress(std::string label, std::int64_t total, bool quiet)
    : label_(std::move(label)),
      total_(total),
      tty_(::isatty(STDERR_FILENO) == 1),
      quiet_(quiet),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void Progress::update(std::int64_t done) {
  done_ = done;
  const auto now = std::chrono::steady_clock::now();
  // A terminal redraws five times a second; a log gets a line every 5 s.
  const auto every = tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000);
  if (now - last_draw_ >= every) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::finish() {
  draw(true);
}

void Progress::draw(bool final) {
  if (quiet_) return;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0;
  char line[256];
  if (total_ > 0) {
    const double fraction = static_cast<double>(done_) / static_cast<double>(total_);
    const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : 0;
    if (tty_) {
      constexpr int k_width = 30;
      const int filled = static_cast<int>(fraction * k_width);
      std::string bar(static_cast<std::size_t>(filled), '#');
      bar.resize(k_width, '.');
      (void)std::snprintf(line, sizeof line, "\r%s [%s] %lld/%lld %3.0f%% %.0f/s ETA %.0fs ",
                          label_.c_str(), bar.c_str(), static_cast<long long>(done_),
                          static_cast<long long>(total_), 100 * fraction, rate, eta);
    } else {
      (void)std::snprintf(line, sizeof line, "%s: %lld/%lld (%.0f%%), %.0f/s, ETA %.0fs\n",
                          label_.c_str(), static_cast<long long>(done_),
                          static_cast<long long>(total_), 100 * fraction, rate, eta);
    }
  } else {
    (void)std::snprintf(line, sizeof line, tty_ ? "\r%s: %lld, %.0f/s " : "%s: %lld, %.0f/s\n",
                        label_.c_str(), static_cast<long long>(done_), rate);
  }
  // Progress is a courtesy: a long label is cut short, and a failed write
  // to stderr is nothing the issuance could act on.
  (void)std::fputs(line, stderr);
  if (final && tty_) (void)std::fputs("\n", stderr);
  (void)std::fflush(stderr);
}

}  // namespace vouchsafe::factory
