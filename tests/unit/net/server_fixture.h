// Helpers for the HTTPS server tests: throw-away server and client
// certificates on disk, a running server on 127.0.0.1 port 0, curl as the
// client, and a raw TLS client for the tests curl cannot express.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/file.h"
#include "crypto/keys.h"
#include "net/https_server.h"
#include "support/test_support.h"

namespace vouchsafe::net::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout only; curl's -w output goes there
};

inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Lines of text, without empty ones.
inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Polls a condition for up to a second: for effects the server records just
// after the client has seen the response or the close.
inline bool eventually(const std::function<bool()>& condition) {
  for (int i = 0; i < 100; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

// The refusal log's lines, from any worker thread.
struct LogLines {
  std::mutex mutex;
  std::vector<std::string> lines;

  static LogSink sink(const std::shared_ptr<LogLines>& to) {
    return [to](std::string_view line) {
      const std::lock_guard lock(to->mutex);
      to->lines.emplace_back(line);
    };
  }
  std::vector<std::string> snapshot() {
    const std::lock_guard lock(mutex);
    return lines;
  }
};

// A TCP connection from a loopback source address of the test's choosing
// (Linux answers on all of 127.0.0.0/8), to play several clients and
// prefixes from one machine.
inline boost::asio::ip::tcp::socket connect_from(boost::asio::io_context& io,
                                                 const std::string& source, unsigned short port) {
  namespace ip = boost::asio::ip;
  ip::tcp::socket socket(io);
  socket.open(ip::tcp::v4());
  socket.bind({ip::make_address(source), 0});
  socket.connect({ip::address_v4::loopback(), port});
  return socket;
}

// True when the server closes the connection within `wait` (end of stream
// or reset), false when it is still open.
inline bool closed_by_server(boost::asio::ip::tcp::socket& socket, std::chrono::milliseconds wait) {
  pollfd p{socket.native_handle(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
  char byte = 0;
  return ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

// A bounded flood of idle TCP connections that never start TLS: `per_source`
// from each source address, each reopened a little after the server closes
// it, on a thread of its own until stop() or the time limit.
class IdleFlood {
 public:
  IdleFlood(unsigned short port, const std::vector<std::string>& sources, std::size_t per_source,
            std::chrono::milliseconds limit)
      : port_(port) {
    for (const auto& source : sources) {
      for (std::size_t i = 0; i < per_source; ++i) {
        sockets_.push_back(std::make_unique<Socket>(io_, boost::asio::ip::make_address(source)));
      }
    }
    for (auto& s : sockets_) open(*s);
    thread_ = std::thread([this, limit] { io_.run_for(limit); });
  }
  IdleFlood(const IdleFlood&) = delete;
  IdleFlood& operator=(const IdleFlood&) = delete;
  ~IdleFlood() { stop(); }

  void stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  [[nodiscard]] std::size_t connected() const { return connected_.load(); }
  [[nodiscard]] std::size_t closed_by_server() const { return closed_.load(); }

 private:
  // Long enough that a refused connection does not spin, short enough to
  // keep pressing on the server.
  static constexpr std::chrono::milliseconds k_reopen_pause{50};

  struct Socket {
    Socket(boost::asio::io_context& io, boost::asio::ip::address from)
        : socket(io), pause(io), source(std::move(from)) {}
    boost::asio::ip::tcp::socket socket;
    boost::asio::steady_timer pause;
    boost::asio::ip::address source;
    std::array<char, 64> buffer{};
  };

  void open(Socket& s) {
    boost::system::error_code ec;
    s.socket.close(ec);
    s.socket.open(boost::asio::ip::tcp::v4(), ec);
    // The port is picked at connect, not at bind: thousands of binds to
    // port 0 on one address would run out of ports.
    const int yes = 1;
    (void)::setsockopt(s.socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &yes,
                       sizeof yes);
    s.socket.bind({s.source, 0}, ec);
    s.socket.async_connect({boost::asio::ip::address_v4::loopback(), port_},
                           [this, &s](boost::system::error_code connect_ec) {
                             if (connect_ec) return reopen_later(s);
                             ++connected_;
                             wait_for_close(s);
                           });
  }

  void wait_for_close(Socket& s) {
    s.socket.async_read_some(boost::asio::buffer(s.buffer),
                             [this, &s](boost::system::error_code ec, std::size_t) {
                               if (!ec) return wait_for_close(s);  // nothing is expected
                               if (ec == boost::asio::error::operation_aborted) return;
                               ++closed_;
                               reopen_later(s);
                             });
  }

  void reopen_later(Socket& s) {
    s.pause.expires_after(k_reopen_pause);
    s.pause.async_wait([this, &s](boost::system::error_code ec) {
      if (!ec) open(s);
    });
  }

  unsigned short port_;
  boost::asio::io_context io_;
  std::vector<std::unique_ptr<Socket>> sockets_;
  std::atomic<std::size_t> connected_{0};
  std::atomic<std::size_t> closed_{0};
  std::thread thread_;
};

struct ClientIdentity {
  std::string cert_file;
  std::string key_file;
  std::string fingerprint;  // hex SHA-256 of the certificate's DER
};

// Records what the handler saw, from any worker thread.
struct HandlerLog {
  std::atomic<int> calls{0};
  std::mutex mutex;
  std::vector<HttpRequest> requests;

  void record(const HttpRequest& request) {
    ++calls;
    const std::lock_guard lock(mutex);
    requests.push_back(request);
  }
  std::vector<HttpRequest> snapshot() {
    const std::lock_guard lock(mutex);
    return requests;
  }
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("vouchsafe-net-" + std::to_string(getpid()) + "-" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);

    // The server presents a certificate issued by a throw-away root, with the
    // root after it in the file as a deployment would have it.
    auto pki = vouchsafe::testing::make_test_pki(crypto::KeyType::p256, "masa.test");
    server_cert_file_ = write("server.pem", crypto::certificate_pem(pki.signer.get()) +
                                                crypto::certificate_pem(pki.root.get()));
    server_key_file_ = write("server.key", pem_key(pki.signer_key.get(), std::nullopt));
    server_key_ = std::move(pki.signer_key);
    client_a_ = make_client("registrar-a");
    client_b_ = make_client("registrar-b");
  }

  // The refusal log lines whose JSON has this "error" member.
  std::vector<std::string> log_lines_with_error(std::string_view error) {
    std::vector<std::string> out;
    for (auto& line : refusal_log_->snapshot()) {
      if (line.find("\"error\":\"" + std::string(error) + "\"") != std::string::npos) {
        out.push_back(std::move(line));
      }
    }
    return out;
  }

  void TearDown() override {
    server_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    EXPECT_TRUE(write_file_atomic(path, as_bytes(text), 0600));
    return path;
  }

  static std::string pem_key(EVP_PKEY* key, const std::optional<std::string>& passphrase) {
    auto pem = crypto::private_key_pem(key, passphrase);
    EXPECT_TRUE(pem) << pem.error().message;
    return pem ? *pem : std::string();
  }

  // A self-signed client certificate: the server identifies, not chains, it.
  ClientIdentity make_client(const std::string& name) {
    auto key = crypto::generate_key(crypto::KeyType::p256);
    auto cert = vouchsafe::testing::make_certificate(key.get(), name, key.get(), nullptr, false);
    ClientIdentity id;
    id.cert_file = write(name + ".pem", crypto::certificate_pem(cert.get()));
    id.key_file = write(name + ".key", pem_key(key.get(), std::nullopt));
    id.fingerprint = hex_encode(crypto::sha256(crypto::certificate_der(cert.get())));
    return id;
  }

  // The suites run once per TLS library: tests/CMakeLists.txt registers
  // them again with VOUCHSAFE_TEST_TLS_LIBRARY=gnutls.
  static TlsLibrary tls_library() {
    const char* name = std::getenv("VOUCHSAFE_TEST_TLS_LIBRARY");
    return name != nullptr && std::string_view(name) == "gnutls" ? TlsLibrary::gnutls
                                                                 : TlsLibrary::openssl;
  }

  ServerOptions options() const {
    ServerOptions o;
    o.tls_library = tls_library();
    o.cert_file = server_cert_file_;
    o.key_file = server_key_file_;
    o.threads = 2;
    o.refusal_log = LogLines::sink(refusal_log_);
    return o;
  }

  // A handler answering 200 "hello <path>" and recording every request.
  Handler echo_handler() {
    return [this](const HttpRequest& request) {
      log_.record(request);
      HttpResponse response;
      response.status = 200;
      response.content_type = "text/plain";
      response.body = to_bytes("hello " + request.target);
      return response;
    };
  }

  void start(const ServerOptions& o, Handler handler) {
    auto server = HttpsServer::start(o, std::move(handler));
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(server).value();
  }

  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  // curl with the client's certificate; -k because the test root is not in
  // curl's trust store (the server's identity is not what these tests check).
  static std::string curl(const ClientIdentity* client) {
    std::string command = "curl -sS -k --max-time 10 ";
    if (client != nullptr) {
      command += "--cert " + client->cert_file + " --key " + client->key_file + " ";
    }
    return command;
  }

  std::uint64_t counter(std::string_view name, MetricsRegistry::Labels labels = {}) const {
    return server_->metrics()->counter(name, labels).value();
  }

  std::filesystem::path dir_;
  std::string server_cert_file_;
  std::string server_key_file_;
  crypto::PkeyPtr server_key_;
  ClientIdentity client_a_;
  ClientIdentity client_b_;
  HandlerLog log_;
  std::shared_ptr<LogLines> refusal_log_ = std::make_shared<LogLines>();
  std::unique_ptr<HttpsServer> server_;
};

// A TLS client that sends some bytes and reports when the server closes:
// what a slow or idle client looks like from the server's side.
class RawTlsClient {
 public:
  RawTlsClient(unsigned short port, const ClientIdentity& client)
      : context_(make_context(client)), stream_(io_, context_) {
    stream_.next_layer().connect({boost::asio::ip::address_v4::loopback(), port});
    stream_.handshake(boost::asio::ssl::stream_base::client);
  }

  void send(const std::string& bytes) { boost::asio::write(stream_, boost::asio::buffer(bytes)); }

  // Sends a GET and reads until `expected` has arrived: proof that the
  // server finished its side of the handshake and serves this connection.
  bool round_trip(const std::string& path, const std::string& expected,
                  std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
    std::function<void()> read = [&] {
      stream_.async_read_some(boost::asio::buffer(buffer_),
                              [&](boost::system::error_code ec, std::size_t n) {
                                if (ec) return;
                                received_.append(buffer_.data(), n);
                                if (received_.find(expected) == std::string::npos) read();
                              });
    };
    read();
    io_.restart();
    io_.run_for(limit);
    const bool found = received_.find(expected) != std::string::npos;
    if (!found) {  // the read still pending refers to `read`: end it here
      boost::system::error_code ignored;
      stream_.next_layer().cancel(ignored);
      io_.restart();
      io_.run();
    }
    received_.clear();
    return found;
  }

  // Seconds from now until the server closes the connection, or nullopt if
  // it is still open after limit. Whatever arrives meanwhile is kept.
  std::optional<double> seconds_until_closed(std::chrono::milliseconds limit) {
    const auto start = std::chrono::steady_clock::now();
    std::optional<double> closed_after;
    std::function<void()> read = [&] {
      stream_.async_read_some(boost::asio::buffer(buffer_), [&](boost::system::error_code ec,
                                                                std::size_t n) {
        if (ec) {
          close_reason_ = ec.message();
          const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
          closed_after = elapsed.count();
          return;
        }
        received_.append(buffer_.data(), n);
        read();
      });
    };
    read();
    io_.restart();
    io_.run_for(limit);
    return closed_after;
  }

  [[nodiscard]] const std::string& received() const { return received_; }
  [[nodiscard]] const std::string& close_reason() const { return close_reason_; }

 private:
  // Configured before the stream exists: OpenSSL copies the certificate into
  // each connection when it is created.
  static boost::asio::ssl::context make_context(const ClientIdentity& client) {
    boost::asio::ssl::context context(boost::asio::ssl::context::tls_client);
    context.use_certificate_file(client.cert_file, boost::asio::ssl::context::pem);
    context.use_private_key_file(client.key_file, boost::asio::ssl::context::pem);
    context.set_verify_mode(boost::asio::ssl::verify_none);
    return context;
  }

  boost::asio::io_context io_;
  boost::asio::ssl::context context_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  std::array<char, 4096> buffer_{};
  std::string received_;
  std::string close_reason_;
};

}  // namespace vouchsafe::net::testing
