// TLS for the HTTPS server on GnuTLS (ServerOptions::tls_library): the
// credentials and priorities a listener's sessions share, and who the peer
// is once a handshake is done. The same policy as the OpenSSL context in
// tls.h: TLS 1.2 and 1.3, ECDHE with an AEAD, a client certificate
// required but not chained (the caller is its fingerprint), one session
// ticket per handshake under the shared ticket keys.
#pragma once

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include <memory>

#include "core/result.h"
#include "net/detail/tls.h"
#include "net/server_options.h"

namespace vouchsafe::net::detail {

// As the OpenSSL context: TLS 1.2 and 1.3; ECDHE only; AEAD suites in the
// OpenSSL listener's order (k_tls13_ciphersuites); X25519 first, the group
// OpenSSL clients (the registrars) send a key share for, so no
// HelloRetryRequest; the server's preference wins. GnuTLS refuses client-initiated renegotiation by
// returning GNUTLS_E_REHANDSHAKE to the reader, which ends the connection.
inline constexpr const char* k_gnutls_priorities =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-GROUP-ALL:+GROUP-X25519:"
    "+GROUP-SECP256R1:+GROUP-SECP384R1:%SERVER_PRECEDENCE";

class GnuTlsServerContext {
 public:
  // Errors as make_server_tls_context's; usage for client_anchors, which
  // only the OpenSSL listener checks.
  static Result<std::unique_ptr<GnuTlsServerContext>> make(const ServerOptions& options);
  ~GnuTlsServerContext();
  GnuTlsServerContext(const GnuTlsServerContext&) = delete;
  GnuTlsServerContext& operator=(const GnuTlsServerContext&) = delete;

  // Prepares a new server session; a GnuTLS error code, or 0. `tickets`:
  // whether the session may issue a session ticket.
  int set_up(gnutls_session_t session, bool& tickets) const;

 private:
  GnuTlsServerContext() = default;

  // Sign the handshake (gnutls_privkey_import_ext4) through the signer: a
  // token key stays on its token, a software key signs at OpenSSL's speed.
  // GnuTLS hashes for ECDSA (sign_hash) and not for EdDSA (sign_data).
  static int sign_data(gnutls_privkey_t key, gnutls_sign_algorithm_t algorithm, void* signer,
                       unsigned flags, const gnutls_datum_t* data, gnutls_datum_t* signature);
  static int sign_hash(gnutls_privkey_t key, gnutls_sign_algorithm_t algorithm, void* signer,
                       unsigned flags, const gnutls_datum_t* hash, gnutls_datum_t* signature);
  static int describe(gnutls_privkey_t key, unsigned flags, void* signer);

  std::shared_ptr<const crypto::Signer> signer_;
  gnutls_certificate_credentials_t credentials_ = nullptr;
  gnutls_priority_t priorities_ = nullptr;
  bool require_client_certificate_ = true;
  std::shared_ptr<const TicketKeyring> ticket_keys_;  // null: own_ticket_master_
  gnutls_datum_t own_ticket_master_{};
};

// Empty fields when the peer sent no certificate.
PeerCertificate peer_certificate(gnutls_session_t session);

// Whether the finished handshake resumed a session (a ticket).
bool session_resumed(gnutls_session_t session);

}  // namespace vouchsafe::net::detail
