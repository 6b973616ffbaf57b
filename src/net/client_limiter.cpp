// Token buckets and invalid-request blocking per client, class, address and
// prefix.
#include "net/client_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <span>

namespace vouchsafe::net {

namespace {

std::chrono::seconds ceil_seconds(double seconds) {
  return std::chrono::seconds(std::max<long long>(1, static_cast<long long>(std::ceil(seconds))));
}

// One table holds every scope: a scope tag in front keeps a client key from
// ever meeting an address key of the same text.
std::string scoped_key(ClientLimiter::Scope scope, std::string_view key) {
  std::string out;
  out.reserve(key.size() + 2);
  out += static_cast<char>('0' + static_cast<int>(scope));
  out += ':';
  out += key;
  return out;
}

}  // namespace

ClientLimiter::Limits ClientLimiter::client_only(RateLimit rate,
                                                 std::size_t max_invalid_before_block,
                                                 std::chrono::seconds block_time) {
  Limits limits;
  limits.client = rate;
  limits.max_invalid_per_client = max_invalid_before_block;
  limits.block_time = block_time;
  return limits;
}

ClientLimiter::ClientLimiter(Limits limits, std::size_t max_tracked)
    : limits_(limits), max_per_shard_(std::max<std::size_t>(1, max_tracked / k_shards)) {}

const RateLimit& ClientLimiter::rate(Scope scope) const {
  switch (scope) {
    case Scope::client:
      return limits_.client;
    case Scope::shared:
      return limits_.shared;
    case Scope::address:
      return limits_.address;
    case Scope::prefix:
      return limits_.prefix;
  }
  return limits_.client;
}

std::size_t ClientLimiter::max_invalid(Scope scope) const {
  switch (scope) {
    case Scope::client:
      return limits_.max_invalid_per_client;
    case Scope::address:
      return limits_.max_invalid_per_address;
    case Scope::shared:
    case Scope::prefix:
      return 0;
  }
  return 0;
}

std::size_t ClientLimiter::shard_index(std::string_view key) {
  return std::hash<std::string_view>{}(key) % k_shards;
}

void ClientLimiter::refill(Entry& e, Clock::time_point now) const {
  const std::chrono::duration<double> elapsed = now - e.refilled;
  if (elapsed.count() > 0) {
    const RateLimit& r = rate(e.scope);
    e.tokens = std::min(r.burst, e.tokens + elapsed.count() * r.per_second);
    e.refilled = now;
  }
}

bool ClientLimiter::at_rest(Entry& e, Clock::time_point now) const {
  refill(e, now);
  const RateLimit& r = rate(e.scope);
  const bool full = !r.enabled || e.tokens >= r.burst;
  const bool invalid_forgotten = e.invalid_count == 0 || now - e.last_invalid > limits_.block_time;
  return full && e.blocked_until <= now && invalid_forgotten;
}

void ClientLimiter::make_room(Shard& shard, Clock::time_point now) {
  for (auto it = shard.entries.begin(); it != shard.entries.end();) {
    it = at_rest(it->second, now) ? shard.entries.erase(it) : std::next(it);
  }
  if (shard.entries.size() < max_per_shard_) return;
  // Every key is active: forget the one seen longest ago.
  auto oldest = std::min_element(
      shard.entries.begin(), shard.entries.end(),
      [](const auto& a, const auto& b) { return a.second.last_seen < b.second.last_seen; });
  shard.entries.erase(oldest);
}

// Never makes room itself: a caller holding references into the shard
// makes room first.
ClientLimiter::Entry& ClientLimiter::entry(Shard& shard, const std::string& key, Scope scope,
                                           Clock::time_point now) {
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) {
    Entry fresh;
    fresh.scope = scope;
    fresh.tokens = rate(scope).burst;
    fresh.refilled = now;
    it = shard.entries.emplace(key, fresh).first;
  }
  it->second.last_seen = now;
  return it->second;
}

