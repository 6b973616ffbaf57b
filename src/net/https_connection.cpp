// Persistent HTTPS connection on Boost.Beast, blocking, one per thread.
#include "net/https_connection.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>

#include "crypto/keys.h"

namespace vouchsafe::net {
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
  bool check_server = true;
};

ClientTls::ClientTls(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClientTls::~ClientTls() = default;

Result<std::shared_ptr<ClientTls>> ClientTls::load(const ClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->timeout = options.timeout;
  impl->max_response_bytes = options.max_response_bytes;
  impl->check_server = !options.ca_file.empty();
  TRY(configure_client_tls(impl->ctx, options));
  return std::shared_ptr<ClientTls>(new ClientTls(std::move(impl)));
}

struct HttpsConnection::Impl {
  Impl(Url url, std::shared_ptr<const ClientTls> client_tls)
      : where(std::move(url)), tls(std::move(client_tls)) {}
  Url where;
  std::shared_ptr<const ClientTls> tls;  // outlives the stream that uses its context
  asio::io_context io;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;
  bool alive = false;
  std::vector<Bytes> peer_chain;
};

HttpsConnection::HttpsConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpsConnection::~HttpsConnection() = default;

void SessionFree::operator()(SSL_SESSION* s) const {
  SSL_SESSION_free(s);
}

Result<std::unique_ptr<HttpsConnection>> HttpsConnection::open(const Url& where,
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
  if (impl->tls->impl_->check_server) {
    stream.set_verify_callback(ssl::host_name_verification(where.host));
  }
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
  // On the client side OpenSSL's chain starts with the server's own.
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(stream.native_handle())) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      impl->peer_chain.push_back(crypto::certificate_der(sk_X509_value(chain, i)));
    }
  }
  impl->alive = true;
  return std::unique_ptr<HttpsConnection>(new HttpsConnection(std::move(impl)));
}

Result<HttpResponse> HttpsConnection::post(const std::string& content_type,
                                           const std::string& accept, ByteView body) {
  return request("POST", impl_->where.target, content_type, accept, body);
}

Result<HttpResponse> HttpsConnection::request(std::string_view method, std::string_view target,
                                              std::string_view content_type,
                                              std::string_view accept, ByteView body) {
  auto& s = *impl_;
  if (!s.alive) return fail(ErrorCode::io_error, "the connection is closed");
  s.alive = false;  // until this exchange completes
  const auto view = [](std::string_view v) { return beast::string_view(v.data(), v.size()); };
  const http::verb verb = http::string_to_verb(view(method));
  if (verb == http::verb::unknown) return fail(ErrorCode::usage, "unknown HTTP method");
  http::request<http::vector_body<std::uint8_t>> request{verb, view(target), 11};
  request.set(http::field::host, s.where.host);
  if (!content_type.empty()) request.set(http::field::content_type, view(content_type));
  if (!accept.empty()) request.set(http::field::accept, view(accept));
  request.keep_alive(true);
  request.body().assign(body.begin(), body.end());
  if (verb != http::verb::get || !body.empty()) request.prepare_payload();
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
  HttpResponse out;
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
  // (OpenSSL's ssl_clear_bad_session); a caller that asks for the session
  // drops the connection without waiting for close_notify, so say the
  // session ended well.
  SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  return SessionPtr(SSL_get1_session(ssl));
}

bool HttpsConnection::resumed() const {
  return SSL_session_reused(impl_->stream->native_handle()) == 1;
}

const std::vector<Bytes>& HttpsConnection::peer_chain() const {
  return impl_->peer_chain;
}

void HttpsConnection::close() {
  if (!impl_->stream) return;
  boost::system::error_code ec;
  beast::get_lowest_layer(*impl_->stream).expires_after(std::chrono::seconds(2));
  impl_->stream->shutdown(ec);
  impl_->alive = false;
}

}  // namespace vouchsafe::net
