// /healthz, /readyz and /metrics.
#include "service/admin_endpoints.h"

namespace vouchsafe::service {

net::Handler admin_handler(std::vector<ReadinessCheck> readiness,
                           std::shared_ptr<net::MetricsRegistry> metrics) {
  return [readiness = std::move(readiness),
          metrics = std::move(metrics)](const net::HttpRequest& request) {
    if (request.method != "GET" && request.method != "HEAD") {
      return net::HttpResponse{.status = 405,
                               .content_type = std::string(net::k_text_plain),
                               .body = to_bytes("use GET\n"),
                               .headers = {{"Allow", "GET, HEAD"}}};
    }
    if (request.target == "/healthz") return net::text_response(200, "ok\n");
    if (request.target == "/readyz") {
      // The first condition that fails is the reason; an operator fixes one
      // thing at a time.
      for (const ReadinessCheck& condition : readiness) {
        if (auto held = condition.check(); !held) {
          return net::text_response(503, condition.what + ": " + held.error().message + "\n");
        }
      }
      return net::text_response(200, "ready\n");
    }
    if (request.target == "/metrics") {
      return net::HttpResponse{.status = 200,
                               .content_type = "text/plain; version=0.0.4",
                               .body = to_bytes(metrics->render_prometheus())};
    }
    return net::text_response(404, "not found\n");
  };
}

}  // namespace vouchsafe::service
