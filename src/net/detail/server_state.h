// What every connection of one listener shares: options, handler, limits,
// metrics and the TLS context.
#pragma once

#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "net/client_limiter.h"
#include "net/http_message.h"
#include "net/metrics.h"
#include "net/server_options.h"

namespace vouchsafe::net::detail {

// The label values of vouchsafe_http_rejected_total{reason}.
enum class Rejection { rate_limited, too_large, blocked, connection_cap, timeout };

struct ServerState {
  ServerState(ServerOptions server_options, AsyncHandler request_handler,
              std::unique_ptr<boost::asio::ssl::context> tls_context);

  const ServerOptions options;
  const AsyncHandler handler;
  // Answers the handler still owes; stop() waits for them to reach zero.
  std::atomic<std::size_t> owed_responses{0};
  const std::shared_ptr<MetricsRegistry> metrics;
  const std::unique_ptr<boost::asio::ssl::context> tls;  // null for plain HTTP
  ClientLimiter limiter;
  std::atomic<std::size_t> connections{0};

  void count_rejection(Rejection reason);
  void count_handshake_failure() { handshake_failures_.inc(); }
  // The endpoint label of a request target: its path, or "other" when the
  // options list the endpoints and this is not one of them.
  [[nodiscard]] std::string endpoint_label(std::string_view target) const;

 private:
  Counter& handshake_failures_;
};

// Holds one place under the connection cap for as long as it lives.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::atomic<std::size_t>& count) : count_(&count) {
    count_->fetch_add(1);
  }
  ConnectionSlot(ConnectionSlot&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ~ConnectionSlot() {
    if (count_ != nullptr) count_->fetch_sub(1);
  }

 private:
  std::atomic<std::size_t>* count_;
};

}  // namespace vouchsafe::net::detail
