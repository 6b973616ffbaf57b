// SQLite backend of the asset store (WAL; numbered schema migrations).
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>

#include "store/asset_store.h"
#include "store/detail/migrations.h"
#include "store/detail/sqlite_statement.h"
#include "store/detail/sqlite_writer.h"

namespace vouchsafe::store {
namespace {

using detail::db_error;
using detail::DbPtr;
using detail::Statement;
using detail::StatementCache;

constexpr const char* k_ca_columns =
    "name, role, factory, product, certificate, key_reference, status, issued_count, created_at, "
    "retired_at, max_certificates, max_age_seconds";
constexpr const char* k_device_columns =
    "serial, product, issuing_ca, certificate, key_mode, issued_at, reissue_count, reissue_reason, "
    "masa_key_id";

CaRecord read_ca(const Statement& s) {
  CaRecord ca;
  ca.name = s.text(0);
  ca.role = s.text(1) == "root" ? CaRole::root : CaRole::issuing;
  ca.factory = s.text(2);
  ca.product = s.text(3);
  ca.certificate_der = s.blob(4);
  ca.key_reference = s.text(5);
  ca.status = s.text(6) == "active" ? CaStatus::active : CaStatus::retired;
  ca.issued_count = s.integer(7);
  ca.created_at = s.integer(8);
  if (!s.is_null(9)) ca.retired_at = s.integer(9);
  ca.max_certificates = s.integer(10);
  ca.max_age_seconds = s.integer(11);
  return ca;
}

DeviceRecord read_device(const Statement& s) {
  DeviceRecord d;
  d.serial = s.text(0);
  d.product = s.text(1);
  d.issuing_ca = s.text(2);
  d.certificate_der = s.blob(3);
  d.key_mode = parse_key_mode(s.text(4)).has_value() ? *parse_key_mode(s.text(4)) : KeyMode::csr;
  d.issued_at = s.integer(5);
  d.reissue_count = static_cast<int>(s.integer(6));
  d.reissue_reason = s.text(7);
  d.masa_key_id = s.text(8);
  return d;
}

Status insert_event(StatementCache& statements, const std::string& serial, const std::string& event,
                    const std::string& detail, std::int64_t when) {
  ASSIGN_OR_RETURN(auto e, statements.prepare("INSERT INTO device_event (serial, at, event, "
                                              "detail) VALUES (?, ?, ?, ?)"));
  e.bind(1, serial).bind(2, when).bind(3, event).bind(4, detail);
  TRY(e.step("record event " + event + " of " + serial));
  return ok();
}

Status insert_audit(StatementCache& statements, const std::string& serial,
                    const AuditEntry& entry) {
  ASSIGN_OR_RETURN(auto s, statements.prepare("INSERT INTO audit_entry (serial, date, domain_id, "
                                              "nonce, assertion, registrar_fingerprint) VALUES "
                                              "(?,?,?,?,?,?)"));
  s.bind(1, serial).bind(2, entry.date).bind(3, entry.domain_id);
  if (entry.nonce) {
    s.bind(4, *entry.nonce);
  } else {
    s.bind_null(4);
  }
  s.bind(5, entry.assertion).bind(6, entry.registrar_fingerprint);
  TRY(s.step("append to the audit log of " + serial));
  return ok();
}

// Below this much free space a SQLite store reports itself not writable.
constexpr std::uint64_t k_min_free_bytes = std::uint64_t{1} << 20U;

class SqliteStore final : public AssetStore {
 public:
  explicit SqliteStore(DbPtr db) : db_(std::move(db)), statements_(db_.get()) {}

  // After the migrations: the writer's connection expects the current schema.
  Status open_writer(const std::string& path) {
    ASSIGN_OR_RETURN(writer_, detail::SqliteWriter::open(path));
    ASSIGN_OR_RETURN(fresh_, detail::FreshReader::open(path, "the asset store"));
    path_ = path;
    return ok();
  }

