// Who holds a listener's connections: how many are open in all, per source
// address and per prefix, and which are still in their TLS handshake, so
// that a new connection can push one of those out instead of being refused
// (issue 9, item 1).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "net/detail/source_address.h"

namespace vouchsafe::net::detail {

// A connection the table may push out while it is in its handshake.
class Evictable {
 public:
  Evictable() = default;
  Evictable(const Evictable&) = delete;
  Evictable& operator=(const Evictable&) = delete;
  Evictable(Evictable&&) = delete;
  Evictable& operator=(Evictable&&) = delete;
  virtual ~Evictable() = default;
  // From any thread: close the connection soon, on its own strand.
  virtual void evict() = 0;
};

class ConnectionTable {
 public:
  using Clock = std::chrono::steady_clock;

  struct Limits {
    std::size_t max_connections = 1;
    std::size_t max_per_address = 1;
    std::size_t max_per_prefix = 1;
    std::size_t max_handshaking = 1;
  };
  enum class Refusal { none, connection_cap, address_cap, prefix_cap };

  // One place in the table, held for as long as the connection lives.
  class Slot {
   public:
    Slot(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Slot& operator=(Slot&&) = delete;
    ~Slot();

    // The connection to push out should the table need its place; until
    // it is set a pushed-out connection learns it at end_handshake().
    void track(std::weak_ptr<Evictable> connection);
    // The handshake is over (done or failed): the connection no longer
    // counts against the handshake share. False when it had been pushed
    // out already, and must close.
    [[nodiscard]] bool end_handshake();

    [[nodiscard]] const SourceKeys& source() const { return source_; }
    [[nodiscard]] Clock::time_point accepted_at() const { return accepted_at_; }

   private:
    friend class ConnectionTable;
    Slot(ConnectionTable& table, std::uint64_t id, SourceKeys source, Clock::time_point accepted);
    ConnectionTable* table_;
    std::uint64_t id_;
    SourceKeys source_;
    Clock::time_point accepted_at_;
  };

  struct Admission {
    std::optional<Slot> slot;  // empty: refused, for `refusal`
    Refusal refusal = Refusal::none;
    // The connection pushed out to make room, if one was: the caller calls
    // its evict() (null when it was ending anyway) outside the table's lock.
    bool evicted = false;
    std::shared_ptr<Evictable> evicted_connection;
    std::string evicted_address;
  };

  explicit ConnectionTable(Limits limits);

  // in_handshake: the connection begins with a TLS handshake; a plain one
  // is past it at once and can never be pushed out.
  Admission admit(SourceKeys source, bool in_handshake, Clock::time_point now);

  [[nodiscard]] std::size_t open_connections() const;
  [[nodiscard]] std::size_t handshaking_connections() const;

 private:
  enum class Phase { handshake, established, evicted };
  struct Entry {
    SourceKeys source;
    Phase phase = Phase::handshake;
    std::weak_ptr<Evictable> connection;
  };

  // The order in which prefixes give up a handshake: the one holding the
  // most first, then the one whose oldest handshake is oldest.
  struct Rank {
    std::size_t count = 0;
    std::uint64_t oldest = 0;
    std::string prefix;
    bool operator<(const Rank& other) const;
  };

  void release(std::uint64_t id);
  void track(std::uint64_t id, std::weak_ptr<Evictable> connection);
  bool end_handshake(std::uint64_t id);
  void add_handshake(const std::string& prefix, std::uint64_t id);
  void remove_handshake(const std::string& prefix, std::uint64_t id);
  static void decrement(std::unordered_map<std::string, std::size_t>& counts,
                        const std::string& key);

  const Limits limits_;
  mutable std::mutex mutex_;
  std::uint64_t next_id_ = 0;
  // Open connections, not counting those pushed out (they close at once).
  std::size_t open_ = 0;
  std::unordered_map<std::uint64_t, Entry> entries_;
  // Connections in their handshake per prefix; ids grow with each accept,
  // so each set is oldest first.
  std::unordered_map<std::string, std::set<std::uint64_t>> handshakes_;
  std::set<Rank> ranks_;  // one per prefix in handshakes_
  std::size_t handshaking_ = 0;
  // Every entry counts here until its connection is gone, pushed out or not.
  std::unordered_map<std::string, std::size_t> per_address_;
  std::unordered_map<std::string, std::size_t> per_prefix_;
};

}  // namespace vouchsafe::net::detail
