// Everything an HttpsServer listener can be configured with, and the abuse
// limits it applies before a request reaches the handler.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vouchsafe::net {

class MetricsRegistry;

// A token bucket per client: `burst` requests at once, refilled at
// `per_second`.
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
  std::string blocked = "too many invalid requests";
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  unsigned short port = 0;  // 0: the kernel picks a free port (see HttpsServer::port)

  // false: plain HTTP, for an admin listener on loopback only.
  bool tls = true;
  std::string cert_file;  // PEM: the server certificate, then its chain
  std::string key_file;   // PEM or DER private key, possibly encrypted
  std::optional<std::string> key_passphrase;
  // The caller is identified by its certificate's fingerprint; the
  // certificate is not chained to anything here.
  bool require_client_certificate = true;

  unsigned threads = 0;  // 0: one per core

  std::size_t max_header_bytes = 8192;
  std::size_t max_body_bytes = std::size_t{64} * 1024;
  // read_timeout bounds the TLS handshake, each request from its first byte
  // and each response write; idle_timeout bounds the wait for the next
  // request on a kept-alive connection.
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds idle_timeout{30000};
  std::size_t max_connections = 1024;

  RateLimit rate_limit;
  RefusalTexts refusals;
  // A client whose requests were invalid more than this many times is
  // refused for block_time; 0 turns blocking off.
  std::size_t max_invalid_before_block = 20;
  std::chrono::seconds block_time{300};

  // Request paths to use as the endpoint label of metrics; any other path is
  // labelled "other". Empty: every path is its own label.
  std::vector<std::string> metric_endpoints;
  // Shared with other listeners and the service; null: the server has its own.
  std::shared_ptr<MetricsRegistry> metrics;
};

}  // namespace vouchsafe::net
