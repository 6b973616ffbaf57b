// PostgreSQL backend of the asset store: its queries and transactions over
// the connection pool (detail/postgres_pool.h), the shared migrations
// applied under an advisory lock, and the SQLite backend's error codes.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "store/asset_store.h"
#include "store/detail/migrations.h"
#include "store/detail/postgres_pool.h"
#include "store/detail/postgres_values.h"
#include "store/postgres_handles.h"

namespace vouchsafe::store {
namespace {

using detail::boolean_at;
using detail::bytes_at;
using detail::ConnectionPool;
using detail::describe_dsn;
using detail::Failure;
using detail::integer_at;
using detail::null_at;
using detail::one_line;
using detail::Params;
using detail::Session;
using detail::text_at;

// Rows per multi-row INSERT / IN list: 8 parameters a device stays far below
// the protocol's 65535 and keeps each statement one round trip.
constexpr std::size_t k_rows_per_statement = 1000;
// Devices fetched per page by for_each_device.
constexpr std::int64_t k_page_size = 500;
// Attempts for a transaction the server rolled back (serialization failure,
// deadlock) or whose connection died before COMMIT was sent.
constexpr int k_max_attempts = 5;
// How long device reads stay on the primary after the replica failed.
constexpr auto k_replica_pause = std::chrono::seconds(5);
// pg_advisory_xact_lock key serialising migrations: "vouchsaf" in ASCII.
constexpr std::int64_t k_migration_lock = 0x766f756368736166;

// The schema this build brings a store to (store/detail/migrations.cpp).
const auto k_latest_version = static_cast<std::int64_t>(detail::migrations().size());

// "($1,$2,$3),($4,$5,$6)": placeholders for `rows` rows of `columns` values.
std::string placeholders(std::size_t rows, std::size_t columns) {
  std::string out;
  std::size_t n = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    out += r == 0 ? "(" : ",(";
    for (std::size_t c = 0; c < columns; ++c) {
      if (c != 0) out += ',';
      out += '$' + std::to_string(++n);
    }
    out += ')';
  }
  return out;
}

constexpr const char* k_ca_columns =
    "name, role, factory, product, certificate, key_reference, status, issued_count, created_at, "
    "retired_at, max_certificates, max_age_seconds";
constexpr const char* k_device_columns =
    "serial, product, issuing_ca, certificate, key_mode, issued_at, reissue_count, reissue_reason, "
    "masa_key_id";

CaRecord read_ca(const PGresult* r, int row) {
  CaRecord ca;
  ca.name = text_at(r, row, 0);
  ca.role = text_at(r, row, 1) == "root" ? CaRole::root : CaRole::issuing;
  ca.factory = text_at(r, row, 2);
  ca.product = text_at(r, row, 3);
  ca.certificate_der = bytes_at(r, row, 4);
  ca.key_reference = text_at(r, row, 5);
  ca.status = text_at(r, row, 6) == "active" ? CaStatus::active : CaStatus::retired;
  ca.issued_count = integer_at(r, row, 7);
  ca.created_at = integer_at(r, row, 8);
  if (!null_at(r, row, 9)) ca.retired_at = integer_at(r, row, 9);
  ca.max_certificates = integer_at(r, row, 10);
  ca.max_age_seconds = integer_at(r, row, 11);
  return ca;
}

DeviceRecord read_device(const PGresult* r, int row) {
  DeviceRecord d;
  d.serial = text_at(r, row, 0);
  d.product = text_at(r, row, 1);
  d.issuing_ca = text_at(r, row, 2);
  d.certificate_der = bytes_at(r, row, 3);
  // The CHECK constraint admits only the names parse_key_mode knows.
  auto mode = parse_key_mode(text_at(r, row, 4));
  d.key_mode = mode ? *mode : KeyMode::csr;
  d.issued_at = integer_at(r, row, 5);
  d.reissue_count = static_cast<int>(integer_at(r, row, 6));
  d.reissue_reason = text_at(r, row, 7);
  d.masa_key_id = text_at(r, row, 8);
  return d;
}

bool one_row_changed(PGresult* r) {
  return std::string_view(PQcmdTuples(r)) == "1";
}

class PostgresStore final : public AssetStore {
 public:
  PostgresStore(std::string dsn, std::string target, std::size_t pool_size)
      : pool_(std::move(dsn), std::move(target), pool_size) {}

