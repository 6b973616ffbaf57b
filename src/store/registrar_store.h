// The registrar's own store (an owner's, apart from the manufacturer's
// asset store): the pledges it has seen, the vouchers it obtained and
// forwarded, their telemetry, and the LDevIDs its domain CA issued.
// SQLite is the embedded backend; its SQL lives in sqlite_registrar_store.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace vouchsafe::store {

// A voucher the registrar obtained from a MASA and forwarded to a pledge
// (RFC 8995 §5.6): what EST later requires before it issues an LDevID.
struct VoucherRecord {
  std::string serial;
  std::int64_t at = 0;             // Unix seconds
  std::string idevid_fingerprint;  // hex SHA-256 of the IDevID that asked
  std::string masa_url;
  std::string form;                  // cms, cose, jws
  std::string assertion;             // as the voucher says
  std::optional<std::string> nonce;  // none: a nonceless voucher
  std::string domain_id;             // of the certificate it pins
  Bytes voucher;                     // as the MASA signed it
};

struct LdevidRecord {
  std::string serial;
  std::int64_t at = 0;
  Bytes certificate_der;
  std::string certificate_serial;  // hex
  std::int64_t not_after = 0;
  bool renewal = false;  // simplereenroll
};

// One step of a pledge's onboarding, for `registrar status`: a request, a
// refusal (kind = the refusal's name), telemetry.
struct RegistrarEvent {
  std::string serial;
  std::int64_t at = 0;
  std::string
      kind;  // "voucher-request", "voucher-forwarded", "audit_log_refused", "voucher-status", ...
  bool ok = true;
  std::string detail;
};

struct PledgeSummary {
  std::string serial;
  std::int64_t first_seen = 0;
  std::int64_t last_seen = 0;
  std::string state;  // the latest event's kind
  bool state_ok = true;
};

struct PledgeOnboarding {
  PledgeSummary summary;
  Bytes idevid_der;  // the latest IDevID it presented
  std::vector<VoucherRecord> vouchers;
  std::vector<LdevidRecord> ldevids;
  std::vector<RegistrarEvent> events;  // oldest first
};

class RegistrarStore {
 public:
  virtual ~RegistrarStore() = default;

  // A pledge presented this IDevID: created on first sight, last_seen after.
  virtual Status record_pledge(const std::string& serial, const Bytes& idevid_der,
                               std::int64_t at) = 0;
  virtual Status record_voucher(const VoucherRecord& voucher) = 0;
  // Whether a voucher went to this pledge, through this registrar, when it
  // presented this IDevID.
  virtual Result<bool> has_voucher(const std::string& serial,
                                   const std::string& idevid_fingerprint) = 0;
  virtual Status record_ldevid(const LdevidRecord& ldevid) = 0;
  virtual Status record_event(const RegistrarEvent& event) = 0;

  virtual Result<std::optional<PledgeOnboarding>> onboarding(const std::string& serial) = 0;
  virtual Result<std::vector<PledgeSummary>> list_pledges() = 0;

  virtual Status ping() = 0;
  // A small durable write: ready means a voucher can be recorded now.
  virtual Status check_writable() = 0;
};

// Opens (creating, mode 0600) the SQLite file at path in WAL mode and
// brings its schema up to date.
Result<std::unique_ptr<RegistrarStore>> open_sqlite_registrar_store(const std::string& path);

// Connects to PostgreSQL (a libpq DSN or postgresql:// URI) and brings the
// registrar's schema up to date under an advisory lock. One connection,
// reconnected when it drops: a registrar's load is its pledges'.
Result<std::unique_ptr<RegistrarStore>> open_postgres_registrar_store(const std::string& dsn);

// PostgreSQL for a libpq DSN or postgresql:// URI, SQLite for a path.
Result<std::unique_ptr<RegistrarStore>> open_registrar_store(const std::string& dsn_or_path);

}  // namespace vouchsafe::store