ClientLimiter::Admission ClientLimiter::admit(const Keys& keys, Clock::time_point now) {
  struct Bucket {
    Scope scope = Scope::client;
    std::string key;
    std::size_t shard = 0;
    Entry* entry = nullptr;
  };
  std::array<Bucket, k_scopes> buckets;
  std::size_t count = 0;
  const auto add = [&](Scope scope, std::string_view key) {
    if (key.empty()) return;
    Bucket& b = buckets[count++];
    b.scope = scope;
    b.key = scoped_key(scope, key);
    b.shard = shard_index(b.key);
  };
  add(Scope::client, keys.client);
  add(Scope::shared, keys.shared);
  add(Scope::address, keys.address);
  add(Scope::prefix, keys.prefix);
  const std::span<Bucket> used(buckets.data(), count);

  // Each shard locked once, in index order, so that two requests taking
  // the same shards cannot wait on each other.
  std::array<std::size_t, k_scopes> order{};
  for (std::size_t i = 0; i < count; ++i) order[i] = used[i].shard;
  const std::span<std::size_t> shards(order.data(), count);
  std::sort(shards.begin(), shards.end());
  const auto distinct =
      static_cast<std::size_t>(std::unique(shards.begin(), shards.end()) - shards.begin());
  std::array<std::unique_lock<std::mutex>, k_scopes> locks;
  for (std::size_t i = 0; i < distinct; ++i) locks[i] = std::unique_lock(shards_[order[i]].mutex);
  // Room first, then the entries: making room erases entries of the shard.
  for (const Bucket& b : used) {
    Shard& shard = shards_[b.shard];
    if (!shard.entries.contains(b.key) && shard.entries.size() >= max_per_shard_) {
      make_room(shard, now);
    }
  }
  for (Bucket& b : used) b.entry = &entry(shards_[b.shard], b.key, b.scope, now);

  Admission refused;
  double longest = 0;
  for (const Bucket& b : used) {
    if (b.entry->blocked_until <= now) continue;
    const std::chrono::duration<double> left = b.entry->blocked_until - now;
    if (refused.verdict != Verdict::blocked || left.count() > longest) {
      refused = {Verdict::blocked, b.scope, ceil_seconds(left.count())};
      longest = left.count();
    }
  }
  if (refused.verdict == Verdict::blocked) return refused;

  for (const Bucket& b : used) {
    const RateLimit& r = rate(b.scope);
    if (!r.enabled) continue;
    refill(*b.entry, now);
    if (b.entry->tokens >= 1.0) continue;
    // With no refill at all the bucket never recovers; say "a minute".
    const double wait = r.per_second > 0 ? (1.0 - b.entry->tokens) / r.per_second : 60.0;
    if (refused.verdict != Verdict::rate_limited || wait > longest) {
      refused = {Verdict::rate_limited, b.scope, ceil_seconds(wait)};
      longest = wait;
    }
  }
  if (refused.verdict == Verdict::rate_limited) return refused;

  for (const Bucket& b : used) {
    if (rate(b.scope).enabled) b.entry->tokens -= 1.0;
  }
  return {};
}

void ClientLimiter::count_invalid(Scope scope, std::string_view key, Clock::time_point now) {
  const std::size_t threshold = max_invalid(scope);
  if (threshold == 0 || key.empty()) return;
  const std::string scoped = scoped_key(scope, key);
  Shard& shard = shards_[shard_index(scoped)];
  const std::lock_guard lock(shard.mutex);
  if (!shard.entries.contains(scoped) && shard.entries.size() >= max_per_shard_) {
    make_room(shard, now);
  }
  Entry& e = entry(shard, scoped, scope, now);
  if (e.invalid_count > 0 && now - e.last_invalid > limits_.block_time) e.invalid_count = 0;
  ++e.invalid_count;
  e.last_invalid = now;
  if (e.invalid_count > threshold) {
    e.blocked_until = now + limits_.block_time;
    e.invalid_count = 0;
  }
}

void ClientLimiter::report_invalid(const Keys& keys, Clock::time_point now) {
  count_invalid(Scope::client, keys.client, now);
  count_invalid(Scope::address, keys.address, now);
}

std::size_t ClientLimiter::tracked_keys() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    const std::lock_guard lock(shard.mutex);
    n += shard.entries.size();
  }
  return n;
}

}  // namespace vouchsafe::net
