// SQLite to PostgreSQL, table by table with COPY: one transaction, the
// rows' own ids, and row counts checked before the commit.
#include "store/store_copy.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>
#include <string_view>

#include "store/asset_store.h"
#include "store/detail/sqlite_statement.h"
#include "store/postgres_handles.h"

namespace vouchsafe::store {
namespace {

using detail::DbPtr;
using detail::StmtPtr;

// Parents before children (foreign keys). store_health is one row each
// backend makes for itself; the schema bookkeeping is each backend's own.
constexpr std::array k_tables = {"certificate_authority", "device",      "device_event",
                                 "owner_anchor",          "audit_entry", "masa_signer",
                                 "tls_ticket_key"};
constexpr std::array k_not_copied = {"store_health"};
// Tables whose id is an identity column: its sequence continues after the
// copied ids.
constexpr std::array k_identity_tables = {"device_event", "owner_anchor", "audit_entry",
                                          "masa_signer"};
// Tables whose SQLite form has no id column: SQLite's rowid, in insertion
// order, becomes the PostgreSQL id.
constexpr std::array k_rowid_tables = {"device_event", "owner_anchor"};
constexpr std::size_t k_copy_chunk = 1U << 20U;

Unexpected sqlite_failure(sqlite3* db, const std::string& what) {
  return fail(ErrorCode::io_error,
              "cannot " + what + " in the SQLite store: " + sqlite3_errmsg(db));
}

Unexpected pg_failure(PGconn* conn, const std::string& what) {
  std::string message = PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return fail(ErrorCode::io_error, "cannot " + what + " in the PostgreSQL store: " + message);
}

Result<StmtPtr> prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return sqlite_failure(db, "prepare \"" + sql + "\"");
  }
  return StmtPtr(raw);
}

Result<std::vector<std::string>> sqlite_strings(sqlite3* db, const std::string& sql, int column) {
  ASSIGN_OR_RETURN(auto s, prepare(db, sql));
  std::vector<std::string> out;
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(s.get(), column);
    out.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
  }
  if (rc != SQLITE_DONE) return sqlite_failure(db, "run \"" + sql + "\"");
  return out;
}

Result<std::int64_t> sqlite_count(sqlite3* db, const std::string& table) {
  ASSIGN_OR_RETURN(auto s, prepare(db, "SELECT count(*) FROM " + table));
  if (sqlite3_step(s.get()) != SQLITE_ROW) return sqlite_failure(db, "count the rows of " + table);
  return sqlite3_column_int64(s.get(), 0);
}

Result<PgResultPtr> pg_exec(PGconn* conn, const std::string& sql, const std::string& what,
                            ExecStatusType wanted = PGRES_COMMAND_OK) {
  PgResultPtr r(PQexec(conn, sql.c_str()));
  if (!r || PQresultStatus(r.get()) != wanted) return pg_failure(conn, what);
  return r;
}

Result<std::int64_t> pg_count(PGconn* conn, const std::string& table) {
  ASSIGN_OR_RETURN(auto r, pg_exec(conn, "SELECT count(*) FROM " + table,
                                   "count the rows of " + table, PGRES_TUPLES_OK));
  return std::stoll(PQgetvalue(r.get(), 0, 0));
}

Result<std::set<std::string>> pg_columns(PGconn* conn, const std::string& table) {
  ASSIGN_OR_RETURN(auto r, pg_exec(conn,
                                   "SELECT column_name FROM information_schema.columns "
                                   "WHERE table_schema = current_schema() AND table_name = '" +
                                       table + "'",
                                   "read the columns of " + table, PGRES_TUPLES_OK));
  std::set<std::string> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) out.insert(PQgetvalue(r.get(), i, 0));
  return out;
}

