// Shared listener state: limits from the options, rejection counters and
// endpoint labels.
#include "net/detail/server_state.h"

#include <algorithm>
#include <cmath>

namespace vouchsafe::net::detail {

namespace {

std::shared_ptr<MetricsRegistry> registry_or_new(const std::shared_ptr<MetricsRegistry>& given) {
  return given ? given : std::make_shared<MetricsRegistry>();
}

}  // namespace

std::string_view rejection_name(Rejection reason) {
  switch (reason) {
    case Rejection::rate_limited:
      return "rate_limited";
    case Rejection::too_large:
      return "too_large";
    case Rejection::blocked:
      return "blocked";
    case Rejection::connection_cap:
      return "connection_cap";
    case Rejection::address_cap:
      return "address_cap";
    case Rejection::prefix_cap:
      return "prefix_cap";
    case Rejection::handshake_evicted:
      return "handshake_evicted";
    case Rejection::handshake_timeout:
      return "handshake_timeout";
    case Rejection::proxy_header:
      return "proxy_header";
    case Rejection::timeout:
      return "timeout";
  }
  return "unknown";
}

ConnectionTable::Limits connection_limits(const ServerOptions& options) {
  const auto share =
      std::floor(static_cast<double>(options.max_connections) * options.handshake_share);
  return {.max_connections = options.max_connections,
          .max_per_address = options.max_connections_per_address,
          .max_per_prefix = options.max_connections_per_prefix,
          .max_handshaking = std::max<std::size_t>(1, static_cast<std::size_t>(share))};
}

ClientLimiter::Limits client_limits(const ServerOptions& options) {
  return {.client = options.rate_limit,
          .shared = options.shared_rate_limit,
          .address = options.address_rate_limit,
          .prefix = options.prefix_rate_limit,
          .max_invalid_per_client = options.max_invalid_before_block,
          .max_invalid_per_address = options.max_invalid_per_address_before_block,
          .block_time = options.block_time};
}

ServerState::ServerState(ServerOptions server_options, AsyncHandler request_handler,
                         ServerTls server_tls, std::vector<std::string> trusted_proxies,
                         std::string listener)
    : options(std::move(server_options)),
      handler(std::move(request_handler)),
      metrics(registry_or_new(options.metrics)),
      tls(std::move(server_tls)),
      limiter(client_limits(options)),
      connections(connection_limits(options)),
      log(std::move(listener), options.refusal_log),
      handshake_failures_(metrics->counter("vouchsafe_tls_handshake_failures_total")),
      full_handshakes_(metrics->counter("vouchsafe_tls_handshakes_total", {"full"})),
      resumed_handshakes_(metrics->counter("vouchsafe_tls_handshakes_total", {"resumed"})),
      proxies_(std::move(trusted_proxies)) {}

bool ServerState::is_trusted_proxy(const std::string& address) const {
  return std::find(proxies_.begin(), proxies_.end(), address) != proxies_.end();
}

void ServerState::count_rejection(Rejection reason) {
  metrics->counter("vouchsafe_http_rejected_total", {rejection_name(reason)}).inc();
}

std::string ServerState::endpoint_label(std::string_view target) const {
  const std::string_view path = target.substr(0, target.find('?'));
  if (options.metric_endpoints.empty()) return std::string(path);
  const bool known = std::find(options.metric_endpoints.begin(), options.metric_endpoints.end(),
                               path) != options.metric_endpoints.end();
  return known ? std::string(path) : "other";
}

}  // namespace vouchsafe::net::detail
