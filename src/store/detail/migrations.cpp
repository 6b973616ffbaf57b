// The asset store's schema, one numbered list for both backends. Migration
// N brings a store from version N to N+1 (SQLite's user_version, the
// schema_migrations table in PostgreSQL). Never edit one that has shipped:
// add another, with its text for each backend; the two must end at the
// same tables and columns (tests/unit/store/store_copy_test.cpp checks).
// PostgreSQL sorts serials and CA names bytewise (COLLATE "C"), as SQLite
// does; device_event and owner_anchor have an identity id there and number
// their rows by rowid in SQLite.
#include "store/detail/migrations.h"

#include <array>

namespace vouchsafe::store::detail {
namespace {

constexpr std::array k_migrations = {
    // The CA registry, devices and their events.
    Migration{
        R"(CREATE TABLE certificate_authority (
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
         detail TEXT NOT NULL DEFAULT '');)",
        R"(CREATE TABLE certificate_authority (
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
         detail TEXT NOT NULL DEFAULT '');)"},
    // Stolen devices, ownership policy and owner anchors; the append-only audit
    // log (RFC 8995 §5.8).
    Migration{
        R"(ALTER TABLE device ADD COLUMN stolen INTEGER NOT NULL DEFAULT 0;
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
       -- RFC 8995 §5.8: the audit log is append-only.
       CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
         BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
       CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
         BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;)",
        R"(ALTER TABLE device ADD COLUMN stolen BOOLEAN NOT NULL DEFAULT false;
       ALTER TABLE device ADD COLUMN ownership TEXT
         CHECK (ownership IS NULL OR ownership IN ('open', 'known-customer'));
       CREATE TABLE owner_anchor (
         id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         serial TEXT COLLATE "C" NOT NULL REFERENCES device(serial),
         certificate BYTEA NOT NULL);
       -- A certificate may outgrow a btree entry (2704 bytes): unique by digest.
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
       -- RFC 8995 §5.8: the audit log is append-only. Statement-level, so that
       -- even an UPDATE or DELETE matching no row is refused, and TRUNCATE too.
       CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP;
         END $$;
       CREATE TRIGGER audit_entry_append_only
         BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_entry
         FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only();)"},
    // Key mode 'imported'. SQLite cannot alter a CHECK constraint, so its device
    // table is rebuilt and renamed (sqlite.org/lang_altertable.html §7); the rows
    // referring to it keep their foreign keys by name. PostgreSQL replaces the
    // constraint, which scans the table once under the migration's lock.
    Migration{
        R"(CREATE TABLE device_rebuilt (
         serial TEXT PRIMARY KEY,
         product TEXT NOT NULL,
         issuing_ca TEXT NOT NULL REFERENCES certificate_authority(name),
         certificate BLOB NOT NULL,
         key_mode TEXT NOT NULL
           CHECK (key_mode IN ('csr', 'generated', 'seed', 'dice', 'imported')),
         issued_at INTEGER NOT NULL,
         reissue_count INTEGER NOT NULL DEFAULT 0,
         reissue_reason TEXT NOT NULL DEFAULT '',
         stolen INTEGER NOT NULL DEFAULT 0,
         ownership TEXT
           CHECK (ownership IS NULL OR ownership IN ('open', 'known-customer')));
       INSERT INTO device_rebuilt (serial, product, issuing_ca, certificate, key_mode, issued_at,
                                   reissue_count, reissue_reason, stolen, ownership)
         SELECT serial, product, issuing_ca, certificate, key_mode, issued_at, reissue_count,
                reissue_reason, stolen, ownership FROM device;
       DROP TABLE device;
       ALTER TABLE device_rebuilt RENAME TO device;
       CREATE INDEX device_by_product ON device(product);)",
        R"(ALTER TABLE device DROP CONSTRAINT device_key_mode_check;
       ALTER TABLE device ADD CONSTRAINT device_key_mode_check
         CHECK (key_mode IN ('csr', 'generated', 'seed', 'dice', 'imported'));)"},
    // Whether a domain has had a voucher for a device: asked on every voucher
    // request under the open policy (trust on first use).
    Migration{R"(CREATE INDEX audit_entry_by_domain ON audit_entry(serial, domain_id);)",
              R"(CREATE INDEX audit_entry_by_domain ON audit_entry(serial, domain_id);)"},
    // One row that readiness rewrites: a write on the audit log's path
    // (AssetStore::check_writable).
    Migration{
        R"(CREATE TABLE store_health (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         checked_at INTEGER NOT NULL);
       INSERT INTO store_health (id, checked_at) VALUES (1, 0);)",
        R"(CREATE TABLE store_health (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         checked_at BIGINT NOT NULL);
       INSERT INTO store_health (id, checked_at) VALUES (1, 0);)"},
    // Keys in custody: CA keys by reference (a file or a pkcs11: URI), the MASA
    // key each device trusts (architecture 4), and the MASA's online signers,
    // newest per scope active (rollover).
    Migration{
        R"(ALTER TABLE certificate_authority RENAME COLUMN key_path TO key_reference;
       ALTER TABLE device ADD COLUMN masa_key_id TEXT NOT NULL DEFAULT '';
       CREATE TABLE masa_signer (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         scope TEXT NOT NULL,
         key_reference TEXT NOT NULL,
         chain_pem TEXT NOT NULL,
         created_at INTEGER NOT NULL);)",
        R"(ALTER TABLE certificate_authority RENAME COLUMN key_path TO key_reference;
       ALTER TABLE device ADD COLUMN masa_key_id TEXT NOT NULL DEFAULT '';
       CREATE TABLE masa_signer (
         id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         scope TEXT NOT NULL,
         key_reference TEXT NOT NULL,
         chain_pem TEXT NOT NULL,
         created_at BIGINT NOT NULL);)"},
    // Session-ticket keys shared by the MASA's instances, one per slot.
    Migration{
        R"(CREATE TABLE tls_ticket_key (
         slot INTEGER PRIMARY KEY,
         material BLOB NOT NULL);)",
        R"(CREATE TABLE tls_ticket_key (
         slot BIGINT PRIMARY KEY,
         material BYTEA NOT NULL);)"},
    // Session-ticket keys out of PostgreSQL's WAL: not in WAL archives,
    // streaming replicas or base backups. A crash or a fail-over empties the
    // table and the instances make a new key (registrars resume again after
    // one full handshake). SQLite has no such tables; its writer overwrites
    // what it deletes.
    Migration{"-- nothing to change in SQLite", "ALTER TABLE tls_ticket_key SET UNLOGGED;"},
};

}  // namespace

std::span<const Migration> migrations() {
  return k_migrations;
}

}  // namespace vouchsafe::store::detail
