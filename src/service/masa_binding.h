// The MASA's HTTP binding: POST /.well-known/brski/{requestvoucher,
// requestauditlog} onto the transport-free masa::MasaService, and its
// answers back, the refusal's name kept for the refusal log.
#pragma once

#include "masa/masa_service.h"
#include "net/http_message.h"

namespace vouchsafe::service {

inline constexpr std::string_view k_brski_prefix = "/.well-known/brski/";

// The service must outlive the handler.
net::AsyncHandler masa_routes(masa::MasaService& service);

net::HttpResponse to_http(masa::MasaResponse response);

}  // namespace vouchsafe::service
