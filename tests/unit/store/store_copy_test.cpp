// One store for every command: the two backends' schemas agree, a home's
// SQLite store moves into PostgreSQL whole, and a MASA instance refuses a
// PostgreSQL schema it would have to migrate.
#include "store/store_copy.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "store/asset_store.h"
#include "support/postgres_cluster.h"

namespace vouchsafe::store {
namespace {

namespace fs = std::filesystem;

class SqliteToPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("vouchsafe-copy-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    sqlite_path_ = (dir_ / "assets.db").string();
    auto db = testing::TestDatabase::create(std::string("StoreCopy.") + info->name());
    ASSERT_TRUE(db) << db.error().message;
    db_.emplace(std::move(db).value());
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }

  // A home's store with a row in every table.
  void fill_source() {
    auto s = open_sqlite_store(sqlite_path_);
    ASSERT_TRUE(s) << s.error().message;
    CaRecord ca;
    ca.name = "factory-a";
    ca.certificate_der = {1, 2, 3, 0, 0x5c, 0x09};  // a NUL, a backslash, a tab
    ca.key_reference = "keys/factory-a.pem";
    ca.created_at = 100;
    ASSERT_TRUE((*s)->add_ca(ca));
    std::vector<DeviceRecord> devices;
    for (int i = 1; i <= 3; ++i) {
      DeviceRecord d;
      d.serial = "WG-A-" + std::to_string(i);
      d.product = "widget";
      d.issuing_ca = "factory-a";
      d.certificate_der = Bytes(300, static_cast<std::uint8_t>(i));
      d.key_mode = KeyMode::seed;
      d.issued_at = 200 + i;
      d.masa_key_id = i == 2 ? "widget-1" : "";
      devices.push_back(d);
    }
    ASSERT_TRUE((*s)->add_devices(devices));
    ASSERT_TRUE((*s)->set_stolen("WG-A-2", true, "reported\nby\tphone \\ 2", 300));
    ASSERT_TRUE((*s)->set_ownership_policy("WG-A-1", OwnershipPolicy::known_customer));
    ASSERT_TRUE((*s)->add_owner_anchor("WG-A-1", Bytes{0x30, 0x03, 0x02, 0x01, 0x07}, false));
    ASSERT_TRUE(
        (*s)->append_audit("WG-A-1", {400, "domain-a", std::string("n1"), "verified", "f"}));
    ASSERT_TRUE((*s)->append_audit("WG-A-1", {401, "domain-a", std::nullopt, "logged", "f"}));
    ASSERT_TRUE((*s)->add_masa_signer({0, "widget", "masa/widget.pem", "-----PEM-----\n", 500}));
    ASSERT_TRUE((*s)->add_ticket_key({7, Bytes(80, 0xAB)}, 7));
  }

  fs::path dir_;
  std::string sqlite_path_;
  std::optional<testing::TestDatabase> db_;
};

TEST_F(SqliteToPostgres, CopiesEveryRowAndTheIdsContinue) {
  fill_source();
  auto copied = copy_sqlite_to_postgres(sqlite_path_, db_->dsn());
  ASSERT_TRUE(copied) << copied.error().message;
  std::map<std::string, std::int64_t> rows;
  for (const auto& t : *copied) rows[t.name] = t.rows;
  EXPECT_EQ(rows["certificate_authority"], 1);
  EXPECT_EQ(rows["device"], 3);
  EXPECT_EQ(rows["owner_anchor"], 1);
  EXPECT_EQ(rows["audit_entry"], 2);
  EXPECT_EQ(rows["masa_signer"], 1);
  EXPECT_EQ(rows["tls_ticket_key"], 1);
  EXPECT_GE(rows["device_event"], 1);  // the stolen report at least

  auto target = open_postgres_store(db_->dsn(), 1, SchemaChange::refuse);
  ASSERT_TRUE(target) << target.error().message;
  auto& t = **target;
  auto ca = t.find_ca("factory-a");
  ASSERT_TRUE(ca && *ca);
  EXPECT_EQ((*ca)->certificate_der, (Bytes{1, 2, 3, 0, 0x5c, 0x09}));
  EXPECT_EQ((*ca)->key_reference, "keys/factory-a.pem");
  auto device = t.find_device("WG-A-2");
  ASSERT_TRUE(device && *device);
  EXPECT_EQ((*device)->certificate_der, Bytes(300, 2));
  EXPECT_EQ((*device)->masa_key_id, "widget-1");
  auto stolen = t.device_status("WG-A-2");
  ASSERT_TRUE(stolen);
  EXPECT_TRUE(stolen->stolen);
  auto owned = t.device_status("WG-A-1");
  ASSERT_TRUE(owned);
  EXPECT_EQ(owned->ownership, OwnershipPolicy::known_customer);
  ASSERT_EQ(owned->owner_anchors.size(), 1U);
  auto log = t.audit_log("WG-A-1");
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 2U);
  EXPECT_EQ((*log)[0].nonce, "n1");
  EXPECT_FALSE((*log)[1].nonce);
  // The audit log goes on after the copied entries, in order.
  ASSERT_TRUE(t.append_audit("WG-A-1", {402, "domain-b", std::string("n3"), "verified", "g"}));
  log = t.audit_log("WG-A-1");
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 3U);
  EXPECT_EQ((*log)[2].nonce, "n3");
  auto keys = t.ticket_keys(0);
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 1U);
  EXPECT_EQ((*keys)[0].material, Bytes(80, 0xAB));
}

