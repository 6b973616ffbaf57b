// The per-connection state machine of the HTTPS server, on Boost.Beast.
#include "net/detail/connection.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "net/detail/gnutls_stream.h"
#include "net/detail/proxy_header.h"
#include "net/detail/tls.h"

namespace vouchsafe::net::detail {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = beast::error_code;
using Clock = std::chrono::steady_clock;

// After the last response of a connection the server stops sending and
// reads (and discards) what the client still sends for a moment: closing a
// socket with unread input makes the kernel reset the connection, and the
// reset can destroy the response before the client has read it.
constexpr std::chrono::seconds k_linger_time{2};
constexpr std::size_t k_linger_bytes = 1U << 20U;
constexpr std::size_t k_first_read_bytes = 4096;

// RFC 9110 §15.5: 4xx are the client's fault; 404 and 429 are not counted
// against it (an unknown device or a busy server says nothing about abuse).
bool is_invalid_status(int status) {
  return status >= 400 && status <= 499 && status != 404 && status != 429;
}

// Beast 1.74 has its own string_view type.
std::string_view to_std(beast::string_view text) {
  return {text.data(), text.size()};
}

bool is_http_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

// A request Beast could not parse, as opposed to a connection that ended.
bool is_malformed(const error_code& ec) {
  return is_http_error(ec) && ec != http::error::end_of_stream &&
         ec != http::error::partial_message && ec != http::error::need_more &&
         ec != http::error::body_limit && ec != http::error::header_limit &&
         ec != http::error::buffer_overflow;
}

// RFC 9112 §6.1 and §6.3: what the Transfer-Encoding of a request says of
// its framing, beyond what Beast checks (Beast takes a Content-Length after
// a Transfer-Encoding without chunked, and frames by it).
struct FramingFault {
  int status = 0;  // 0: none
  std::string_view reason;
};

std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool is_chunked(std::string_view coding) {
  return beast::iequals(beast::string_view(coding.data(), coding.size()), "chunked");
}

template <typename Header>
FramingFault check_framing(const Header& header) {
  std::vector<std::string_view> codings;
  bool named = false;
  for (const auto& field : header) {
    if (field.name() != http::field::transfer_encoding) continue;
    named = true;
    // RFC 9110 §5.6.1: a list may hold empty elements; a coding may carry
    // parameters after ';'.
    std::string_view rest = to_std(field.value());
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      auto element = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      element = trim_ows(element.substr(0, element.find(';')));
      if (!element.empty()) codings.push_back(element);
    }
  }
  if (!named) return {};
  // §6.1: "A server or client that receives an HTTP/1.0 message containing
  // a Transfer-Encoding header field MUST treat the message as if the
  // framing is faulty".
  if (header.version() < 11) return {400, "Transfer-Encoding in an HTTP/1.0 request"};
  // §6.3: a request with both "might indicate an attempt to perform request
  // smuggling"; the server may reject it and must close the connection.
  if (header.count(http::field::content_length) != 0) {
    return {400, "Transfer-Encoding together with Content-Length"};
  }
  // §6.3: "If a Transfer-Encoding header field is present in a request and
  // the chunked transfer coding is not the final encoding, the message body
  // length cannot be determined reliably; the server MUST respond with the
  // 400 (Bad Request) status code and then close the connection."
  if (codings.empty() || !is_chunked(codings.back())) {
    return {400, "the final transfer coding is not chunked"};
  }
  const auto before_last = std::span(codings).first(codings.size() - 1);
  // §6.1: "A sender MUST NOT apply the chunked transfer coding more than
  // once to a message body".
  if (std::any_of(before_last.begin(), before_last.end(), is_chunked)) {
    return {400, "chunked applied more than once"};
  }
  // §6.1: "A server that receives a request message with a transfer coding
  // it does not understand SHOULD respond with 501 (Not Implemented)."
  if (!before_last.empty()) return {501, "a transfer coding other than chunked"};
  return {};
}

