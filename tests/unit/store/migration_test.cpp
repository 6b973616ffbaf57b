// A store written by the previous release (schema version 2, before key
// mode 'imported') is brought up to date on open with every device, flag,
// anchor and audit entry intact, its index and foreign keys still in force,
// and then records imported devices. Run against both backends.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "store/asset_store.h"
#include "support/postgres_cluster.h"

namespace vouchsafe::store {
namespace {

enum class Backend { sqlite, postgres };
void PrintTo(Backend backend, std::ostream* out) {
  *out << (backend == Backend::sqlite ? "sqlite" : "postgres");
}

// Schema version 2 as it shipped (migrations 1 and 2 of each backend),
// frozen here: the code under test no longer creates it.
constexpr const char* k_sqlite_v2 = R"(
  CREATE TABLE certificate_authority (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('root', 'issuing')),
    factory TEXT NOT NULL DEFAULT '',
    product TEXT NOT NULL DEFAULT '',
    certificate BLOB NOT NULL,
    key_path TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
    issued_count INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    retired_at INTEGER,
    max_certificates INTEGER NOT NULL DEFAULT 0,
    max_age_seconds INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE device (
    serial TEXT PRIMARY KEY,
    product TEXT NOT NULL,
    issuing_ca TEXT NOT NULL REFERENCES certificate_authority(name),
    certificate BLOB NOT NULL,
    key_mode TEXT NOT NULL CHECK (key_mode IN ('csr', 'generated', 'seed', 'dice')),
    issued_at INTEGER NOT NULL,
    reissue_count INTEGER NOT NULL DEFAULT 0,
    reissue_reason TEXT NOT NULL DEFAULT '');
  CREATE INDEX device_by_product ON device(product);
  CREATE TABLE device_event (
    serial TEXT NOT NULL REFERENCES device(serial),
    at INTEGER NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '');
  ALTER TABLE device ADD COLUMN stolen INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE device ADD COLUMN ownership TEXT
    CHECK (ownership IS NULL OR ownership IN ('open', 'known-customer'));
  CREATE TABLE owner_anchor (
    serial TEXT NOT NULL REFERENCES device(serial),
    certificate BLOB NOT NULL,
    PRIMARY KEY (serial, certificate));
  CREATE TABLE audit_entry (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    serial TEXT NOT NULL REFERENCES device(serial),
    date INTEGER NOT NULL,
    domain_id TEXT NOT NULL,
    nonce TEXT,
    assertion TEXT NOT NULL,
    registrar_fingerprint TEXT NOT NULL DEFAULT '');
  CREATE INDEX audit_entry_by_serial ON audit_entry(serial, id);
  CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  PRAGMA user_version = 2;
  INSERT INTO certificate_authority (name, role, certificate, key_path, status, issued_count,
                                     created_at)
    VALUES ('factory-a', 'issuing', X'010203', 'keys/a.pem', 'active', 2, 100);
  INSERT INTO device VALUES ('W-A-1', 'widget', 'factory-a', X'0909', 'seed', 200, 1, 'flash',
                             1, 'known-customer');
  INSERT INTO device VALUES ('W-A-2', 'gadget', 'factory-a', X'0808', 'csr', 201, 0, '', 0, NULL);
  INSERT INTO device_event VALUES ('W-A-1', 300, 'reported-stolen', 'case 1');
  INSERT INTO owner_anchor VALUES ('W-A-1', X'0102');
  INSERT INTO audit_entry (serial, date, domain_id, nonce, assertion, registrar_fingerprint)
    VALUES ('W-A-1', 400, 'domain-a', 'nonce-1', 'proximity', 'ab'),
           ('W-A-1', 500, 'domain-b', NULL, 'logged', 'cd');
)";

constexpr const char* k_postgres_v2 = R"(
  CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,
                                  applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
  CREATE TABLE certificate_authority (
    name TEXT COLLATE "C" PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('root', 'issuing')),
    factory TEXT NOT NULL DEFAULT '',
    product TEXT NOT NULL DEFAULT '',
    certificate BYTEA NOT NULL,
    key_path TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
    issued_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    max_certificates BIGINT NOT NULL DEFAULT 0,
    max_age_seconds BIGINT NOT NULL DEFAULT 0);
  CREATE TABLE device (
    serial TEXT COLLATE "C" PRIMARY KEY,
    product TEXT NOT NULL,
    issuing_ca TEXT COLLATE "C" NOT NULL REFERENCES certificate_authority(name),
    certificate BYTEA NOT NULL,
    key_mode TEXT NOT NULL CHECK (key_mode IN ('csr', 'generated', 'seed', 'dice')),
    issued_at BIGINT NOT NULL,
    reissue_count INTEGER NOT NULL DEFAULT 0,
    reissue_reason TEXT NOT NULL DEFAULT '');
  CREATE INDEX device_by_product ON device(product);
  CREATE TABLE device_event (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial TEXT COLLATE "C" NOT NULL REFERENCES device(serial),
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '');
  ALTER TABLE device ADD COLUMN stolen BOOLEAN NOT NULL DEFAULT false;
  ALTER TABLE device ADD COLUMN ownership TEXT
    CHECK (ownership IS NULL OR ownership IN ('open', 'known-customer'));
  CREATE TABLE owner_anchor (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial TEXT COLLATE "C" NOT NULL REFERENCES device(serial),
    certificate BYTEA NOT NULL);
  CREATE UNIQUE INDEX owner_anchor_once ON owner_anchor (serial, sha256(certificate));
  CREATE TABLE audit_entry (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial TEXT COLLATE "C" NOT NULL REFERENCES device(serial),
    date BIGINT NOT NULL,
    domain_id TEXT NOT NULL,
    nonce TEXT,
    assertion TEXT NOT NULL,
    registrar_fingerprint TEXT NOT NULL DEFAULT '');
  CREATE INDEX audit_entry_by_serial ON audit_entry(serial, id);
  CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP;
    END $$;
  CREATE TRIGGER audit_entry_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only();
  INSERT INTO schema_migrations (version) VALUES (1), (2);
  INSERT INTO certificate_authority (name, role, certificate, key_path, status, issued_count,
                                     created_at)
    VALUES ('factory-a', 'issuing', '\x010203', 'keys/a.pem', 'active', 2, 100);
  INSERT INTO device VALUES ('W-A-1', 'widget', 'factory-a', '\x0909', 'seed', 200, 1, 'flash',
                             true, 'known-customer');
  INSERT INTO device VALUES ('W-A-2', 'gadget', 'factory-a', '\x0808', 'csr', 201, 0, '', false,
                             NULL);
  INSERT INTO device_event (serial, at, event, detail)
    VALUES ('W-A-1', 300, 'reported-stolen', 'case 1');
  INSERT INTO owner_anchor (serial, certificate) VALUES ('W-A-1', '\x0102');
  INSERT INTO audit_entry (serial, date, domain_id, nonce, assertion, registrar_fingerprint)
    VALUES ('W-A-1', 400, 'domain-a', 'nonce-1', 'proximity', 'ab'),
           ('W-A-1', 500, 'domain-b', NULL, 'logged', 'cd');
)";

