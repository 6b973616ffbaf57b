// `vouchsafe store migrate | copy`: the asset store the factory and the MASA
// share, its schema and its move from a home's SQLite file to PostgreSQL.
#include <iomanip>
#include <iostream>

#include "cli/commands.h"
#include "factory/authority.h"
#include "factory/home.h"
#include "store/asset_store.h"
#include "store/store_copy.h"

namespace vouchsafe::cli {

int migrate_store_command(const std::string& location) {
  if (!store::names_postgres(location)) {
    // An embedded store migrates whenever it is opened.
    auto opened = store::open_sqlite_store(location);
    if (!opened) return report_error(opened.error());
    std::cout << "The SQLite store " << location << " has the current schema.\n";
    return k_exit_ok;
  }
  auto migrated = store::migrate_postgres_store(location);
  if (!migrated) return report_error(migrated.error());
  if (migrated->from == migrated->to) {
    std::cout << "The PostgreSQL store has the current schema (version " << migrated->to
              << "); nothing to do.\n";
  } else {
    std::cout << "Migrated the PostgreSQL store from schema version " << migrated->from << " to "
              << migrated->to << ".\n";
  }
  return k_exit_ok;
}

namespace {

struct CopyArgs {
  std::string home, to;
};

int copy_command(const CopyArgs& a) {
  auto home = factory::resolve_home(a.home);
  // The source is the home's own file, whatever store is selected.
  home.store.clear();
  auto source = factory::store_location(home);
  if (!source) return report_error(source.error());
  if (store::names_postgres(*source)) {
    return report_error({ErrorCode::usage,
                         "the home's configuration names a PostgreSQL store "
                         "already; `store copy` moves a home's SQLite store"});
  }
  if (!store::names_postgres(a.to)) {
    return report_error({ErrorCode::usage,
                         "--to must be a PostgreSQL DSN (postgresql://... or "
                         "host=... dbname=...)"});
  }
  auto copied = store::copy_sqlite_to_postgres(*source, a.to);
  if (!copied) return report_error(copied.error());
  std::cout << "Copied " << *source << " into the PostgreSQL store; row counts verified:\n";
  for (const auto& t : *copied) {
    std::cout << "  " << std::left << std::setw(24) << t.name << std::right << std::setw(12)
              << t.rows << "\n";
  }
  std::cout << "\nNext: set `store = \"<DSN>\"` under [pki] in " << home.config_file().string()
            << "\n(or VOUCHSAFE_STORE) so that every command and the MASA use it. The SQLite "
               "file is unchanged.\n";
  return k_exit_ok;
}

struct MigrateArgs {
  std::string home;
};

int migrate_command(const MigrateArgs& a) {
  auto location = factory::store_location(factory::resolve_home(a.home));
  if (!location) return report_error(location.error());
  return migrate_store_command(*location);
}

}  // namespace

void add_store_commands(CLI::App& app, Action& action) {
  auto* noun = app.add_subcommand(
      "store",
      "The asset store the factory commands and the MASA share: the home's SQLite file\n"
      "(assets.db), or a PostgreSQL database named by `store` under [pki] in vouchsafe.toml,\n"
      "$VOUCHSAFE_STORE or --store, in that order of precedence, lowest first.");
  noun->require_subcommand(1);

  auto ca = std::make_shared<CopyArgs>();
  auto* copy = noun->add_subcommand(
      "copy",
      "Copy the home's SQLite store (CAs, devices and their events, ownership, the audit log,\n"
      "MASA signers, session-ticket keys) into an empty PostgreSQL database, in one\n"
      "transaction, and check every table's row count before committing. Stop the MASA\n"
      "first: rows written during the copy are not copied. The SQLite file is left as is.");
  copy->add_option("--home", ca->home, k_home_help);
  copy->add_option("--to", ca->to, "The PostgreSQL DSN to copy into (its database must be empty)")
      ->required();
  copy->footer(std::string("\nEXAMPLES:\n"
                           "  vouchsafe store copy --to 'postgresql://vouchsafe@db/assets'\n"
                           "  vouchsafe store copy --to 'host=/run/postgresql dbname=assets'\n") +
               k_exit_codes_help);
  copy->callback([&action, ca] { action = [ca] { return copy_command(*ca); }; });

  auto ma = std::make_shared<MigrateArgs>();
  auto* migrate = noun->add_subcommand(
      "migrate",
      "Bring the selected store's schema up to date. For PostgreSQL this runs under an\n"
      "advisory lock, once for all instances; MASA instances refuse to start on an older\n"
      "schema until it has run. Same as `vouchsafe masa migrate`.");
  migrate->add_option("--home", ma->home, k_home_help);
  migrate->footer(
      std::string("\nEXAMPLES:\n"
                  "  vouchsafe store migrate --store 'postgresql://vouchsafe@db/assets'\n") +
      k_exit_codes_help);
  migrate->callback([&action, ma] { action = [ma] { return migrate_command(*ma); }; });
}

}  // namespace vouchsafe::cli
