// Blocking HTTPS client on Boost.Beast.
#include "net/https_client.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

#include "crypto/keys.h"
#include "crypto/openssl_error.h"

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

Status configure_client_tls(ssl::context& ctx, const ClientOptions& o) {
  boost::system::error_code ec;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (!o.ca_file.empty()) {
    ctx.load_verify_file(o.ca_file, ec);
    if (ec) return transport("cannot load the CA file " + o.ca_file, ec);
    ctx.set_verify_mode(ssl::verify_peer);
  } else if (o.insecure) {
    ctx.set_verify_mode(ssl::verify_none);
  } else {
    return fail(ErrorCode::usage,
                "give the server's CA certificate, or accept any server "
                "explicitly (insecure)");
  }
  if (o.key && !o.certificate_chain_der.empty()) {
    SSL_CTX* native = ctx.native_handle();
    for (std::size_t i = 0; i < o.certificate_chain_der.size(); ++i) {
      auto cert = crypto::parse_certificate_der(o.certificate_chain_der[i]);
      if (!cert) return fail(ErrorCode::bad_key, "the client certificate: " + cert.error().message);
      const long done = i == 0 ? SSL_CTX_use_certificate(native, cert->get())
                               : SSL_CTX_add1_chain_cert(native, cert->get());
      if (done != 1) return crypto::openssl_fail(ErrorCode::bad_key, "the client certificate");
    }
    if (SSL_CTX_use_PrivateKey(native, o.key.get()) != 1 ||
        SSL_CTX_check_private_key(native) != 1) {
      return crypto::openssl_fail(ErrorCode::bad_key,
                                  "the client key does not match its certificate");
    }
  } else if (!o.cert_file.empty()) {
    ctx.use_certificate_chain_file(o.cert_file, ec);
    if (ec) return transport("cannot load the client certificate " + o.cert_file, ec);
    if (o.key_passphrase) {
      ctx.set_password_callback(
          [pass = *o.key_passphrase](std::size_t, ssl::context::password_purpose) { return pass; });
    }
    ctx.use_private_key_file(o.key_file, ssl::context::pem, ec);
    if (ec) return transport("cannot load the client key " + o.key_file, ec);
  }
  return ok();
}

Result<Url> parse_https_url(const std::string& url) {
  constexpr std::string_view scheme = "https://";
  if (url.rfind(scheme, 0) != 0) return fail(ErrorCode::usage, "not an https:// URL: " + url);
  std::string rest = url.substr(scheme.size());
  Url out;
  const auto slash = rest.find('/');
  if (slash != std::string::npos) {
    out.target = rest.substr(slash);
    rest.resize(slash);
  }
  if (!rest.empty() && rest[0] == '[') {  // [v6]:port
    const auto close = rest.find(']');
    if (close == std::string::npos) return fail(ErrorCode::usage, "bad IPv6 literal in " + url);
    out.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') out.port = rest.substr(close + 2);
  } else if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
    out.host = rest.substr(0, colon);
    out.port = rest.substr(colon + 1);
  } else {
    out.host = rest;
  }
  if (out.host.empty() || out.port.empty()) return fail(ErrorCode::usage, "bad URL " + url);
  return out;
}

Result<HttpResponse> https_post(const std::string& url, const std::string& content_type,
                                const std::string& accept, ByteView body,
                                const ClientOptions& options) {
  ASSIGN_OR_RETURN(const Url where, parse_https_url(url));
  ssl::context ctx(ssl::context::tls_client);
  TRY(configure_client_tls(ctx, options));

  asio::io_context io;
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  if (SSL_set_tlsext_host_name(stream.native_handle(), where.host.c_str()) != 1) {
    return fail(ErrorCode::io_error, "cannot set the TLS server name");
  }
  if (!options.ca_file.empty()) {
    // Check the name in the server's certificate, not only its chain.
    stream.set_verify_callback(ssl::host_name_verification(where.host));
  }
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(where.host, where.port, ec);
  if (ec) return transport("cannot resolve " + where.host, ec);
  beast::get_lowest_layer(stream).expires_after(options.timeout);
  beast::get_lowest_layer(stream).connect(endpoints, ec);
  if (ec) return transport("cannot connect to " + where.host + ":" + where.port, ec);
  // No Nagle delay between the request's header and body writes.
  beast::get_lowest_layer(stream).socket().set_option(asio::ip::tcp::no_delay(true), ec);
  stream.handshake(ssl::stream_base::client, ec);
  if (ec) return transport("TLS handshake with " + where.host + " failed", ec);

  http::request<http::vector_body<std::uint8_t>> request{http::verb::post, where.target, 11};
  request.set(http::field::host, where.host);
  request.set(http::field::user_agent, "vouchsafe/0.1");
  request.set(http::field::content_type, content_type);
  if (!accept.empty()) request.set(http::field::accept, accept);
  request.body().assign(body.begin(), body.end());
  request.prepare_payload();
  http::write(stream, request, ec);
  if (ec) return transport("cannot send the request", ec);

  beast::flat_buffer buffer;
  http::response_parser<http::vector_body<std::uint8_t>> parser;
  parser.body_limit(options.max_response_bytes);
  http::read(stream, buffer, parser, ec);
  if (ec) return transport("cannot read the response", ec);
  auto& response = parser.get();
  HttpResponse out;
  out.status = static_cast<int>(response.result_int());
  out.content_type = std::string(response[http::field::content_type]);
  out.body = std::move(response.body());
  stream.shutdown(ec);  // a peer that just closes is fine: we have the answer
  return out;
}

}  // namespace vouchsafe::net
