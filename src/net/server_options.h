// Everything an HttpsServer listener can be configured with, and the abuse
// limits it applies before a request reaches the handler.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "crypto/signer.h"

namespace vouchsafe::net {

class MetricsRegistry;
class TicketKeyring;

// A token bucket: `burst` requests at once, refilled at `per_second`.
struct RateLimit {
  double per_second = 50;
  double burst = 100;
  bool enabled = true;
};

// The plain-text reasons of the refusals the server makes on its own,
// before any handler runs. A service sets them from its own status table so
// that every refusal a client sees reads the same way.
struct RefusalTexts {
  std::string too_large = "request too large";
  std::string rate_limited = "too many requests";
  std::string shared_rate_limited = "too many requests from clients that are not known customers";
  std::string source_rate_limited = "too many requests from this network address";
  std::string blocked = "too many invalid requests";
};

// The client certificate of a connection, once its TLS handshake is done.
struct ClientCertificate {
  std::string_view fingerprint;  // hex SHA-256 of der
  ByteView der;
  std::span<const Bytes> chain;  // what the client sent after its own certificate
};

// What a service makes of a client, for the rate limits.
struct ClientClass {
  // Empty: a known client, limited by its own bucket only. Otherwise the
  // name of a bucket it also draws from together with every client of its
  // class (e.g. "unknown-registrars"), under shared_rate_limit: a fresh
  // self-signed certificate then brings no fresh allowance.
  std::string shared_key;
};

// Called once per connection, after the handshake, on a worker thread
// (possibly several at once); must not throw.
using ClientClassifier = std::function<ClientClass(const ClientCertificate&)>;

// Takes one JSON line (no newline) of the refusal log; called from any
// worker thread, so it must be thread-safe.
using LogSink = std::function<void(std::string_view line)>;

// The library a listener's TLS runs on. Both apply the same policy (see
// net/detail/tls.h); a GnuTLS handshake costs the server about half of an
// OpenSSL 3.0 one (bench/masa_load.sh), where most of OpenSSL's goes to
// decoding certificates. Only OpenSSL checks client_anchors.
enum class TlsLibrary { openssl, gnutls };

struct ServerOptions {
  std::string address = "127.0.0.1";
  unsigned short port = 0;  // 0: the kernel picks a free port (see HttpsServer::port)

  // false: plain HTTP, for an admin listener on loopback only.
  bool tls = true;
  TlsLibrary tls_library = TlsLibrary::openssl;
  std::string cert_file;  // PEM: the server certificate, then its chain
  std::string key_file;   // PEM or DER private key, possibly encrypted
  std::optional<std::string> key_passphrase;
  // The private key as a signer (crypto::open_signer: a file, or a key on a
  // PKCS#11 token that never leaves it), in place of key_file. GnuTLS only:
  // it signs the handshake through the signer; OpenSSL needs key_file.
  std::shared_ptr<const crypto::Signer> key_signer;
  // The caller is identified by its certificate's fingerprint; the
  // certificate is not chained to anything here (see classify_client)...
  bool require_client_certificate = true;
  // ...unless anchors are given (DER certificates): then the handshake
  // fails for a client certificate that does not chain to one of them (any
  // may be an intermediate; the client sends the rest of its chain). A
  // registrar accepts only pledges of the manufacturers it knows.
  std::vector<Bytes> client_anchors;

  unsigned threads = 0;  // 0: one per core

  std::size_t max_header_bytes = 8192;
  std::size_t max_body_bytes = std::size_t{64} * 1024;
  // handshake_timeout bounds the TLS handshake, counted from the accept, so
  // that a TCP connection that never sends a ClientHello is closed by it.
  // read_timeout bounds the first request of a connection, each request from
  // its first byte and each response write; idle_timeout bounds the wait for
  // the next request on a kept-alive connection.
  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds idle_timeout{30000};

  // Addresses of TCP load balancers that begin each connection with a PROXY
  // protocol version 2 header (haproxy's send-proxy-v2): a connection from
  // one of them must, and its client's address then stands for the
  // connection in the rate limits, the invalid-request blocking, the logs
  // and HttpRequest::remote_address. The connection caps below still count
  // the balancer (they are applied at the accept, before the header).
  std::vector<std::string> proxy_protocol_from;

  // Connection caps, each a count of open connections, checked at accept: a
  // connection over one is closed at once. None may be 0 (start() refuses
  // it); set a per-source cap to max_connections to make it no tighter than
  // the total. Behind a TCP load balancer every connection comes from the
  // balancer's address: raise both per-source caps to match (and the
  // per-source rate limits below, unless proxy_protocol_from names it).
  std::size_t max_connections = 1024;
  std::size_t max_connections_per_address = 32;
  // Per /24 of IPv4 or /64 of IPv6 (an IPv4-mapped IPv6 address is IPv4).
  std::size_t max_connections_per_prefix = 128;
  // The share of max_connections that connections still in their TLS
  // handshake may hold, in (0, 1]. When it is full, or every place is taken,
  // a new connection pushes out one still in its handshake (the oldest of
  // the prefix holding the most), so that idle connections cannot keep a
  // real client from completing its own; connections past their handshake
  // are never pushed out.
  double handshake_share = 0.5;

  // Request rate: a request is admitted only if every bucket it falls in has
  // a token: its client's (the certificate fingerprint, else its address),
  // its class's shared bucket if classify_client gives one, its source
  // address's and its prefix's.
  RateLimit rate_limit;
  RateLimit shared_rate_limit{.per_second = 200, .burst = 400, .enabled = true};
  RateLimit address_rate_limit{.per_second = 200, .burst = 400, .enabled = true};
  RateLimit prefix_rate_limit{.per_second = 500, .burst = 1000, .enabled = true};
  // Unset: every client with a certificate is limited on its own.
  ClientClassifier classify_client;

  RefusalTexts refusals;
  // A client (certificate fingerprint) whose requests were invalid more than
  // this many times is refused for block_time; so is a source address past
  // its own, larger, threshold, whatever certificates it presents. 0 turns
  // the one concerned off.
  std::size_t max_invalid_before_block = 20;
  std::size_t max_invalid_per_address_before_block = 100;
  std::chrono::seconds block_time{300};

  // Request paths to use as the endpoint label of metrics; any other path is
  // labelled "other". Empty: every path is its own label.
  std::vector<std::string> metric_endpoints;
  // Session-ticket keys shared with the other instances of a service, so a
  // client resumes on any of them; null: OpenSSL's own per-process keys.
  std::shared_ptr<const TicketKeyring> ticket_keys;

  // Shared with other listeners and the service; null: the server has its own.
  std::shared_ptr<MetricsRegistry> metrics;
  // The refusal log: one JSON line per response with status >= 400 and per
  // refused connection. Unset: lines go to stderr.
  LogSink refusal_log;
};

}  // namespace vouchsafe::net
