// SQLite backend of the registrar's store: its own file (WAL, 0600),
// numbered migrations, reads on the shared connection and every write
// through the group-committing writer thread (detail::SqliteWriter), so
// that pledges onboarding at once share fsyncs.
#include <sqlite3.h>

#include <ctime>
#include <mutex>

#include "store/detail/sqlite_statement.h"
#include "store/detail/sqlite_writer.h"
#include "store/registrar_store.h"

namespace vouchsafe::store {
namespace {

using detail::DbPtr;
using detail::Statement;
using detail::StatementCache;

// Migration N brings the schema from version N to N+1; never edit one that
// has shipped, add another. Every statement of this backend is in this file.
constexpr const char* k_migrations[] = {
    R"(CREATE TABLE pledge (
         serial TEXT PRIMARY KEY,
         idevid BLOB NOT NULL,
         first_seen INTEGER NOT NULL,
         last_seen INTEGER NOT NULL);
       CREATE TABLE voucher (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         serial TEXT NOT NULL REFERENCES pledge(serial),
         at INTEGER NOT NULL,
         idevid_fingerprint TEXT NOT NULL,
         masa_url TEXT NOT NULL,
         form TEXT NOT NULL,
         assertion TEXT NOT NULL,
         nonce TEXT,
         domain_id TEXT NOT NULL,
         voucher BLOB NOT NULL);
       CREATE INDEX voucher_by_pledge ON voucher(serial, idevid_fingerprint);
       CREATE TABLE ldevid (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         serial TEXT NOT NULL REFERENCES pledge(serial),
         at INTEGER NOT NULL,
         certificate BLOB NOT NULL,
         certificate_serial TEXT NOT NULL,
         not_after INTEGER NOT NULL,
         renewal INTEGER NOT NULL DEFAULT 0);
       CREATE INDEX ldevid_by_pledge ON ldevid(serial, id);
       CREATE TABLE event (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         serial TEXT NOT NULL,
         at INTEGER NOT NULL,
         kind TEXT NOT NULL,
         ok INTEGER NOT NULL,
         detail TEXT NOT NULL DEFAULT '');
       CREATE INDEX event_by_pledge ON event(serial, id);
       CREATE TABLE store_health (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         checked_at INTEGER NOT NULL);
       INSERT INTO store_health (id, checked_at) VALUES (1, 0);)",
};

constexpr const char* k_voucher_columns =
    "serial, at, idevid_fingerprint, masa_url, form, assertion, nonce, domain_id, voucher";

VoucherRecord read_voucher(const Statement& s) {
  VoucherRecord v;
  v.serial = s.text(0);
  v.at = s.integer(1);
  v.idevid_fingerprint = s.text(2);
  v.masa_url = s.text(3);
  v.form = s.text(4);
  v.assertion = s.text(5);
  if (!s.is_null(6)) v.nonce = s.text(6);
  v.domain_id = s.text(7);
  v.voucher = s.blob(8);
  return v;
}

class SqliteRegistrarStore final : public RegistrarStore {
 public:
  explicit SqliteRegistrarStore(DbPtr db) : db_(std::move(db)), statements_(db_.get()) {}

