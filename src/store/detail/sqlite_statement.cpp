// Prepared statements and their cache.
#include "store/detail/sqlite_statement.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vouchsafe::store::detail {

Status create_private_file(const std::string& path, const std::string& what) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return ok();
    return fail(ErrorCode::io_error,
                "cannot create " + what + " " + path + ": " + std::strerror(errno));
  }
  const bool moded = ::fchmod(fd, 0600) == 0;
  ::close(fd);
  if (!moded) {
    return fail(ErrorCode::io_error,
                "cannot chmod " + what + " " + path + ": " + std::strerror(errno));
  }
  return ok();
}

Unexpected db_error(sqlite3* db, const std::string& what) {
  const int code = sqlite3_extended_errcode(db);
  if (code == SQLITE_CONSTRAINT_PRIMARYKEY || code == SQLITE_CONSTRAINT_UNIQUE) {
    return fail(ErrorCode::duplicate_member, what + ": already recorded");
  }
  return fail(ErrorCode::io_error, what + ": " + sqlite3_errmsg(db));
}

Statement::Statement(sqlite3* db, StmtPtr stmt, StatementCache* home, std::string sql)
    : db_(db), stmt_(std::move(stmt)), home_(home), sql_(std::move(sql)) {}

Statement::~Statement() {
  if (!stmt_ || home_ == nullptr) return;
  reset();
  home_->give_back(std::move(sql_), std::move(stmt_));
}

Statement& Statement::bind(int i, const std::string& v) {
  sqlite3_bind_text(stmt_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_.get(), i, v);
  return *this;
}

Statement& Statement::bind(int i, const Bytes& v) {
  sqlite3_bind_blob(stmt_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_null(int i) {
  sqlite3_bind_null(stmt_.get(), i);
  return *this;
}

Result<bool> Statement::step(const std::string& what) {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_error(db_, what);
}

void Statement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

std::string Statement::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_.get(), col);
  return p != nullptr
             ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), col)))
             : std::string();
}

std::int64_t Statement::integer(int col) const {
  return sqlite3_column_int64(stmt_.get(), col);
}

bool Statement::is_null(int col) const {
  return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL;
}

Bytes Statement::blob(int col) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_.get(), col));
  return p != nullptr ? Bytes(p, p + sqlite3_column_bytes(stmt_.get(), col)) : Bytes();
}

Result<Statement> StatementCache::prepare(const std::string& sql) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = idle_.find(sql); it != idle_.end() && !it->second.empty()) {
      StmtPtr stmt = std::move(it->second.back());
      it->second.pop_back();
      return Statement(db_, std::move(stmt), this, sql);
    }
  }
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) !=
      SQLITE_OK) {
    return db_error(db_, "prepare statement");
  }
  return Statement(db_, StmtPtr(raw), this, sql);
}

Status StatementCache::run(const std::string& sql, const std::string& what) {
  ASSIGN_OR_RETURN(auto s, prepare(sql));
  TRY(s.step(what));
  return ok();
}

void StatementCache::give_back(std::string sql, StmtPtr stmt) {
  std::lock_guard lock(mutex_);
  auto& idle = idle_[std::move(sql)];
  if (idle.size() < k_idle_per_text) idle.push_back(std::move(stmt));
}

Result<DbPtr> open_database_file(const std::string& path, const std::string& what) {
  if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0) {
    return fail(ErrorCode::usage, what + " must be a file path, not '" + path + "'");
  }
  TRY(create_private_file(path, what));
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return fail(ErrorCode::io_error, "cannot open " + what + " " + path + ": " +
                                         (raw != nullptr ? sqlite3_errmsg(raw) : "out of memory"));
  }
  return db;
}

}  // namespace vouchsafe::store::detail
