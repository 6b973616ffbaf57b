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

// TLS 1.3 suites in the server's order. AES-128-GCM first: the keys on
// either side (P-256, X25519) give 128-bit security, which AES-256 cannot
// raise, and its SHA-256 key schedule and transcript cost a handshake less
// than SHA-384 (a resumed handshake is mostly HKDF). The GnuTLS listener
// uses the same order (k_gnutls_priorities).
inline constexpr const char* k_tls13_ciphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

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

// Whether the finished handshake resumed a session (a ticket).
bool session_resumed(SSL* ssl);

}  // namespace vouchsafe::net::detail
