// Connection caps per listener, source address and prefix, and the
// handshake share with its push-out of a handshake.
#include "net/detail/connection_table.h"

#include <utility>

namespace vouchsafe::net::detail {

ConnectionTable::Slot::Slot(ConnectionTable& table, std::uint64_t id, SourceKeys source,
                            Clock::time_point accepted)
    : table_(&table), id_(id), source_(std::move(source)), accepted_at_(accepted) {}

ConnectionTable::Slot::Slot(Slot&& other) noexcept
    : table_(std::exchange(other.table_, nullptr)),
      id_(other.id_),
      source_(std::move(other.source_)),
      accepted_at_(other.accepted_at_) {}

ConnectionTable::Slot::~Slot() {
  if (table_ != nullptr) table_->release(id_);
}

void ConnectionTable::Slot::track(std::weak_ptr<Evictable> connection) {
  table_->track(id_, std::move(connection));
}

bool ConnectionTable::Slot::end_handshake() {
  return table_->end_handshake(id_);
}

ConnectionTable::ConnectionTable(Limits limits) : limits_(limits) {}

bool ConnectionTable::Rank::operator<(const Rank& other) const {
  if (count != other.count) return count > other.count;
  if (oldest != other.oldest) return oldest < other.oldest;
  return prefix < other.prefix;
}

void ConnectionTable::add_handshake(const std::string& prefix, std::uint64_t id) {
  auto& ids = handshakes_[prefix];
  if (!ids.empty()) ranks_.erase(Rank{ids.size(), *ids.begin(), prefix});
  ids.insert(id);
  ranks_.insert(Rank{ids.size(), *ids.begin(), prefix});
  ++handshaking_;
}

void ConnectionTable::remove_handshake(const std::string& prefix, std::uint64_t id) {
  auto it = handshakes_.find(prefix);
  if (it == handshakes_.end() || !it->second.contains(id)) return;
  auto& ids = it->second;
  ranks_.erase(Rank{ids.size(), *ids.begin(), prefix});
  ids.erase(id);
  --handshaking_;
  if (ids.empty()) {
    handshakes_.erase(it);
  } else {
    ranks_.insert(Rank{ids.size(), *ids.begin(), prefix});
  }
}

ConnectionTable::Admission ConnectionTable::admit(SourceKeys source, bool in_handshake,
                                                  Clock::time_point now) {
  Admission admission;
  const std::lock_guard lock(mutex_);
  if (auto it = per_address_.find(source.address);
      it != per_address_.end() && it->second >= limits_.max_per_address) {
    admission.refusal = Refusal::address_cap;
    return admission;
  }
  if (auto it = per_prefix_.find(source.prefix);
      it != per_prefix_.end() && it->second >= limits_.max_per_prefix) {
    admission.refusal = Refusal::prefix_cap;
    return admission;
  }
  const bool share_full = in_handshake && handshaking_ >= limits_.max_handshaking;
  if (open_ >= limits_.max_connections || share_full) {
    // Only a connection still in its handshake is pushed out: one past it
    // belongs to a client that proved it holds a certificate's key. The
    // victim is the oldest handshake of the prefix holding the most: a
    // flood from a few prefixes then pushes out its own connections, never
    // a lone real client's, however fast it comes (oldest-first would give
    // the real client only as long as the flood takes to fill the share).
    if (ranks_.empty()) {
      admission.refusal = Refusal::connection_cap;
      return admission;
    }
    const Rank top = *ranks_.begin();
    remove_handshake(top.prefix, top.oldest);
    Entry& victim = entries_.at(top.oldest);
    victim.phase = Phase::evicted;
    --open_;
    admission.evicted = true;
    admission.evicted_connection = victim.connection.lock();
    admission.evicted_address = victim.source.address;
  }
  const std::uint64_t id = next_id_++;
  ++per_address_[source.address];
  ++per_prefix_[source.prefix];
  ++open_;
  Entry entry{source, in_handshake ? Phase::handshake : Phase::established, {}};
  entries_.emplace(id, std::move(entry));
  if (in_handshake) add_handshake(source.prefix, id);
  admission.slot.emplace(Slot(*this, id, std::move(source), now));
  return admission;
}

void ConnectionTable::decrement(std::unordered_map<std::string, std::size_t>& counts,
                                const std::string& key) {
  auto it = counts.find(key);
  if (it == counts.end()) return;
  if (--it->second == 0) counts.erase(it);
}

void ConnectionTable::release(std::uint64_t id) {
  const std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  const Entry& entry = it->second;
  if (entry.phase != Phase::evicted) --open_;
  if (entry.phase == Phase::handshake) remove_handshake(entry.source.prefix, id);
  decrement(per_address_, entry.source.address);
  decrement(per_prefix_, entry.source.prefix);
  entries_.erase(it);
}

void ConnectionTable::track(std::uint64_t id, std::weak_ptr<Evictable> connection) {
  const std::lock_guard lock(mutex_);
  if (auto it = entries_.find(id); it != entries_.end())
    it->second.connection = std::move(connection);
}

bool ConnectionTable::end_handshake(std::uint64_t id) {
  const std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.phase == Phase::evicted) return false;
  if (it->second.phase == Phase::handshake) {
    it->second.phase = Phase::established;
    remove_handshake(it->second.source.prefix, id);
  }
  return true;
}

std::size_t ConnectionTable::open_connections() const {
  const std::lock_guard lock(mutex_);
  return open_;
}

std::size_t ConnectionTable::handshaking_connections() const {
  const std::lock_guard lock(mutex_);
  return handshaking_;
}

}  // namespace vouchsafe::net::detail