  // Device and ownership reads go to this server first (a streaming
  // replica); the audit log, every write, and a device the replica does not
  // have yet (or a replica that does not answer) go to the primary.
  void read_from(std::string dsn, std::string target, std::size_t pool_size) {
    replica_ = std::make_unique<ConnectionPool>(std::move(dsn), std::move(target), pool_size);
  }

  // Brings the schema up to date, or with SchemaChange::refuse only checks
  // it. When it is current this is one SELECT: no DDL, no lock, so a role
  // without CREATE rights can run the service.
  Result<SchemaMigration> migrate(SchemaChange schema_change) {
    ASSIGN_OR_RETURN(auto lease, pool_.acquire());
    Session session(lease.get());
    ASSIGN_OR_RETURN(auto version, schema_version(session));
    if (version == k_latest_version) return SchemaMigration{version, version};
    if (version > k_latest_version) return too_new(version);
    if (schema_change == SchemaChange::refuse) {
      return fail(ErrorCode::io_error,
                  "the PostgreSQL store (" + pool_.target() + ") is at schema version " +
                      std::to_string(version) + " and this vouchsafe needs version " +
                      std::to_string(k_latest_version) +
                      "; run `vouchsafe masa migrate` once, then start the instances");
    }
    TRY(session.command("BEGIN", "begin the schema migration of " + pool_.target()));
    auto migrated = apply_migrations(session);
    if (!migrated) {
      (void)session.command("ROLLBACK", "roll back");
      return fail(std::move(migrated).error());
    }
    TRY(session.commit());
    return SchemaMigration{version, k_latest_version};
  }

  Status add_ca(const CaRecord& ca) override {
    Params p;
    p.text(ca.name)
        .text(std::string(ca.role == CaRole::root ? "root" : "issuing"))
        .text(ca.factory)
        .text(ca.product)
        .bytes(ca.certificate_der)
        .text(ca.key_reference)
        .text(std::string(ca.status == CaStatus::active ? "active" : "retired"))
        .integer(ca.issued_count)
        .integer(ca.created_at)
        .optional_integer(ca.retired_at)
        .integer(ca.max_certificates)
        .integer(ca.max_age_seconds);
    const std::string sql = std::string("INSERT INTO certificate_authority (") + k_ca_columns +
                            ") VALUES " + placeholders(1, 12);
    return run_status(Mode::write,
                      [&](Session& s) { return s.exec(sql, p, "record CA " + ca.name); });
  }

  Result<std::optional<CaRecord>> find_ca(const std::string& name) override {
    return run(Mode::read, [&](Session& s) -> Result<std::optional<CaRecord>> {
      ASSIGN_OR_RETURN(auto r, s.exec(std::string("SELECT ") + k_ca_columns +
                                          " FROM certificate_authority WHERE name = $1",
                                      Params().text(name), "look up CA " + name));
      if (PQntuples(r.get()) == 0) return std::optional<CaRecord>();
      return std::optional<CaRecord>(read_ca(r.get(), 0));
    });
  }

  Result<std::vector<CaRecord>> list_cas() override {
    return run(Mode::read, [&](Session& s) -> Result<std::vector<CaRecord>> {
      ASSIGN_OR_RETURN(auto r, s.exec(std::string("SELECT ") + k_ca_columns +
                                          " FROM certificate_authority ORDER BY created_at, name",
                                      Params(), "list CAs"));
      const int rows = PQntuples(r.get());
      std::vector<CaRecord> out;
      out.reserve(static_cast<std::size_t>(rows));
      for (int i = 0; i < rows; ++i) out.push_back(read_ca(r.get(), i));
      return out;
    });
  }

