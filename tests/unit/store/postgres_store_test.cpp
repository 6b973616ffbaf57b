// What only the PostgreSQL backend promises: migrations once and without DDL
// when current, no lost counts under concurrency, a pool that outlives its
// server-side sessions, an audit log the database itself keeps append-only,
// and errors that never show the password.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <latch>
#include <optional>
#include <thread>

#include "store/asset_store.h"
#include "support/postgres_cluster.h"

namespace vouchsafe::store {
namespace {

using testing::TestDatabase;

// Every migration recorded once, 1..N, whatever N this build has.
constexpr const char* k_each_version_once =
    "SELECT count(*) = max(version) AND min(version) = 1 FROM schema_migrations";
constexpr const char* k_versions =
    "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations";

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::create(label());
    ASSERT_TRUE(db) << db.error().message;
    db_.emplace(std::move(db).value());
  }

  static std::string label(const std::string& suffix = "") {
    return std::string("PostgresStore.") +
           ::testing::UnitTest::GetInstance()->current_test_info()->name() + suffix;
  }

  // The CAs the devices of these tests are issued from.
  static void add_cas(AssetStore& store) {
    for (const char* name : {"factory-a", "factory-b"}) {
      CaRecord ca;
      ca.name = name;
      ca.certificate_der = {1};
      EXPECT_TRUE(store.add_ca(ca));
    }
  }

  // Opens the store, with the CAs to issue from.
  std::unique_ptr<AssetStore> open_with_ca(std::size_t pool_size = 4) {
    auto s = open_postgres_store(db_->dsn(), pool_size);
    EXPECT_TRUE(s) << s.error().message;
    if (!s) return nullptr;
    add_cas(**s);
    return std::move(s).value();
  }

  std::string query(const std::string& sql) const {
    auto r = db_->query(sql);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : std::string();
  }

  static DeviceRecord device(const std::string& serial, const std::string& ca = "factory-a") {
    DeviceRecord d;
    d.serial = serial;
    d.product = "widget";
    d.issuing_ca = ca;
    d.certificate_der = {9};
    d.issued_at = 1;
    return d;
  }

  std::optional<TestDatabase> db_;
};

TEST_F(PostgresStoreTest, MigratesOnceAndAReopenRunsNoDdl) {
  ASSERT_TRUE(open_postgres_store(db_->dsn()));
  EXPECT_EQ(query(k_each_version_once), "t");
  const auto versions = query(k_versions);
  // From here any DDL in this database fails, whoever issues it.
  ASSERT_TRUE(db_->exec(R"(
    CREATE FUNCTION forbid_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'DDL at start-up: %', tg_tag; END $$;
    CREATE EVENT TRIGGER forbid_ddl ON ddl_command_start EXECUTE FUNCTION forbid_ddl();)"));
  auto again = open_postgres_store(db_->dsn());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE((*again)->ping());
  EXPECT_EQ(query(k_versions), versions);
}

// The production shape: the schema owner migrates, the service runs as a
// role that may only read and write rows.
TEST_F(PostgresStoreTest, ACurrentSchemaOpensForARoleWithoutCreateRights) {
  ASSERT_TRUE(open_postgres_store(db_->dsn()));
  const std::string role = db_->name() + "_app";
  ASSERT_TRUE(db_->exec("DROP ROLE IF EXISTS " + role));
  ASSERT_TRUE(db_->exec("CREATE ROLE " + role + " LOGIN; " +
                        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " +
                        role));
  EXPECT_FALSE(db_->exec_as(role, "CREATE TABLE probe (i int)"));  // really no DDL rights

  auto app = open_postgres_store(db_->dsn_as(role));
  ASSERT_TRUE(app) << app.error().message;
  add_cas(**app);
  ASSERT_TRUE((*app)->add_devices(std::vector<DeviceRecord>{device("W-1")}));
  ASSERT_TRUE((*app)->append_audit("W-1", AuditEntry{1, "d", std::nullopt, "logged", "ab"}));
  EXPECT_EQ((*app)->audit_log("W-1")->size(), 1U);
  app->reset();

  {
    // An empty database it cannot migrate: the error says what to do.
    auto empty = TestDatabase::create(label("-empty"));
    ASSERT_TRUE(empty) << empty.error().message;
    auto refused = open_postgres_store(empty->dsn_as(role));
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("role that may create tables"), std::string::npos)
        << refused.error().message;
  }
  EXPECT_TRUE(db_->exec("DROP OWNED BY " + role + "; DROP ROLE " + role));
}