  Status migrate() {
    // Foreign keys stay off while migrating: a table rebuild drops the table
    // others refer to (PRAGMA foreign_keys is ignored inside a transaction,
    // so it is set around the migrations). Each migration is checked with
    // foreign_key_check before it commits.
    TRY(exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;",
             "configure the store"));
    sqlite3_busy_timeout(db_.get(), 10000);
    ASSIGN_OR_RETURN(auto version, schema_version());
    const auto k_latest = static_cast<std::int64_t>(detail::migrations().size());
    if (version > k_latest) {
      return fail(ErrorCode::io_error, "the store's schema (version " + std::to_string(version) +
                                           ") is newer than this vouchsafe understands");
    }
    for (auto v = version; v < k_latest; ++v) {
      TRY(exec("BEGIN IMMEDIATE", "begin migration"));
      auto applied = apply_migration(v);
      if (!applied) {
        (void)exec("ROLLBACK", "rollback");
        return applied;
      }
      TRY(exec("COMMIT", "commit migration"));
    }
    return exec("PRAGMA foreign_keys=ON", "enable foreign keys");
  }

  Status add_ca(const CaRecord& ca) override {
    std::lock_guard guard(transaction_mutex_);
    ASSIGN_OR_RETURN(auto s, prepare(std::string("INSERT INTO certificate_authority (") +
                                     k_ca_columns + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"));
    s.bind(1, ca.name)
        .bind(2, std::string(ca.role == CaRole::root ? "root" : "issuing"))
        .bind(3, ca.factory)
        .bind(4, ca.product)
        .bind(5, ca.certificate_der)
        .bind(6, ca.key_reference)
        .bind(7, std::string(ca.status == CaStatus::active ? "active" : "retired"))
        .bind(8, ca.issued_count)
        .bind(9, ca.created_at);
    if (ca.retired_at) {
      s.bind(10, *ca.retired_at);
    } else {
      s.bind_null(10);
    }
    s.bind(11, ca.max_certificates).bind(12, ca.max_age_seconds);
    auto r = s.step("record CA " + ca.name);
    if (!r) return fail(r.error());
    return ok();
  }

  Result<std::optional<CaRecord>> find_ca(const std::string& name) override {
    ASSIGN_OR_RETURN(auto s, prepare(std::string("SELECT ") + k_ca_columns +
                                     " FROM certificate_authority WHERE name = ?"));
    s.bind(1, name);
    ASSIGN_OR_RETURN(bool row, s.step("look up CA " + name));
    if (!row) return std::optional<CaRecord>();
    return std::optional<CaRecord>(read_ca(s));
  }

  Result<std::vector<CaRecord>> list_cas() override {
    ASSIGN_OR_RETURN(auto s, prepare(std::string("SELECT ") + k_ca_columns +
                                     " FROM certificate_authority ORDER BY created_at, name"));
    std::vector<CaRecord> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.step("list CAs"));
      if (!row) break;
      out.push_back(read_ca(s));
    }
    return out;
  }

  Status retire_ca(const std::string& name, std::int64_t when) override {
    std::lock_guard guard(transaction_mutex_);
    ASSIGN_OR_RETURN(auto s, prepare("UPDATE certificate_authority SET status = 'retired', "
                                     "key_reference = '', retired_at = ? WHERE name = ?"));
    s.bind(1, when).bind(2, name);
    auto r = s.step("retire CA " + name);
    if (!r) return fail(r.error());
    return ok();
  }

  Status set_ca_key_reference(const std::string& name, const std::string& reference) override {
    std::lock_guard guard(transaction_mutex_);
    ASSIGN_OR_RETURN(auto s,
                     prepare("UPDATE certificate_authority SET key_reference = ? WHERE name = ?"));
    s.bind(1, reference).bind(2, name);
    TRY(s.step("record where the key of CA " + name + " is"));
    if (sqlite3_changes(db_.get()) != 1) return fail(ErrorCode::usage, "no CA named " + name);
    return ok();
  }