struct SqliteClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqlitePtr = std::unique_ptr<sqlite3, SqliteClose>;

class StoreMigration : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string label = std::string("StoreMigration.") + info->name();
    if (GetParam() == Backend::sqlite) {
      dir_ = std::filesystem::temp_directory_path() /
             ("vouchsafe-migration-" + std::to_string(::getpid()) + "-" +
              std::to_string(std::hash<std::string>{}(label)));
      std::filesystem::remove_all(dir_);
      std::filesystem::create_directories(dir_);
      location_ = (dir_ / "store.db").string();
    } else {
      auto db = testing::TestDatabase::create(label);
      ASSERT_TRUE(db) << db.error().message;
      db_.emplace(std::move(db).value());
      location_ = db_->dsn();
    }
  }
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  Result<std::unique_ptr<AssetStore>> open() {
    return GetParam() == Backend::sqlite ? open_sqlite_store(location_)
                                         : open_postgres_store(location_);
  }

  // The first column of the first row of a query, as text, straight from
  // the database.
  std::string query(const std::string& sql) {
    if (GetParam() == Backend::postgres) {
      auto r = db_->query(sql);
      EXPECT_TRUE(r) << r.error().message;
      return r ? *r : std::string();
    }
    SqlitePtr db = open_raw();
    sqlite3_stmt* raw = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &raw, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db.get());
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, sqlite3_finalize);
    if (sqlite3_step(stmt.get()) != SQLITE_ROW) return {};
    const auto* text = sqlite3_column_text(stmt.get(), 0);
    return text ? reinterpret_cast<const char*>(text) : "";
  }

  void write_version_2() {
    if (GetParam() == Backend::postgres) {
      ASSERT_TRUE(db_->exec(k_postgres_v2));
      return;
    }
    SqlitePtr db = open_raw();
    char* message = nullptr;
    const int rc = sqlite3_exec(db.get(), k_sqlite_v2, nullptr, nullptr, &message);
    const std::string text = message ? message : "";
    sqlite3_free(message);
    ASSERT_EQ(rc, SQLITE_OK) << text;
  }

  std::string schema_version() {
    return query(GetParam() == Backend::sqlite ? "PRAGMA user_version"
                                               : "SELECT max(version) FROM schema_migrations");
  }

  std::filesystem::path dir_;
  std::optional<testing::TestDatabase> db_;
  std::string location_;

 private:
  SqlitePtr open_raw() {
    sqlite3* raw = nullptr;
    EXPECT_EQ(sqlite3_open(location_.c_str(), &raw), SQLITE_OK);
    return SqlitePtr(raw);
  }
};