TEST_F(PostgresStoreTest, InstancesStartingTogetherMigrateOnce) {
  constexpr int k_instances = 4;
  std::latch start(k_instances);
  std::vector<std::string> errors(k_instances);
  std::vector<std::thread> threads;
  for (int i = 0; i < k_instances; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto s = open_postgres_store(db_->dsn(), 1);
      if (!s) errors[i] = s.error().message;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(query(k_each_version_once), "t");
}

TEST_F(PostgresStoreTest, ConcurrentBatchesKeepIssuedCountExact) {
  auto store = open_with_ca(4);
  ASSERT_TRUE(store);
  constexpr int k_threads = 4;
  constexpr int k_batches = 25;
  constexpr int k_per_batch = 6;
  std::latch start(k_threads);
  std::vector<std::string> errors(k_threads);
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int b = 0; b < k_batches && errors[t].empty(); ++b) {
        std::vector<DeviceRecord> batch;
        for (int i = 0; i < k_per_batch; ++i) {
          // Both CAs in every batch, in an order that differs by thread.
          const bool a = (i + t) % 2 == 0;
          batch.push_back(
              device("T" + std::to_string(t) + "-B" + std::to_string(b) + "-" + std::to_string(i),
                     a ? "factory-a" : "factory-b"));
        }
        if (auto r = store->add_devices(batch); !r) errors[t] = r.error().message;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  constexpr auto k_total = k_threads * k_batches * k_per_batch;
  EXPECT_EQ(*store->count_devices(), k_total);
  EXPECT_EQ(
      (*store->find_ca("factory-a"))->issued_count + (*store->find_ca("factory-b"))->issued_count,
      k_total);
  EXPECT_EQ((*store->find_ca("factory-a"))->issued_count, k_total / 2);
}

TEST_F(PostgresStoreTest, MoreThreadsThanConnectionsWaitTheirTurn) {
  auto store = open_with_ca(1);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->add_devices(std::vector<DeviceRecord>{device("W-1")}));
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto d = store->find_device("W-1");
        if (!d || !*d) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                  "AND application_name = 'vouchsafe'"),
            "1");
}

TEST_F(PostgresStoreTest, ReplacesConnectionsTheServerKilled) {
  auto store = open_with_ca(2);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->add_devices(std::vector<DeviceRecord>{device("W-1")}));
  const std::string ours =
      "FROM pg_stat_activity WHERE datname = current_database() AND application_name = "
      "'vouchsafe'";
  const std::string before = query("SELECT string_agg(pid::text, ',') " + ours);
  ASSERT_FALSE(before.empty());
  // The timeout makes pg_terminate_backend wait until the sessions are gone.
  EXPECT_EQ(query("SELECT bool_and(pg_terminate_backend(pid, 5000)) " + ours), "t");

  // The first operation after the kill is a write: it must not be lost.
  ASSERT_TRUE(store->append_audit("W-1", AuditEntry{1, "d", std::nullopt, "logged", "ab"}));
  auto found = store->find_device("W-1");
  ASSERT_TRUE(found && *found) << (found ? "" : found.error().message);
  EXPECT_NE(query("SELECT string_agg(pid::text, ',') " + ours), before);

  EXPECT_EQ(query("SELECT bool_and(pg_terminate_backend(pid, 5000)) " + ours), "t");
  ASSERT_TRUE(store->add_devices(std::vector<DeviceRecord>{device("W-2")}));
  EXPECT_TRUE(store->ping());
  EXPECT_EQ(*store->count_devices(), 2);
  EXPECT_EQ(store->audit_log("W-1")->size(), 1U);
}