// One value in COPY's text format: \N for NULL, bytea as \\x-hex, text
// with its backslashes and control characters escaped.
void append_copy_value(sqlite3_stmt* s, int column, std::string& out) {
  switch (sqlite3_column_type(s, column)) {
    case SQLITE_NULL:
      out += "\\N";
      return;
    case SQLITE_INTEGER:
      out += std::to_string(sqlite3_column_int64(s, column));
      return;
    case SQLITE_FLOAT: {
      std::array<char, 32> buffer{};
      (void)std::snprintf(buffer.data(), buffer.size(), "%.17g", sqlite3_column_double(s, column));
      out += buffer.data();
      return;
    }
    case SQLITE_BLOB: {
      const auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(s, column));
      const int size = sqlite3_column_bytes(s, column);
      static constexpr std::string_view k_hex = "0123456789abcdef";
      out += "\\\\x";
      for (int i = 0; i < size; ++i) {
        out += k_hex[data[i] >> 4U];
        out += k_hex[data[i] & 0xFU];
      }
      return;
    }
    default: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, column));
      const int size = sqlite3_column_bytes(s, column);
      for (int i = 0; i < size; ++i) {
        switch (text[i]) {
          case '\\':
            out += "\\\\";
            break;
          case '\n':
            out += "\\n";
            break;
          case '\r':
            out += "\\r";
            break;
          case '\t':
            out += "\\t";
            break;
          default:
            out += text[i];
        }
      }
    }
  }
}

Status put_copy_data(PGconn* conn, std::string& buffer, const std::string& table) {
  if (PQputCopyData(conn, buffer.data(), static_cast<int>(buffer.size())) != 1) {
    return pg_failure(conn, "copy rows into " + table);
  }
  buffer.clear();
  return ok();
}

// The table's rows, streamed from the source into COPY on the target.
Status copy_table(sqlite3* source, PGconn* target, const std::string& table) {
  ASSIGN_OR_RETURN(
      auto columns,
      sqlite_strings(source, "SELECT name FROM pragma_table_info('" + table + "')", 0));
  ASSIGN_OR_RETURN(auto target_columns, pg_columns(target, table));
  std::vector<std::string> selected = columns;
  if (std::find(k_rowid_tables.begin(), k_rowid_tables.end(), table) != k_rowid_tables.end()) {
    columns.emplace_back("id");
    selected.emplace_back("rowid");
  }
  const std::set<std::string> source_columns(columns.begin(), columns.end());
  if (source_columns != target_columns) {
    return fail(ErrorCode::io_error, "the columns of table " + table +
                                         " differ between the SQLite and the PostgreSQL store; "
                                         "nothing was copied");
  }
  std::string list;
  for (const auto& c : columns) list += (list.empty() ? "" : ", ") + c;
  ASSIGN_OR_RETURN(auto started, pg_exec(target, "COPY " + table + " (" + list + ") FROM STDIN",
                                         "start copying " + table, PGRES_COPY_IN));
  std::string select;
  for (const auto& c : selected) select += (select.empty() ? "" : ", ") + c;
  ASSIGN_OR_RETURN(auto rows,
                   prepare(source, "SELECT " + select + " FROM " + table + " ORDER BY rowid"));
  std::string buffer;
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(rows.get())) == SQLITE_ROW) {
    for (int i = 0; i < static_cast<int>(columns.size()); ++i) {
      if (i > 0) buffer += '\t';
      append_copy_value(rows.get(), i, buffer);
    }
    buffer += '\n';
    if (buffer.size() >= k_copy_chunk) TRY(put_copy_data(target, buffer, table));
  }
  if (rc != SQLITE_DONE) {
    (void)PQputCopyEnd(target, "the source could not be read");
    return sqlite_failure(source, "read table " + table);
  }
  if (!buffer.empty()) TRY(put_copy_data(target, buffer, table));
  if (PQputCopyEnd(target, nullptr) != 1) return pg_failure(target, "finish copying " + table);
  PgResultPtr done(PQgetResult(target));
  if (!done || PQresultStatus(done.get()) != PGRES_COMMAND_OK) {
    return pg_failure(target, "copy rows into " + table);
  }
  while (PgResultPtr(PQgetResult(target))) {
  }
  return ok();
}

