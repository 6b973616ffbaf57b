// Abuse limits per client and per source: token buckets for the request
// rate, and a block for clients and addresses that keep sending invalid
// requests. Time is passed in, so the policy is tested without sleeping.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "net/server_options.h"

namespace vouchsafe::net {

class ClientLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // The buckets a request falls in; an empty key is no bucket.
  enum class Scope : std::uint8_t { client, shared, address, prefix };
  struct Keys {
    std::string_view client{};   // the certificate fingerprint, else "address:IP"
    std::string_view shared{};   // the client's class bucket (ServerOptions::classify_client)
    std::string_view address{};  // "192.0.2.7"
    std::string_view prefix{};   // "192.0.2.0/24"
  };

  struct Limits {
    RateLimit client;
    RateLimit shared;
    RateLimit address;
    RateLimit prefix;
    // Invalid requests before a block; 0: never blocked.
    std::size_t max_invalid_per_client = 0;
    std::size_t max_invalid_per_address = 0;
    std::chrono::seconds block_time{300};
  };
  // Only the per-client limits, as the server has them without a source.
  static Limits client_only(RateLimit rate, std::size_t max_invalid_before_block,
                            std::chrono::seconds block_time);

  enum class Verdict { admit, rate_limited, blocked };
  struct Admission {
    Verdict verdict = Verdict::admit;
    Scope scope = Scope::client;          // when refused: the bucket that refused
    std::chrono::seconds retry_after{0};  // when refused: how long until it may pass
  };

  // max_tracked bounds memory: buckets at rest (full, not blocked, no recent
  // invalid request) are forgotten first when it is reached.
  explicit ClientLimiter(Limits limits, std::size_t max_tracked = 65536);

  // Called once per request before the handler. Admits only when no key is
  // blocked and every bucket holds a token, and then takes one from each:
  // a refused request costs none of its buckets anything.
  Admission admit(const Keys& keys, Clock::time_point now);
  Admission admit(std::string_view client, Clock::time_point now) {
    return admit(Keys{.client = client}, now);
  }
  // The request was invalid: counts against the client and the address
  // (never the shared bucket: one client's misuse must not block its whole
  // class). Past a threshold that key is blocked; its count restarts after
  // block_time without an invalid request.
  void report_invalid(const Keys& keys, Clock::time_point now);
  void report_invalid(std::string_view client, Clock::time_point now) {
    report_invalid(Keys{.client = client}, now);
  }

  [[nodiscard]] std::size_t tracked_keys() const;

 private:
  struct Entry {
    Scope scope = Scope::client;
    double tokens = 0;
    Clock::time_point refilled;
    std::size_t invalid_count = 0;
    Clock::time_point last_invalid;
    Clock::time_point blocked_until;
    Clock::time_point last_seen;
  };
  // Sharded so that worker threads rarely wait on one another.
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry> entries;
  };
  static constexpr std::size_t k_shards = 16;
  static constexpr std::size_t k_scopes = 4;

  [[nodiscard]] const RateLimit& rate(Scope scope) const;
  [[nodiscard]] std::size_t max_invalid(Scope scope) const;
  static std::size_t shard_index(std::string_view key);
  Entry& entry(Shard& shard, const std::string& key, Scope scope, Clock::time_point now);
  void refill(Entry& e, Clock::time_point now) const;
  [[nodiscard]] bool at_rest(Entry& e, Clock::time_point now) const;
  void make_room(Shard& shard, Clock::time_point now);
  void count_invalid(Scope scope, std::string_view key, Clock::time_point now);

  Limits limits_;
  std::size_t max_per_shard_;
  std::array<Shard, k_shards> shards_;
};

}  // namespace vouchsafe::net
