// HTTPS to the MASA, with kept-alive connections.
#include "service/masa_client.h"

namespace vouchsafe::service {

Result<std::unique_ptr<HttpsMasaClient>> HttpsMasaClient::create(const net::ClientOptions& options,
                                                                 std::size_t max_idle_per_masa) {
  if (options.ca_file.empty()) {
    return fail(ErrorCode::usage,
                "the registrar needs the CA certificate of its MASAs' TLS servers ([masa] "
                "ca_certificates)");
  }
  ASSIGN_OR_RETURN(auto tls, net::ClientTls::load(options));
  return std::unique_ptr<HttpsMasaClient>(new HttpsMasaClient(std::move(tls), max_idle_per_masa));
}

std::unique_ptr<net::HttpsConnection> HttpsMasaClient::take(const std::string& base_url) {
  std::lock_guard lock(mutex_);
  auto& idle = idle_[base_url];
  while (!idle.empty()) {
    Idle last = std::move(idle.back());
    idle.pop_back();
    if (Clock::now() - last.since < k_max_idle_time) return std::move(last.connection);
  }
  return nullptr;
}

void HttpsMasaClient::give_back(const std::string& base_url,
                                std::unique_ptr<net::HttpsConnection> connection) {
  if (!connection->keep_alive()) return;
  std::lock_guard lock(mutex_);
  auto& idle = idle_[base_url];
  if (idle.size() < max_idle_) idle.push_back(Idle{std::move(connection), Clock::now()});
}

Result<registrar::MasaReply> HttpsMasaClient::post(const registrar::MasaPost& request) {
  ASSIGN_OR_RETURN(const net::Url base, net::parse_https_url(request.base_url));
  std::string target = base.target;
  while (!target.empty() && target.back() == '/') target.pop_back();
  target += "/.well-known/brski/" + request.endpoint;
  // A kept-alive connection the MASA closed meanwhile fails at once: then
  // once more on a fresh one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto connection = take(request.base_url);
    const bool reused = connection != nullptr;
    if (!connection) {
      ASSIGN_OR_RETURN(connection, net::HttpsConnection::open(base, tls_));
    }
    auto response =
        connection->request("POST", target, request.content_type, request.accept, request.body);
    if (!response) {
      if (reused) continue;
      return fail(std::move(response).error());
    }
    give_back(request.base_url, std::move(connection));
    return registrar::MasaReply{response->status, std::move(response->content_type),
                                std::move(response->body)};
  }
  return fail(ErrorCode::io_error, "the MASA closed the connection");
}

}  // namespace vouchsafe::service
