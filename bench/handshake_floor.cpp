// The server's share of TLS 1.3 handshakes in raw OpenSSL (handshake_floor.h).
#include "handshake_floor.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "call_timer.h"
#include "crypto/handles.h"
#include "crypto/keys.h"
#include "net/detail/tls.h"

namespace vouchsafe::bench {
namespace {

using Clock = std::chrono::steady_clock;
using SslCtxPtr = std::unique_ptr<SSL_CTX, crypto::Deleter<SSL_CTX, SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, crypto::Deleter<SSL, SSL_free>>;
using SessionPtr = std::unique_ptr<SSL_SESSION, crypto::Deleter<SSL_SESSION, SSL_SESSION_free>>;

constexpr int k_handshakes = 300;  // per round

// A throw-away self-signed P-256 server certificate.
Result<crypto::X509Ptr> server_certificate(EVP_PKEY* key) {
  crypto::X509Ptr cert(X509_new());
  X509_NAME* name = X509_NAME_new();
  const bool ok =
      cert && name != nullptr && X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
      ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1 &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("floor.test"), -1, -1,
                                 0) == 1 &&
      X509_set_subject_name(cert.get(), name) == 1 && X509_set_issuer_name(cert.get(), name) == 1 &&
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600) != nullptr &&
      X509_set_pubkey(cert.get(), key) == 1 && X509_sign(cert.get(), key, EVP_sha256()) > 0;
  X509_NAME_free(name);
  if (!ok) return fail(ErrorCode::internal, "cannot make the floor's server certificate");
  return cert;
}

int accept_presented(X509_STORE_CTX* /*ctx*/, void* /*arg*/) {
  return 1;
}

struct Contexts {
  SslCtxPtr server, client;
};