  Status retire_ca(const std::string& name, std::int64_t when) override {
    return run_status(Mode::write, [&](Session& s) {
      return s.exec(
          "UPDATE certificate_authority SET status = 'retired', key_reference = '', retired_at = "
          "$1 "
          "WHERE name = $2",
          Params().integer(when).text(name), "retire CA " + name);
    });
  }

  Status set_ca_key_reference(const std::string& name, const std::string& reference) override {
    return run(Mode::write, [&](Session& s) -> Status {
      ASSIGN_OR_RETURN(auto r, s.exec("UPDATE certificate_authority SET key_reference = $1 "
                                      "WHERE name = $2",
                                      Params().text(reference).text(name),
                                      "record where the key of CA " + name + " is"));
      if (!one_row_changed(r.get())) return fail(ErrorCode::usage, "no CA named " + name);
      return ok();
    });
  }

  Status add_devices(std::span<const DeviceRecord> devices) override {
    return run(Mode::transaction, [&](Session& s) { return insert_devices(s, devices); });
  }

  Status reissue_device(const DeviceRecord& d, const std::string& reason) override {
    return run(Mode::transaction, [&](Session& s) -> Status {
      ASSIGN_OR_RETURN(auto r,
                       s.exec("UPDATE device SET issuing_ca = $1, certificate = $2, key_mode = $3, "
                              "issued_at = $4, reissue_count = reissue_count + 1, "
                              "reissue_reason = $5 WHERE serial = $6",
                              Params()
                                  .text(d.issuing_ca)
                                  .bytes(d.certificate_der)
                                  .text(std::string(key_mode_name(d.key_mode)))
                                  .integer(d.issued_at)
                                  .text(reason)
                                  .text(d.serial),
                              "reissue " + d.serial));
      if (!one_row_changed(r.get())) {
        return fail(ErrorCode::invalid_value, "device " + d.serial + " has no IDevID to reissue");
      }
      TRY(insert_event(s, d.serial, "reissued", reason, d.issued_at));
      return bump_count(s, d.issuing_ca, 1);
    });
  }

  Result<std::optional<DeviceRecord>> find_device(const std::string& serial) override {
    if (replica_usable()) {
      auto there = find_device_in(*replica_, serial);
      if (there && *there) return there;  // else it may be too new for the replica
      if (!there) replica_failed(there.error());
    }
    return find_device_in(pool_, serial);
  }

  Result<std::optional<DeviceRecord>> find_device_in(ConnectionPool& pool,
                                                     const std::string& serial) {
    return run(pool, Mode::read, [&](Session& s) -> Result<std::optional<DeviceRecord>> {
      ASSIGN_OR_RETURN(auto r, s.exec(std::string("SELECT ") + k_device_columns +
                                          " FROM device WHERE serial = $1",
                                      Params().text(serial), "look up device " + serial));
      if (PQntuples(r.get()) == 0) return std::optional<DeviceRecord>();
      return std::optional<DeviceRecord>(read_device(r.get(), 0));
    });
  }

  Result<std::vector<std::string>> existing_serials(std::span<const std::string> serials) override {
    return run(Mode::read, [&](Session& s) -> Result<std::vector<std::string>> {
      std::set<std::string, std::less<>> present;
      for (std::size_t first = 0; first < serials.size(); first += k_rows_per_statement) {
        const auto chunk =
            serials.subspan(first, std::min(k_rows_per_statement, serials.size() - first));
        Params p;
        for (const auto& serial : chunk) p.text(serial);
        std::string in = placeholders(1, chunk.size());
        ASSIGN_OR_RETURN(auto r, s.exec("SELECT serial FROM device WHERE serial IN " + in, p,
                                        "look up " + std::to_string(chunk.size()) + " serials"));
        for (int i = 0; i < PQntuples(r.get()); ++i) present.insert(text_at(r.get(), i, 0));
      }
      // In the caller's order, as the SQLite backend answers.
      std::vector<std::string> found;
      for (const auto& serial : serials) {
        if (present.contains(serial)) found.push_back(serial);
      }
      return found;
    });
  }

