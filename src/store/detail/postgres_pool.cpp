// The asset store's PostgreSQL sessions and connection pool.
#include "store/detail/postgres_pool.h"

#include <poll.h>

namespace vouchsafe::store::detail {
namespace {

std::string detail_of(const PGresult* r) {
  const char* d = r != nullptr ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : nullptr;
  return d != nullptr ? std::string(" (") + d + ")" : std::string();
}

}  // namespace

Result<PgResultPtr> Session::exec(const std::string& sql, const Params& params,
                                  const std::string& what) {
  const auto values = params.pointers();
  const auto lengths = params.lengths();
  // Results in binary: bytea arrives as raw bytes, integers need no parsing.
  return check(PgResultPtr(PQexecParams(conn_, sql.c_str(), params.size(), params.types(),
                                        values.data(), lengths.data(), params.formats(), 1)),
               what);
}

Status Session::command(const char* sql, const std::string& what) {
  auto r = check(PgResultPtr(PQexec(conn_, sql)), what);
  if (!r) return fail(std::move(r).error());
  return ok();
}

Status Session::commit() {
  commit_sent_ = true;
  auto done = command("COMMIT", "commit");
  if (!done && failure_ == Failure::connection) {
    return fail(ErrorCode::io_error,
                done.error().message + "; whether the transaction was committed is unknown");
  }
  return done;
}

Result<PgResultPtr> Session::check(PgResultPtr r, const std::string& what) {
  const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
  const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
  sqlstate_ = state != nullptr ? state : "";
  // Class 08 and admin shutdown (57P01..57P03) end the session server-side.
  if (PQstatus(conn_) != CONNECTION_OK || sqlstate_.starts_with("08") ||
      sqlstate_.starts_with("57P")) {
    failure_ = Failure::connection;
    return fail(ErrorCode::io_error, what + ": lost the connection to the PostgreSQL store (" +
                                         one_line(PQerrorMessage(conn_)) + ")");
  }
  failure_ = sqlstate_ == "40001" || sqlstate_ == "40P01" ? Failure::rolled_back : Failure::other;
  if (sqlstate_ == "23505") {
    return fail(ErrorCode::duplicate_member, what + ": already recorded" + detail_of(r.get()));
  }
  return fail(ErrorCode::io_error, what + ": " + server_message(r.get()));
}

std::string Session::server_message(const PGresult* r) const {
  const char* primary = r != nullptr ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string out = primary != nullptr ? primary : one_line(PQerrorMessage(conn_));
  out += detail_of(r);
  if (const char* hint = r != nullptr ? PQresultErrorField(r, PG_DIAG_MESSAGE_HINT) : nullptr) {
    out += std::string("; ") + hint;
  }
  return out;
}

Result<ConnectionPool::Lease> ConnectionPool::acquire() {
  std::vector<PgConnPtr> dead;  // declared first: closed after the lock is released
  std::unique_lock lock(mutex_);
  if (!available_.wait_for(lock, k_acquire_timeout,
                           [&] { return !idle_.empty() || open_ < capacity_; })) {
    return fail(ErrorCode::io_error,
                "all " + std::to_string(capacity_) + " connections to the PostgreSQL store (" +
                    target_ + ") stayed busy for " + std::to_string(k_acquire_timeout.count()) +
                    " s: raise the pool size or look for slow queries on the server");
  }
  while (!idle_.empty()) {
    PgConnPtr conn = std::move(idle_.back());
    idle_.pop_back();
    if (idle_and_alive(conn.get())) return Lease(this, std::move(conn));
    // Closed by the server (restart, pg_terminate_backend, idle timeout): replace it.
    dead.push_back(std::move(conn));
    --open_;
  }
  ++open_;
  lock.unlock();
  auto conn = connect();
  if (!conn) {
    lock.lock();
    --open_;
    lock.unlock();
    available_.notify_one();
    return fail(std::move(conn).error());
  }
  return Lease(this, std::move(conn).value());
}

Result<PgConnPtr> ConnectionPool::connect() const {
  // Keywords before "dbname" are defaults the DSN (expanded from dbname)
  // overrides. TCP keepalives notice a peer that vanished without closing
  // (a failed-over primary, a dropped NAT entry) in about a minute, not hours.
  const char* const keywords[] = {"fallback_application_name",
                                  "connect_timeout",
                                  "keepalives_idle",
                                  "keepalives_interval",
                                  "keepalives_count",
                                  "dbname",
                                  nullptr};
  const char* const values[] = {"vouchsafe", "10", "30", "10", "3", dsn_.c_str(), nullptr};
  PgConnPtr conn(PQconnectdbParams(keywords, values, 1));
  if (!conn) return fail(ErrorCode::io_error, "out of memory connecting to PostgreSQL");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return fail(ErrorCode::io_error, "cannot connect to the PostgreSQL store (" + target_ +
                                         "): " + one_line(PQerrorMessage(conn.get())) +
                                         "; check that the server runs and the DSN's host, "
                                         "port, user and password");
  }
  // Notices ("already exists, skipping") carry nothing the store acts on.
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  // The audit log is durable when append_audit returns: a role or database
  // default of synchronous_commit=off would silently break that promise.
  Session session(conn.get());
  auto durable = session.exec(
      "SELECT set_config('synchronous_commit', 'on', false) "
      "WHERE current_setting('synchronous_commit') = 'off'",
      Params(), "configure the connection to " + target_);
  if (!durable) return fail(std::move(durable).error());
  return conn;
}

// An idle connection has nothing to read; anything readable is the server's
// goodbye (FATAL message, end of stream), so the connection is not reused.
bool ConnectionPool::idle_and_alive(PGconn* conn) {
  if (PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) != PQTRANS_IDLE) return false;
  pollfd fd{PQsocket(conn), POLLIN, 0};
  return ::poll(&fd, 1, 0) == 0;
}

void ConnectionPool::give_back(PgConnPtr conn) {
  const bool reusable = conn && PQstatus(conn.get()) == CONNECTION_OK &&
                        PQtransactionStatus(conn.get()) == PQTRANS_IDLE;
  {
    std::lock_guard lock(mutex_);
    if (reusable) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }
  available_.notify_one();
}  // a broken conn is closed here, outside the lock

}  // namespace vouchsafe::store::detail
