// Time spent inside the calls it wraps: the server's share of a TLS
// handshake whose client and server run in one thread (handshake_floor.cpp,
// gnutls_floor.cpp).
#pragma once

#include <chrono>

namespace vouchsafe::bench {

class CallTimer {
 public:
  template <typename Call>
  auto operator()(Call call) {
    const auto start = std::chrono::steady_clock::now();
    auto result = call();
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }
  [[nodiscard]] double seconds() const { return seconds_; }

 private:
  double seconds_ = 0;
};

}  // namespace vouchsafe::bench