  // Pages by serial, releasing the connection between pages: no transaction
  // stays open while the caller works, and the callback may use the store.
  Status for_each_device(const DeviceFilter& filter,
                         const std::function<bool(const DeviceRecord&)>& visit) override {
    std::optional<std::string> after;
    while (true) {
      ASSIGN_OR_RETURN(auto page, device_page(filter, after));
      const int rows = PQntuples(page.get());
      for (int i = 0; i < rows; ++i) {
        if (!visit(read_device(page.get(), i))) return ok();
      }
      if (rows < k_page_size) return ok();
      after = text_at(page.get(), rows - 1, 0);
    }
  }

  Result<std::int64_t> count_devices() override {
    return run(Mode::read, [&](Session& s) -> Result<std::int64_t> {
      ASSIGN_OR_RETURN(auto r, s.exec("SELECT count(*) FROM device", Params(), "count devices"));
      return integer_at(r.get(), 0, 0);
    });
  }

  Result<DeviceStatus> device_status(const std::string& serial) override {
    if (replica_usable()) {
      auto there = device_status_in(*replica_, serial);
      if (there) return there;
      replica_failed(there.error());
    }
    return device_status_in(pool_, serial);
  }

  Result<DeviceStatus> device_status_in(ConnectionPool& pool, const std::string& serial) {
    return run(pool, Mode::read, [&](Session& s) -> Result<DeviceStatus> {
      // One statement: the flags and anchors come from one snapshot.
      ASSIGN_OR_RETURN(auto r, s.exec("SELECT d.stolen, d.ownership, a.certificate FROM device d "
                                      "LEFT JOIN owner_anchor a ON a.serial = d.serial "
                                      "WHERE d.serial = $1 ORDER BY a.id",
                                      Params().text(serial), "look up device " + serial));
      if (PQntuples(r.get()) == 0) {
        return fail(ErrorCode::invalid_value, "no device with serial " + serial);
      }
      DeviceStatus status;
      status.stolen = boolean_at(r.get(), 0, 0);
      if (!null_at(r.get(), 0, 1)) {
        ASSIGN_OR_RETURN(status.ownership, parse_ownership_policy(text_at(r.get(), 0, 1)));
      }
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        if (!null_at(r.get(), i, 2)) status.owner_anchors.push_back(bytes_at(r.get(), i, 2));
      }
      return status;
    });
  }

  Status set_stolen(const std::string& serial, bool stolen, const std::string& reason,
                    std::int64_t when) override {
    return run(Mode::transaction, [&](Session& s) -> Status {
      ASSIGN_OR_RETURN(auto r,
                       s.exec("UPDATE device SET stolen = $1 WHERE serial = $2",
                              Params().boolean(stolen).text(serial), "mark device " + serial));
      if (!one_row_changed(r.get())) return no_device(serial);
      return insert_event(s, serial, stolen ? "reported-stolen" : "stolen-report-withdrawn", reason,
                          when);
    });
  }

  Status set_ownership_policy(const std::string& serial,
                              std::optional<OwnershipPolicy> policy) override {
    std::optional<std::string> name;
    if (policy) name = std::string(ownership_policy_name(*policy));
    return run(Mode::write, [&](Session& s) -> Status {
      ASSIGN_OR_RETURN(auto r, s.exec("UPDATE device SET ownership = $1 WHERE serial = $2",
                                      Params().optional_text(name).text(serial),
                                      "set the ownership policy of " + serial));
      if (!one_row_changed(r.get())) return no_device(serial);
      return ok();
    });
  }

