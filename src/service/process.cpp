// Descriptor limits, ready files and termination signals.
#include "service/process.h"

#include <pthread.h>
#include <sys/resource.h>

#include <csignal>
#include <iostream>

#include "core/file.h"

namespace vouchsafe::service {

void raise_descriptor_limit(std::size_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted) {
    std::cerr << "vouchsafe: warning: the file descriptor limit (" << limit.rlim_max
              << ") is below the " << wanted
              << " the listeners may hold; raise it (e.g. LimitNOFILE) or lower max_connections\n";
  }
}

Status write_ready_file(const std::string& path, const std::vector<unsigned short>& ports) {
  std::string text;
  for (const unsigned short port : ports) {
    if (!text.empty()) text += ' ';
    text += std::to_string(port);
  }
  text += '\n';
  return write_file_atomic(path, as_bytes(text));
}

namespace {
sigset_t termination_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}
}  // namespace

void block_termination_signals() {
  const sigset_t signals = termination_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

int wait_for_termination_signal() {
  const sigset_t signals = termination_signals();
  int received = 0;
  sigwait(&signals, &received);
  return received;
}

}  // namespace vouchsafe::service
