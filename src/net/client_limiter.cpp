// Token buckets and invalid-request blocking per client.
#include "net/client_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>

namespace vouchsafe::net {

namespace {

std::chrono::seconds ceil_seconds(double seconds) {
  return std::chrono::seconds(std::max<long long>(1, static_cast<long long>(std::ceil(seconds))));
}

}  // namespace

ClientLimiter::ClientLimiter(RateLimit rate, std::size_t max_invalid_before_block,
                             std::chrono::seconds block_time, std::size_t max_clients)
    : rate_(rate),
      max_invalid_(max_invalid_before_block),
      block_time_(block_time),
      max_per_shard_(std::max<std::size_t>(1, max_clients / k_shards)) {}

ClientLimiter::Shard& ClientLimiter::shard_for(std::string_view client) {
  return shards_[std::hash<std::string_view>{}(client) % k_shards];
}

void ClientLimiter::refill(Entry& e, Clock::time_point now) const {
  const std::chrono::duration<double> elapsed = now - e.refilled;
  if (elapsed.count() > 0) {
    e.tokens = std::min(rate_.burst, e.tokens + elapsed.count() * rate_.per_second);
    e.refilled = now;
  }
}

bool ClientLimiter::at_rest(Entry& e, Clock::time_point now) const {
  refill(e, now);
  const bool full = !rate_.enabled || e.tokens >= rate_.burst;
  const bool invalid_forgotten = e.invalid_count == 0 || now - e.last_invalid > block_time_;
  return full && e.blocked_until <= now && invalid_forgotten;
}

void ClientLimiter::make_room(Shard& shard, Clock::time_point now) {
  for (auto it = shard.entries.begin(); it != shard.entries.end();) {
    it = at_rest(it->second, now) ? shard.entries.erase(it) : std::next(it);
  }
  if (shard.entries.size() < max_per_shard_) return;
  // Every client is active: forget the one seen longest ago.
  auto oldest = std::min_element(
      shard.entries.begin(), shard.entries.end(),
      [](const auto& a, const auto& b) { return a.second.last_seen < b.second.last_seen; });
  shard.entries.erase(oldest);
}

ClientLimiter::Entry& ClientLimiter::entry(Shard& shard, std::string_view client,
                                           Clock::time_point now) {
  auto it = shard.entries.find(std::string(client));
  if (it == shard.entries.end()) {
    if (shard.entries.size() >= max_per_shard_) make_room(shard, now);
    Entry fresh;
    fresh.tokens = rate_.burst;
    fresh.refilled = now;
    it = shard.entries.emplace(std::string(client), fresh).first;
  }
  it->second.last_seen = now;
  return it->second;
}

ClientLimiter::Admission ClientLimiter::admit(std::string_view client, Clock::time_point now) {
  Shard& shard = shard_for(client);
  const std::lock_guard lock(shard.mutex);
  Entry& e = entry(shard, client, now);
  if (e.blocked_until > now) {
    const std::chrono::duration<double> left = e.blocked_until - now;
    return {Verdict::blocked, ceil_seconds(left.count())};
  }
  if (!rate_.enabled) return {};
  refill(e, now);
  if (e.tokens >= 1.0) {
    e.tokens -= 1.0;
    return {};
  }
  // With no refill at all the bucket never recovers; say "a minute".
  const double wait = rate_.per_second > 0 ? (1.0 - e.tokens) / rate_.per_second : 60.0;
  return {Verdict::rate_limited, ceil_seconds(wait)};
}

void ClientLimiter::report_invalid(std::string_view client, Clock::time_point now) {
  if (max_invalid_ == 0) return;
  Shard& shard = shard_for(client);
  const std::lock_guard lock(shard.mutex);
  Entry& e = entry(shard, client, now);
  if (e.invalid_count > 0 && now - e.last_invalid > block_time_) e.invalid_count = 0;
  ++e.invalid_count;
  e.last_invalid = now;
  if (e.invalid_count > max_invalid_) {
    e.blocked_until = now + block_time_;
    e.invalid_count = 0;
  }
}

std::size_t ClientLimiter::tracked_clients() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    const std::lock_guard lock(shard.mutex);
    n += shard.entries.size();
  }
  return n;
}

}  // namespace vouchsafe::net