TEST_F(PostgresStoreTest, AMultiHostDsnReachesTheFirstWritableHost) {
  // What a MASA is given to follow a promoted replica: libpq tries the
  // hosts in order. The first here has no server; the store opens on the
  // second and keeps working after its sessions are killed.
  const std::string& dsn = db_->dsn();
  const auto at = dsn.find("host=");
  ASSERT_NE(at, std::string::npos) << dsn;
  const auto end = dsn.find(' ', at);
  std::string host = dsn.substr(at + 5, end == std::string::npos ? end : end - at - 5);
  // The fixture quotes its socket directory; a host list is quoted whole.
  if (host.size() >= 2 && host.front() == '\'') host = host.substr(1, host.size() - 2);
  // Later keywords override earlier ones: the list replaces the one host.
  const std::string multi =
      dsn + " host='/nonexistent/vouchsafe-no-server," + host + "' target_session_attrs=read-write";
  auto store = open_postgres_store(multi, 2);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_TRUE((*store)->check_writable());
  ASSERT_TRUE(
      db_->exec("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE "
                "datname = current_database() AND application_name = 'vouchsafe'"));
  EXPECT_TRUE((*store)->check_writable());
}

// --store-read: a second database stands in for a lagging replica whose
// rows differ, so that where each read went shows in what it returns.
TEST_F(PostgresStoreTest, DeviceReadsGoToTheReplicaAndTheAuditLogToThePrimary) {
  auto replica_db = TestDatabase::create(label(".replica"));
  ASSERT_TRUE(replica_db) << replica_db.error().message;
  {
    auto primary = open_with_ca();
    ASSERT_TRUE(primary);
    ASSERT_TRUE(primary->add_devices(std::vector<DeviceRecord>{device("W-1"), device("W-NEW")}));
    auto replica = open_postgres_store(replica_db->dsn());
    ASSERT_TRUE(replica);
    add_cas(**replica);
    ASSERT_TRUE((*replica)->add_devices(std::vector<DeviceRecord>{device("W-1")}));
    ASSERT_TRUE((*replica)->set_stolen("W-1", true, "only the replica says so", 5));
  }
  auto store = open_postgres_store(db_->dsn(), 2, SchemaChange::refuse, replica_db->dsn());
  ASSERT_TRUE(store) << store.error().message;
  auto status = (*store)->device_status("W-1");
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_TRUE(status->stolen);  // read on the replica
  auto newer = (*store)->find_device("W-NEW");
  ASSERT_TRUE(newer && *newer);  // not on the replica yet: the primary answers
  auto newer_status = (*store)->device_status("W-NEW");
  EXPECT_TRUE(newer_status) << newer_status.error().message;
  ASSERT_TRUE((*store)->append_audit("W-1", {10, "domain", std::string("n"), "logged", "f"}));
  EXPECT_EQ(query("SELECT count(*) FROM audit_entry"), "1");  // written on the primary
  auto log = (*store)->audit_log("W-1");
  ASSERT_TRUE(log);
  EXPECT_EQ(log->size(), 1U);  // and read there
  EXPECT_EQ(*replica_db->query("SELECT count(*) FROM audit_entry"), "0");
}

TEST_F(PostgresStoreTest, AReplicaThatDoesNotAnswerLeavesReadsToThePrimary) {
  auto primary = open_with_ca();
  ASSERT_TRUE(primary);
  ASSERT_TRUE(primary->add_devices(std::vector<DeviceRecord>{device("W-1")}));
  auto store = open_postgres_store(db_->dsn(), 1, SchemaChange::refuse,
                                   db_->dsn() + " dbname=no_such_replica");
  ASSERT_TRUE(store) << store.error().message;
  // The first read meets the failure and falls back; the next ones skip
  // the replica for a while (k_replica_pause) and still answer.
  for (int i = 0; i < 3; ++i) {
    auto found = (*store)->find_device("W-1");
    ASSERT_TRUE(found && *found);
    EXPECT_TRUE((*store)->device_status("W-1"));
  }
}

TEST_F(PostgresStoreTest, AReadOnlyDatabaseAnswersPingButIsNotWritable) {
  // What a standby or a primary that cannot write looks like to the pool:
  // reads answer, writes are refused. Readiness asks for the writes.
  {
    auto store = open_with_ca();
    ASSERT_TRUE(store);
    EXPECT_TRUE(store->check_writable());
  }
  ASSERT_TRUE(db_->exec("ALTER DATABASE " + query("SELECT current_database()") +
                        " SET default_transaction_read_only = on"));
  auto reopened = open_postgres_store(db_->dsn());
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_TRUE((*reopened)->ping());
  const auto writable = (*reopened)->check_writable();
  ASSERT_FALSE(writable);
  EXPECT_NE(writable.error().message.find("read-only"), std::string::npos)
      << writable.error().message;
}

