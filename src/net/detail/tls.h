// TLS for the HTTPS server: the OpenSSL context a listener uses, and who the
// peer is once the handshake is done.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "net/server_options.h"

namespace vouchsafe::net::detail {

// TLS 1.2 and 1.3 only, AEAD suites, no renegotiation; when the options
// require it, a handshake without a client certificate fails.
Result<std::unique_ptr<boost::asio::ssl::context>> make_server_tls_context(
    const ServerOptions& options);

struct PeerCertificate {
  std::string fingerprint;  // hex SHA-256 of der
  Bytes der;
  std::vector<Bytes> chain;  // what the client sent after its own certificate
};

// Empty fields when the peer sent no certificate.
PeerCertificate peer_certificate(SSL* ssl);

}  // namespace vouchsafe::net::detail
