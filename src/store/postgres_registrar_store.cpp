// PostgreSQL backend of the registrar's store: one libpq connection behind
// a mutex (a registrar's load is its pledges', far below the MASA's),
// reconnected once when it drops; numbered migrations, mirroring the
// SQLite backend's, applied under an advisory lock. Every statement of this
// backend is in this file.
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "store/detail/postgres_values.h"
#include "store/postgres_handles.h"
#include "store/registrar_store.h"

namespace vouchsafe::store {
namespace {

using detail::boolean_at;
using detail::bytes_at;
using detail::integer_at;
using detail::null_at;
using detail::one_line;
using detail::Params;
using detail::text_at;

// pg_advisory_xact_lock key serialising migrations: "vsregist" in ASCII.
constexpr std::int64_t k_migration_lock = 0x7673726567697374;


constexpr const char* k_migrations[] = {
    R"(CREATE TABLE registrar_pledge (
         serial TEXT COLLATE "C" PRIMARY KEY,
         idevid BYTEA NOT NULL,
         first_seen BIGINT NOT NULL,
         last_seen BIGINT NOT NULL);
       CREATE TABLE registrar_voucher (
         id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         serial TEXT COLLATE "C" NOT NULL REFERENCES registrar_pledge(serial),
         at BIGINT NOT NULL,
         idevid_fingerprint TEXT NOT NULL,
         masa_url TEXT NOT NULL,
         form TEXT NOT NULL,
         assertion TEXT NOT NULL,
         nonce TEXT,
         domain_id TEXT NOT NULL,
         voucher BYTEA NOT NULL);
       CREATE INDEX registrar_voucher_by_pledge ON registrar_voucher(serial, idevid_fingerprint);
       CREATE TABLE registrar_ldevid (
         id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         serial TEXT COLLATE "C" NOT NULL REFERENCES registrar_pledge(serial),
         at BIGINT NOT NULL,
         certificate BYTEA NOT NULL,
         certificate_serial TEXT NOT NULL,
         not_after BIGINT NOT NULL,
         renewal BOOLEAN NOT NULL DEFAULT false);
       CREATE INDEX registrar_ldevid_by_pledge ON registrar_ldevid(serial, id);
       CREATE TABLE registrar_event (
         id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         serial TEXT COLLATE "C" NOT NULL,
         at BIGINT NOT NULL,
         kind TEXT NOT NULL,
         ok BOOLEAN NOT NULL,
         detail TEXT NOT NULL DEFAULT '');
       CREATE INDEX registrar_event_by_pledge ON registrar_event(serial, id);
       CREATE TABLE registrar_health (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         checked_at BIGINT NOT NULL);
       INSERT INTO registrar_health (id, checked_at) VALUES (1, 0);)",
};

class PostgresRegistrarStore final : public RegistrarStore {
 public:
  explicit PostgresRegistrarStore(std::string dsn) : dsn_(std::move(dsn)) {}

