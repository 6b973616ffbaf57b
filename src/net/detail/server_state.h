// What every connection of one listener shares: options, handler, limits,
// metrics, the refusal log and the TLS context.
#pragma once

#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/client_limiter.h"
#include "net/detail/connection_table.h"
#include "net/detail/gnutls_context.h"
#include "net/detail/refusal_log.h"
#include "net/http_message.h"
#include "net/metrics.h"
#include "net/server_options.h"

namespace vouchsafe::net::detail {

// The label values of vouchsafe_http_rejected_total{reason}.
enum class Rejection {
  rate_limited,
  too_large,
  blocked,
  connection_cap,
  address_cap,
  prefix_cap,
  handshake_evicted,
  handshake_timeout,
  timeout,
  proxy_header,
};
std::string_view rejection_name(Rejection reason);

// A listener's TLS: one of the two libraries' contexts, or neither for
// plain HTTP.
struct ServerTls {
  std::unique_ptr<boost::asio::ssl::context> openssl;
  std::unique_ptr<GnuTlsServerContext> gnutls;
  [[nodiscard]] bool enabled() const { return openssl || gnutls; }
};

struct ServerState {
  // trusted_proxies: options.proxy_protocol_from as source_addresses spells
  // them; listener: "address:port", as the refusal log names it.
  ServerState(ServerOptions server_options, AsyncHandler request_handler, ServerTls server_tls,
              std::vector<std::string> trusted_proxies, std::string listener);

  const ServerOptions options;
  const AsyncHandler handler;
  // Answers the handler still owes; stop() waits for them to reach zero.
  std::atomic<std::size_t> owed_responses{0};
  const std::shared_ptr<MetricsRegistry> metrics;
  const ServerTls tls;
  ClientLimiter limiter;
  ConnectionTable connections;
  RefusalLog log;

  void count_rejection(Rejection reason);
  void count_handshake_failure() { handshake_failures_.inc(); }
  void count_handshake(bool resumed) { (resumed ? resumed_handshakes_ : full_handshakes_).inc(); }
  // Whether connections from this address (as source_keys spells it) begin
  // with a PROXY protocol header.
  [[nodiscard]] bool is_trusted_proxy(const std::string& address) const;
  // The endpoint label of a request target: its path, or "other" when the
  // options list the endpoints and this is not one of them.
  [[nodiscard]] std::string endpoint_label(std::string_view target) const;

 private:
  Counter& handshake_failures_;
  Counter& full_handshakes_;
  Counter& resumed_handshakes_;
  std::vector<std::string> proxies_;  // as source_addresses spells them
};

// The connection caps and rate limits the options ask for.
ConnectionTable::Limits connection_limits(const ServerOptions& options);
ClientLimiter::Limits client_limits(const ServerOptions& options);

}  // namespace vouchsafe::net::detail
