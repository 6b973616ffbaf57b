// The pledge's HTTPS connection to a registrar (RFC 8995 §5.1): provisional
// TLS, the server certificate captured and not validated (the voucher's
// pinned-domain-cert decides it afterwards, §5.6.2), the IDevID presented
// as client certificate, and the whole onboarding on that one connection.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "net/https_connection.h"
#include "pledge/identity.h"
#include "pledge/registrar_transport.h"

namespace vouchsafe::service {

class HttpsRegistrarTransport final : public pledge::RegistrarTransport {
 public:
  // address: "host:port" or "https://host:port". Connects at once.
  static Result<std::unique_ptr<HttpsRegistrarTransport>> connect(
      const std::string& address, const pledge::PledgeIdentity& identity,
      std::chrono::seconds timeout = std::chrono::seconds(30));

  [[nodiscard]] std::vector<Bytes> registrar_chain() const override { return chain_; }
  Result<pledge::TransportReply> post(std::string_view path, std::string_view content_type,
                                      std::string_view accept, ByteView body) override;
  Result<pledge::TransportReply> get(std::string_view path, std::string_view accept) override;

 private:
  HttpsRegistrarTransport(net::Url where, std::shared_ptr<net::ClientTls> tls,
                          std::unique_ptr<net::HttpsConnection> connection)
      : where_(std::move(where)),
        tls_(std::move(tls)),
        connection_(std::move(connection)),
        chain_(connection_->peer_chain()) {}
  Result<pledge::TransportReply> exchange(std::string_view method, std::string_view path,
                                          std::string_view content_type, std::string_view accept,
                                          ByteView body);

  net::Url where_;
  std::shared_ptr<net::ClientTls> tls_;
  std::unique_ptr<net::HttpsConnection> connection_;
  std::vector<Bytes> chain_;  // as the first handshake showed it
};

}  // namespace vouchsafe::service
