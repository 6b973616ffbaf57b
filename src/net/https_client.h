// A small blocking HTTPS client: what the registrar uses to reach a MASA,
// presenting its TLS client certificate and checking the server's.
#pragma once

#include <openssl/evp.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "net/http_message.h"

namespace vouchsafe::net {

struct ClientOptions {
  // The server certificate must chain to one of these (PEM). Empty: refused
  // unless `insecure`, which a test or a first contact may ask for.
  std::string ca_file;
  bool insecure = false;
  std::string cert_file;  // client certificate (PEM, may hold the chain)
  std::string key_file;   // its key (PEM, may be encrypted)
  std::optional<std::string> key_passphrase;
  // Or the client certificate and its chain (DER, leaf first) and key held
  // in memory, as a device holds a key derived from its seed.
  std::vector<Bytes> certificate_chain_der;
  std::shared_ptr<EVP_PKEY> key;
  std::chrono::seconds timeout{30};
  std::size_t max_response_bytes = 1U << 20U;
};

}  // namespace vouchsafe::net

namespace boost::asio::ssl {
class context;
}

namespace vouchsafe::net {

// TLS 1.2+ client settings: the server checked against ca_file (or not, if
// insecure), our certificate and key shown. Shared by https_post and
// clients that keep connections open.
Status configure_client_tls(boost::asio::ssl::context& ctx, const ClientOptions& options);

struct Url {
  std::string host;
  std::string port = "443";
  std::string target = "/";
};
// "https://host[:port][/path]"; IPv6 literals in brackets.
Result<Url> parse_https_url(const std::string& url);

// POSTs body and returns the response, whatever its status. Transport
// failures (DNS, TCP, TLS, timeout) are io_error with the reason.
Result<HttpResponse> https_post(const std::string& url, const std::string& content_type,
                                const std::string& accept, ByteView body,
                                const ClientOptions& options);

}  // namespace vouchsafe::net
