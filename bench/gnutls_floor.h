// What GnuTLS costs a server per TLS 1.3 handshake, measured as
// handshake_floor.h measures OpenSSL: the floor under the MASA's
// new-connection and resumed rates when its listener runs on GnuTLS
// (masa.toml [tls] library, the default).
#pragma once

#include <string>

#include "core/result.h"
#include "handshake_floor.h"

namespace vouchsafe::bench {

// A GnuTLS client presenting the chain of client_cert_file, a GnuTLS server
// configured as the MASA's listener (TLS 1.3, X25519, a P-256 server key,
// any client certificate accepted, one session ticket), an in-memory
// transport in one thread; the server's calls timed (gnutls_init to
// gnutls_deinit). Best of three rounds. t_certificate_decode stays 0.
Result<HandshakeFloor> measure_gnutls_handshake_floor(const std::string& client_cert_file,
                                                      const std::string& client_key_file);

}  // namespace vouchsafe::bench
