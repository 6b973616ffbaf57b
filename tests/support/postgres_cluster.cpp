// Per-test databases in the tests' throw-away PostgreSQL cluster.
#include "support/postgres_cluster.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "store/postgres_handles.h"

namespace vouchsafe::testing {
namespace {

using store::PgCharPtr;
using store::PgConninfoPtr;
using store::PgConnPtr;
using store::PgResultPtr;

// key='value' with libpq's quoting (backslash before ' and \).
std::string quoted(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// The base DSN with dbname (and user, if given) replaced; works for URIs and
// key=value DSNs alike because libpq parses it.
Result<std::string> derive_dsn(const std::string& base, const std::string& dbname,
                               const std::string& user) {
  char* raw_error = nullptr;
  PgConninfoPtr options(PQconninfoParse(base.c_str(), &raw_error));
  PgCharPtr error(raw_error);
  if (!options) {
    return fail(ErrorCode::usage, std::string(k_postgres_dsn_variable) + " is not a libpq DSN: " +
                                      (error ? error.get() : "out of memory"));
  }
  std::string out;
  for (const auto* o = options.get(); o->keyword != nullptr; ++o) {
    const std::string_view key = o->keyword;
    if (o->val == nullptr || key == "dbname" || (key == "user" && !user.empty())) continue;
    out += std::string(key) + '=' + quoted(o->val) + ' ';
  }
  if (!user.empty()) out += "user=" + quoted(user) + ' ';
  return out + "dbname=" + quoted(dbname);
}

Result<PgConnPtr> connect(const std::string& dsn) {
  PgConnPtr conn(PQconnectdb(dsn.c_str()));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    return fail(ErrorCode::io_error, "cannot connect to the test cluster: " +
                                         std::string(conn ? PQerrorMessage(conn.get()) : ""));
  }
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

Result<PgResultPtr> run(const std::string& dsn, const std::string& sql) {
  ASSIGN_OR_RETURN(auto conn, connect(dsn));
  PgResultPtr r(PQexec(conn.get(), sql.c_str()));
  const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return fail(ErrorCode::io_error, sql + ": " + PQerrorMessage(conn.get()));
  }
  return r;
}

// Database names stop at 63 bytes: a readable prefix and a hash of the rest.
std::string database_name(const std::string& label) {
  std::string name = "vs_";
  for (char c : label) {
    if (name.size() >= 44) break;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    name += (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
  }
  std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a
  for (char c : label) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  constexpr const char* k_hex = "0123456789abcdef";
  name += '_';
  for (int i = 0; i < 12; ++i) name += k_hex[(hash >> (4 * i)) & 0xFU];
  return name;
}

}  // namespace

Result<TestDatabase> TestDatabase::create(const std::string& label) {
  const char* base = std::getenv(k_postgres_dsn_variable);
  if (base == nullptr || *base == '\0') {
    return fail(ErrorCode::usage,
                std::string(k_postgres_dsn_variable) +
                    " is not set: run the store tests through ctest, whose \"postgres\" fixture "
                    "starts a throw-away cluster (tests/support/postgres-cluster.sh), or set it "
                    "to a DSN of a PostgreSQL role that may create databases");
  }
  const std::string name = database_name(label);
  TRY(run(base, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"));
  TRY(run(base, "CREATE DATABASE " + name));
  ASSIGN_OR_RETURN(auto dsn, derive_dsn(base, name, ""));
  return TestDatabase(base, name, std::move(dsn));
}

TestDatabase::TestDatabase(std::string admin_dsn, std::string name, std::string dsn)
    : admin_dsn_(std::move(admin_dsn)), name_(std::move(name)), dsn_(std::move(dsn)) {}

TestDatabase::TestDatabase(TestDatabase&& other) noexcept
    : admin_dsn_(std::move(other.admin_dsn_)),
      name_(std::move(other.name_)),
      dsn_(std::move(other.dsn_)) {
  other.name_.clear();
}

TestDatabase::~TestDatabase() {
  if (!name_.empty()) (void)run(admin_dsn_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
}

std::string TestDatabase::dsn_as(const std::string& user) const {
  auto dsn = derive_dsn(admin_dsn_, name_, user);
  return dsn ? *dsn : dsn_;
}

Status TestDatabase::exec(const std::string& sql) const {
  TRY(run(dsn_, sql));
  return ok();
}

Status TestDatabase::exec_as(const std::string& user, const std::string& sql) const {
  TRY(run(dsn_as(user), sql));
  return ok();
}

Result<std::string> TestDatabase::query(const std::string& sql) const {
  ASSIGN_OR_RETURN(auto r, run(dsn_, sql));
  if (PQntuples(r.get()) < 1 || PQnfields(r.get()) < 1) {
    return fail(ErrorCode::invalid_value, sql + ": no rows");
  }
  return std::string(PQgetvalue(r.get(), 0, 0));
}

}  // namespace vouchsafe::testing
