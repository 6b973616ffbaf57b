// A server-side TLS stream on GnuTLS for Boost.Beast: the same asynchronous
// operations as beast::ssl_stream (handshake, read_some, write_some,
// shutdown) over a beast::tcp_stream, whose timeouts keep applying.
//
// GnuTLS runs over memory: its push function appends ciphertext to an
// outgoing buffer, its pull function takes from an incoming one and says
// EAGAIN when that is empty. Each operation calls GnuTLS, sends what it
// produced, reads from the socket when it wants more, and calls again.
// One operation at a time per stream (the server's connections never read
// and write at once).
#pragma once

#include <gnutls/gnutls.h>
#include <sys/types.h>

#include <algorithm>
#include <boost/asio/compose.hpp>
#include <boost/asio/coroutine.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace vouchsafe::net::detail {

class GnuTlsServerContext;

// GnuTLS's negative return codes as error codes; message() is
// gnutls_strerror's.
const boost::system::error_category& gnutls_category();
boost::system::error_code gnutls_error(int code);

class GnuTlsStream {
 public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;

  // A session set up for `context` (which must outlive the stream); a
  // failure to set it up is reported by the handshake.
  GnuTlsStream(boost::asio::ip::tcp::socket socket, const GnuTlsServerContext& context);
  ~GnuTlsStream();
  GnuTlsStream(const GnuTlsStream&) = delete;
  GnuTlsStream& operator=(const GnuTlsStream&) = delete;

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() noexcept { return next_; }
  [[nodiscard]] gnutls_session_t native_handle() const noexcept { return session_; }

  template <class Handler>
  auto async_handshake(Handler&& handler) {
    // What the end of the handshake produces (the session ticket) waits
    // for the first response, or for the stream to need input: one send
    // fewer per connection.
    return run<false>([this] { return handshake_step(); }, false, false,
                      std::forward<Handler>(handler));
  }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    // Into the first buffer with room, as a read of "some" may. (The
    // iterator is a pointer for some sequences only.)
    boost::asio::mutable_buffer buffer;
    // NOLINTNEXTLINE(readability-qualified-auto)
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && buffer.size() == 0; ++it) {
      buffer = *it;
    }
    return run<true>(
        [this, buffer] {
          return static_cast<int>(gnutls_record_recv(session_, buffer.data(), buffer.size()));
        },
        buffer.size() == 0, false, std::forward<Handler>(handler));
  }

  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    // One record at most per call: what Beast's serializer hands over in
    // pieces (header, body) goes out as one record.
    plaintext_.clear();
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && plaintext_.size() < k_record_bytes;
         ++it) {
      const boost::asio::const_buffer piece = *it;
      const auto* bytes = static_cast<const std::uint8_t*>(piece.data());
      const std::size_t take = std::min(piece.size(), k_record_bytes - plaintext_.size());
      plaintext_.insert(plaintext_.end(), bytes, bytes + take);
    }
    return run<true>(
        [this] {
          return static_cast<int>(
              gnutls_record_send(session_, plaintext_.data(), plaintext_.size()));
        },
        plaintext_.empty(), true, std::forward<Handler>(handler));
  }

  // Sends close_notify. The peer's is not awaited: the server drains the
  // socket after this, as RFC 8446 §6.1 allows ("the initiator need not
  // wait for the responding close_notify").
  template <class Handler>
  auto async_shutdown(Handler&& handler) {
    return run<false>([this] { return gnutls_bye(session_, GNUTLS_SHUT_WR); }, false, true,
                      std::forward<Handler>(handler));
  }

 private:
  static constexpr std::size_t k_record_bytes = 16384;  // RFC 8446 §5.1
  static constexpr std::size_t k_read_bytes = std::size_t{17} * 1024;

  // The handshake, then (TLS 1.3) the one session ticket the server issues.
  int handshake_step();
  static ssize_t push(gnutls_transport_ptr_t self, const void* data, size_t size);
  static ssize_t pull(gnutls_transport_ptr_t self, void* data, size_t size);
  // What a finished GnuTLS call means for its caller.
  static boost::system::error_code outcome(int result);

  // Calls `step` until GnuTLS no longer wants input, sending what it
  // produced before waiting for input and, if `flush`, at the end (else
  // the next operation sends it); completes with (error_code, bytes) or,
  // for the handshake and the shutdown, (error_code).
  template <bool Bytes, class Step>
  struct Operation {
    GnuTlsStream& stream;
    Step step;
    bool empty;
    bool flush;
    int result = 0;
    bool wants_input = false;
    boost::asio::coroutine coro{};

    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}, std::size_t n = 0) {
      auto& s = stream;
      // Each yield hands `self` to the operation and returns; the operation
      // calls back with a `self` of its own, so no moved-from one is used.
      // NOLINTBEGIN(bugprone-use-after-move)
      BOOST_ASIO_CORO_REENTER(coro) {
        if (empty) {
          // Beast's contract: a zero-sized read or write completes at once.
          BOOST_ASIO_CORO_YIELD boost::asio::post(s.get_executor(), std::move(self));
          return finish(self, {}, 0);
        }
        for (;;) {
          result = step();
          wants_input = result == GNUTLS_E_AGAIN || result == GNUTLS_E_INTERRUPTED;
          // Sent before waiting for input (GNUTLS_E_AGAIN is negative), with an
          // error's alert, and at the end if `flush`.
          if (!s.outgoing_.empty() && (result < 0 || flush)) {
            BOOST_ASIO_CORO_YIELD boost::asio::async_write(
                s.next_, boost::asio::buffer(s.outgoing_), std::move(self));
            s.outgoing_.clear();
            if (ec) return finish(self, ec, 0);
          }
          if (!wants_input) break;
          if (s.end_of_input_) return finish(self, boost::asio::ssl::error::stream_truncated, 0);
          BOOST_ASIO_CORO_YIELD s.next_.async_read_some(s.incoming_.prepare(k_read_bytes),
                                                        std::move(self));
          if (ec == boost::asio::error::eof) {
            // GnuTLS sees the end as a pull of 0 bytes: a truncation, unless
            // it already has the peer's close_notify.
            s.end_of_input_ = true;
          } else if (ec) {
            return finish(self, ec, 0);
          }
          s.incoming_.commit(n);
        }
        if (result < 0) return finish(self, outcome(result), 0);
        if (Bytes && result == 0) {
          return finish(self, boost::asio::error::eof, 0);  // close_notify
        }
        finish(self, {}, static_cast<std::size_t>(result));
      }
      // NOLINTEND(bugprone-use-after-move)
    }

    template <class Self>
    void finish(Self& self, boost::system::error_code ec, std::size_t n) {
      if constexpr (Bytes) {
        self.complete(ec, n);
      } else {
        self.complete(ec);
      }
    }
  };

  template <bool Bytes, class Step, class Handler>
  auto run(Step step, bool empty, bool flush, Handler&& handler) {
    using Signature = std::conditional_t<Bytes, void(boost::system::error_code, std::size_t),
                                         void(boost::system::error_code)>;
    return boost::asio::async_compose<Handler, Signature>(
        Operation<Bytes, Step>{*this, std::move(step), empty, flush}, handler, next_);
  }

  next_layer_type next_;
  gnutls_session_t session_ = nullptr;
  int setup_error_ = 0;
  bool issue_ticket_ = false;
  boost::beast::flat_buffer incoming_;   // ciphertext received, not yet pulled
  std::vector<std::uint8_t> outgoing_;   // ciphertext pushed, not yet sent
  std::vector<std::uint8_t> plaintext_;  // the record being written
  bool end_of_input_ = false;
};

}  // namespace vouchsafe::net::detail
