// Persistent HTTPS connection on Boost.Beast, blocking, one per thread.
#include "https_connection.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>

namespace vouchsafe::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

Unexpected transport(const std::string& what, const boost::system::error_code& ec) {
  return fail(ErrorCode::io_error, what + ": " + ec.message());
}

}  // namespace

struct ClientTls::Impl {
  ssl::context ctx{ssl::context::tls_client};
  std::chrono::seconds timeout{30};
  std::size_t max_response_bytes = 0;
};

ClientTls::ClientTls(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClientTls::~ClientTls() = default;

Result<std::shared_ptr<ClientTls>> ClientTls::load(const net::ClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->timeout = options.timeout;
  impl->max_response_bytes = options.max_response_bytes;
  // The load client always checks the MASA's certificate.
  if (options.ca_file.empty())
    return fail(ErrorCode::usage, "the load client needs the MASA's CA file");
  TRY(net::configure_client_tls(impl->ctx, options));
  return std::shared_ptr<ClientTls>(new ClientTls(std::move(impl)));
}

struct HttpsConnection::Impl {
  Impl(net::Url url, std::shared_ptr<const ClientTls> client_tls)
      : where(std::move(url)), tls(std::move(client_tls)) {}
  net::Url where;
  std::shared_ptr<const ClientTls> tls;  // outlives the stream that uses its context
  asio::io_context io;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;
  bool alive = false;
};

HttpsConnection::HttpsConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpsConnection::~HttpsConnection() = default;

void SessionFree::operator()(SSL_SESSION* s) const {
  SSL_SESSION_free(s);
}

Result<std::unique_ptr<HttpsConnection>> HttpsConnection::open(const net::Url& where,
                                                               std::shared_ptr<const ClientTls> tls,
                                                               SSL_SESSION* resume) {
  auto impl = std::make_unique<Impl>(where, std::move(tls));
  // asio's stream takes a mutable context; SSL_new only reads it.
  auto& ctx = const_cast<ssl::context&>(impl->tls->impl_->ctx);
  impl->stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(impl->io, ctx);
  auto& stream = *impl->stream;
  if (SSL_set_tlsext_host_name(stream.native_handle(), where.host.c_str()) != 1) {
    return fail(ErrorCode::io_error, "cannot set the TLS server name");
  }
  stream.set_verify_callback(ssl::host_name_verification(where.host));
  if (resume != nullptr && SSL_set_session(stream.native_handle(), resume) != 1) {
    return fail(ErrorCode::io_error, "cannot offer the TLS session to resume");
  }
  boost::system::error_code ec;
  auto& socket = beast::get_lowest_layer(stream);
  socket.expires_after(impl->tls->impl_->timeout);
  // An address literal (the benchmark's loopback) needs no resolver, whose
  // getaddrinfo would otherwise be inside every new connection's latency.
  const auto address = asio::ip::make_address(where.host, ec);
  unsigned short port = 0;
  const char* port_end = where.port.data() + where.port.size();
  const bool numeric_port = std::from_chars(where.port.data(), port_end, port).ptr == port_end;
  if (!ec && numeric_port) {
    socket.connect(asio::ip::tcp::endpoint(address, port), ec);
  } else {
    asio::ip::tcp::resolver resolver(impl->io);
    const auto endpoints = resolver.resolve(where.host, where.port, ec);
    if (ec) return transport("cannot resolve " + where.host, ec);
    socket.connect(endpoints, ec);
  }
  if (ec) return transport("cannot connect to " + where.host + ":" + where.port, ec);
  // Requests are small and latency is what we measure: no Nagle delay.
  socket.socket().set_option(asio::ip::tcp::no_delay(true), ec);
  stream.handshake(ssl::stream_base::client, ec);
  if (ec) return transport("TLS handshake failed", ec);
  impl->alive = true;
  return std::unique_ptr<HttpsConnection>(new HttpsConnection(std::move(impl)));
}

Result<net::HttpResponse> HttpsConnection::post(const std::string& content_type,
                                                const std::string& accept, ByteView body) {
  auto& s = *impl_;
  if (!s.alive) return fail(ErrorCode::io_error, "the connection is closed");
  s.alive = false;  // until this exchange completes
  http::request<http::vector_body<std::uint8_t>> request{http::verb::post, s.where.target, 11};
  request.set(http::field::host, s.where.host);
  request.set(http::field::content_type, content_type);
  if (!accept.empty()) request.set(http::field::accept, accept);
  request.keep_alive(true);
  request.body().assign(body.begin(), body.end());
  request.prepare_payload();
  boost::system::error_code ec;
  beast::get_lowest_layer(*s.stream).expires_after(s.tls->impl_->timeout);
  http::write(*s.stream, request, ec);
  if (ec) return transport("cannot send the request", ec);
  http::response_parser<http::vector_body<std::uint8_t>> parser;
  parser.body_limit(s.tls->impl_->max_response_bytes);
  http::read(*s.stream, s.buffer, parser, ec);
  if (ec) return transport("cannot read the response", ec);
  auto& response = parser.get();
  s.alive = response.keep_alive();
  net::HttpResponse out;
  out.status = static_cast<int>(response.result_int());
  out.content_type = std::string(response[http::field::content_type]);
  out.body = std::move(response.body());
  return out;
}

bool HttpsConnection::keep_alive() const {
  return impl_->alive;
}

SessionPtr HttpsConnection::session() const {
  SSL* ssl = impl_->stream->native_handle();
  // Freeing an SSL that was not shut down marks its session unresumable
  // (OpenSSL's ssl_clear_bad_session); the benchmark drops connections
  // without waiting for close_notify, so it says the session ended well.
  SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  return SessionPtr(SSL_get1_session(ssl));
}

bool HttpsConnection::resumed() const {
  return SSL_session_reused(impl_->stream->native_handle()) == 1;
}

void HttpsConnection::close() {
  if (!impl_->stream) return;
  boost::system::error_code ec;
  beast::get_lowest_layer(*impl_->stream).expires_after(std::chrono::seconds(2));
  impl_->stream->shutdown(ec);
  impl_->alive = false;
}

}  // namespace vouchsafe::bench
