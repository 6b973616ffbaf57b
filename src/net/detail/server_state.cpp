// Shared listener state: rejection counters and endpoint labels.
#include "net/detail/server_state.h"

#include <algorithm>

namespace vouchsafe::net::detail {

namespace {

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
    case Rejection::timeout:
      return "timeout";
  }
  return "unknown";
}

std::shared_ptr<MetricsRegistry> registry_or_new(const std::shared_ptr<MetricsRegistry>& given) {
  return given ? given : std::make_shared<MetricsRegistry>();
}

}  // namespace

ServerState::ServerState(ServerOptions server_options, AsyncHandler request_handler,
                         std::unique_ptr<boost::asio::ssl::context> tls_context)
    : options(std::move(server_options)),
      handler(std::move(request_handler)),
      metrics(registry_or_new(options.metrics)),
      tls(std::move(tls_context)),
      limiter(options.rate_limit, options.max_invalid_before_block, options.block_time),
      handshake_failures_(metrics->counter("vouchsafe_tls_handshake_failures_total")) {}

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