  Status add_owner_anchor(const std::string& serial, const Bytes& certificate_der,
                          bool replace) override {
    return run(Mode::transaction, [&](Session& s) -> Status {
      // FOR KEY SHARE: the device cannot vanish before the anchor is written.
      ASSIGN_OR_RETURN(auto found, s.exec("SELECT 1 FROM device WHERE serial = $1 FOR KEY SHARE",
                                          Params().text(serial), "look up device " + serial));
      if (PQntuples(found.get()) == 0) return no_device(serial);
      if (replace) {
        TRY(s.exec("DELETE FROM owner_anchor WHERE serial = $1", Params().text(serial),
                   "clear owner anchors of " + serial));
      }
      TRY(s.exec(
          "INSERT INTO owner_anchor (serial, certificate) VALUES ($1, $2) "
          "ON CONFLICT DO NOTHING",
          Params().text(serial).bytes(certificate_der), "record an owner anchor of " + serial));
      return ok();
    });
  }

  Status record_event(const std::string& serial, const std::string& event,
                      const std::string& detail, std::int64_t when) override {
    return run(Mode::write,
               [&](Session& s) { return insert_event(s, serial, event, detail, when); });
  }

  Status append_audit(const std::string& serial, const AuditEntry& entry) override {
    // One autocommit INSERT with synchronous_commit on (ensured per connection):
    // the commit record is flushed before the server answers. Not retried once
    // sent: a lost answer leaves the outcome unknown, and the caller then
    // returns no voucher.
    return run_status(Mode::write, [&](Session& s) {
      return s.exec(
          "INSERT INTO audit_entry (serial, date, domain_id, nonce, assertion, "
          "registrar_fingerprint) VALUES ($1, $2, $3, $4, $5, $6)",
          Params()
              .text(serial)
              .integer(entry.date)
              .text(entry.domain_id)
              .optional_text(entry.nonce)
              .text(entry.assertion)
              .text(entry.registrar_fingerprint),
          "append to the audit log of " + serial);
    });
  }

