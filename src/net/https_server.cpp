// The listener: acceptor, connection cap, worker threads, start and stop.
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
#include <vector>

#include "net/detail/connection.h"
#include "net/detail/server_state.h"
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
    // Accepts run one at a time on the acceptor's strand, so the check and
    // the increment in ConnectionSlot cannot race with another accept.
    if (state->connections.load() >= state->options.max_connections) {
      state->count_rejection(detail::Rejection::connection_cap);
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      detail::serve_connection(state, detail::ConnectionSlot(state->connections),
                               std::move(socket));
    }
    accept();
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
  return start_async(std::move(options),
                     [handler = std::move(handler)](const HttpRequest& request, Respond respond) {
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

  std::unique_ptr<asio::ssl::context> tls;
  if (options.tls) {
    ASSIGN_OR_RETURN(tls, detail::make_server_tls_context(options));
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
  impl->state =
      std::make_shared<detail::ServerState>(std::move(options), std::move(handler), std::move(tls));
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
