// Business continuity (masa-considerations §3: the maker may hand its MASA
// to another part of the organisation, or to another company): one
// encrypted bundle with everything a MASA is - its configuration, anchors
// and certificates, its keys (file keys still encrypted under their own
// passphrases; token keys as references to the token that holds them),
// every CA and device with its status and owners, the signer records, and
// each device's audit log - and its restoration on a fresh home, whose
// vouchers the same devices accept and whose audit logs are the same.
#pragma once

#include <string>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/sealed_box.h"
#include "factory/home.h"

namespace vouchsafe::service {

inline constexpr std::size_t k_max_continuity_bundle = std::size_t{256} << 20U;

struct ContinuityCounts {
  std::size_t files = 0, cas = 0, devices = 0, audit_entries = 0, signers = 0;
};

// Writes the bundle of `home` (its masa.toml at `masa_config`) to `out`,
// sealed with AES-256-GCM under scrypt from `passphrase` (8+ characters).
// Device events other than the status they set are not carried.
Result<ContinuityCounts> export_continuity(const factory::Home& home,
                                           const std::string& masa_config, const std::string& out,
                                           const std::string& passphrase,
                                           const crypto::ScryptCost& cost = {});

// Restores a bundle into `home`, which must not hold a PKI or a MASA yet;
// paths under the old home are rewritten to the new one. `store` is a
// PostgreSQL DSN to restore into, or "" for the home's SQLite store. The
// bundle is untrusted input: bounded, authenticated before it is parsed,
// and parsed strictly. If anything fails, the files written are removed.
Result<ContinuityCounts> import_continuity(const factory::Home& home, const std::string& bundle,
                                           const std::string& passphrase, const std::string& store);

}  // namespace vouchsafe::service
