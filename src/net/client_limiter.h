// Per-client abuse limits: a token bucket for the request rate, and a block
// for clients that keep sending invalid requests. Time is passed in, so the
// policy is tested without sleeping.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "net/server_options.h"

namespace vouchsafe::net {

class ClientLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  enum class Verdict { admit, rate_limited, blocked };
  struct Admission {
    Verdict verdict = Verdict::admit;
    std::chrono::seconds retry_after{0};  // when refused: how long until it may pass
  };

  // max_clients bounds memory: clients at rest (full bucket, not blocked, no
  // recent invalid request) are forgotten first when it is reached.
  ClientLimiter(RateLimit rate, std::size_t max_invalid_before_block,
                std::chrono::seconds block_time, std::size_t max_clients = 65536);

  // Called once per request before the handler; consumes a token when admitted.
  Admission admit(std::string_view client, Clock::time_point now);
  // The client's request was invalid. Past the threshold the client is
  // blocked; the count restarts after block_time without an invalid request.
  void report_invalid(std::string_view client, Clock::time_point now);

  [[nodiscard]] std::size_t tracked_clients() const;

 private:
  struct Entry {
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

  Shard& shard_for(std::string_view client);
  Entry& entry(Shard& shard, std::string_view client, Clock::time_point now);
  void refill(Entry& e, Clock::time_point now) const;
  [[nodiscard]] bool at_rest(Entry& e, Clock::time_point now) const;
  void make_room(Shard& shard, Clock::time_point now);

  RateLimit rate_;
  std::size_t max_invalid_;
  std::chrono::seconds block_time_;
  std::size_t max_per_shard_;
  std::array<Shard, k_shards> shards_;
};

}  // namespace vouchsafe::net