  Status connect() {
    conn_.reset(PQconnectdb(dsn_.c_str()));
    if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
      // libpq's message names the server, never the password.
      return fail(ErrorCode::io_error,
                  "cannot connect to the registrar's PostgreSQL store: " +
                      one_line(conn_ ? PQerrorMessage(conn_.get()) : "out of memory"));
    }
    // The server's notices (e.g. "relation already exists, skipping") are
    // not for the operator's terminal.
    PQsetNoticeProcessor(
        conn_.get(), [](void*, const char*) {}, nullptr);
    return ok();
  }

  Status migrate() {
    std::lock_guard lock(mutex_);
    TRY(command("BEGIN"));
    Status done = [&]() -> Status {
      TRY(run("SELECT pg_advisory_xact_lock($1)", Params().integer(k_migration_lock), "lock"));
      TRY(command("CREATE TABLE IF NOT EXISTS registrar_schema (version BIGINT NOT NULL)"));
      ASSIGN_OR_RETURN(auto v, run("SELECT version FROM registrar_schema", {}, "schema version"));
      std::int64_t version = 0;
      if (PQntuples(v.get()) == 0) {
        TRY(command("INSERT INTO registrar_schema (version) VALUES (0)"));
      } else {
        version = integer_at(v.get(), 0, 0);
      }
      constexpr auto k_latest = static_cast<std::int64_t>(std::size(k_migrations));
      if (version > k_latest) {
        return fail(ErrorCode::io_error, "the registrar store's schema (version " +
                                             std::to_string(version) +
                                             ") is newer than this vouchsafe understands");
      }
      for (auto n = version; n < k_latest; ++n) TRY(command(k_migrations[n]));
      TRY(run("UPDATE registrar_schema SET version = $1", Params().integer(k_latest), "version"));
      return ok();
    }();
    if (!done) {
      (void)command("ROLLBACK");
      return done;
    }
    return command("COMMIT");
  }

  Status record_pledge(const std::string& serial, const Bytes& idevid_der,
                       std::int64_t at) override {
    return write(
        "INSERT INTO registrar_pledge (serial, idevid, first_seen, last_seen) VALUES "
        "($1, $2, $3, $3) ON CONFLICT (serial) DO UPDATE SET idevid = $2, last_seen = $3",
        Params().text(serial).bytes(idevid_der).integer(at), "record pledge " + serial);
  }

  Status record_voucher(const VoucherRecord& v) override {
    return write(
        "INSERT INTO registrar_voucher (serial, at, idevid_fingerprint, masa_url, form, "
        "assertion, nonce, domain_id, voucher) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
        Params()
            .text(v.serial)
            .integer(v.at)
            .text(v.idevid_fingerprint)
            .text(v.masa_url)
            .text(v.form)
            .text(v.assertion)
            .optional_text(v.nonce)
            .text(v.domain_id)
            .bytes(v.voucher),
        "record a voucher for " + v.serial);
  }

  Result<bool> has_voucher(const std::string& serial,
                           const std::string& idevid_fingerprint) override {
    std::lock_guard lock(mutex_);
    ASSIGN_OR_RETURN(auto r, run("SELECT 1 FROM registrar_voucher WHERE serial = $1 AND "
                                 "idevid_fingerprint = $2 LIMIT 1",
                                 Params().text(serial).text(idevid_fingerprint),
                                 "look up the vouchers of " + serial));
    return PQntuples(r.get()) > 0;
  }

  Status record_ldevid(const LdevidRecord& l) override {
    return write(
        "INSERT INTO registrar_ldevid (serial, at, certificate, certificate_serial, "
        "not_after, renewal) VALUES ($1,$2,$3,$4,$5,$6)",
        Params()
            .text(l.serial)
            .integer(l.at)
            .bytes(l.certificate_der)
            .text(l.certificate_serial)
            .integer(l.not_after)
            .boolean(l.renewal),
        "record the LDevID of " + l.serial);
  }

  Status record_event(const RegistrarEvent& e) override {
    return write(
        "INSERT INTO registrar_event (serial, at, kind, ok, detail) VALUES "
        "($1,$2,$3,$4,$5)",
        Params().text(e.serial).integer(e.at).text(e.kind).boolean(e.ok).text(e.detail),
        "record an event of " + e.serial);
  }

  Result<std::optional<PledgeOnboarding>> onboarding(const std::string& serial) override {
    std::lock_guard lock(mutex_);
    PledgeOnboarding out;
    ASSIGN_OR_RETURN(auto p, run("SELECT serial, first_seen, last_seen, idevid FROM "
                                 "registrar_pledge WHERE serial = $1",
                                 Params().text(serial), "look up pledge " + serial));
    const bool found = PQntuples(p.get()) > 0;
    if (found) {
      out.summary.first_seen = integer_at(p.get(), 0, 1);
      out.summary.last_seen = integer_at(p.get(), 0, 2);
      out.idevid_der = bytes_at(p.get(), 0, 3);
    }
    ASSIGN_OR_RETURN(auto v, run("SELECT serial, at, idevid_fingerprint, masa_url, form, "
                                 "assertion, nonce, domain_id, voucher FROM registrar_voucher "
                                 "WHERE serial = $1 ORDER BY id",
                                 Params().text(serial), "read the vouchers of " + serial));
    for (int i = 0; i < PQntuples(v.get()); ++i) {
      VoucherRecord r{text_at(v.get(), i, 0), integer_at(v.get(), i, 1), text_at(v.get(), i, 2),
                      text_at(v.get(), i, 3), text_at(v.get(), i, 4),    text_at(v.get(), i, 5),
                      std::nullopt,           text_at(v.get(), i, 7),    bytes_at(v.get(), i, 8)};
      if (!null_at(v.get(), i, 6)) r.nonce = text_at(v.get(), i, 6);
      out.vouchers.push_back(std::move(r));
    }
    ASSIGN_OR_RETURN(auto l, run("SELECT serial, at, certificate, certificate_serial, not_after, "
                                 "renewal FROM registrar_ldevid WHERE serial = $1 ORDER BY id",
                                 Params().text(serial), "read the LDevIDs of " + serial));
    for (int i = 0; i < PQntuples(l.get()); ++i) {
      out.ldevids.push_back(LdevidRecord{text_at(l.get(), i, 0), integer_at(l.get(), i, 1),
                                         bytes_at(l.get(), i, 2), text_at(l.get(), i, 3),
                                         integer_at(l.get(), i, 4), boolean_at(l.get(), i, 5)});
    }
    ASSIGN_OR_RETURN(auto e, run("SELECT serial, at, kind, ok, detail FROM registrar_event "
                                 "WHERE serial = $1 ORDER BY id",
                                 Params().text(serial), "read the events of " + serial));
    for (int i = 0; i < PQntuples(e.get()); ++i) {
      out.events.push_back(RegistrarEvent{text_at(e.get(), i, 0), integer_at(e.get(), i, 1),
                                          text_at(e.get(), i, 2), boolean_at(e.get(), i, 3),
                                          text_at(e.get(), i, 4)});
    }
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
    std::lock_guard lock(mutex_);
    ASSIGN_OR_RETURN(
        auto r, run("SELECT p.serial, p.first_seen, p.last_seen, e.kind, e.ok FROM "
                    "registrar_pledge p LEFT JOIN LATERAL (SELECT kind, ok FROM registrar_event "
                    "WHERE serial = p.serial ORDER BY id DESC LIMIT 1) e ON true ORDER BY p.serial",
                    {}, "list pledges"));
    std::vector<PledgeSummary> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      PledgeSummary s{text_at(r.get(), i, 0), integer_at(r.get(), i, 1), integer_at(r.get(), i, 2),
                      "", true};
      if (!null_at(r.get(), i, 3)) s.state = text_at(r.get(), i, 3);
      if (!null_at(r.get(), i, 4)) s.state_ok = boolean_at(r.get(), i, 4);
      out.push_back(std::move(s));
    }
    return out;
  }

  Status ping() override {
    std::lock_guard lock(mutex_);
    TRY(run("SELECT 1", {}, "ping the registrar store"));
    return ok();
  }

  Status check_writable() override {
    return write(
        "UPDATE registrar_health SET checked_at = extract(epoch FROM now())::bigint "
        "WHERE id = 1",
        {}, "write to the registrar store (readiness)");
  }

 private:
  // One autocommitted statement; a connection that has dropped is opened
  // again once (a single statement either committed or did not).
  Status write(const std::string& sql, const Params& params, const std::string& what) {
    std::lock_guard lock(mutex_);
    TRY(run(sql, params, what));
    return ok();
  }

  Result<PgResultPtr> run(const std::string& sql, const Params& params, const std::string& what) {
    for (int attempt = 0;; ++attempt) {
      const auto values = params.pointers();
      const auto lengths = params.lengths();
      PgResultPtr r(PQexecParams(conn_.get(), sql.c_str(), params.size(), params.types(),
                                 values.data(), lengths.data(), params.formats(), 1));
      const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
      if (PQstatus(conn_.get()) != CONNECTION_OK && attempt == 0 && !in_transaction_) {
        PQreset(conn_.get());
        if (PQstatus(conn_.get()) == CONNECTION_OK) continue;
      }
      const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
      if (state != nullptr && std::string_view(state) == "23505") {
        return fail(ErrorCode::duplicate_member, what + ": already recorded");
      }
      return fail(ErrorCode::io_error, what + ": " + one_line(PQerrorMessage(conn_.get())));
    }
  }

  Status command(const char* sql) {
    in_transaction_ =
        std::string_view(sql) == "BEGIN" || (in_transaction_ && std::string_view(sql) != "COMMIT" &&
                                             std::string_view(sql) != "ROLLBACK");
    PgResultPtr r(PQexec(conn_.get(), sql));
    const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return ok();
    return fail(ErrorCode::io_error,
                "the registrar store's schema: " + one_line(PQerrorMessage(conn_.get())));
  }

  std::string dsn_;
  std::mutex mutex_;
  PgConnPtr conn_;
  bool in_transaction_ = false;
};

}  // namespace

Result<std::unique_ptr<RegistrarStore>> open_postgres_registrar_store(const std::string& dsn) {
  auto store = std::make_unique<PostgresRegistrarStore>(dsn);
  TRY(store->connect());
  TRY(store->migrate());
  return std::unique_ptr<RegistrarStore>(std::move(store));
}

}  // namespace vouchsafe::store
