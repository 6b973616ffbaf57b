// The refusal log (issue 9, item 14): one JSON line per response with status
// >= 400 and per connection the server refused or cut, with the reason and
// the client's certificate fingerprint; never a certificate, a body beyond
// its first line, or a key.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "net/server_options.h"

namespace vouchsafe::net::detail {

class RefusalLog {
 public:
  using Clock = std::chrono::steady_clock;

  // The longest reason taken from a response body, in bytes.
  static constexpr std::size_t k_max_reason = 200;
  // Connection refusals come in floods: per error, one line per interval,
  // whose "suppressed" counts the lines left out since the last.
  static constexpr std::chrono::seconds k_connection_interval{1};

  // listener: "address:port". An unset sink writes to stderr.
  RefusalLog(std::string listener, LogSink sink);

  struct Response {
    std::string_view remote;       // "ip:port"
    std::string_view fingerprint;  // empty: no client certificate
    std::string_view method;       // empty: the request line was not read
    std::string_view endpoint;     // the metrics label of the path
    int status = 0;
    std::string_view content_type;
    ByteView body;           // its first line is the reason, if text/plain
    std::string_view error;  // a name for the error, or empty
  };
  void response(const Response& r) const;

  // A connection refused or cut before any response: error is the metrics
  // label (e.g. "address_cap"), reason a few words for the operator.
  void connection(std::string_view remote, std::string_view error, std::string_view reason,
                  Clock::time_point now);

 private:
  void write(const std::string& line) const;

  struct Suppression {
    Clock::time_point last_logged;
    std::uint64_t suppressed = 0;
  };

  std::string listener_;
  LogSink sink_;
  std::mutex mutex_;
  std::map<std::string, Suppression, std::less<>> suppression_;
};

}  // namespace vouchsafe::net::detail
