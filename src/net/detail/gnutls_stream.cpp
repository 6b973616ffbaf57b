// GnuTLS's memory transport and the stream's session set-up.
#include "net/detail/gnutls_stream.h"

#include <cerrno>
#include <cstring>

#include "net/detail/gnutls_context.h"

namespace vouchsafe::net::detail {

namespace {

// Boost's error_category has a protected non-virtual destructor by design
// (categories are static and never deleted through the base), which
// -Wnon-virtual-dtor flags in every category derived from it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class GnuTlsCategory final : public boost::system::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "gnutls"; }
  [[nodiscard]] std::string message(int code) const override { return gnutls_strerror(code); }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& gnutls_category() {
  static const GnuTlsCategory category;
  return category;
}

boost::system::error_code gnutls_error(int code) {
  return {code, gnutls_category()};
}

GnuTlsStream::GnuTlsStream(boost::asio::ip::tcp::socket socket, const GnuTlsServerContext& context)
    : next_(std::move(socket)) {
  // GnuTLS would send two TLS 1.3 tickets; handshake_step sends one.
  setup_error_ = gnutls_init(&session_, GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET);
  if (setup_error_ != 0) {
    session_ = nullptr;
    return;
  }
  gnutls_transport_set_ptr(session_, this);
  gnutls_transport_set_push_function(session_, &GnuTlsStream::push);
  gnutls_transport_set_pull_function(session_, &GnuTlsStream::pull);
  setup_error_ = context.set_up(session_, issue_ticket_);
}

int GnuTlsStream::handshake_step() {
  if (setup_error_ != 0) return setup_error_;
  const int rc = gnutls_handshake(session_);
  if (rc == 0 && issue_ticket_ && gnutls_protocol_get_version(session_) == GNUTLS_TLS1_3) {
    // One ticket, as the OpenSSL listener sends: a registrar resumes one
    // connection at a time. A ticket that cannot be made costs the client
    // a full handshake next time, not this connection.
    (void)gnutls_session_ticket_send(session_, 1, 0);
  }
  return rc;
}

GnuTlsStream::~GnuTlsStream() {
  if (session_ != nullptr) gnutls_deinit(session_);
}

ssize_t GnuTlsStream::push(gnutls_transport_ptr_t self, const void* data, size_t size) {
  auto& stream = *static_cast<GnuTlsStream*>(self);
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  stream.outgoing_.insert(stream.outgoing_.end(), bytes, bytes + size);
  return static_cast<ssize_t>(size);
}

ssize_t GnuTlsStream::pull(gnutls_transport_ptr_t self, void* data, size_t size) {
  auto& stream = *static_cast<GnuTlsStream*>(self);
  auto& in = stream.incoming_;
  if (in.size() == 0) {
    if (stream.end_of_input_) return 0;
    gnutls_transport_set_errno(stream.session_, EAGAIN);
    return -1;
  }
  const std::size_t n = std::min(size, in.size());
  std::memcpy(data, in.data().data(), n);
  in.consume(n);
  return static_cast<ssize_t>(n);
}

boost::system::error_code GnuTlsStream::outcome(int result) {
  // The connection ended without close_notify: what asio's OpenSSL stream
  // reports as a truncation.
  if (result == GNUTLS_E_PREMATURE_TERMINATION) return boost::asio::ssl::error::stream_truncated;
  return gnutls_error(result);
}

}  // namespace vouchsafe::net::detail
