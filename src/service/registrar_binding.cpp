// Routes, methods and the caller's identity, from HTTP to the registrar.
#include "service/registrar_binding.h"

#include <array>
#include <boost/asio/post.hpp>

namespace vouchsafe::service {
namespace {

using registrar::Endpoint;

struct Route {
  std::string_view path;
  std::string_view method;
  Endpoint endpoint;
};

// RFC 8995 §5 and RFC 7030 §3.2.2.
constexpr std::array<Route, 7> k_routes{{
    {"/.well-known/brski/requestvoucher", "POST", Endpoint::request_voucher},
    {"/.well-known/brski/voucher_status", "POST", Endpoint::voucher_status},
    {"/.well-known/brski/enrollstatus", "POST", Endpoint::enroll_status},
    {"/.well-known/est/cacerts", "GET", Endpoint::cacerts},
    {"/.well-known/est/csrattrs", "GET", Endpoint::csrattrs},
    {"/.well-known/est/simpleenroll", "POST", Endpoint::simple_enroll},
    {"/.well-known/est/simplereenroll", "POST", Endpoint::simple_reenroll},
}};

}  // namespace

RegistrarRoute route_registrar(const std::string& method, const std::string& target) {
  const std::string_view path = std::string_view(target).substr(0, target.find('?'));
  for (const Route& r : k_routes) {
    if (r.path != path) continue;
    if (r.method == method || (r.method == "GET" && method == "HEAD")) return {r.endpoint, {}};
    return {std::nullopt, net::HttpResponse{.status = 405,
                                            .content_type = std::string(net::k_text_plain),
                                            .body = to_bytes("use " + std::string(r.method) + "\n"),
                                            .headers = {{"Allow", std::string(r.method)}},
                                            .log_error = "method_not_allowed"}};
  }
  auto not_found = registrar::refusal_response({registrar::RegistrarError::unknown_endpoint, {}});
  return {std::nullopt, to_http(std::move(not_found))};
}

net::HttpResponse to_http(registrar::RegistrarResponse response) {
  return net::HttpResponse{.status = response.status,
                           .content_type = std::move(response.content_type),
                           .body = std::move(response.body),
                           .headers = std::move(response.headers),
                           .log_error = std::move(response.error)};
}

net::AsyncHandler registrar_routes(registrar::RegistrarService& service,
                                   boost::asio::thread_pool& workers) {
  return [&service, &workers](const net::HttpRequest& request, const net::Respond& respond) {
    RegistrarRoute route = route_registrar(request.method, request.target);
    if (!route.endpoint) return respond(std::move(route.refusal));
    registrar::RegistrarRequest r;
    r.endpoint = *route.endpoint;
    r.content_type = request.content_type;
    r.accept = request.accept;
    r.body = request.body;
    r.caller.certificate_der = request.client_certificate_der;
    r.caller.chain_der = request.client_chain_der;
    // A voucher request waits on the MASA: off the network threads.
    boost::asio::post(
        workers, [&service, r = std::move(r), respond]() { respond(to_http(service.handle(r))); });
  };
}

}  // namespace vouchsafe::service
