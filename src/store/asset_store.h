// The manufacturer's asset store: certificate authorities and every device
// with its IDevID. One interface; SQLite is the embedded backend and the
// MASA reads the same records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace vouchsafe::store {

enum class CaRole { root, issuing };
enum class CaStatus { active, retired };

struct CaRecord {
  std::string name;
  CaRole role = CaRole::issuing;
  std::string factory;  // empty: any factory
  std::string product;  // empty: any product
  Bytes certificate_der;
  // The CA key by reference (crypto/key_reference.h): an encrypted key
  // file's path or a pkcs11: URI; "split:<split id>" once the key has been
  // split among officers (key ceremonies); empty once retired.
  std::string key_reference;
  CaStatus status = CaStatus::active;
  std::int64_t issued_count = 0;
  std::int64_t created_at = 0;  // Unix seconds
  std::optional<std::int64_t> retired_at;
  std::int64_t max_certificates = 0;  // automatic retirement; 0 = no limit
  std::int64_t max_age_seconds = 0;   // automatic retirement; 0 = no limit
};

// How the device's IDevID key came to be (draft-richardson-anima-masa-considerations §2).
// imported: the IDevID was made by someone else (another vendor's CA); we
// hold only its certificate.
enum class KeyMode { csr, generated, seed, dice, imported };
std::string_view key_mode_name(KeyMode mode);
Result<KeyMode> parse_key_mode(std::string_view name);

struct DeviceRecord {
  std::string serial;  // the IDevID subject serialNumber, the voucher serial-number
  std::string product;
  std::string issuing_ca;
  Bytes certificate_der;
  KeyMode key_mode = KeyMode::csr;
  std::int64_t issued_at = 0;
  int reissue_count = 0;
  std::string reissue_reason;  // the latest reason, empty if never reissued
  // The MASA key this device's firmware trusts (MASA key architecture 4:
  // bound at manufacture, docs/masa-keys.md); empty: the product's or the
  // MASA's default key.
  std::string masa_key_id;
};

// One online voucher-signing key of the MASA, as `masa key rollover` (and
// `masa init`) record it: every MASA instance reading the store signs the
// scope's vouchers with the newest record of that scope.
struct MasaSignerRecord {
  std::int64_t id = 0;        // assigned by the store, increasing
  std::string scope;          // "" (every voucher), a product, or a key id
  std::string key_reference;  // file path or pkcs11: URI
  std::string chain_pem;      // the signer's certificate, then its chain up to the anchor
  std::int64_t created_at = 0;
};

// Who may obtain vouchers for a device (SPEC.md §6, issue "ownership
// policy"): any registrar, trusted on first use, or only registrars under
// the owner anchors recorded for the device.
enum class OwnershipPolicy { open, known_customer };
std::string_view ownership_policy_name(OwnershipPolicy policy);
Result<OwnershipPolicy> parse_ownership_policy(std::string_view name);

// What the MASA knows about a device beyond its IDevID.
struct DeviceStatus {
  bool stolen = false;
  std::optional<OwnershipPolicy> ownership;  // per-device override of the product's policy
  std::vector<Bytes> owner_anchors;          // DER certificates of the owner's CAs
};

// What the MASA reads of a device for one voucher request.
struct DeviceForVoucher {
  DeviceRecord device;
  DeviceStatus status;
  bool audited_for_domain = false;  // the domain has had a voucher for it before
};

// An event in a device's history, as record_event takes it.
struct DeviceEvent {
  std::string name;  // "owner-tofu", "refused-stolen", ...
  std::string detail;
  std::int64_t at = 0;  // Unix seconds
};

// One issued voucher, RFC 8995 §5.8.1: what registrars read back.
struct AuditEntry {
  std::int64_t date = 0;             // Unix seconds
  std::string domain_id;             // §5.8.2: base64 of the pinned cert's SKI, or SPKI SHA-256
  std::optional<std::string> nonce;  // as text; none for a nonceless voucher
  std::string assertion;
  std::string registrar_fingerprint;  // hex SHA-256 of the TLS client certificate
};

// A TLS session-ticket key that the instances of a service share
// (net::TicketKeyring), one per rotation slot (Unix time / period).
struct TicketKeyRecord {
  std::int64_t slot = 0;
  Bytes material;  // the key as service::TicketSeal sealed it (or k_material_size bytes in the clear)
};

