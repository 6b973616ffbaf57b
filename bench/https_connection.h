// A persistent HTTPS client connection for the load benchmark: one TLS
// session carrying many HTTP/1.1 requests (keep-alive), which the
// one-connection-per-call net::https_post cannot measure.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/bytes.h"
#include "core/result.h"
#include "net/http_message.h"
#include "net/https_client.h"

namespace vouchsafe::bench {

// The client's TLS settings, certificate and key, loaded once and shared by
// the connections a thread opens, so that a new connection costs a
// handshake and not a reading of PEM files.
class ClientTls {
 public:
  // TLS 1.2+, the server checked against options.ca_file (required) and its
  // name, the client certificate and key of options shown.
  static Result<std::shared_ptr<ClientTls>> load(const net::ClientOptions& options);
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
  static Result<std::unique_ptr<HttpsConnection>> open(const net::Url& where,
                                                       std::shared_ptr<const ClientTls> tls,
                                                       SSL_SESSION* resume = nullptr);
  HttpsConnection(const HttpsConnection&) = delete;
  HttpsConnection& operator=(const HttpsConnection&) = delete;
  ~HttpsConnection();

  // Sends one request and reads its response on this connection. Transport
  // failures are io_error; after one, or after a response that does not
  // keep the connection alive, keep_alive() is false and the caller reopens.
  Result<net::HttpResponse> post(const std::string& content_type, const std::string& accept,
                                 ByteView body);
  [[nodiscard]] bool keep_alive() const;
  // The session to resume next time (TLS 1.3 tickets arrive after the
  // handshake: ask once a response has been read), and whether this
  // connection resumed one.
  [[nodiscard]] SessionPtr session() const;
  [[nodiscard]] bool resumed() const;

  // TLS close_notify; errors ignored (the peer may already have gone).
  void close();

 private:
  struct Impl;
  explicit HttpsConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vouchsafe::bench