// Every source table is one this build copies or deliberately leaves.
Status check_source_tables(sqlite3* source) {
  ASSIGN_OR_RETURN(auto tables,
                   sqlite_strings(source,
                                  "SELECT name FROM sqlite_master WHERE type = 'table' "
                                  "AND name NOT LIKE 'sqlite_%' ORDER BY name",
                                  0));
  for (const auto& t : tables) {
    const bool known = std::find(k_tables.begin(), k_tables.end(), t) != k_tables.end() ||
                       std::find(k_not_copied.begin(), k_not_copied.end(), t) != k_not_copied.end();
    if (!known) {
      return fail(ErrorCode::io_error, "the SQLite store has a table this vouchsafe cannot copy (" +
                                           t + "); nothing was copied");
    }
  }
  return ok();
}

Result<std::vector<CopiedTable>> copy_all(sqlite3* source, PGconn* target) {
  for (const char* table : k_tables) {
    ASSIGN_OR_RETURN(auto rows, pg_count(target, table));
    if (rows != 0) {
      return fail(ErrorCode::usage, std::string("the PostgreSQL store is not empty (table ") +
                                        table + " has " + std::to_string(rows) +
                                        " rows); copy only into a new database");
    }
  }
  std::vector<CopiedTable> copied;
  for (const char* table : k_tables) {
    TRY(copy_table(source, target, table));
    ASSIGN_OR_RETURN(auto expected, sqlite_count(source, table));
    ASSIGN_OR_RETURN(auto got, pg_count(target, table));
    if (got != expected) {
      return fail(ErrorCode::io_error, std::string("table ") + table + " has " +
                                           std::to_string(got) + " rows in the PostgreSQL store " +
                                           "and " + std::to_string(expected) +
                                           " in the SQLite store; nothing was copied");
    }
    copied.push_back({table, got});
  }
  for (const char* table : k_identity_tables) {
    const std::string t = table;
    TRY(pg_exec(target,
                "SELECT setval(pg_get_serial_sequence('" + t + "', 'id'), max(id)) FROM " + t,
                "continue the ids of " + t, PGRES_TUPLES_OK));
  }
  return copied;
}

}  // namespace

Result<std::vector<CopiedTable>> copy_sqlite_to_postgres(const std::string& sqlite_path,
                                                         const std::string& dsn) {
  // Both schemas current, by the backends' own migrations.
  TRY(open_sqlite_store(sqlite_path));
  TRY(open_postgres_store(dsn, 1));

  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(sqlite_path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  const DbPtr source(raw);
  if (rc != SQLITE_OK) return sqlite_failure(raw, "open " + sqlite_path);
  sqlite3_busy_timeout(source.get(), 10000);
  TRY(check_source_tables(source.get()));

  const PgConnPtr target(PQconnectdb(dsn.c_str()));
  if (PQstatus(target.get()) != CONNECTION_OK) return pg_failure(target.get(), "connect");
  // One snapshot of the source, one transaction on the target.
  ASSIGN_OR_RETURN(auto snapshot, prepare(source.get(), "BEGIN"));
  if (sqlite3_step(snapshot.get()) != SQLITE_DONE) {
    return sqlite_failure(source.get(), "begin a read");
  }
  TRY(pg_exec(target.get(), "BEGIN ISOLATION LEVEL SERIALIZABLE", "begin the copy"));
  auto copied = copy_all(source.get(), target.get());
  if (!copied) {
    (void)pg_exec(target.get(), "ROLLBACK", "roll back the copy");
    return copied;
  }
  TRY(pg_exec(target.get(), "COMMIT", "commit the copy"));
  return copied;
}

}  // namespace vouchsafe::store