using OpenSslStream = beast::ssl_stream<beast::tcp_stream>;

// Stream: beast::tcp_stream (plain HTTP), OpenSslStream or GnuTlsStream.
template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>>, public Evictable {
  static constexpr bool Tls = !std::is_same_v<Stream, beast::tcp_stream>;
  static constexpr bool OpenSsl = std::is_same_v<Stream, OpenSslStream>;
  using Body = http::vector_body<std::uint8_t>;

 public:
  Connection(std::shared_ptr<ServerState> state, ConnectionTable::Slot slot, tcp::socket socket)
      : state_(std::move(state)),
        slot_(std::move(slot)),
        stream_(make_stream(std::move(socket))),
        address_key_(slot_.source().address),
        prefix_key_(slot_.source().prefix) {}

  // On the acceptor's strand, before the next accept.
  void start() {
    slot_.track(this->weak_from_this());
    // Every step runs on the connection's strand, this one included.
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Connection::begin, self()));
  }

  void evict() override {
    asio::post(stream_.get_executor(), [c = self()] { c->tcp_layer().close(); });
  }

 private:
  Stream make_stream(tcp::socket socket) {
    if constexpr (OpenSsl) {
      return Stream(std::move(socket), *state_->tls.openssl);
    } else if constexpr (Tls) {
      return Stream(std::move(socket), *state_->tls.gnutls);
    } else {
      return Stream(std::move(socket));
    }
  }
  std::shared_ptr<Connection> self() { return this->shared_from_this(); }
  beast::tcp_stream& tcp_layer() { return beast::get_lowest_layer(stream_); }
  [[nodiscard]] const ServerOptions& options() const { return state_->options; }

  [[nodiscard]] ClientLimiter::Keys limiter_keys() const {
    return {.client = client_key_,
            .shared = shared_key_,
            .address = address_key_,
            .prefix = prefix_key_};
  }

  void begin() {
    error_code ec;
    const auto remote = tcp_layer().socket().remote_endpoint(ec);
    if (ec) return;  // already gone
    remote_address_ = remote.address().to_string() + ":" + std::to_string(remote.port());
    // Handshake flights and responses go out as they are written: with
    // Nagle's algorithm a small second write waits for the peer's delayed
    // ACK (40 ms on Linux), which dominated a request on a new connection.
    tcp_layer().socket().set_option(tcp::no_delay(true), ec);
    // Without a certificate the client is known by its address alone.
    client_key_ = "address:" + address_key_;
    if (state_->is_trusted_proxy(address_key_)) {
      read_proxy_header();
      return;
    }
    begin_session();
  }

  // A balancer's PROXY header: read exactly, so that the next byte is the
  // client's first, within the handshake's time.
  void read_proxy_header() {
    tcp_layer().expires_at(slot_.accepted_at() + options().handshake_timeout);
    proxy_header_.resize(k_proxy_v2_prefix_size);
    asio::async_read(tcp_layer(), asio::buffer(proxy_header_),
                     beast::bind_front_handler(&Connection::on_proxy_prefix, self()));
  }

  void on_proxy_prefix(error_code ec, std::size_t /*bytes*/) {
    if (ec) return end_proxy_header(ec);
    auto size = proxy_v2_size(proxy_header_);
    if (!size) return refuse_proxy_header(size.error().message);
    proxy_header_.resize(*size);
    asio::async_read(
        tcp_layer(),
        asio::buffer(proxy_header_.data() + k_proxy_v2_prefix_size, *size - k_proxy_v2_prefix_size),
        beast::bind_front_handler(&Connection::on_proxy_header, self()));
  }

  void on_proxy_header(error_code ec, std::size_t /*bytes*/) {
    if (ec) return end_proxy_header(ec);
    auto source = parse_proxy_v2(proxy_header_);
    if (!source) return refuse_proxy_header(source.error().message);
    if (*source) {  // else a health check's LOCAL: the balancer itself
      const auto keys = source_keys((*source)->address);
      address_key_ = keys.address;
      prefix_key_ = keys.prefix;
      client_key_ = "address:" + address_key_;
      remote_address_ = (*source)->address.to_string() + ":" + std::to_string((*source)->port);
    }
    proxy_header_ = {};
    begin_session();
  }

  void end_proxy_header(const error_code& ec) {
    if (ec == beast::error::timeout) {
      state_->count_rejection(Rejection::handshake_timeout);
      log_connection("handshake_timeout", "no PROXY protocol header within handshake_timeout");
    }
  }

  void refuse_proxy_header(const std::string& reason) {
    state_->count_rejection(Rejection::proxy_header);
    log_connection("proxy_header", reason);
    tcp_layer().close();
  }

  void begin_session() {
    if constexpr (Tls) {
      // Counted from the accept: a connection that never sends a
      // ClientHello holds its place no longer than this.
      tcp_layer().expires_at(slot_.accepted_at() + options().handshake_timeout);
      if constexpr (OpenSsl) {
        stream_.async_handshake(asio::ssl::stream_base::server,
                                beast::bind_front_handler(&Connection::on_handshake, self()));
      } else {
        stream_.async_handshake(beast::bind_front_handler(&Connection::on_handshake, self()));
      }
    } else {
      await_request(true);
    }
  }

  void on_handshake(error_code ec) {
    // Pushed out while in the handshake: counted and logged then.
    if (!slot_.end_handshake()) {
      tcp_layer().close();
      return;
    }
    if (ec) {
      state_->count_handshake_failure();
      if (ec == beast::error::timeout) {
        state_->count_rejection(Rejection::handshake_timeout);
        log_connection("handshake_timeout", "no TLS handshake within handshake_timeout");
      } else {
        log_connection("handshake_failed", ec.message());
      }
      return;
    }
    if constexpr (Tls) {
      peer_ = peer_certificate(stream_.native_handle());
      state_->count_handshake(session_resumed(stream_.native_handle()));
    }
    if (!peer_.fingerprint.empty()) {
      client_key_ = peer_.fingerprint;
      if (options().classify_client) {
        shared_key_ =
            options()
                .classify_client(
                    {.fingerprint = peer_.fingerprint, .der = peer_.der, .chain = peer_.chain})
                .shared_key;
      }
    }
    await_request(true);
  }

  void log_connection(std::string_view error, std::string_view reason) {
    state_->log.connection(remote_address_, error, reason, Clock::now());
  }

  // Waits for the first byte of a request: a new connection gets the read
  // timeout, a kept-alive one the idle timeout.
  void await_request(bool first) {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options().max_header_bytes));
    parser_->body_limit(options().max_body_bytes);
    if (buffer_.size() > 0) {  // pipelined: the next request is already here
      read_header();
      return;
    }
    tcp_layer().expires_after(first ? options().read_timeout : options().idle_timeout);
    stream_.async_read_some(buffer_.prepare(k_first_read_bytes),
                            beast::bind_front_handler(&Connection::on_first_bytes, self(), first));
  }

  void on_first_bytes(bool first, error_code ec, std::size_t n) {
    if (ec) {
      // An idle kept-alive connection timing out is ordinary; a new one that
      // never sends a request is a slow client.
      if (ec == beast::error::timeout && first) {
        state_->count_rejection(Rejection::timeout);
        log_connection("timeout", "no request within read_timeout");
      }
      return;
    }
    buffer_.commit(n);
    read_header();
  }

  // From the first byte on, header and body together must arrive within the
  // read timeout, however slowly the client trickles them.
  void read_header() {
    request_start_ = Clock::now();
    tcp_layer().expires_after(options().read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Connection::on_header, self()));
  }

  void on_header(error_code ec, std::size_t /*bytes*/) {
    if (ec == http::error::header_limit) {
      reject(413, options().refusals.too_large, Rejection::too_large, false);
      return;
    }
    if (ec && ec != http::error::body_limit) {
      end_on_error(ec);
      return;
    }
    const auto& request = parser_->get();
    endpoint_ = state_->endpoint_label(to_std(request.target()));
    method_ = std::string(to_std(request.method_string()));
    head_request_ = request.method() == http::verb::head;
    version_ = request.version();
    // Before anything else reads on: a body whose length is in doubt leaves
    // the next request's start in doubt too, so the connection ends.
    if (const auto fault = check_framing(request); fault.status != 0) {
      state_->limiter.report_invalid(limiter_keys(), Clock::now());
      send(text_response(fault.status, "malformed HTTP request: " + std::string(fault.reason)),
           false, "bad_framing");
      return;
    }
    // A request without a body has been read whole, so the connection can
    // stay open after an early refusal.
    const bool can_continue = !ec && parser_->is_done() && request.keep_alive();

    const auto admission = state_->limiter.admit(limiter_keys(), Clock::now());
    if (admission.verdict != ClientLimiter::Verdict::admit) {
      extra_headers_ = {{"Retry-After", std::to_string(admission.retry_after.count())}};
      const bool blocked = admission.verdict == ClientLimiter::Verdict::blocked;
      reject(blocked ? 403 : 429, refusal_text(admission),
             blocked ? Rejection::blocked : Rejection::rate_limited, can_continue,
             scope_name(admission.scope));
      return;
    }
    // Beast refuses a Content-Length above the body limit before any of the
    // body is read; a chunked body is refused while it is read.
    if (ec == http::error::body_limit) {
      reject(413, options().refusals.too_large, Rejection::too_large, false);
      return;
    }
    if (beast::iequals(request[http::field::expect], "100-continue") && !parser_->is_done()) {
      continue_.version(request.version());
      continue_.result(http::status::continue_);
      http::async_write(stream_, continue_,
                        beast::bind_front_handler(&Connection::on_continue_sent, self()));
      return;
    }
    read_body();
  }

  void on_continue_sent(error_code ec, std::size_t /*bytes*/) {
    if (ec) {
      end_on_error(ec);
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Connection::on_body, self()));
  }

  void on_body(error_code ec, std::size_t /*bytes*/) {
    if (ec == http::error::body_limit) {
      reject(413, options().refusals.too_large, Rejection::too_large, false);
      return;
    }
    if (ec) {
      end_on_error(ec);
      return;
    }
    auto message = parser_->release();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    request.content_type = std::string(message[http::field::content_type]);
    request.accept = std::string(message[http::field::accept]);
    request.body = std::move(message.body());
    request.client_fingerprint = peer_.fingerprint;
    request.client_certificate_der = peer_.der;
    request.client_chain_der = peer_.chain;
    request.remote_address = remote_address_;
    version_ = message.version();

    const bool keep_alive = message.keep_alive();
    Respond respond = [answer = std::make_shared<Answer>(self(), keep_alive)](HttpResponse r) {
      answer->give(std::move(r));
    };
    try {
      state_->handler(request, respond);
    } catch (const std::exception&) {
      // A throwing handler is a bug; the client learns nothing about it.
      respond(text_response(500, "internal error"));
    }
  }

  // The one answer to a request, however many copies of its Respond the
  // handler made: the first response given, else a 500 once every copy is
  // gone. It goes back to the connection's strand. The server's stop()
  // waits until every answer is given; after that an Answer holds nothing
  // that needs the io_context (a Respond may outlive the server).
  class Answer {
   public:
    Answer(std::shared_ptr<Connection> connection, bool keep_alive)
        : state_(connection->state_), connection_(std::move(connection)), keep_alive_(keep_alive) {
      state_->owed_responses.fetch_add(1);
    }
    Answer(const Answer&) = delete;
    Answer& operator=(const Answer&) = delete;
    ~Answer() { give(text_response(500, "internal error")); }

    void give(HttpResponse response) {
      if (given_.exchange(true)) return;
      {
        // The executor copy refers to the strand's service: it must be gone
        // before the count lets stop() destroy the io_context (ASan saw the
        // strand freed under this frame).
        auto executor = connection_->stream_.get_executor();
        asio::post(executor,
                   [c = std::move(connection_), keep_alive = keep_alive_,
                    r = std::move(response)]() mutable { c->answer(std::move(r), keep_alive); });
      }
      state_->owed_responses.fetch_sub(1);
      state_->owed_responses.notify_all();
    }

   private:
    std::shared_ptr<ServerState> state_;  // keeps the count alive for notify_all
    std::shared_ptr<Connection> connection_;
    bool keep_alive_;
    std::atomic<bool> given_{false};
  };

  void answer(HttpResponse response, bool keep_alive) {
    if (is_invalid_status(response.status)) {
      state_->limiter.report_invalid(limiter_keys(), Clock::now());
    }
    auto error = std::move(response.log_error);
    send(std::move(response), keep_alive, error);
  }

  [[nodiscard]] const std::string& refusal_text(const ClientLimiter::Admission& admission) const {
    const auto& texts = options().refusals;
    if (admission.verdict == ClientLimiter::Verdict::blocked) return texts.blocked;
    switch (admission.scope) {
      case ClientLimiter::Scope::client:
        return texts.rate_limited;
      case ClientLimiter::Scope::shared:
        return texts.shared_rate_limited;
      case ClientLimiter::Scope::address:
      case ClientLimiter::Scope::prefix:
        break;
    }
    return texts.source_rate_limited;
  }

  // For the log: which bucket refused.
  static std::string_view scope_name(ClientLimiter::Scope scope) {
    switch (scope) {
      case ClientLimiter::Scope::client:
        return "client";
      case ClientLimiter::Scope::shared:
        return "shared";
      case ClientLimiter::Scope::address:
        return "address";
      case ClientLimiter::Scope::prefix:
        return "prefix";
    }
    return "client";
  }

  // Connection errors end the connection; an unparsable request gets a 400.
  void end_on_error(const error_code& ec) {
    if (ec == beast::error::timeout) {
      state_->count_rejection(Rejection::timeout);
      log_connection("timeout", "the request was not read within read_timeout");
      return;
    }
    if (is_malformed(ec)) {
      state_->limiter.report_invalid(limiter_keys(), Clock::now());
      send(text_response(400, "malformed HTTP request"), false, "malformed:" + ec.message());
    }
  }

  // A refusal made by the server itself, before the handler; `detail` says
  // which limit, for the log.
  void reject(int status, std::string_view reason, Rejection counted, bool keep_alive,
              std::string_view detail = {}) {
    state_->count_rejection(counted);
    if (status == 413) state_->limiter.report_invalid(limiter_keys(), Clock::now());
    if (parser_) version_ = parser_->get().version();
    std::string error(rejection_name(counted));
    if (!detail.empty()) error += ":" + std::string(detail);
    send(text_response(status, reason), keep_alive, error);
  }

  // error: a name for the refusal log when the status is >= 400.
  void send(HttpResponse response, bool keep_alive, std::string_view error = {}) {
    const std::string endpoint = endpoint_.empty() ? "unknown" : endpoint_;
    if (response.status >= 400) {
      state_->log.response({.remote = remote_address_,
                            .fingerprint = peer_.fingerprint,
                            .method = method_,
                            .endpoint = endpoint,
                            .status = response.status,
                            .content_type = response.content_type,
                            .body = response.body,
                            .error = error});
    }
    state_->metrics
        ->counter("vouchsafe_http_requests_total", {endpoint, std::to_string(response.status)})
        .inc();
    const std::chrono::duration<double> elapsed = Clock::now() - request_start_;
    state_->metrics->histogram("vouchsafe_http_request_duration_seconds", {endpoint})
        .observe(elapsed.count());

    response_ = {};
    response_.version(version_ == 10 ? 10 : 11);
    response_.result(static_cast<unsigned>(response.status));
    if (!response.content_type.empty()) {
      response_.set(http::field::content_type, response.content_type);
    }
    for (const auto& [name, value] : extra_headers_) response_.set(name, value);
    for (const auto& [name, value] : response.headers) response_.set(name, value);
    extra_headers_.clear();
    response_.body() = std::move(response.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();

    tcp_layer().expires_after(options().read_timeout);
    if (head_request_) {
      // RFC 9110 §9.3.2: the header a GET would get (Content-Length
      // included), and no body.
      head_response_ = {};
      head_response_.base() = response_.base();
      http::async_write(stream_, head_response_,
                        beast::bind_front_handler(&Connection::on_written, self(), keep_alive));
      return;
    }
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&Connection::on_written, self(), keep_alive));
  }

  void on_written(bool keep_alive, error_code ec, std::size_t /*bytes*/) {
    if (ec) {
      if (ec == beast::error::timeout) state_->count_rejection(Rejection::timeout);
      return;
    }
    endpoint_.clear();
    method_.clear();
    if (keep_alive) {
      await_request(false);
      return;
    }
    tcp_layer().expires_after(k_linger_time);
    if constexpr (Tls) {
      // RFC 8446 §6.1: close_notify before the FIN, so that the client can
      // tell the end of the connection from a truncation by an attacker.
      // The client's own close_notify is awaited within the linger time.
      stream_.async_shutdown(beast::bind_front_handler(&Connection::on_tls_closed, self()));
    } else {
      end_tcp();
    }
  }

  void on_tls_closed(error_code /*ec: a client that just closes is fine*/) { end_tcp(); }

  void end_tcp() {
    error_code ignored;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ignored);
    tcp_layer().expires_after(k_linger_time);
    drain();
  }

  void drain() {
    tcp_layer().async_read_some(asio::buffer(drain_buffer_),
                                beast::bind_front_handler(&Connection::on_drained, self()));
  }

  void on_drained(error_code ec, std::size_t n) {
    drained_ += n;
    if (!ec && drained_ < k_linger_bytes) drain();
  }

  std::shared_ptr<ServerState> state_;
  ConnectionTable::Slot slot_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<Body>> parser_;
  http::response<http::empty_body> continue_;
  http::response<Body> response_;
  http::response<http::empty_body> head_response_;
  bool head_request_ = false;
  std::vector<std::pair<std::string, std::string>> extra_headers_;
  unsigned version_ = 11;

  PeerCertificate peer_;
  std::string address_key_;
  std::string prefix_key_;
  std::string client_key_;
  std::string shared_key_;
  std::string remote_address_;
  std::string endpoint_;
  std::string method_;
  Clock::time_point request_start_ = Clock::now();

  std::vector<std::uint8_t> proxy_header_;
  std::array<char, 4096> drain_buffer_{};
  std::size_t drained_ = 0;
};

}  // namespace

void serve_connection(std::shared_ptr<ServerState> state, ConnectionTable::Slot slot,
                      tcp::socket socket) {
  if (state->tls.openssl) {
    std::make_shared<Connection<OpenSslStream>>(std::move(state), std::move(slot),
                                                std::move(socket))
        ->start();
  } else if (state->tls.gnutls) {
    std::make_shared<Connection<GnuTlsStream>>(std::move(state), std::move(slot), std::move(socket))
        ->start();
  } else {
    std::make_shared<Connection<beast::tcp_stream>>(std::move(state), std::move(slot),
                                                    std::move(socket))
        ->start();
  }
}

}  // namespace vouchsafe::net::detail
