// SQLite handles for the store backend: prepared statements, lent from a
// cache so that the MASA's short, repeated queries are parsed once.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace vouchsafe::store::detail {

struct DbClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbClose>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

// Creates an empty file of mode 0600 whatever the umask, before SQLite opens
// it (SQLite gives its -wal and -shm files the database file's mode): the
// stores hold audit logs and customers' identities. An existing file is
// left as it is. `what` names the store in messages.
Status create_private_file(const std::string& path, const std::string& what);

// Opens (creating, mode 0600) the store's database file for reading and
// writing, shared by threads. The store has a second connection (its
// writer) to the same database, so `path` must be a file, not ":memory:"
// or a "file:" URI. `what` names the store in messages.
Result<DbPtr> open_database_file(const std::string& path, const std::string& what);

// The store error for the connection's last failure; constraint violations
// on a key become duplicate_member.
Unexpected db_error(sqlite3* db, const std::string& what);

class StatementCache;

// A prepared statement lent to one caller; it goes back to its cache,
// reset and unbound, when the caller is done with it.
class Statement {
 public:
  Statement(sqlite3* db, StmtPtr stmt, StatementCache* home, std::string sql);
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int i, const std::string& v);
  Statement& bind(int i, std::int64_t v);
  Statement& bind(int i, const Bytes& v);
  Statement& bind_null(int i);
  // SQLITE_ROW -> true, SQLITE_DONE -> false.
  Result<bool> step(const std::string& what);
  // Ready to bind and step again.
  void reset();

  [[nodiscard]] std::string text(int col) const;
  [[nodiscard]] std::int64_t integer(int col) const;
  [[nodiscard]] bool is_null(int col) const;
  [[nodiscard]] Bytes blob(int col) const;

 private:
  sqlite3* db_;
  StmtPtr stmt_;
  StatementCache* home_;
  std::string sql_;
};

// Idle prepared statements of one connection, by SQL text. Several threads
// may run the same query at once, so each text keeps a few statements.
// Must be destroyed before the connection it prepares on.
class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  Result<Statement> prepare(const std::string& sql);
  // One statement without results (BEGIN, COMMIT, ...).
  Status run(const std::string& sql, const std::string& what);

 private:
  friend class Statement;
  void give_back(std::string sql, StmtPtr stmt);

  static constexpr std::size_t k_idle_per_text = 8;
  sqlite3* db_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<StmtPtr>> idle_;
};

// A connection for reads that must include every commit made before they
// start (read after the store's writer committed), one read at a time. On
// a connection that threads share, SQLite keeps one read transaction, and
// so one snapshot, open while any statement of any thread is active: under
// concurrent reads such a snapshot can outlive many commits.
class FreshReader {
 public:
  static Result<std::unique_ptr<FreshReader>> open(const std::string& path,
                                                   const std::string& what) {
    ASSIGN_OR_RETURN(auto db, open_database_file(path, what));
    return std::unique_ptr<FreshReader>(new FreshReader(std::move(db)));
  }
  // Runs `read` with the connection's statements and no other statement
  // active on it; the statements it prepares must not outlive it.
  template <typename Read>
  auto read(Read&& read) {
    const std::lock_guard one_at_a_time(mutex_);
    return read(statements_);
  }

 private:
  explicit FreshReader(DbPtr db) : db_(std::move(db)), statements_(db_.get()) {}
  DbPtr db_;
  StatementCache statements_;  // after db_: finalized before the connection closes
  std::mutex mutex_;
};

// Runs body between BEGIN IMMEDIATE and COMMIT on the cache's connection,
// rolling back when it fails. The caller keeps other threads' transactions
// off the connection meanwhile.
template <typename Body>
Status in_transaction(StatementCache& statements, Body&& body) {
  TRY(statements.run("BEGIN IMMEDIATE", "begin"));
  Status done = body();
  if (!done) {
    (void)statements.run("ROLLBACK", "rollback");
    return done;
  }
  return statements.run("COMMIT", "commit");
}

}  // namespace vouchsafe::store::detail