  Result<std::vector<AuditEntry>> audit_log(const std::string& serial) override {
    return run(Mode::read, [&](Session& s) -> Result<std::vector<AuditEntry>> {
      ASSIGN_OR_RETURN(auto r, s.exec("SELECT date, domain_id, nonce, assertion, "
                                      "registrar_fingerprint FROM audit_entry WHERE serial = $1 "
                                      "ORDER BY id",
                                      Params().text(serial), "read the audit log of " + serial));
      std::vector<AuditEntry> out;
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        AuditEntry e;
        e.date = integer_at(r.get(), i, 0);
        e.domain_id = text_at(r.get(), i, 1);
        if (!null_at(r.get(), i, 2)) e.nonce = text_at(r.get(), i, 2);
        e.assertion = text_at(r.get(), i, 3);
        e.registrar_fingerprint = text_at(r.get(), i, 4);
        out.push_back(std::move(e));
      }
      return out;
    });
  }

  Result<bool> audited_for_domain(const std::string& serial,
                                  const std::string& domain_id) override {
    return run(Mode::read, [&](Session& s) -> Result<bool> {
      ASSIGN_OR_RETURN(
          auto r, s.exec("SELECT 1 FROM audit_entry WHERE serial = $1 AND "
                         "domain_id = $2 LIMIT 1",
                         Params().text(serial).text(domain_id), "read the audit log of " + serial));
      return PQntuples(r.get()) > 0;
    });
  }

  Result<std::vector<TicketKeyRecord>> ticket_keys(std::int64_t from_slot) override {
    return run(Mode::read, [&](Session& s) -> Result<std::vector<TicketKeyRecord>> {
      ASSIGN_OR_RETURN(auto r, s.exec("SELECT slot, material FROM tls_ticket_key WHERE slot >= $1 "
                                      "ORDER BY slot DESC",
                                      Params().integer(from_slot), "read the session-ticket keys"));
      const int rows = PQntuples(r.get());
      std::vector<TicketKeyRecord> out;
      out.reserve(static_cast<std::size_t>(rows));
      for (int i = 0; i < rows; ++i) {
        out.push_back(TicketKeyRecord{integer_at(r.get(), i, 0), bytes_at(r.get(), i, 1)});
      }
      return out;
    });
  }

  Status add_ticket_key(const TicketKeyRecord& key, std::int64_t drop_before) override {
    return run(Mode::transaction, [&](Session& s) -> Status {
      TRY(s.exec(
          "INSERT INTO tls_ticket_key (slot, material) VALUES ($1, $2) ON CONFLICT DO NOTHING",
          Params().integer(key.slot).bytes(key.material), "record a session-ticket key"));
      // The table is unlogged (no WAL); the deleted rows' bytes stay in
      // its pages until (auto)vacuum reclaims them.
      TRY(s.exec("DELETE FROM tls_ticket_key WHERE slot < $1", Params().integer(drop_before),
                 "forget the expired session-ticket keys"));
      return ok();
    });
  }

  Status add_masa_signer(const MasaSignerRecord& signer) override {
    return run_status(Mode::write, [&](Session& s) {
      return s.exec(
          "INSERT INTO masa_signer (scope, key_reference, chain_pem, created_at) "
          "VALUES ($1, $2, $3, $4)",
          Params()
              .text(signer.scope)
              .text(signer.key_reference)
              .text(signer.chain_pem)
              .integer(signer.created_at),
          "record a MASA signing key");
    });
  }

  Result<std::vector<MasaSignerRecord>> list_masa_signers() override {
    return run(Mode::read, [&](Session& s) -> Result<std::vector<MasaSignerRecord>> {
      ASSIGN_OR_RETURN(auto r, s.exec("SELECT id, scope, key_reference, chain_pem, created_at "
                                      "FROM masa_signer ORDER BY id",
                                      Params(), "list the MASA signing keys"));
      const int rows = PQntuples(r.get());
      std::vector<MasaSignerRecord> out;
      out.reserve(static_cast<std::size_t>(rows));
      for (int i = 0; i < rows; ++i) {
        out.push_back({integer_at(r.get(), i, 0), text_at(r.get(), i, 1), text_at(r.get(), i, 2),
                       text_at(r.get(), i, 3), integer_at(r.get(), i, 4)});
      }
      return out;
    });
  }

  Status ping() override {
    return run_status(Mode::read, [&](Session& s) {
      return s.exec("SELECT 1", Params(), "ping the PostgreSQL store at " + pool_.target());
    });
  }

  Status check_writable() override {
    // A committed update: a standby, a read-only database or a primary
    // that cannot write its WAL refuses it.
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    return run_status(Mode::write, [&](Session& s) {
      return s.exec("UPDATE store_health SET checked_at = $1 WHERE id = 1", Params().integer(now),
                    "write to the PostgreSQL store at " + pool_.target());
    });
  }

 private:
  // Up to k_page_size devices after the serial `after` (from the first if none).
  Result<PgResultPtr> device_page(const DeviceFilter& filter,
                                  const std::optional<std::string>& after) {
    const auto sql = std::string("SELECT ") + k_device_columns +
                     " FROM device WHERE ($1 = '' OR product = $1) AND "
                     "($2 = '' OR issuing_ca = $2) AND ($3::text IS NULL OR serial > $3) "
                     "ORDER BY serial LIMIT $4";
    Params p;
    p.text(filter.product).text(filter.issuing_ca).optional_text(after).integer(k_page_size);
    return run(Mode::read, [&](Session& s) { return s.exec(sql, p, "list devices"); });
  }

  // A replica that fails to answer is left alone for a while, so that
  // reads do not each wait for its connect timeout.
  [[nodiscard]] bool replica_usable() const {
    return replica_ && std::chrono::steady_clock::now().time_since_epoch().count() >=
                           replica_retry_at_.load(std::memory_order_relaxed);
  }
  void replica_failed(const Error& error) {
    if (error.code != ErrorCode::io_error) return;  // "no such device": it may be too new
    replica_retry_at_.store(
        (std::chrono::steady_clock::now() + k_replica_pause).time_since_epoch().count(),
        std::memory_order_relaxed);
  }

  // read: retried once on a fresh connection if the connection died.
  // write: one autocommit statement, never retried once it may have run.
  // transaction: BEGIN ... COMMIT, retried when the server rolled it back
  // (serialization failure, deadlock) or the connection died before COMMIT.
  enum class Mode { read, write, transaction };

  template <typename Body>
  auto run(Mode mode, Body&& body) -> decltype(body(std::declval<Session&>())) {
    return run(pool_, mode, std::forward<Body>(body));
  }

  template <typename Body>
  auto run(ConnectionPool& pool, Mode mode, Body&& body)
      -> decltype(body(std::declval<Session&>())) {
    using Outcome = decltype(body(std::declval<Session&>()));
    bool reconnected = false;
    for (int attempt = 1;; ++attempt) {
      ASSIGN_OR_RETURN(auto lease, pool.acquire());
      Session session(lease.get());
      Outcome outcome = mode == Mode::transaction ? in_transaction(session, body) : body(session);
      if (outcome.has_value()) return outcome;
      const bool lost = session.failure() == Failure::connection && !reconnected &&
                        mode != Mode::write && !session.commit_sent();
      const bool rolled_back =
          session.failure() == Failure::rolled_back && mode == Mode::transaction;
      if (attempt == k_max_attempts || !(lost || rolled_back)) return outcome;
      reconnected = reconnected || lost;
    }
  }

  // For bodies whose statement result is not needed.
  template <typename Body>
  Status run_status(Mode mode, Body&& body) {
    return run(mode, [&](Session& s) -> Status {
      TRY(body(s));
      return ok();
    });
  }

  template <typename Body>
  static auto in_transaction(Session& session, Body& body)
      -> decltype(body(std::declval<Session&>())) {
    TRY(session.command("BEGIN", "begin a transaction"));
    auto outcome = body(session);
    if (!outcome.has_value()) {
      (void)session.command("ROLLBACK", "roll back");
      return outcome;
    }
    TRY(session.commit());
    return outcome;
  }

  Result<std::int64_t> schema_version(Session& session) {
    auto r =
        session.exec("SELECT coalesce(max(version), 0) FROM schema_migrations", Params(),
                     "read the schema version of the PostgreSQL store (" + pool_.target() + ")");
    if (r) return integer_at(r->get(), 0, 0);
    if (session.sqlstate() == "42P01") return std::int64_t{0};  // a new, empty database
    return fail(std::move(r).error());
  }

  Status apply_migrations(Session& session) {
    // Several instances may start at once: the first migrates, the others wait
    // here and then find the schema current.
    TRY(session.exec("SELECT pg_advisory_xact_lock($1)", Params().integer(k_migration_lock),
                     "lock the schema for migration"));
    TRY(with_privilege_hint(session,
                            session.command("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                            "version INTEGER PRIMARY KEY, "
                                            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                                            "create the schema_migrations table in the "
                                            "PostgreSQL store (" +
                                                pool_.target() + ")")));
    ASSIGN_OR_RETURN(auto version, schema_version(session));
    if (version > k_latest_version) return too_new(version);
    for (auto v = version; v < k_latest_version; ++v) {
      TRY(with_privilege_hint(
          session, session.command(detail::migrations()[static_cast<std::size_t>(v)].postgres,
                                   "apply schema migration " + std::to_string(v + 1) +
                                       " to the PostgreSQL store (" + pool_.target() + ")")));
      TRY(session.exec("INSERT INTO schema_migrations (version) VALUES ($1)",
                       Params().integer(v + 1), "record schema version " + std::to_string(v + 1)));
    }
    return ok();
  }

  // A role that may only read and write rows can run a current schema but
  // cannot migrate one: say so rather than just "permission denied".
  static Status with_privilege_hint(const Session& session, Status status) {
    if (status || session.sqlstate() != "42501") return status;
    return fail(ErrorCode::io_error, status.error().message +
                                         "; start once with a role that may create tables in "
                                         "the schema (its owner) to migrate it, then use this one");
  }

  [[nodiscard]] Unexpected too_new(std::int64_t version) const {
    return fail(ErrorCode::io_error, "the PostgreSQL store (" + pool_.target() +
                                         ") has schema version " + std::to_string(version) +
                                         ", newer than the " + std::to_string(k_latest_version) +
                                         " this vouchsafe understands: upgrade vouchsafe");
  }

  static Status no_device(const std::string& serial) {
    return fail(ErrorCode::invalid_value, "no device with serial " + serial);
  }

  static Status insert_event(Session& s, const std::string& serial, const std::string& event,
                             const std::string& detail, std::int64_t when) {
    TRY(s.exec("INSERT INTO device_event (serial, at, event, detail) VALUES ($1, $2, $3, $4)",
               Params().text(serial).integer(when).text(event).text(detail),
               "record event " + event + " of " + serial));
    return ok();
  }

  static Status insert_devices(Session& s, std::span<const DeviceRecord> devices) {
    // Sorted by CA name: concurrent batches lock CA rows in one order, so
    // their issued_count updates queue up instead of deadlocking.
    std::map<std::string, std::int64_t, std::less<>> per_ca;
    for (std::size_t first = 0; first < devices.size(); first += k_rows_per_statement) {
      const auto chunk =
          devices.subspan(first, std::min(k_rows_per_statement, devices.size() - first));
      Params p;
      for (const auto& d : chunk) {
        p.text(d.serial)
            .text(d.product)
            .text(d.issuing_ca)
            .bytes(d.certificate_der)
            .text(std::string(key_mode_name(d.key_mode)))
            .integer(d.issued_at)
            .integer(d.reissue_count)
            .text(d.reissue_reason)
            .text(d.masa_key_id);
        ++per_ca[d.issuing_ca];
      }
      const auto what = chunk.size() == 1
                            ? "device " + chunk.front().serial
                            : "devices " + chunk.front().serial + ".." + chunk.back().serial;
      TRY(s.exec(std::string("INSERT INTO device (") + k_device_columns + ") VALUES " +
                     placeholders(chunk.size(), 9),
                 p, what));
    }
    for (const auto& [ca, count] : per_ca) TRY(bump_count(s, ca, count));
    return ok();
  }

  // A row lock under READ COMMITTED: a concurrent increment waits for this
  // one and then adds to the committed value, so no increment is lost.
  static Status bump_count(Session& s, const std::string& ca, std::int64_t count) {
    TRY(
        s.exec("UPDATE certificate_authority SET issued_count = issued_count + $1 "
               "WHERE name = $2",
               Params().integer(count).text(ca), "count certificates of " + ca));
    return ok();
  }

  ConnectionPool pool_;
  std::unique_ptr<ConnectionPool> replica_;
  std::atomic<std::chrono::steady_clock::rep> replica_retry_at_{0};
};

}  // namespace

Result<std::unique_ptr<AssetStore>> open_postgres_store(const std::string& dsn,
                                                        std::size_t pool_size,
                                                        SchemaChange schema_change,
                                                        const std::string& read_dsn) {
  if (pool_size == 0) {
    return fail(ErrorCode::usage, "the PostgreSQL connection pool needs at least one connection");
  }
  ASSIGN_OR_RETURN(auto target, describe_dsn(dsn));
  auto store = std::make_unique<PostgresStore>(dsn, std::move(target), pool_size);
  TRY(store->migrate(schema_change));
  if (!read_dsn.empty()) {
    ASSIGN_OR_RETURN(auto read_target, describe_dsn(read_dsn));
    store->read_from(read_dsn, std::move(read_target), pool_size);
  }
  return std::unique_ptr<AssetStore>(std::move(store));
}

Result<SchemaMigration> migrate_postgres_store(const std::string& dsn) {
  ASSIGN_OR_RETURN(auto target, describe_dsn(dsn));
  PostgresStore store(dsn, std::move(target), 1);
  return store.migrate(SchemaChange::migrate);
}

}  // namespace vouchsafe::store
