// The listener: acceptor, connection admission, worker threads, start and
// stop.
#include "net/https_server.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <cstdio>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "net/detail/connection.h"
#include "net/detail/server_state.h"
#include "net/detail/source_address.h"
#include "net/detail/tls.h"

namespace vouchsafe::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// After a failed accept (out of file descriptors, typically) wait a little
// rather than spin on the error.
constexpr std::chrono::milliseconds k_accept_retry{50};

// Everything tied to the io_context, destroyed together so that stop() also
// frees every connection still waiting on an operation.
struct Runtime {
  explicit Runtime(int threads)
      : io(threads), acceptor(asio::make_strand(io)), retry(acceptor.get_executor()) {}
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::steady_timer retry;
};

// The connections catch what the handler throws; anything else escaping a
// completion handler must not take the process down with it.
void run_worker(asio::io_context& io) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      (void)std::fprintf(stderr, "vouchsafe: https server worker: %s\n", e.what());
    }
  }
}

// Limits that cannot work are start-up errors: none silently means
// "unlimited".
Status check_limits(const ServerOptions& o) {
  if (o.max_connections == 0) {
    return fail(ErrorCode::usage, "https server: max_connections must be at least 1");
  }
  if (o.max_connections_per_address == 0 || o.max_connections_per_prefix == 0) {
    return fail(ErrorCode::usage,
                "https server: max_connections_per_address and max_connections_per_prefix must "
                "be at least 1 (max_connections makes them no tighter than the total)");
  }
  if (!(o.handshake_share > 0.0 && o.handshake_share <= 1.0)) {
    return fail(ErrorCode::usage, "https server: handshake_share must be in (0, 1]");
  }
  if (o.handshake_timeout.count() <= 0 || o.read_timeout.count() <= 0 ||
      o.idle_timeout.count() <= 0) {
    return fail(ErrorCode::usage, "https server: timeouts must be positive");
  }
  return {};
}

}  // namespace

struct HttpsServer::Impl {
  std::shared_ptr<detail::ServerState> state;
  std::unique_ptr<Runtime> runtime;
  std::vector<std::thread> threads;
  unsigned short port = 0;

  void accept() {
    runtime->acceptor.async_accept(asio::make_strand(runtime->io),
                                   [this](boost::system::error_code ec, tcp::socket socket) {
                                     on_accept(ec, std::move(socket));
                                   });
  }

  void on_accept(boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      runtime->retry.expires_after(k_accept_retry);
      runtime->retry.async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec) accept();
      });
      return;
    }
    admit(std::move(socket));
    accept();
  }

  // Accepts run one at a time on the acceptor's strand, so a connection is
  // in the table, and tracked, before the next one is admitted.
  void admit(tcp::socket socket) {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) return;  // already gone; the socket closes with it
    const auto now = std::chrono::steady_clock::now();
    auto admission =
        state->connections.admit(detail::source_keys(remote.address()), state->tls.enabled(), now);
    if (admission.evicted) {
      if (admission.evicted_connection) admission.evicted_connection->evict();
      state->count_rejection(detail::Rejection::handshake_evicted);
      state->log.connection(admission.evicted_address, "handshake_evicted",
                            "pushed out, still in its TLS handshake, to make room", now);
    }
    if (!admission.slot) {
      const auto [reason, text] = refusal_of(admission.refusal);
      state->count_rejection(reason);
      state->log.connection(remote.address().to_string() + ":" + std::to_string(remote.port()),
                            detail::rejection_name(reason), text, now);
      socket.close(ec);
      return;
    }
    detail::serve_connection(state, std::move(*admission.slot), std::move(socket));
  }

  static std::pair<detail::Rejection, std::string_view> refusal_of(
      detail::ConnectionTable::Refusal refusal) {
    using R = detail::ConnectionTable::Refusal;
    switch (refusal) {
      case R::address_cap:
        return {detail::Rejection::address_cap, "too many connections from this address"};
      case R::prefix_cap:
        return {detail::Rejection::prefix_cap, "too many connections from this address's prefix"};
      case R::none:
      case R::connection_cap:
        break;
    }
    return {detail::Rejection::connection_cap,
            "every connection place is held by a client past its handshake"};
  }

  void stop() {
    if (!runtime) return;
    runtime->io.stop();
    for (auto& t : threads) t.join();
    threads.clear();
    // An answer still owed posts to the io_context: it must outlive them.
    for (auto owed = state->owed_responses.load(); owed != 0; owed = state->owed_responses.load()) {
      state->owed_responses.wait(owed);
    }
    runtime.reset();
  }
};

