// The registrar's HTTPS client towards MASAs (RFC 8995 §5.4): TLS 1.2+,
// the registrar's certificate as TLS client certificate, the MASA's server
// certificate checked against the configured CA, and connections kept
// open per MASA so that an onboarding costs no TLS handshake of its own.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/https_client.h"
#include "net/https_connection.h"
#include "registrar/masa_client.h"

namespace vouchsafe::service {

class HttpsMasaClient final : public registrar::MasaClient {
 public:
  // options.ca_file is required: a MASA is always authenticated.
  static Result<std::unique_ptr<HttpsMasaClient>> create(const net::ClientOptions& options,
                                                         std::size_t max_idle_per_masa = 16);
  Result<registrar::MasaReply> post(const registrar::MasaPost& request) override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Idle {
    std::unique_ptr<net::HttpsConnection> connection;
    Clock::time_point since;
  };
  // A MASA closes idle connections (its idle_timeout, 30 s by default);
  // ones idle longer than this are not reused.
  static constexpr auto k_max_idle_time = std::chrono::seconds(5);

  HttpsMasaClient(std::shared_ptr<net::ClientTls> tls, std::size_t max_idle)
      : tls_(std::move(tls)), max_idle_(max_idle) {}
  std::unique_ptr<net::HttpsConnection> take(const std::string& base_url);
  void give_back(const std::string& base_url, std::unique_ptr<net::HttpsConnection> connection);

  std::shared_ptr<net::ClientTls> tls_;
  std::size_t max_idle_;
  std::mutex mutex_;
  std::map<std::string, std::vector<Idle>> idle_;
};

}  // namespace vouchsafe::service