struct DeviceFilter {
  std::string product;  // empty: all
  std::string issuing_ca;
};

// The store is four concerns behind one handle; a caller that needs one
// takes that interface.

// The manufacturer's root and issuing CAs.
class CaRegistry {
 public:
  virtual ~CaRegistry() = default;

  virtual Status add_ca(const CaRecord& ca) = 0;
  virtual Result<std::optional<CaRecord>> find_ca(const std::string& name) = 0;
  virtual Result<std::vector<CaRecord>> list_cas() = 0;
  virtual Status retire_ca(const std::string& name, std::int64_t when) = 0;
  // Where a CA's key now is (a key ceremony split it: "split:<id>").
  virtual Status set_ca_key_reference(const std::string& name, const std::string& reference) = 0;
};

// Devices, their history, and who may obtain vouchers for them.
class DeviceRegistry {
 public:
  virtual ~DeviceRegistry() = default;

  // Adds devices in one transaction: all or none. A serial already present
  // is a duplicate_member error naming it. Each CA's issued_count grows by
  // the devices it signed here.
  virtual Status add_devices(std::span<const DeviceRecord> devices) = 0;
  // Replaces a device's IDevID (explicit reissue), recording the reason.
  virtual Status reissue_device(const DeviceRecord& device, const std::string& reason) = 0;
  virtual Result<std::optional<DeviceRecord>> find_device(const std::string& serial) = 0;
  // Which of these serials are already recorded.
  virtual Result<std::vector<std::string>> existing_serials(
      std::span<const std::string> serials) = 0;
  // Streams devices in serial order; the callback returns false to stop.
  virtual Status for_each_device(const DeviceFilter& filter,
                                 const std::function<bool(const DeviceRecord&)>& visit) = 0;
  virtual Result<std::int64_t> count_devices() = 0;

  // --- the MASA's view of devices
  virtual Result<DeviceStatus> device_status(const std::string& serial) = 0;
  // Reported stolen (and its undo); the change is recorded as an event.
  virtual Status set_stolen(const std::string& serial, bool stolen, const std::string& reason,
                            std::int64_t when) = 0;
  virtual Status set_ownership_policy(const std::string& serial,
                                      std::optional<OwnershipPolicy> policy) = 0;
  // Adds an owner anchor (idempotent); replace=true first clears the old ones.
  virtual Status add_owner_anchor(const std::string& serial, const Bytes& certificate_der,
                                  bool replace) = 0;
  // An event in the device's history (reissue, stolen report, refused request...).
  virtual Status record_event(const std::string& serial, const std::string& event,
                              const std::string& detail, std::int64_t when) = 0;
};

// The audit log, append-only (RFC 8995 §5.8).
class AuditLog {
 public:
  virtual ~AuditLog() = default;

  // Returns once the entry is durable (committed and synced): the MASA
  // returns no voucher before.
  virtual Status append_audit(const std::string& serial, const AuditEntry& entry) = 0;
  virtual Result<std::vector<AuditEntry>> audit_log(const std::string& serial) = 0;
  // Whether any entry of the device's log names this domainID.
  virtual Result<bool> audited_for_domain(const std::string& serial,
                                          const std::string& domain_id) = 0;
};

// State the MASA's instances share through the store.
class ServiceState {
 public:
  virtual ~ServiceState() = default;

  // Session-ticket keys of slots from `from_slot` on, newest first.
  virtual Result<std::vector<TicketKeyRecord>> ticket_keys(std::int64_t from_slot) = 0;
  // Records the slot's key unless one is recorded (another instance was
  // first): every instance then reads back the same key. Forgets the keys
  // of slots before `drop_before` in the same transaction: a key that opens
  // no ticket any more is not kept where backups and replicas copy it.
  virtual Status add_ticket_key(const TicketKeyRecord& key, std::int64_t drop_before) = 0;

  // The MASA's online signing keys (rollover without downtime).
  virtual Status add_masa_signer(const MasaSignerRecord& signer) = 0;
  // Every record, oldest first.
  virtual Result<std::vector<MasaSignerRecord>> list_masa_signers() = 0;
};