  Status add_devices(std::span<const DeviceRecord> devices) override {
    return in_transaction([&] { return insert_devices(devices); });
  }

  Status reissue_device(const DeviceRecord& d, const std::string& reason) override {
    return in_transaction([&]() -> Status {
      ASSIGN_OR_RETURN(auto s, prepare("UPDATE device SET issuing_ca = ?, certificate = ?, "
                                       "key_mode = ?, issued_at = ?, reissue_count = "
                                       "reissue_count + 1, reissue_reason = ? WHERE serial = ?"));
      s.bind(1, d.issuing_ca)
          .bind(2, d.certificate_der)
          .bind(3, std::string(key_mode_name(d.key_mode)))
          .bind(4, d.issued_at)
          .bind(5, reason)
          .bind(6, d.serial);
      TRY(s.step("reissue " + d.serial));
      if (sqlite3_changes(db_.get()) != 1) {
        return fail(ErrorCode::invalid_value, "device " + d.serial + " has no IDevID to reissue");
      }
      TRY(insert_event(d.serial, "reissued", reason, d.issued_at));
      return bump_count(d.issuing_ca, 1);
    });
  }

  Result<std::optional<DeviceRecord>> find_device(const std::string& serial) override {
    ASSIGN_OR_RETURN(auto s, prepare(std::string("SELECT ") + k_device_columns +
                                     " FROM device WHERE serial = ?"));
    s.bind(1, serial);
    ASSIGN_OR_RETURN(bool row, s.step("look up device " + serial));
    if (!row) return std::optional<DeviceRecord>();
    return std::optional<DeviceRecord>(read_device(s));
  }

  Result<std::vector<std::string>> existing_serials(std::span<const std::string> serials) override {
    ASSIGN_OR_RETURN(auto s, prepare("SELECT 1 FROM device WHERE serial = ?"));
    std::vector<std::string> found;
    for (const auto& serial : serials) {
      s.bind(1, serial);
      ASSIGN_OR_RETURN(bool row, s.step("look up device " + serial));
      if (row) found.push_back(serial);
      s.reset();
    }
    return found;
  }

