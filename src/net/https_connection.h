// A persistent HTTPS client connection: one TLS session carrying many
// HTTP/1.1 requests (keep-alive). The load benchmark measures with it, the
// registrar keeps its MASA connections open with it, and the pledge runs
// its whole onboarding on one (RFC 8995 §5.6.2: the provisional TLS
// connection is the one the voucher then authenticates).
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "net/http_message.h"
#include "net/https_client.h"

namespace vouchsafe::net {

// The client's TLS settings, certificate and key, loaded once and shared by
// the connections a thread opens, so that a new connection costs a
// handshake and not a reading of PEM files.
class ClientTls {
 public:
  // TLS 1.2+, the server checked against options.ca_file and its name, or
  // (options.insecure) not checked at all: a provisional connection whose
  // server certificate the caller judges afterwards (peer_chain()).
  static Result<std::shared_ptr<ClientTls>> load(const ClientOptions& options);
  ~ClientTls();
  ClientTls(const ClientTls&) = delete;
  ClientTls& operator=(const ClientTls&) = delete;

 private:
  friend class HttpsConnection;
  struct Impl;
  explicit ClientTls(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A TLS session a new connection may resume (a ticket the server sent).
struct SessionFree {
  void operator()(SSL_SESSION* s) const;
};
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionFree>;

class HttpsConnection {
 public:
  // Connects and completes the TLS handshake, offering `resume` if given.
  static Result<std::unique_ptr<HttpsConnection>> open(const Url& where,
                                                       std::shared_ptr<const ClientTls> tls,
                                                       SSL_SESSION* resume = nullptr);
  HttpsConnection(const HttpsConnection&) = delete;
  HttpsConnection& operator=(const HttpsConnection&) = delete;
  ~HttpsConnection();

  // Sends one request and reads its response on this connection. Transport
  // failures are io_error; after one, or after a response that does not
  // keep the connection alive, keep_alive() is false and the caller reopens.
  Result<HttpResponse> request(std::string_view method, std::string_view target,
                               std::string_view content_type, std::string_view accept,
                               ByteView body);
  // POST to the target of the URL the connection was opened with.
  Result<HttpResponse> post(const std::string& content_type, const std::string& accept,
                            ByteView body);
  [[nodiscard]] bool keep_alive() const;
  // The session to resume next time (TLS 1.3 tickets arrive after the
  // handshake: ask once a response has been read), and whether this
  // connection resumed one.
  [[nodiscard]] SessionPtr session() const;
  [[nodiscard]] bool resumed() const;
  // The server's certificate and the chain it sent (DER, leaf first), as
  // the handshake showed them.
  [[nodiscard]] const std::vector<Bytes>& peer_chain() const;

  // TLS close_notify; errors ignored (the peer may already have gone).
  void close();

 private:
  struct Impl;
  explicit HttpsConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vouchsafe::net