// One store: the four concerns, its health, and the operations that span
// them, which a backend may answer in one round trip or transaction.
class AssetStore : public CaRegistry, public DeviceRegistry, public AuditLog, public ServiceState {
 public:
  // append_audit for callers that must not block while the entry is
  // synced, with an event of the device's history written in the same
  // transaction (the MASA's note of trust on first use): done(result) runs
  // once, possibly on another thread, when both are durable or have
  // failed. By default the writes run on the calling thread.
  using AuditDone = std::function<void(Status)>;
  // By value: a backend that writes on another thread keeps them.
  // NOLINTBEGIN(performance-unnecessary-value-param)
  virtual void append_audit_async(const std::string& serial, AuditEntry entry,
                                  std::optional<DeviceEvent> event, AuditDone done) {
    if (event) {
      if (auto recorded = record_event(serial, event->name, event->detail, event->at); !recorded) {
        return done(std::move(recorded));
      }
    }
    done(append_audit(serial, entry));
  }
  // NOLINTEND(performance-unnecessary-value-param)

  // The device, its status and whether domain_id has had a voucher for it;
  // nothing for an unknown serial. By default the three reads in turn.
  virtual Result<std::optional<DeviceForVoucher>> device_for_voucher(const std::string& serial,
                                                                     const std::string& domain_id) {
    ASSIGN_OR_RETURN(auto device, find_device(serial));
    if (!device) return std::optional<DeviceForVoucher>();
    ASSIGN_OR_RETURN(auto status, device_status(serial));
    ASSIGN_OR_RETURN(const bool audited, audited_for_domain(serial, domain_id));
    return std::optional<DeviceForVoucher>(
        DeviceForVoucher{std::move(*device), std::move(status), audited});
  }

  // Whether the store answers (readiness probes).
  virtual Status ping() = 0;
  // Whether a write would be committed now: ready means a voucher can be
  // issued, and a voucher leaves only once its audit entry is durable. A
  // small durable write on the audit log's own path (a full disk, a
  // read-only file or a standby database fail it), and for a local file
  // enough free space for the entries to come.
  virtual Status check_writable() = 0;
};

// What opening a shared store does with a schema older than this build's.
// Operator commands bring it up to date; a MASA instance refuses to start,
// so that DDL runs once (`vouchsafe masa migrate`, under an advisory lock)
// and never under instances still serving on the old schema. A schema newer
// than this build's is refused either way.
enum class SchemaChange { migrate, refuse };

// Opens (creating if needed) the SQLite store at path, in WAL mode, and
// brings its schema up to date: an embedded store has one writer host.
Result<std::unique_ptr<AssetStore>> open_sqlite_store(const std::string& path);

// Connects to the PostgreSQL store named by a libpq DSN (key=value pairs or a
// postgresql:// URI) with a pool of up to pool_size connections, and checks
// its schema: SchemaChange::migrate brings it up to date (under an advisory
// lock; a current schema costs one SELECT and no DDL). With read_dsn (a
// streaming replica), device and ownership reads go there first; the audit
// log, every write, and a device the replica lacks or cannot serve go to
// the primary. Error messages never contain the DSN's password.
Result<std::unique_ptr<AssetStore>> open_postgres_store(
    const std::string& dsn, std::size_t pool_size = 4,
    SchemaChange schema_change = SchemaChange::migrate, const std::string& read_dsn = {});

// The backend a store location names: a "postgresql://" or "postgres://" URI
// or a key=value DSN ("host=db port=5432 ...", any libpq keyword first) is
// PostgreSQL with the default pool; anything else is the path of a SQLite file.
bool names_postgres(std::string_view location);
// read_dsn: a replica for device reads (PostgreSQL only; see above).
Result<std::unique_ptr<AssetStore>> open_store(const std::string& dsn_or_path,
                                               SchemaChange schema_change = SchemaChange::migrate,
                                               const std::string& read_dsn = {});

// Brings the PostgreSQL store's schema up to date, once, under the advisory
// lock. The versions before and after.
struct SchemaMigration {
  std::int64_t from = 0;
  std::int64_t to = 0;
};
Result<SchemaMigration> migrate_postgres_store(const std::string& dsn);

}  // namespace vouchsafe::store