Result<std::unique_ptr<HttpsServer>> HttpsServer::start(ServerOptions options, Handler handler) {
  if (!handler) return fail(ErrorCode::usage, "https server: no request handler");
  return start_async(std::move(options), [handler = std::move(handler)](const HttpRequest& request,
                                                                        const Respond& respond) {
    respond(handler(request));
  });
}

Result<std::unique_ptr<HttpsServer>> HttpsServer::start_async(ServerOptions options,
                                                              AsyncHandler handler) {
  if (!handler) return fail(ErrorCode::usage, "https server: no request handler");
  if (!options.tls && options.require_client_certificate) {
    return fail(ErrorCode::usage,
                "https server: a client certificate needs TLS; a plain-HTTP listener must set "
                "require_client_certificate = false");
  }
  if (options.max_header_bytes == 0 || options.max_header_bytes > UINT32_MAX) {
    return fail(ErrorCode::usage, "https server: max_header_bytes out of range");
  }

  TRY(check_limits(options));
  auto proxies = detail::source_addresses(options.proxy_protocol_from);
  if (!proxies) {
    return fail(ErrorCode::usage, "https server: proxy_protocol_from: " + proxies.error().message);
  }
  if (options.tls && options.tls_library == TlsLibrary::openssl && options.key_signer) {
    return fail(ErrorCode::usage,
                "https server: a key given as a signer (a token key) needs tls_library = gnutls; "
                "OpenSSL loads key_file");
  }

  detail::ServerTls tls;
  if (options.tls && options.tls_library == TlsLibrary::gnutls) {
    ASSIGN_OR_RETURN(tls.gnutls, detail::GnuTlsServerContext::make(options));
  } else if (options.tls) {
    ASSIGN_OR_RETURN(tls.openssl, detail::make_server_tls_context(options));
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.address, ec);
  if (ec) {
    return fail(ErrorCode::usage, "https server: '" + options.address + "' is not an IP address");
  }
  const unsigned threads =
      options.threads != 0 ? options.threads : std::max(1U, std::thread::hardware_concurrency());
  const tcp::endpoint endpoint(address, options.port);

  auto impl = std::make_unique<Impl>();
  impl->runtime = std::make_unique<Runtime>(static_cast<int>(threads));
  auto& acceptor = impl->runtime->acceptor;
  const std::string where = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  if (acceptor.open(endpoint.protocol(), ec) ||
      acceptor.set_option(asio::socket_base::reuse_address(true), ec) ||
      acceptor.bind(endpoint, ec) ||
      acceptor.listen(asio::socket_base::max_listen_connections, ec)) {
    return fail(ErrorCode::io_error,
                "https server: cannot listen on " + where + ": " + ec.message());
  }
  impl->port = acceptor.local_endpoint().port();
  std::string listener = endpoint.address().to_string() + ":" + std::to_string(impl->port);
  impl->state =
      std::make_shared<detail::ServerState>(std::move(options), std::move(handler), std::move(tls),
                                            std::move(*proxies), std::move(listener));

  impl->accept();
  try {
    for (unsigned i = 0; i < threads; ++i) {
      impl->threads.emplace_back([&io = impl->runtime->io] { run_worker(io); });
    }
  } catch (const std::system_error& e) {
    // Out of threads (RLIMIT_NPROC, memory): a start-up error, not an abort
    // with the workers already started left joinable.
    impl->stop();
    return fail(ErrorCode::io_error, "https server: cannot start " + std::to_string(threads) +
                                         " worker threads: " + e.what());
  }
  return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(impl)));
}

HttpsServer::HttpsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpsServer::~HttpsServer() {
  stop();
}

unsigned short HttpsServer::port() const {
  return impl_->port;
}

void HttpsServer::stop() {
  impl_->stop();
}

void HttpsServer::report_invalid(std::string_view client_fingerprint) {
  impl_->state->limiter.report_invalid(client_fingerprint, std::chrono::steady_clock::now());
}

const std::shared_ptr<MetricsRegistry>& HttpsServer::metrics() const {
  return impl_->state->metrics;
}

}  // namespace vouchsafe::net
