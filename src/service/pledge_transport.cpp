// The pledge's provisional TLS connection.
#include "service/pledge_transport.h"

#include "crypto/keys.h"

namespace vouchsafe::service {

Result<std::unique_ptr<HttpsRegistrarTransport>> HttpsRegistrarTransport::connect(
    const std::string& address, const pledge::PledgeIdentity& identity,
    std::chrono::seconds timeout) {
  const std::string url = address.rfind("https://", 0) == 0 ? address : "https://" + address;
  ASSIGN_OR_RETURN(net::Url where, net::parse_https_url(url));
  net::ClientOptions options;
  // RFC 8995 §5.1: "the pledge ... accepts the server certificate
  // provisionally"; it is checked once the voucher pins the domain.
  options.insecure = true;
  options.timeout = timeout;
  options.key =
      std::shared_ptr<EVP_PKEY>(crypto::share(identity.key.get()).release(), EVP_PKEY_free);
  for (const auto& c : identity.chain) {
    options.certificate_chain_der.push_back(crypto::certificate_der(c.get()));
  }
  ASSIGN_OR_RETURN(auto tls, net::ClientTls::load(options));
  ASSIGN_OR_RETURN(auto connection, net::HttpsConnection::open(where, tls));
  if (connection->peer_chain().empty()) {
    return fail(ErrorCode::io_error, "the registrar showed no TLS certificate");
  }
  return std::unique_ptr<HttpsRegistrarTransport>(
      new HttpsRegistrarTransport(std::move(where), std::move(tls), std::move(connection)));
}

Result<pledge::TransportReply> HttpsRegistrarTransport::exchange(std::string_view method,
                                                                 std::string_view path,
                                                                 std::string_view content_type,
                                                                 std::string_view accept,
                                                                 ByteView body) {
  if (!connection_->keep_alive()) {
    // The registrar closed the connection (after an error answer, say):
    // a new one must show the same server, or the pin no longer holds.
    ASSIGN_OR_RETURN(connection_, net::HttpsConnection::open(where_, tls_));
    if (connection_->peer_chain().empty() || connection_->peer_chain().front() != chain_.front()) {
      return fail(ErrorCode::io_error,
                  "the registrar showed another TLS certificate on reconnecting");
    }
  }
  ASSIGN_OR_RETURN(auto response, connection_->request(method, path, content_type, accept, body));
  return pledge::TransportReply{response.status, std::move(response.content_type),
                                std::move(response.body)};
}

Result<pledge::TransportReply> HttpsRegistrarTransport::post(std::string_view path,
                                                             std::string_view content_type,
                                                             std::string_view accept,
                                                             ByteView body) {
  return exchange("POST", path, content_type, accept, body);
}

Result<pledge::TransportReply> HttpsRegistrarTransport::get(std::string_view path,
                                                            std::string_view accept) {
  return exchange("GET", path, "", accept, {});
}

}  // namespace vouchsafe::service