  Status for_each_device(const DeviceFilter& filter,
                         const std::function<bool(const DeviceRecord&)>& visit) override {
    ASSIGN_OR_RETURN(auto s, prepare(std::string("SELECT ") + k_device_columns +
                                     " FROM device WHERE (?1 = '' OR product = ?1) AND "
                                     "(?2 = '' OR issuing_ca = ?2) ORDER BY serial"));
    s.bind(1, filter.product).bind(2, filter.issuing_ca);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.step("list devices"));
      if (!row || !visit(read_device(s))) break;
    }
    return ok();
  }

  Result<std::int64_t> count_devices() override {
    ASSIGN_OR_RETURN(auto s, prepare("SELECT count(*) FROM device"));
    TRY(s.step("count devices"));
    return s.integer(0);
  }

  Result<DeviceStatus> device_status(const std::string& serial) override {
    ASSIGN_OR_RETURN(auto s, prepare("SELECT stolen, ownership FROM device WHERE serial = ?"));
    s.bind(1, serial);
    ASSIGN_OR_RETURN(bool row, s.step("look up device " + serial));
    if (!row) return fail(ErrorCode::invalid_value, "no device with serial " + serial);
    DeviceStatus status;
    status.stolen = s.integer(0) != 0;
    if (!s.is_null(1)) {
      ASSIGN_OR_RETURN(status.ownership, parse_ownership_policy(s.text(1)));
    }
    ASSIGN_OR_RETURN(auto a, prepare("SELECT certificate FROM owner_anchor WHERE serial = ? "
                                     "ORDER BY rowid"));
    a.bind(1, serial);
    while (true) {
      ASSIGN_OR_RETURN(bool more, a.step("owner anchors of " + serial));
      if (!more) break;
      status.owner_anchors.push_back(a.blob(0));
    }
    return status;
  }

  Status set_stolen(const std::string& serial, bool stolen, const std::string& reason,
                    std::int64_t when) override {
    return in_transaction([&]() -> Status {
      ASSIGN_OR_RETURN(auto s, prepare("UPDATE device SET stolen = ? WHERE serial = ?"));
      s.bind(1, std::int64_t{stolen ? 1 : 0}).bind(2, serial);
      TRY(s.step("mark device " + serial));
      TRY(require_one_change(serial));
      return insert_event(serial, stolen ? "reported-stolen" : "stolen-report-withdrawn", reason,
                          when);
    });
  }

  Status set_ownership_policy(const std::string& serial,
                              std::optional<OwnershipPolicy> policy) override {
    std::lock_guard guard(transaction_mutex_);  // sqlite3_changes must see this statement
    ASSIGN_OR_RETURN(auto s, prepare("UPDATE device SET ownership = ? WHERE serial = ?"));
    if (policy) {
      s.bind(1, std::string(ownership_policy_name(*policy)));
    } else {
      s.bind_null(1);
    }
    s.bind(2, serial);
    TRY(s.step("set the ownership policy of " + serial));
    return require_one_change(serial);
  }

  Status add_owner_anchor(const std::string& serial, const Bytes& certificate_der,
                          bool replace) override {
    return in_transaction([&]() -> Status {
      ASSIGN_OR_RETURN(auto exists, find_device(serial));
      if (!exists) return fail(ErrorCode::invalid_value, "no device with serial " + serial);
      if (replace) {
        ASSIGN_OR_RETURN(auto d, prepare("DELETE FROM owner_anchor WHERE serial = ?"));
        d.bind(1, serial);
        TRY(d.step("clear owner anchors of " + serial));
      }
      ASSIGN_OR_RETURN(auto s, prepare("INSERT OR IGNORE INTO owner_anchor (serial, certificate) "
                                       "VALUES (?, ?)"));
      s.bind(1, serial).bind(2, certificate_der);
      TRY(s.step("record an owner anchor of " + serial));
      return ok();
    });
  }

  // The MASA's writes go through the writer thread (see SqliteWriter).
  Status record_event(const std::string& serial, const std::string& event,
                      const std::string& detail, std::int64_t when) override {
    return writer_->write(
        [&](StatementCache& on) { return store::insert_event(on, serial, event, detail, when); });
  }

  void append_audit_async(const std::string& serial, AuditEntry entry,
                          std::optional<DeviceEvent> event, AuditDone done) override {
    writer_->submit(
        [serial, entry = std::move(entry), event = std::move(event)](StatementCache& on) -> Status {
          if (event) TRY(store::insert_event(on, serial, event->name, event->detail, event->at));
          return insert_audit(on, serial, entry);
        },
        std::move(done));
  }

  Status append_audit(const std::string& serial, const AuditEntry& entry) override {
    return writer_->write([&](StatementCache& on) { return insert_audit(on, serial, entry); });
  }

  Result<std::vector<AuditEntry>> audit_log(const std::string& serial) override {
    return fresh_->read([&](StatementCache& on) -> Result<std::vector<AuditEntry>> {
      ASSIGN_OR_RETURN(auto s, on.prepare("SELECT date, domain_id, nonce, assertion, "
                                          "registrar_fingerprint FROM audit_entry WHERE serial = ? "
                                          "ORDER BY id"));
      s.bind(1, serial);
      std::vector<AuditEntry> out;
      while (true) {
        ASSIGN_OR_RETURN(bool row, s.step("read the audit log of " + serial));
        if (!row) break;
        AuditEntry e;
        e.date = s.integer(0);
        e.domain_id = s.text(1);
        if (!s.is_null(2)) e.nonce = s.text(2);
        e.assertion = s.text(3);
        e.registrar_fingerprint = s.text(4);
        out.push_back(std::move(e));
      }
      return out;
    });
  }

  Result<bool> audited_for_domain(const std::string& serial,
                                  const std::string& domain_id) override {
    return fresh_->read([&](StatementCache& on) -> Result<bool> {
      ASSIGN_OR_RETURN(auto s, on.prepare("SELECT 1 FROM audit_entry WHERE serial = ? AND "
                                          "domain_id = ? LIMIT 1"));
      s.bind(1, serial).bind(2, domain_id);
      return s.step("read the audit log of " + serial);
    });
  }

  // One statement, so one read transaction and one look-up of the WAL: a
  // row per owner anchor, or one with none.
  Result<std::optional<DeviceForVoucher>> device_for_voucher(
      const std::string& serial, const std::string& domain_id) override {
    return fresh_->read([&](StatementCache& on) -> Result<std::optional<DeviceForVoucher>> {
      ASSIGN_OR_RETURN(
          auto s,
          on.prepare("SELECT d.serial, d.product, d.issuing_ca, d.certificate, d.key_mode, "
                     "d.issued_at, d.reissue_count, d.reissue_reason, d.masa_key_id, d.stolen, "
                     "d.ownership, "
                     "EXISTS (SELECT 1 FROM audit_entry a WHERE a.serial = d.serial AND "
                     "a.domain_id = ?2), o.certificate "
                     "FROM device d LEFT JOIN owner_anchor o ON o.serial = d.serial "
                     "WHERE d.serial = ?1 ORDER BY o.rowid"));
      s.bind(1, serial).bind(2, domain_id);
      std::optional<DeviceForVoucher> found;
      while (true) {
        ASSIGN_OR_RETURN(bool row, s.step("look up device " + serial));
        if (!row) break;
        if (!found) {
          found.emplace();
          found->device = read_device(s);
          found->status.stolen = s.integer(9) != 0;
          if (!s.is_null(10)) {
            ASSIGN_OR_RETURN(found->status.ownership, parse_ownership_policy(s.text(10)));
          }
          found->audited_for_domain = s.integer(11) != 0;
        }
        if (!s.is_null(12)) found->status.owner_anchors.push_back(s.blob(12));
      }
      return found;
    });
  }

  Result<std::vector<TicketKeyRecord>> ticket_keys(std::int64_t from_slot) override {
    // On the fresh reader: it sees the key this instance just added.
    return fresh_->read([&](StatementCache& on) -> Result<std::vector<TicketKeyRecord>> {
      ASSIGN_OR_RETURN(auto s,
                       on.prepare("SELECT slot, material FROM tls_ticket_key WHERE slot >= ? "
                                  "ORDER BY slot DESC"));
      s.bind(1, from_slot);
      std::vector<TicketKeyRecord> out;
      while (true) {
        ASSIGN_OR_RETURN(bool row, s.step("read the session-ticket keys"));
        if (!row) break;
        out.push_back(TicketKeyRecord{s.integer(0), s.blob(1)});
      }
      return out;
    });
  }

  Status add_ticket_key(const TicketKeyRecord& key, std::int64_t drop_before) override {
    return writer_->write([&](StatementCache& on) -> Status {
      ASSIGN_OR_RETURN(auto add, on.prepare("INSERT OR IGNORE INTO tls_ticket_key (slot, material) "
                                            "VALUES (?, ?)"));
      add.bind(1, key.slot).bind(2, key.material);
      TRY(add.step("record a session-ticket key"));
      ASSIGN_OR_RETURN(auto drop, on.prepare("DELETE FROM tls_ticket_key WHERE slot < ?"));
      drop.bind(1, drop_before);
      TRY(drop.step("forget the expired session-ticket keys"));
      return ok();
    });
  }

  Status add_masa_signer(const MasaSignerRecord& signer) override {
    std::lock_guard guard(transaction_mutex_);
    ASSIGN_OR_RETURN(auto s, prepare("INSERT INTO masa_signer (scope, key_reference, chain_pem, "
                                     "created_at) VALUES (?, ?, ?, ?)"));
    s.bind(1, signer.scope)
        .bind(2, signer.key_reference)
        .bind(3, signer.chain_pem)
        .bind(4, signer.created_at);
    TRY(s.step("record a MASA signing key"));
    return ok();
  }

  Result<std::vector<MasaSignerRecord>> list_masa_signers() override {
    // On the fresh reader: a rollover reaches every instance, however busy.
    return fresh_->read([&](StatementCache& on) -> Result<std::vector<MasaSignerRecord>> {
      ASSIGN_OR_RETURN(auto s, on.prepare("SELECT id, scope, key_reference, chain_pem, created_at "
                                          "FROM masa_signer ORDER BY id"));
      std::vector<MasaSignerRecord> out;
      while (true) {
        ASSIGN_OR_RETURN(bool row, s.step("list the MASA signing keys"));
        if (!row) break;
        out.push_back({s.integer(0), s.text(1), s.text(2), s.text(3), s.integer(4)});
      }
      return out;
    });
  }

  Status ping() override {
    ASSIGN_OR_RETURN(auto s, prepare("SELECT 1"));
    TRY(s.step("ping the store"));
    return ok();
  }

  Status check_writable() override {
    // A WAL that a checkpoint reset is rewritten in place, so a small
    // commit can pass on a full disk that the next entries will not fit
    // on: free space is checked as well.
    const std::filesystem::path dir = std::filesystem::absolute(path_).parent_path();
    struct statvfs fs {};
    if (::statvfs(dir.c_str(), &fs) != 0) {
      return fail(ErrorCode::io_error, "cannot read the free space of " + dir.string());
    }
    const auto free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (free_bytes < k_min_free_bytes) {
      return fail(ErrorCode::io_error, std::to_string(free_bytes / 1024) +
                                           " KiB free on the "
                                           "filesystem of " +
                                           dir.string() + "; at least " +
                                           std::to_string(k_min_free_bytes / 1024) +
                                           " KiB are needed for audit entries");
    }
    // The same writer, transaction and sync as an audit entry.
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    return writer_->write([now](StatementCache& on) -> Status {
      ASSIGN_OR_RETURN(auto s, on.prepare("UPDATE store_health SET checked_at = ?1 WHERE id = 1"));
      s.bind(1, now);
      TRY(s.step("write to the store (readiness)"));
      return ok();
    });
  }

 private:
  Result<std::int64_t> schema_version() {
    ASSIGN_OR_RETURN(auto s, prepare("PRAGMA user_version"));
    ASSIGN_OR_RETURN(bool row, s.step("read the schema version"));
    return row ? s.integer(0) : 0;
  }

  // Migration v (0-based) inside the caller's transaction. Another process
  // may have applied it while this one waited for the write lock.
  Status apply_migration(std::int64_t v) {
    ASSIGN_OR_RETURN(auto current, schema_version());
    if (current > v) return ok();
    const auto name = "schema migration " + std::to_string(v + 1);
    TRY(exec(detail::migrations()[static_cast<std::size_t>(v)].sqlite, "apply " + name));
    ASSIGN_OR_RETURN(auto check, prepare("PRAGMA foreign_key_check"));
    ASSIGN_OR_RETURN(bool dangling, check.step("check the foreign keys after " + name));
    if (dangling) {
      return fail(ErrorCode::io_error, name + " left a row of table " + check.text(0) +
                                           " referring to a missing row of " + check.text(2) +
                                           "; the store is unchanged");
    }
    return exec("PRAGMA user_version = " + std::to_string(v + 1), "record the schema version");
  }

  template <typename Body>
  Status in_transaction(Body&& body) {
    // Transactions on the one connection must not interleave across threads.
    std::lock_guard guard(transaction_mutex_);
    return detail::in_transaction(statements_, std::forward<Body>(body));
  }

  Status require_one_change(const std::string& serial) {
    if (sqlite3_changes(db_.get()) != 1) {
      return fail(ErrorCode::invalid_value, "no device with serial " + serial);
    }
    return ok();
  }

  Status insert_event(const std::string& serial, const std::string& event,
                      const std::string& detail, std::int64_t when) {
    return store::insert_event(statements_, serial, event, detail, when);
  }

  Status insert_devices(std::span<const DeviceRecord> devices) {
    ASSIGN_OR_RETURN(auto s, prepare(std::string("INSERT INTO device (") + k_device_columns +
                                     ") VALUES (?,?,?,?,?,?,?,?,?)"));
    std::vector<std::pair<std::string, std::int64_t>> per_ca;
    for (const auto& d : devices) {
      s.bind(1, d.serial)
          .bind(2, d.product)
          .bind(3, d.issuing_ca)
          .bind(4, d.certificate_der)
          .bind(5, std::string(key_mode_name(d.key_mode)))
          .bind(6, d.issued_at)
          .bind(7, static_cast<std::int64_t>(d.reissue_count))
          .bind(8, d.reissue_reason)
          .bind(9, d.masa_key_id);
      TRY(s.step("device " + d.serial));
      s.reset();
      auto it = std::find_if(per_ca.begin(), per_ca.end(),
                             [&](const auto& p) { return p.first == d.issuing_ca; });
      if (it == per_ca.end()) {
        per_ca.emplace_back(d.issuing_ca, 1);
      } else {
        ++it->second;
      }
    }
    for (const auto& [ca, count] : per_ca) TRY(bump_count(ca, count));
    return ok();
  }

  Status bump_count(const std::string& ca, std::int64_t count) {
    ASSIGN_OR_RETURN(auto s, prepare("UPDATE certificate_authority SET issued_count = "
                                     "issued_count + ? WHERE name = ?"));
    s.bind(1, count).bind(2, ca);
    TRY(s.step("count certificates of " + ca));
    return ok();
  }

  Result<Statement> prepare(const std::string& sql) { return statements_.prepare(sql); }

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
  std::recursive_mutex transaction_mutex_;
  std::unique_ptr<detail::SqliteWriter> writer_;
  // The MASA's reads that must include every commit made before they start
  // (the audit log a registrar reads right after its voucher; a device's
  // stolen flag, owners and audit entries; signer records and ticket keys).
  std::unique_ptr<detail::FreshReader> fresh_;
  std::string path_;
};

}  // namespace