TEST_F(SqliteToPostgres, RefusesATargetThatHoldsRows) {
  fill_source();
  {
    auto target = open_postgres_store(db_->dsn());
    ASSERT_TRUE(target);
    CaRecord other;
    other.name = "other";
    other.certificate_der = {4};
    ASSERT_TRUE((*target)->add_ca(other));
  }
  auto copied = copy_sqlite_to_postgres(sqlite_path_, db_->dsn());
  ASSERT_FALSE(copied);
  EXPECT_NE(copied.error().message.find("not empty"), std::string::npos) << copied.error().message;
  auto count = db_->query("SELECT count(*) FROM certificate_authority");
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, "1");
}

// The two backends' migrations must end at the same tables and columns: a
// store copied from one to the other loses nothing.
TEST_F(SqliteToPostgres, BothBackendsEndAtTheSameTablesAndColumns) {
  ASSERT_TRUE(open_sqlite_store(sqlite_path_));
  ASSERT_TRUE(open_postgres_store(db_->dsn()));
  std::map<std::string, std::set<std::string>> sqlite_schema;
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(sqlite_path_.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db.get(),
                         "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p "
                         "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
                         -1, &s, nullptr),
      SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW) {
    sqlite_schema[reinterpret_cast<const char*>(sqlite3_column_text(s, 0))].insert(
        reinterpret_cast<const char*>(sqlite3_column_text(s, 1)));
  }
  sqlite3_finalize(s);
  ASSERT_FALSE(sqlite_schema.empty());
  // The one difference by design: these SQLite tables number their rows
  // with the implicit rowid, which `store copy` carries over as the id.
  for (const char* table : {"device_event", "owner_anchor"}) {
    EXPECT_FALSE(sqlite_schema[table].contains("id")) << table;
    sqlite_schema[table].insert("id");
  }
  std::map<std::string, std::set<std::string>> postgres_schema;
  auto listing = db_->query(
      "SELECT string_agg(table_name || '.' || column_name, ' ') FROM information_schema.columns "
      "WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'");
  ASSERT_TRUE(listing) << listing.error().message;
  std::istringstream words(*listing);
  for (std::string w; words >> w;) {
    const auto dot = w.find('.');
    postgres_schema[w.substr(0, dot)].insert(w.substr(dot + 1));
  }
  EXPECT_EQ(sqlite_schema, postgres_schema);
}

TEST_F(SqliteToPostgres, AnInstanceRefusesAnOldSchemaUntilItIsMigratedOnce) {
  auto refused = open_postgres_store(db_->dsn(), 1, SchemaChange::refuse);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("vouchsafe masa migrate"), std::string::npos)
      << refused.error().message;
  // Nothing was created by the refusal.
  auto tables = db_->query(
      "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()");
  ASSERT_TRUE(tables);
  EXPECT_EQ(*tables, "0");

  auto first = migrate_postgres_store(db_->dsn());
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->from, 0);
  EXPECT_GT(first->to, 0);
  auto again = migrate_postgres_store(db_->dsn());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->from, again->to);
  EXPECT_TRUE(open_postgres_store(db_->dsn(), 1, SchemaChange::refuse));

  // A schema from a newer vouchsafe is refused too.
  ASSERT_TRUE(db_->exec("INSERT INTO schema_migrations (version) VALUES (" +
                        std::to_string(first->to + 1) + ")"));
  auto newer = open_postgres_store(db_->dsn(), 1, SchemaChange::refuse);
  ASSERT_FALSE(newer);
  EXPECT_NE(newer.error().message.find("newer"), std::string::npos) << newer.error().message;
}

}  // namespace
}  // namespace vouchsafe::store
