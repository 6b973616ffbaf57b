// The registrar's HTTP binding: the BRSKI endpoints under
// /.well-known/brski/ and the EST ones under /.well-known/est/ onto the
// transport-free registrar::RegistrarService, run on a pool of workers
// (a voucher request waits on the MASA), the refusal's name kept for the
// refusal log.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "net/http_message.h"
#include "registrar/registrar_service.h"

namespace vouchsafe::service {

// The method and endpoint of a request target, or why not: 404 for an
// unknown path, 405 (with Allow) for the wrong method.
struct RegistrarRoute {
  std::optional<registrar::Endpoint> endpoint;
  net::HttpResponse refusal;  // when no endpoint
};
RegistrarRoute route_registrar(const std::string& method, const std::string& target);

// The service and the pool must outlive the handler.
net::AsyncHandler registrar_routes(registrar::RegistrarService& service,
                                   boost::asio::thread_pool& workers);

net::HttpResponse to_http(registrar::RegistrarResponse response);

}  // namespace vouchsafe::service
