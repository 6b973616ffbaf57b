// The server's share of TLS 1.3 handshakes in GnuTLS, measured as
// handshake_floor.cpp measures OpenSSL's (see gnutls_floor.h).
#include "gnutls_floor.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string>

#include "call_timer.h"
#include "net/detail/gnutls_context.h"

namespace vouchsafe::bench {
namespace {

constexpr int k_handshakes = 300;  // per round

// One direction of the in-memory transport.
struct Pipe {
  std::deque<unsigned char> bytes;
};
struct Endpoint {
  Pipe* in = nullptr;
  Pipe* out = nullptr;
  gnutls_session_t session = nullptr;
};

ssize_t push(gnutls_transport_ptr_t ptr, const void* data, size_t size) {
  auto* e = static_cast<Endpoint*>(ptr);
  const auto* p = static_cast<const unsigned char*>(data);
  e->out->bytes.insert(e->out->bytes.end(), p, p + size);
  return static_cast<ssize_t>(size);
}

ssize_t pull(gnutls_transport_ptr_t ptr, void* data, size_t size) {
  auto* e = static_cast<Endpoint*>(ptr);
  if (e->in->bytes.empty()) {
    gnutls_transport_set_errno(e->session, EAGAIN);
    return -1;
  }
  const size_t n = std::min(size, e->in->bytes.size());
  std::copy_n(e->in->bytes.begin(), n, static_cast<unsigned char*>(data));
  e->in->bytes.erase(e->in->bytes.begin(), e->in->bytes.begin() + static_cast<long>(n));
  return static_cast<ssize_t>(n);
}

void attach(Endpoint& e) {
  gnutls_transport_set_ptr(e.session, &e);
  gnutls_transport_set_push_function(e.session, push);
  gnutls_transport_set_pull_function(e.session, pull);
}

bool check(int rc, const char* what) {
  if (rc >= 0) return true;
  (void)std::fprintf(stderr, "gnutls_floor: %s: %s\n", what, gnutls_strerror(rc));
  return false;
}

struct Setup {
  gnutls_certificate_credentials_t server_cred = nullptr;
  gnutls_certificate_credentials_t client_cred = nullptr;
  gnutls_datum_t ticket_key{};
};

// Returns the server's seconds for one handshake, or a negative value on
// failure; `resumed` says whether it resumed `ticket` (replaced by the new
// one the client received).
double handshake(const Setup& s, gnutls_datum_t& ticket, bool& resumed) {
  Pipe to_server;
  Pipe to_client;
  Endpoint server{&to_server, &to_client};
  Endpoint client{&to_client, &to_server};
  CallTimer timed;
  bool ok = timed([&] {
    return gnutls_init(&server.session,
                       GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_AUTO_SEND_TICKET) >= 0 &&
           gnutls_priority_set_direct(server.session, net::detail::k_gnutls_priorities, nullptr) >=
               0 &&
           gnutls_credentials_set(server.session, GNUTLS_CRD_CERTIFICATE, s.server_cred) >= 0 &&
           gnutls_session_ticket_enable_server(server.session, &s.ticket_key) >= 0;
  });
  if (!ok) return -1;
  timed([&] {
    // Ask for a certificate, accept any issuer: as the MASA does.
    gnutls_certificate_server_set_request(server.session, GNUTLS_CERT_REQUIRE);
    return 0;
  });
  attach(server);
  if (!check(gnutls_init(&client.session, GNUTLS_CLIENT | GNUTLS_NONBLOCK), "client init") ||
      !check(gnutls_priority_set_direct(client.session, net::detail::k_gnutls_priorities, nullptr),
             "client priority") ||
      !check(gnutls_credentials_set(client.session, GNUTLS_CRD_CERTIFICATE, s.client_cred),
             "client credentials")) {
    return -1;
  }
  attach(client);
  if (ticket.size > 0 && !check(gnutls_session_set_data(client.session, ticket.data, ticket.size),
                                "offer the ticket")) {
    return -1;
  }
  bool server_done = false;
  bool client_done = false;
  for (int round = 0; round < 20 && !(server_done && client_done); ++round) {
    if (!client_done) {
      const int r = gnutls_handshake(client.session);
      if (r == GNUTLS_E_SUCCESS) {
        client_done = true;
      } else if (r != GNUTLS_E_AGAIN && !check(r, "client handshake")) {
        return -1;
      }
    }
    if (!server_done) {
      const int r = timed([&] { return gnutls_handshake(server.session); });
      if (r == GNUTLS_E_SUCCESS) {
        server_done = true;
        // One ticket, as the MASA's listener sends.
        if (!check(timed([&] { return gnutls_session_ticket_send(server.session, 1, 0); }),
                   "send a ticket")) {
          return -1;
        }
      } else if (r != GNUTLS_E_AGAIN && !check(r, "server handshake")) {
        return -1;
      }
    }
  }
  if (!server_done || !client_done) return -1;
  // The identity the MASA needs: the client's certificate, as DER.
  unsigned int count = 0;
  const bool has_peer = timed(
      [&] { return gnutls_certificate_get_peers(server.session, &count) != nullptr && count > 0; });
  if (!has_peer) return -1;
  resumed = timed([&] { return gnutls_session_is_resumed(server.session) != 0; });
  if (gnutls_group_get(server.session) != GNUTLS_GROUP_X25519) {
    (void)std::fputs("gnutls_floor: the key exchange was not X25519\n", stderr);
    return -1;
  }
  // The client reads the NewSessionTicket.
  unsigned char byte = 0;
  (void)gnutls_record_recv(client.session, &byte, 1);
  gnutls_free(ticket.data);
  ticket = {};
  if (!check(gnutls_session_get_data2(client.session, &ticket), "client ticket")) return -1;
  timed([&] {
    gnutls_deinit(server.session);
    return 0;
  });
  gnutls_deinit(client.session);
  return timed.seconds();
}

double best_of_three(const Setup& s, bool resume) {
  double best = 1e9;
  for (int round = 0; round < 3; ++round) {
    gnutls_datum_t ticket{};
    bool resumed = false;
    if (resume && handshake(s, ticket, resumed) < 0) return -1;
    double total = 0;
    for (int i = 0; i < k_handshakes; ++i) {
      if (!resume) {
        gnutls_free(ticket.data);
        ticket = {};
      }
      const double t = handshake(s, ticket, resumed);
      if (t < 0 || resumed != resume) {
        (void)std::fprintf(stderr, "gnutls_floor: a handshake %s\n",
                           t < 0 ? "failed" : "did not resume as expected");
        return -1;
      }
      total += t;
    }
    gnutls_free(ticket.data);
    best = std::min(best, total / k_handshakes);
  }
  return best;
}

}  // namespace

Result<HandshakeFloor> measure_gnutls_handshake_floor(const std::string& client_cert_file,
                                                      const std::string& client_key_file) {
  Setup s;
  // A throw-away P-256 server key and self-signed certificate.
  gnutls_x509_privkey_t key = nullptr;
  gnutls_x509_crt_t cert = nullptr;
  const bool ready =
      check(gnutls_x509_privkey_init(&key), "key init") &&
      check(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
            "server key") &&
      check(gnutls_x509_crt_init(&cert), "cert init") &&
      check(gnutls_x509_crt_set_version(cert, 3), "version") &&
      check(gnutls_x509_crt_set_serial(cert, "\x01", 1), "serial") &&
      check(gnutls_x509_crt_set_dn_by_oid(cert, GNUTLS_OID_X520_COMMON_NAME, 0, "floor.test", 10),
            "subject") &&
      check(gnutls_x509_crt_set_activation_time(cert, time(nullptr) - 60), "not before") &&
      check(gnutls_x509_crt_set_expiration_time(cert, time(nullptr) + 3600), "not after") &&
      check(gnutls_x509_crt_set_key(cert, key), "public key") &&
      check(gnutls_x509_crt_sign2(cert, cert, key, GNUTLS_DIG_SHA256, 0), "self-sign") &&
      check(gnutls_certificate_allocate_credentials(&s.server_cred), "server credentials") &&
      check(gnutls_certificate_set_x509_key(s.server_cred, &cert, 1, key), "server identity") &&
      check(gnutls_certificate_allocate_credentials(&s.client_cred), "client credentials") &&
      check(gnutls_certificate_set_x509_key_file(s.client_cred, client_cert_file.c_str(),
                                                 client_key_file.c_str(), GNUTLS_X509_FMT_PEM),
            "client identity") &&
      check(gnutls_session_ticket_key_generate(&s.ticket_key), "ticket key");
  HandshakeFloor floor;
  if (ready) {
    floor.t_full = best_of_three(s, false);
    floor.t_resumed = best_of_three(s, true);
  }
  if (s.ticket_key.data != nullptr) gnutls_free(s.ticket_key.data);
  if (s.client_cred != nullptr) gnutls_certificate_free_credentials(s.client_cred);
  if (s.server_cred != nullptr) gnutls_certificate_free_credentials(s.server_cred);
  if (cert != nullptr) gnutls_x509_crt_deinit(cert);
  if (key != nullptr) gnutls_x509_privkey_deinit(key);
  if (!ready || floor.t_full < 0 || floor.t_resumed < 0) {
    return fail(ErrorCode::internal, "GnuTLS handshakes failed (see the messages above)");
  }
  return floor;
}

}  // namespace vouchsafe::bench
