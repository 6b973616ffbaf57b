// OpenSSL configuration of the server's TLS context and peer identity.
#include "net/detail/tls.h"

#include "crypto/handles.h"
#include "crypto/keys.h"
#include "crypto/openssl_error.h"
#include "net/ticket_keys.h"

namespace vouchsafe::net::detail {

namespace {

// The client certificate identifies the caller by its fingerprint; it is
// deliberately not chained to any anchor here (DESIGN.md, the MASA path,
// step 1). The TLS CertificateVerify message still proves that the client
// holds the certificate's private key. Replacing X509_verify_cert (not only
// overriding its verdict) spares each handshake building a chain nobody
// trusts and checking the signatures in it: 5.6% of the MASA's CPU per
// new-connection request in the profile (bench/masa_load.sh).
int accept_presented_certificate(X509_STORE_CTX* /*ctx*/, void* /*arg*/) {
  return 1;
}

// Session resumption with client certificates needs a session id context,
// or OpenSSL refuses resumed handshakes.
constexpr unsigned char k_session_id_context[] = "vouchsafe";

// TLS 1.2 suites with forward secrecy and an AEAD; TLS 1.3's are all fine.
constexpr const char* k_tls12_ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20";

}  // namespace

Result<std::unique_ptr<boost::asio::ssl::context>> make_server_tls_context(
    const ServerOptions& options) {
  auto context = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();

  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, k_tls12_ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, k_tls13_ciphersuites) != 1) {
    return crypto::openssl_fail(ErrorCode::internal, "TLS protocol settings");
  }
  // Client-initiated renegotiation costs the server a handshake per request.
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_session_id_context(ctx, k_session_id_context, sizeof k_session_id_context - 1);

  ASSIGN_OR_RETURN(auto certs, crypto::load_certificates(options.cert_file));
  if (certs.empty()) {
    return fail(ErrorCode::bad_key, options.cert_file + ": no certificate in the file");
  }
  ASSIGN_OR_RETURN(auto key, crypto::load_private_key(options.key_file, options.key_passphrase));
  if (SSL_CTX_use_certificate(ctx, certs.front().get()) != 1) {
    return crypto::openssl_fail(ErrorCode::bad_key, options.cert_file);
  }
  for (std::size_t i = 1; i < certs.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, certs[i].get()) != 1) {
      return crypto::openssl_fail(ErrorCode::bad_key, options.cert_file + ": chain certificate");
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return crypto::openssl_fail(ErrorCode::bad_key,
                                options.key_file + ": does not match " + options.cert_file);
  }

  if (options.ticket_keys) options.ticket_keys->install(ctx);
  // One session ticket per handshake, not OpenSSL's two: a registrar
  // resumes one connection at a time, and each ticket costs the server a
  // copy of the session, client certificate included (OpenSSL 3.0 copies
  // it through its DER encoding).
  SSL_CTX_set_num_tickets(ctx, 1);

  if (options.require_client_certificate && !options.client_anchors.empty()) {
    X509_STORE* anchors = SSL_CTX_get_cert_store(ctx);  // owned by ctx
    for (const Bytes& der : options.client_anchors) {
      ASSIGN_OR_RETURN(auto anchor, crypto::parse_certificate_der(der));
      if (X509_STORE_add_cert(anchors, anchor.get()) != 1) {
        return crypto::openssl_fail(ErrorCode::bad_key, "cannot add a client anchor");
      }
    }
    // An anchor may be an issuing CA, not a self-signed root.
    X509_STORE_set_flags(anchors, X509_V_FLAG_PARTIAL_CHAIN);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else if (options.require_client_certificate) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_CTX_set_cert_verify_callback(ctx, accept_presented_certificate, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  return context;
}

bool session_resumed(SSL* ssl) {
  return SSL_session_reused(ssl) == 1;
}

PeerCertificate peer_certificate(SSL* ssl) {
  PeerCertificate peer;
  const crypto::X509Ptr cert(SSL_get1_peer_certificate(ssl));
  if (!cert) return peer;
  peer.der = crypto::certificate_der(cert.get());
  peer.fingerprint = hex_encode(crypto::sha256(peer.der));
  // On the server side OpenSSL's chain leaves out the peer's own certificate.
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      peer.chain.push_back(crypto::certificate_der(sk_X509_value(chain, i)));
    }
  }
  return peer;
}

}  // namespace vouchsafe::net::detail
