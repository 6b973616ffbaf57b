// Picks the asset store backend from the location an operator configured.
#include <string_view>

#include "store/asset_store.h"
#include "store/postgres_handles.h"
#include "store/registrar_store.h"

namespace vouchsafe::store {
namespace {

// "host=...", "dbname=...", "service=...": a key=value DSN starts with a
// keyword libpq knows, which no sensible SQLite file name does.
bool starts_with_libpq_keyword(std::string_view location) {
  const auto eq = location.find('=');
  if (eq == std::string_view::npos) return false;
  auto key = location.substr(0, eq);
  while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
  const PgConninfoPtr defaults(PQconndefaults());
  for (const auto* o = defaults.get(); o != nullptr && o->keyword != nullptr; ++o) {
    if (key == o->keyword) return true;
  }
  return false;
}

}  // namespace

bool names_postgres(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://") ||
         starts_with_libpq_keyword(location);
}

Result<std::unique_ptr<AssetStore>> open_store(const std::string& dsn_or_path,
                                               SchemaChange schema_change,
                                               const std::string& read_dsn) {
  if (names_postgres(dsn_or_path)) {
    return open_postgres_store(dsn_or_path, 4, schema_change, read_dsn);
  }
  if (!read_dsn.empty()) {
    return fail(ErrorCode::usage, "a read replica (--store-read) needs a PostgreSQL store");
  }
  return open_sqlite_store(dsn_or_path);
}

Result<std::unique_ptr<RegistrarStore>> open_registrar_store(const std::string& dsn_or_path) {
  if (names_postgres(dsn_or_path)) return open_postgres_registrar_store(dsn_or_path);
  return open_sqlite_registrar_store(dsn_or_path);
}

}  // namespace vouchsafe::store
