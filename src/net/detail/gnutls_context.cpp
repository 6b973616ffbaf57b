// GnuTLS configuration of the server's sessions and peer identity.
#include "net/detail/gnutls_context.h"

#include <gnutls/x509.h>
#include <openssl/crypto.h>

#include <string>
#include <vector>

#include "crypto/keys.h"
#include "net/ticket_keys.h"

namespace vouchsafe::net::detail {

namespace {

// As the OpenSSL context: TLS 1.2 and 1.3; ECDHE only; AEAD suites in
// OpenSSL's server order; X25519 first, the group OpenSSL clients (the
// registrars) send a key share for, so no HelloRetryRequest; the server's
// preference wins. GnuTLS refuses client-initiated renegotiation by
// returning GNUTLS_E_REHANDSHAKE to the reader, which ends the connection.
constexpr const char* k_priorities =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:"
    "+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-GROUP-ALL:+GROUP-X25519:"
    "+GROUP-SECP256R1:+GROUP-SECP384R1:%SERVER_PRECEDENCE";

Unexpected gnutls_fail(ErrorCode code, const std::string& what, int rc) {
  return fail(code, what + ": " + gnutls_strerror(rc));
}

struct CertificateList {
  std::vector<gnutls_x509_crt_t> certs;
  CertificateList() = default;
  CertificateList(const CertificateList&) = delete;
  CertificateList& operator=(const CertificateList&) = delete;
  ~CertificateList() {
    for (auto* c : certs) gnutls_x509_crt_deinit(c);
  }
};

struct PrivateKey {
  gnutls_x509_privkey_t key = nullptr;
  PrivateKey() = default;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  ~PrivateKey() {
    if (key != nullptr) gnutls_x509_privkey_deinit(key);
  }
};

// The key is read (and decrypted) by the same code as for the OpenSSL
// listener, then handed to GnuTLS as PEM in memory, wiped after.
Status load_key(const ServerOptions& options, PrivateKey& out) {
  ASSIGN_OR_RETURN(auto key, crypto::load_private_key(options.key_file, options.key_passphrase));
  ASSIGN_OR_RETURN(auto pem, crypto::private_key_pem(key.get(), std::nullopt));
  int rc = gnutls_x509_privkey_init(&out.key);
  if (rc == 0) {
    const gnutls_datum_t datum{reinterpret_cast<unsigned char*>(pem.data()),
                               static_cast<unsigned>(pem.size())};
    rc = gnutls_x509_privkey_import(out.key, &datum, GNUTLS_X509_FMT_PEM);
  }
  OPENSSL_cleanse(pem.data(), pem.size());
  if (rc != 0) return gnutls_fail(ErrorCode::bad_key, options.key_file, rc);
  return ok();
}

Status load_certificates(const ServerOptions& options, CertificateList& out) {
  ASSIGN_OR_RETURN(auto certs, crypto::load_certificates(options.cert_file));
  if (certs.empty()) {
    return fail(ErrorCode::bad_key, options.cert_file + ": no certificate in the file");
  }
  for (const auto& cert : certs) {
    Bytes der = crypto::certificate_der(cert.get());
    gnutls_x509_crt_t crt = nullptr;
    if (const int rc = gnutls_x509_crt_init(&crt); rc != 0) {
      return gnutls_fail(ErrorCode::internal, "certificate", rc);
    }
    out.certs.push_back(crt);
    const gnutls_datum_t datum{der.data(), static_cast<unsigned>(der.size())};
    if (const int rc = gnutls_x509_crt_import(crt, &datum, GNUTLS_X509_FMT_DER); rc != 0) {
      return gnutls_fail(ErrorCode::bad_key, options.cert_file, rc);
    }
  }
  return ok();
}

}  // namespace

Result<std::unique_ptr<GnuTlsServerContext>> GnuTlsServerContext::make(
    const ServerOptions& options) {
  if (!options.client_anchors.empty()) {
    return fail(ErrorCode::usage,
                "https server: client_anchors (chained client certificates) need the OpenSSL "
                "listener; set tls_library = openssl");
  }
  std::unique_ptr<GnuTlsServerContext> context(new GnuTlsServerContext);
  context->require_client_certificate_ = options.require_client_certificate;
  context->ticket_keys_ = options.ticket_keys;

  CertificateList certs;
  TRY(load_certificates(options, certs));
  PrivateKey key;
  TRY(load_key(options, key));
  if (const int rc = gnutls_certificate_allocate_credentials(&context->credentials_); rc != 0) {
    return gnutls_fail(ErrorCode::internal, "TLS credentials", rc);
  }
  // Copies the certificates and the key.
  if (const int rc = gnutls_certificate_set_x509_key(context->credentials_, certs.certs.data(),
                                                     static_cast<int>(certs.certs.size()), key.key);
      rc < 0) {
    return gnutls_fail(ErrorCode::bad_key,
                       options.key_file + ": does not match " + options.cert_file, rc);
  }
  const char* error_at = nullptr;
  if (const int rc = gnutls_priority_init(&context->priorities_, k_priorities, &error_at);
      rc != 0) {
    return gnutls_fail(ErrorCode::internal,
                       std::string("TLS priorities at '") + (error_at != nullptr ? error_at : "") + "'", rc);
  }
  if (!context->ticket_keys_) {
    if (const int rc = gnutls_session_ticket_key_generate(&context->own_ticket_master_); rc != 0) {
      return gnutls_fail(ErrorCode::internal, "session-ticket key", rc);
    }
  }
  return context;
}

GnuTlsServerContext::~GnuTlsServerContext() {
  if (own_ticket_master_.data != nullptr) {
    OPENSSL_cleanse(own_ticket_master_.data, own_ticket_master_.size);
    gnutls_free(own_ticket_master_.data);
  }
  if (priorities_ != nullptr) gnutls_priority_deinit(priorities_);
  if (credentials_ != nullptr) gnutls_certificate_free_credentials(credentials_);
}

int GnuTlsServerContext::set_up(gnutls_session_t session, bool& tickets) const {
  tickets = false;
  if (int rc = gnutls_priority_set(session, priorities_); rc != 0) return rc;
  if (int rc = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, credentials_); rc != 0) {
    return rc;
  }
  // The server's timeouts bound the handshake, not GnuTLS's own clock.
  gnutls_handshake_set_timeout(session, 0);
  // Requested and required, checked only for the proof of possession
  // (CertificateVerify): no trust anchors are set, so GnuTLS chains it to
  // nothing, as the OpenSSL listener's verify callback does.
  gnutls_certificate_server_set_request(
      session, require_client_certificate_ ? GNUTLS_CERT_REQUIRE : GNUTLS_CERT_IGNORE);
  int rc = 0;
  if (!ticket_keys_) {
    rc = gnutls_session_ticket_enable_server(session, &own_ticket_master_);
  } else {
    TicketKeyring::GnuTlsMaster master;
    if (!ticket_keys_->gnutls_master(master)) return 0;  // no key yet: no ticket
    const gnutls_datum_t datum{master.data(), static_cast<unsigned>(master.size())};
    rc = gnutls_session_ticket_enable_server(session, &datum);  // copies it
    OPENSSL_cleanse(master.data(), master.size());
  }
  tickets = rc == 0;
  return rc;
}

PeerCertificate peer_certificate(gnutls_session_t session) {
  PeerCertificate peer;
  unsigned count = 0;
  const gnutls_datum_t* certs = gnutls_certificate_get_peers(session, &count);
  if (certs == nullptr || count == 0) return peer;
  peer.der.assign(certs[0].data, certs[0].data + certs[0].size);
  peer.fingerprint = hex_encode(crypto::sha256(peer.der));
  for (unsigned i = 1; i < count; ++i) {
    peer.chain.emplace_back(certs[i].data, certs[i].data + certs[i].size);
  }
  return peer;
}

}  // namespace vouchsafe::net::detail
