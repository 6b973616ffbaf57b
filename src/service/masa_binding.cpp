// Routes, methods and the caller's identity, from HTTP to the MASA.
#include "service/masa_binding.h"

namespace vouchsafe::service {

net::HttpResponse to_http(masa::MasaResponse response) {
  net::HttpResponse http{.status = response.status,
                         .content_type = std::move(response.content_type),
                         .body = std::move(response.body),
                         .log_error = std::move(response.error)};
  if (response.retry_after_seconds > 0) {
    http.headers.emplace_back("Retry-After", std::to_string(response.retry_after_seconds));
  }
  return http;
}

net::AsyncHandler masa_routes(masa::MasaService& service) {
  return [&service](const net::HttpRequest& request, const net::Respond& respond) {
    if (request.target.rfind(k_brski_prefix, 0) != 0) {
      auto not_found = net::text_response(404, "not found\n");
      not_found.log_error = "unknown_endpoint";
      return respond(std::move(not_found));
    }
    if (request.method != "POST") {
      return respond(net::HttpResponse{.status = 405,
                                       .content_type = std::string(net::k_text_plain),
                                       .body = to_bytes("use POST\n"),
                                       .headers = {{"Allow", "POST"}},
                                       .log_error = "method_not_allowed"});
    }
    masa::MasaRequest m;
    m.endpoint = request.target.substr(k_brski_prefix.size());
    m.content_type = request.content_type;
    m.accept = request.accept;
    m.body = request.body;
    m.caller.fingerprint = request.client_fingerprint;
    m.caller.certificate_der = request.client_certificate_der;
    // Asynchronous: the worker goes on to the next request while the
    // voucher's audit entry is synced; the voucher leaves once durable.
    service.handle_async(m, [respond](masa::MasaResponse r) { respond(to_http(std::move(r))); });
  };
}

}  // namespace vouchsafe::service