TEST_F(PostgresStoreTest, TheAuditLogRefusesUpdateDeleteAndTruncateOverSql) {
  auto store = open_with_ca();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->add_devices(std::vector<DeviceRecord>{device("W-1")}));
  ASSERT_TRUE(store->append_audit("W-1", AuditEntry{1, "d", std::nullopt, "logged", "ab"}));
  for (const char* sql :
       {"UPDATE audit_entry SET assertion = 'proximity'", "DELETE FROM audit_entry",
        "TRUNCATE audit_entry", "DELETE FROM audit_entry WHERE false"}) {
    auto r = db_->exec(sql);  // as the cluster's superuser, even
    ASSERT_FALSE(r) << sql;
    EXPECT_NE(r.error().message.find("append-only"), std::string::npos) << r.error().message;
  }
  auto log = store->audit_log("W-1");
  ASSERT_EQ(log->size(), 1U);
  EXPECT_EQ((*log)[0].assertion, "logged");
}

// Ticket keys are not written to the WAL, so archives, replicas and base
// backups never hold them; the store still keeps and reads them.
TEST_F(PostgresStoreTest, KeepsSessionTicketKeysInAnUnloggedTable) {
  auto store = open_with_ca();
  ASSERT_TRUE(store);
  EXPECT_EQ(query("SELECT relpersistence FROM pg_class WHERE relname = 'tls_ticket_key'"), "u");
  EXPECT_EQ(query("SELECT relpersistence FROM pg_class WHERE relname = 'audit_entry'"), "p");
  ASSERT_TRUE(store->add_ticket_key(TicketKeyRecord{5, Bytes(80, 7)}, 0));
  const auto keys = store->ticket_keys(0);
  ASSERT_TRUE(keys) << keys.error().message;
  ASSERT_EQ(keys->size(), 1U);
  EXPECT_EQ((*keys)[0].material, Bytes(80, 7));
}

TEST_F(PostgresStoreTest, RefusesASchemaNewerThanItKnows) {
  ASSERT_TRUE(open_postgres_store(db_->dsn()));
  ASSERT_TRUE(db_->exec("INSERT INTO schema_migrations (version) VALUES (99)"));
  auto s = open_postgres_store(db_->dsn());
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("upgrade vouchsafe"), std::string::npos) << s.error().message;
}

TEST_F(PostgresStoreTest, ErrorsNeverShowThePassword) {
  const std::string secret = "s3cret-Pa55";
  for (const auto& dsn :
       {"host=/nonexistent-vouchsafe port=5432 user=masa password=" + secret + " dbname=x",
        "postgresql://masa:" + secret + "@/x?host=/nonexistent-vouchsafe",
        "host=/nonexistent-vouchsafe password=" + secret + " port",
        "postgresql://masa:" + secret + "@/x?nonsense=1"}) {
    auto s = open_postgres_store(dsn);
    ASSERT_FALSE(s) << dsn;
    EXPECT_EQ(s.error().message.find(secret), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("PostgreSQL"), std::string::npos) << s.error().message;
  }
  auto unreachable = open_postgres_store("host=/nonexistent-vouchsafe user=masa dbname=x");
  ASSERT_FALSE(unreachable);
  EXPECT_NE(unreachable.error().message.find("host=/nonexistent-vouchsafe"), std::string::npos)
      << unreachable.error().message;
  EXPECT_FALSE(open_postgres_store(db_->dsn(), 0));
}

TEST_F(PostgresStoreTest, OpenStorePicksTheBackendFromTheLocation) {
  auto pg = open_store(db_->dsn());
  ASSERT_TRUE(pg) << pg.error().message;
  EXPECT_EQ(query(k_each_version_once), "t");
  auto uri = open_store("postgresql:///x?host=/nonexistent-vouchsafe");
  ASSERT_FALSE(uri);
  EXPECT_NE(uri.error().message.find("PostgreSQL"), std::string::npos) << uri.error().message;

  const auto dir = std::filesystem::temp_directory_path() /
                   ("vouchsafe-open-store-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto lite = open_store((dir / "store.db").string());
  ASSERT_TRUE(lite) << lite.error().message;
  EXPECT_TRUE(std::filesystem::exists(dir / "store.db"));
  lite->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vouchsafe::store