TEST_P(StoreMigration, AVersion2StoreKeepsEveryDeviceAndRecordsImportedOnes) {
  write_version_2();
  ASSERT_EQ(schema_version(), "2");
  auto opened = open();
  ASSERT_TRUE(opened) << opened.error().message;
  auto& store = **opened;
  const auto migrated = schema_version();
  EXPECT_GE(std::stoi(migrated), 3);  // key mode 'imported' came with version 3

  auto first = *store.find_device("W-A-1");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->product, "widget");
  EXPECT_EQ(first->issuing_ca, "factory-a");
  EXPECT_EQ(first->certificate_der, (Bytes{9, 9}));
  EXPECT_EQ(first->key_mode, KeyMode::seed);
  EXPECT_EQ(first->issued_at, 200);
  EXPECT_EQ(first->reissue_count, 1);
  EXPECT_EQ(first->reissue_reason, "flash");
  auto second = *store.find_device("W-A-2");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->key_mode, KeyMode::csr);
  EXPECT_EQ(*store.count_devices(), 2);

  auto status = store.device_status("W-A-1");
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_TRUE(status->stolen);
  EXPECT_EQ(status->ownership, OwnershipPolicy::known_customer);
  EXPECT_EQ(status->owner_anchors, std::vector<Bytes>{(Bytes{1, 2})});
  EXPECT_FALSE(store.device_status("W-A-2")->stolen);
  auto log = store.audit_log("W-A-1");
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 2U);
  EXPECT_EQ((*log)[0].nonce, "nonce-1");
  EXPECT_EQ((*log)[1].assertion, "logged");
  EXPECT_EQ(query("SELECT count(*) FROM device_event WHERE serial = 'W-A-1'"), "1");

  // The index by product came through the rebuild.
  EXPECT_EQ(query(GetParam() == Backend::sqlite
                      ? "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                        "name = 'device_by_product' AND tbl_name = 'device'"
                      : "SELECT count(*) FROM pg_indexes WHERE indexname = 'device_by_product' "
                        "AND tablename = 'device'"),
            "1");
  int gadgets = 0;
  ASSERT_TRUE(store.for_each_device({"gadget", ""}, [&](const DeviceRecord& d) {
    EXPECT_EQ(d.serial, "W-A-2");
    ++gadgets;
    return true;
  }));
  EXPECT_EQ(gadgets, 1);

  // Imported devices are now accepted...
  DeviceRecord imported;
  imported.serial = "00-D0-E5-F2-00-02";
  imported.product = "highway";
  imported.issuing_ca = "factory-a";
  imported.certificate_der = {7};
  imported.key_mode = KeyMode::imported;
  imported.issued_at = 600;
  ASSERT_TRUE(store.add_devices(std::vector<DeviceRecord>{imported}));
  EXPECT_EQ((*store.find_device("00-D0-E5-F2-00-02"))->key_mode, KeyMode::imported);
  // ...and the tables referring to devices still refer to the device table.
  EXPECT_FALSE(store.append_audit("W-NONE", AuditEntry{1, "d", std::nullopt, "logged", "ab"}));
  EXPECT_FALSE(store.record_event("W-NONE", "refused", "", 1));
  EXPECT_FALSE(store.add_owner_anchor("W-NONE", Bytes{3}, false));
  auto stray = imported;
  stray.serial = "W-Z-1";
  stray.issuing_ca = "factory-z";
  EXPECT_FALSE(store.add_devices(std::vector<DeviceRecord>{stray}));
  ASSERT_TRUE(store.set_stolen("00-D0-E5-F2-00-02", true, "test", 700));
  EXPECT_TRUE(store.device_status("00-D0-E5-F2-00-02")->stolen);

  // Opening again runs nothing more.
  opened->reset();
  auto again = open();
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(schema_version(), migrated);
  EXPECT_EQ(*(*again)->count_devices(), 3);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreMigration,
                         ::testing::Values(Backend::sqlite, Backend::postgres));

}  // namespace
}  // namespace vouchsafe::store
