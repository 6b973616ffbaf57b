// An HTTPS (or, for a loopback admin listener, plain HTTP) server that hands
// each request to a handler. Transport only: it knows nothing of vouchers.
// Abuse limits (sizes, timeouts, connection caps per listener, address and
// prefix, rates per client, class, address and prefix, invalid-request
// blocking) are applied before the handler is called; refusals and error
// responses go to the refusal log (ServerOptions::refusal_log).
#pragma once

#include <memory>
#include <string_view>

#include "core/result.h"
#include "net/http_message.h"
#include "net/metrics.h"
#include "net/server_options.h"

namespace vouchsafe::net {

class HttpsServer {
 public:
  // Loads the certificate and key, binds, and starts the worker threads.
  // Errors: bad_key / bad_passphrase / io_error for the TLS files, io_error
  // when the address cannot be bound, usage for inconsistent options.
  static Result<std::unique_ptr<HttpsServer>> start(ServerOptions options, Handler handler);
  // The same with a handler that answers through its Respond. stop() waits
  // for the answers still owed, so a handler must answer in bounded time.
  static Result<std::unique_ptr<HttpsServer>> start_async(ServerOptions options,
                                                          AsyncHandler handler);

  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;
  ~HttpsServer();  // stops

  // The bound port, the one the kernel chose when the options said 0.
  [[nodiscard]] unsigned short port() const;

  // Stops accepting, closes every connection and joins the worker threads.
  // Idempotent; must not be called from inside the handler.
  void stop();

  // Counts an invalid request against a client certificate, as a 4xx
  // response from the handler does (which also counts against its source
  // address, unknown here); for callers that learn of misuse outside a
  // response.
  void report_invalid(std::string_view client_fingerprint);

  [[nodiscard]] const std::shared_ptr<MetricsRegistry>& metrics() const;

 private:
  struct Impl;
  explicit HttpsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vouchsafe::net
