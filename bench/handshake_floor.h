// What OpenSSL itself costs a server per TLS 1.3 handshake, measured in
// this process with no network and no application: the floor under the
// MASA's new-connection and resumed rates, next to the crypto bound that
// counts only the handshake's public-key operations.
#pragma once

#include <string>

#include "core/result.h"

namespace vouchsafe::bench {

struct HandshakeFloor {
  double t_full = 0;     // seconds of server CPU: full handshake, client certificate, one ticket
  double t_resumed = 0;  // the same, resuming that ticket (psk_dhe_ke)
  // d2i_X509 of the client's certificate: OpenSSL 3.0 decodes its public key
  // through the provider decoders, on each certificate of a client chain and
  // on the certificate inside a session when it issues or opens a ticket.
  double t_certificate_decode = 0;
};

// Runs handshakes between an OpenSSL client presenting the certificate
// chain of client_cert_file (with client_key_file) and an OpenSSL server
// configured as the MASA's listener is (TLS 1.3, a P-256 server key, any
// client certificate accepted, one session ticket), over memory BIOs in
// one thread, timing the server's calls only: SSL_new, every
// SSL_do_handshake, SSL_free. Best of three rounds.
Result<HandshakeFloor> measure_handshake_floor(const std::string& client_cert_file,
                                               const std::string& client_key_file);

}  // namespace vouchsafe::bench
