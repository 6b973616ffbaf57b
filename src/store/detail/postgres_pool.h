// The asset store's PostgreSQL connections: a bounded, thread-safe pool,
// and the session one attempt at an operation runs its statements in.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "store/detail/postgres_values.h"
#include "store/postgres_handles.h"

namespace vouchsafe::store::detail {

// Why a statement failed, for the retry decision.
enum class Failure { none, connection, rolled_back, other };

// One leased connection as seen by one attempt at an operation.
class Session {
 public:
  explicit Session(PGconn* conn) : conn_(conn) {}

  // Results in binary: bytea arrives as raw bytes, integers need no parsing.
  Result<PgResultPtr> exec(const std::string& sql, const Params& params, const std::string& what);
  // Parameterless commands, and the migrations' multi-statement scripts.
  Status command(const char* sql, const std::string& what);
  // A COMMIT whose answer was lost leaves the outcome unknown, and says so.
  Status commit();

  [[nodiscard]] Failure failure() const { return failure_; }
  [[nodiscard]] const std::string& sqlstate() const { return sqlstate_; }
  [[nodiscard]] bool commit_sent() const { return commit_sent_; }

 private:
  Result<PgResultPtr> check(PgResultPtr r, const std::string& what);
  [[nodiscard]] std::string server_message(const PGresult* r) const;

  PGconn* conn_;
  Failure failure_ = Failure::none;
  std::string sqlstate_;
  bool commit_sent_ = false;
};

// A bounded, thread-safe pool. Connections are opened on demand up to the
// capacity; one found dead when leased, or left broken by its last user, is
// closed and its slot reused for a fresh connection. The DSN goes to libpq
// as it is, so a multi-host one (target_session_attrs=read-write) follows
// a promoted replica.
class ConnectionPool {
 public:
  class Lease {
   public:
    Lease(ConnectionPool* pool, PgConnPtr conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->give_back(std::move(conn_));
    }
    [[nodiscard]] PGconn* get() const { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    PgConnPtr conn_;
  };

  ConnectionPool(std::string dsn, std::string target, std::size_t capacity)
      : dsn_(std::move(dsn)), target_(std::move(target)), capacity_(capacity) {}
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // A live connection, waiting up to k_acquire_timeout for a free slot.
  Result<Lease> acquire();
  [[nodiscard]] const std::string& target() const { return target_; }

  static constexpr auto k_acquire_timeout = std::chrono::seconds(10);

 private:
  [[nodiscard]] Result<PgConnPtr> connect() const;
  static bool idle_and_alive(PGconn* conn);
  void give_back(PgConnPtr conn);

  const std::string dsn_;
  const std::string target_;
  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<PgConnPtr> idle_;
  std::size_t open_ = 0;  // idle plus leased
};

}  // namespace vouchsafe::store::detail