std::string_view key_mode_name(KeyMode mode) {
  switch (mode) {
    case KeyMode::csr:
      return "csr";
    case KeyMode::generated:
      return "generated";
    case KeyMode::seed:
      return "seed";
    case KeyMode::dice:
      return "dice";
    case KeyMode::imported:
      return "imported";
  }
  return "";
}

std::string_view ownership_policy_name(OwnershipPolicy policy) {
  return policy == OwnershipPolicy::open ? "open" : "known-customer";
}

Result<OwnershipPolicy> parse_ownership_policy(std::string_view name) {
  if (name == "open") return OwnershipPolicy::open;
  if (name == "known-customer") return OwnershipPolicy::known_customer;
  return fail(ErrorCode::invalid_value,
              "unknown ownership policy '" + std::string(name) + "' (open or known-customer)");
}

Result<KeyMode> parse_key_mode(std::string_view name) {
  if (name == "csr") return KeyMode::csr;
  if (name == "generated") return KeyMode::generated;
  if (name == "seed") return KeyMode::seed;
  if (name == "dice") return KeyMode::dice;
  if (name == "imported") return KeyMode::imported;
  return fail(ErrorCode::invalid_value, "unknown key mode '" + std::string(name) + "'");
}

Result<std::unique_ptr<AssetStore>> open_sqlite_store(const std::string& path) {
  // The audit log has a connection of its own, which must reach the same
  // database: a file, not a private in-memory one.
  ASSIGN_OR_RETURN(auto db, detail::open_database_file(path, "the asset store"));
  auto store = std::make_unique<SqliteStore>(std::move(db));
  TRY(store->migrate());
  TRY(store->open_writer(path));
  return std::unique_ptr<AssetStore>(std::move(store));
}

}  // namespace vouchsafe::store