  Status migrate() {
    TRY(exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", "configure the store"));
    sqlite3_busy_timeout(db_.get(), 10000);
    ASSIGN_OR_RETURN(auto s, statements_.prepare("PRAGMA user_version"));
    ASSIGN_OR_RETURN(const bool row, s.step("read the schema version"));
    const std::int64_t version = row ? s.integer(0) : 0;
    s.reset();
    constexpr auto k_latest = static_cast<std::int64_t>(std::size(k_migrations));
    if (version > k_latest) {
      return fail(ErrorCode::io_error, "the registrar store's schema (version " +
                                           std::to_string(version) +
                                           ") is newer than this vouchsafe understands");
    }
    for (auto v = version; v < k_latest; ++v) {
      TRY(exec("BEGIN IMMEDIATE", "begin migration"));
      // Another process may have applied it while this one waited.
      ASSIGN_OR_RETURN(auto again, statements_.prepare("PRAGMA user_version"));
      ASSIGN_OR_RETURN(const bool has, again.step("read the schema version"));
      const bool applied = has && again.integer(0) > v;
      again.reset();
      Status done = applied ? ok()
                            : exec(k_migrations[v],
                                   "apply registrar schema migration " + std::to_string(v + 1));
      if (done && !applied) {
        done = exec("PRAGMA user_version = " + std::to_string(v + 1), "record the schema version");
      }
      if (!done) {
        (void)exec("ROLLBACK", "rollback");
        return done;
      }
      TRY(exec("COMMIT", "commit migration"));
    }
    return exec("PRAGMA foreign_keys=ON", "enable foreign keys");
  }

  Status open_writer(const std::string& path) {
    ASSIGN_OR_RETURN(writer_, detail::SqliteWriter::open(path));
    ASSIGN_OR_RETURN(fresh_, detail::FreshReader::open(path, "the registrar store"));
    return ok();
  }

  Status record_pledge(const std::string& serial, const Bytes& idevid_der,
                       std::int64_t at) override {
    return writer_->write([&](StatementCache& on) -> Status {
      ASSIGN_OR_RETURN(auto s, on.prepare("INSERT INTO pledge (serial, idevid, first_seen, "
                                          "last_seen) VALUES (?1, ?2, ?3, ?3) ON CONFLICT "
                                          "(serial) DO UPDATE SET idevid = ?2, last_seen = ?3"));
      s.bind(1, serial).bind(2, idevid_der).bind(3, at);
      TRY(s.step("record pledge " + serial));
      return ok();
    });
  }

  Status record_voucher(const VoucherRecord& v) override {
    return writer_->write([&](StatementCache& on) -> Status {
      ASSIGN_OR_RETURN(auto s, on.prepare(std::string("INSERT INTO voucher (") + k_voucher_columns +
                                          ") VALUES (?,?,?,?,?,?,?,?,?)"));
      s.bind(1, v.serial)
          .bind(2, v.at)
          .bind(3, v.idevid_fingerprint)
          .bind(4, v.masa_url)
          .bind(5, v.form)
          .bind(6, v.assertion);
      if (v.nonce) {
        s.bind(7, *v.nonce);
      } else {
        s.bind_null(7);
      }
      s.bind(8, v.domain_id).bind(9, v.voucher);
      TRY(s.step("record a voucher for " + v.serial));
      return ok();
    });
  }

  Result<bool> has_voucher(const std::string& serial,
                           const std::string& idevid_fingerprint) override {
    // A pledge enrolls right after its voucher was recorded: read where no
    // other thread's statement can hold an older snapshot open.
    return fresh_->read([&](StatementCache& on) -> Result<bool> {
      ASSIGN_OR_RETURN(auto s, on.prepare("SELECT 1 FROM voucher WHERE serial = ? AND "
                                          "idevid_fingerprint = ? LIMIT 1"));
      s.bind(1, serial).bind(2, idevid_fingerprint);
      return s.step("look up the vouchers of " + serial);
    });
  }

  Status record_ldevid(const LdevidRecord& l) override {
    return writer_->write([&](StatementCache& on) -> Status {
      ASSIGN_OR_RETURN(auto s, on.prepare("INSERT INTO ldevid (serial, at, certificate, "
                                          "certificate_serial, not_after, renewal) VALUES "
                                          "(?,?,?,?,?,?)"));
      s.bind(1, l.serial)
          .bind(2, l.at)
          .bind(3, l.certificate_der)
          .bind(4, l.certificate_serial)
          .bind(5, l.not_after)
          .bind(6, std::int64_t{l.renewal ? 1 : 0});
      TRY(s.step("record the LDevID of " + l.serial));
      return ok();
    });
  }

  Status record_event(const RegistrarEvent& e) override {
    return writer_->write([&](StatementCache& on) -> Status {
      ASSIGN_OR_RETURN(auto s, on.prepare("INSERT INTO event (serial, at, kind, ok, detail) "
                                          "VALUES (?,?,?,?,?)"));
      s.bind(1, e.serial).bind(2, e.at).bind(3, e.kind).bind(4, std::int64_t{e.ok ? 1 : 0});
      s.bind(5, e.detail);
      TRY(s.step("record an event of " + e.serial));
      return ok();
    });
  }

  Result<std::optional<PledgeOnboarding>> onboarding(const std::string& serial) override {
    ASSIGN_OR_RETURN(auto p, statements_.prepare("SELECT serial, first_seen, last_seen, idevid "
                                                 "FROM pledge WHERE serial = ?"));
    p.bind(1, serial);
    ASSIGN_OR_RETURN(const bool found, p.step("look up pledge " + serial));
    PledgeOnboarding out;
    if (found) {
      out.summary.serial = p.text(0);
      out.summary.first_seen = p.integer(1);
      out.summary.last_seen = p.integer(2);
      out.idevid_der = p.blob(3);
    }
    p.reset();
    ASSIGN_OR_RETURN(auto v, statements_.prepare(std::string("SELECT ") + k_voucher_columns +
                                                 " FROM voucher WHERE serial = ? ORDER BY id"));
    v.bind(1, serial);
    while (true) {
      ASSIGN_OR_RETURN(const bool row, v.step("read the vouchers of " + serial));
      if (!row) break;
      out.vouchers.push_back(read_voucher(v));
    }
    ASSIGN_OR_RETURN(auto l, statements_.prepare("SELECT serial, at, certificate, "
                                                 "certificate_serial, not_after, renewal FROM "
                                                 "ldevid WHERE serial = ? ORDER BY id"));
    l.bind(1, serial);
    while (true) {
      ASSIGN_OR_RETURN(const bool row, l.step("read the LDevIDs of " + serial));
      if (!row) break;
      out.ldevids.push_back(LdevidRecord{l.text(0), l.integer(1), l.blob(2), l.text(3),
                                         l.integer(4), l.integer(5) != 0});
    }
    ASSIGN_OR_RETURN(auto e, statements_.prepare("SELECT serial, at, kind, ok, detail FROM event "
                                                 "WHERE serial = ? ORDER BY id"));
    e.bind(1, serial);
    while (true) {
      ASSIGN_OR_RETURN(const bool row, e.step("read the events of " + serial));
      if (!row) break;
      out.events.push_back(
          RegistrarEvent{e.text(0), e.integer(1), e.text(2), e.integer(3) != 0, e.text(4)});
    }
    // A refusal before the pledge was recorded (no IDevID accepted) still
    // leaves events.
    if (!found && out.events.empty()) return std::optional<PledgeOnboarding>();
    out.summary.serial = serial;
    if (!out.events.empty()) {
      out.summary.state = out.events.back().kind;
      out.summary.state_ok = out.events.back().ok;
      if (!found) {
        out.summary.first_seen = out.events.front().at;
        out.summary.last_seen = out.events.back().at;
      }
    }
    return std::optional<PledgeOnboarding>(std::move(out));
  }

  Result<std::vector<PledgeSummary>> list_pledges() override {
    ASSIGN_OR_RETURN(
        auto s,
        statements_.prepare(
            "SELECT p.serial, p.first_seen, p.last_seen, "
            "(SELECT kind FROM event e WHERE e.serial = p.serial ORDER BY id DESC LIMIT 1), "
            "(SELECT ok FROM event e WHERE e.serial = p.serial ORDER BY id DESC LIMIT 1) "
            "FROM pledge p ORDER BY p.serial"));
    std::vector<PledgeSummary> out;
    while (true) {
      ASSIGN_OR_RETURN(const bool row, s.step("list pledges"));
      if (!row) break;
      PledgeSummary p{s.text(0), s.integer(1), s.integer(2), s.text(3), true};
      if (!s.is_null(4)) p.state_ok = s.integer(4) != 0;
      out.push_back(std::move(p));
    }
    return out;
  }

  Status ping() override {
    ASSIGN_OR_RETURN(auto s, statements_.prepare("SELECT 1"));
    TRY(s.step("ping the registrar store"));
    return ok();
  }

  Status check_writable() override {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    return writer_->write([now](StatementCache& on) -> Status {
      ASSIGN_OR_RETURN(auto s, on.prepare("UPDATE store_health SET checked_at = ?1 WHERE id = 1"));
      s.bind(1, now);
      TRY(s.step("write to the registrar store (readiness)"));
      return ok();
    });
  }

 private:
  Status exec(const std::string& sql, const std::string& what) {
    char* message = nullptr;
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message != nullptr ? message : "unknown error";
      sqlite3_free(message);
      return fail(ErrorCode::io_error, what + ": " + text);
    }
    return ok();
  }

  DbPtr db_;
  StatementCache statements_;  // after db_: finalized before the connection closes
  std::unique_ptr<detail::SqliteWriter> writer_;
  std::unique_ptr<detail::FreshReader> fresh_;  // reads that follow a commit
};

}  // namespace

Result<std::unique_ptr<RegistrarStore>> open_sqlite_registrar_store(const std::string& path) {
  ASSIGN_OR_RETURN(auto db, detail::open_database_file(path, "the registrar store"));
  auto store = std::make_unique<SqliteRegistrarStore>(std::move(db));
  TRY(store->migrate());
  TRY(store->open_writer(path));
  return std::unique_ptr<RegistrarStore>(std::move(store));
}

}  // namespace vouchsafe::store