Result<Contexts> make_contexts(const std::string& client_cert_file,
                               const std::string& client_key_file) {
  Contexts c;
  c.server.reset(SSL_CTX_new(TLS_server_method()));
  c.client.reset(SSL_CTX_new(TLS_client_method()));
  if (!c.server || !c.client) return fail(ErrorCode::internal, "SSL_CTX_new");
  auto key = crypto::generate_key(crypto::KeyType::p256);
  ASSIGN_OR_RETURN(auto cert, server_certificate(key.get()));
  SSL_CTX* s = c.server.get();
  constexpr unsigned char k_context[] = "floor";
  if (SSL_CTX_set_min_proto_version(s, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_ciphersuites(s, net::detail::k_tls13_ciphersuites) != 1 ||
      SSL_CTX_use_certificate(s, cert.get()) != 1 || SSL_CTX_use_PrivateKey(s, key.get()) != 1 ||
      SSL_CTX_set_session_id_context(s, k_context, sizeof k_context - 1) != 1) {
    return fail(ErrorCode::internal, "server context");
  }
  SSL_CTX_set_options(s, SSL_OP_CIPHER_SERVER_PREFERENCE);  // as the listener
  SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_cert_verify_callback(s, accept_presented, nullptr);
  SSL_CTX_set_num_tickets(s, 1);

  SSL_CTX* cl = c.client.get();
  ASSIGN_OR_RETURN(auto chain, crypto::load_certificates(client_cert_file));
  ASSIGN_OR_RETURN(auto client_key, crypto::load_private_key(client_key_file, std::nullopt));
  if (chain.empty() || SSL_CTX_use_certificate(cl, chain.front().get()) != 1 ||
      SSL_CTX_use_PrivateKey(cl, client_key.get()) != 1) {
    return fail(ErrorCode::bad_key, client_cert_file + ": not a client identity");
  }
  for (std::size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(cl, chain[i].get()) != 1) {
      return fail(ErrorCode::bad_key, client_cert_file + ": chain certificate");
    }
  }
  SSL_CTX_set_verify(cl, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_session_cache_mode(cl, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  return c;
}

struct Handshake {
  double server_seconds = 0;
  bool resumed = false;
};

// One handshake over a BIO pair; returns the server's seconds and, through
// `session`, the ticket the client received (offered when given).
Result<Handshake> handshake(const Contexts& c, SessionPtr& session) {
  CallTimer timed;
  SslPtr server(timed([&] { return SSL_new(c.server.get()); }));
  SslPtr client(SSL_new(c.client.get()));
  BIO* server_bio = nullptr;
  BIO* client_bio = nullptr;
  if (!server || !client || BIO_new_bio_pair(&server_bio, 0, &client_bio, 0) != 1) {
    return fail(ErrorCode::internal, "SSL_new / BIO pair");
  }
  SSL_set_bio(server.get(), server_bio, server_bio);
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_accept_state(server.get());
  SSL_set_connect_state(client.get());
  if (session && SSL_set_session(client.get(), session.get()) != 1) {
    return fail(ErrorCode::internal, "SSL_set_session");
  }
  bool server_done = false;
  bool client_done = false;
  for (int round = 0; round < 20 && !(server_done && client_done); ++round) {
    if (!client_done) {
      const int r = SSL_do_handshake(client.get());
      if (r == 1) {
        client_done = true;
      } else if (SSL_get_error(client.get(), r) != SSL_ERROR_WANT_READ) {
        return fail(ErrorCode::internal, "client handshake failed");
      }
    }
    if (!server_done) {
      const int r = timed([&] { return SSL_do_handshake(server.get()); });
      if (r == 1) {
        server_done = true;
      } else if (SSL_get_error(server.get(), r) != SSL_ERROR_WANT_READ) {
        return fail(ErrorCode::internal, "server handshake failed");
      }
    }
  }
  if (!server_done || !client_done) return fail(ErrorCode::internal, "handshake did not finish");
  // The client reads the NewSessionTicket the server sent after its Finished.
  unsigned char byte = 0;
  (void)SSL_read(client.get(), &byte, 1);
  session.reset(SSL_get1_session(client.get()));
  // Freed without a close_notify, OpenSSL would mark the session unresumable.
  SSL_set_shutdown(client.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  const bool resumed = SSL_session_reused(server.get()) == 1;
  timed([&] {
    server.reset();
    return 0;
  });
  return Handshake{timed.seconds(), resumed};
}

// Resuming: a first, untimed full handshake gets the ticket; every timed
// one must then resume.
Result<double> best_of_three(const Contexts& c, bool resume) {
  double best = 1e9;
  for (int round = 0; round < 3; ++round) {
    SessionPtr session;
    if (resume) TRY(handshake(c, session));
    double total = 0;
    for (int i = 0; i < k_handshakes; ++i) {
      if (!resume) session.reset();
      ASSIGN_OR_RETURN(const auto h, handshake(c, session));
      if (h.resumed != resume) {
        return fail(ErrorCode::internal,
                    resume ? "a handshake did not resume its ticket" : "a fresh handshake resumed");
      }
      total += h.server_seconds;
    }
    best = std::min(best, total / k_handshakes);
  }
  return best;
}

}  // namespace

Result<HandshakeFloor> measure_handshake_floor(const std::string& client_cert_file,
                                               const std::string& client_key_file) {
  ASSIGN_OR_RETURN(auto contexts, make_contexts(client_cert_file, client_key_file));
  HandshakeFloor floor;
  ASSIGN_OR_RETURN(floor.t_full, best_of_three(contexts, false));
  ASSIGN_OR_RETURN(floor.t_resumed, best_of_three(contexts, true));

  ASSIGN_OR_RETURN(auto chain, crypto::load_certificates(client_cert_file));
  const Bytes der = crypto::certificate_der(chain.front().get());
  double best = 1e9;
  for (int round = 0; round < 3; ++round) {
    const auto start = Clock::now();
    for (int i = 0; i < k_handshakes; ++i) {
      const unsigned char* p = der.data();
      const crypto::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
      if (!cert) return fail(ErrorCode::internal, "d2i_X509 of the client certificate");
    }
    best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  floor.t_certificate_decode = best / k_handshakes;
  return floor;
}

}  // namespace vouchsafe::bench
