// The registrar's reading of a MASA audit log (RFC 8995 §5.8.1) and the
// owner's policy over it (§5.8.3): whom else the device has been vouched
// to, whether without a nonce, and how much of its history is hidden.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace vouchsafe::registrar {

struct AuditLogEvent {
  std::string date;  // as the MASA wrote it
  std::string domain_id;
  std::optional<std::string> nonce;  // null: a nonceless voucher
  std::string assertion;
  std::uint64_t truncated = 0;  // earlier duplicates this entry stands for
};

struct AuditLog {
  std::uint64_t version = 1;
  std::vector<AuditLogEvent> events;
  std::uint64_t nonced_duplicates = 0;
  std::uint64_t nonceless_duplicates = 0;
  std::uint64_t arbitrary = 0;
};

// The largest audit log read; a MASA caps entries (1024 by default here).
inline constexpr std::size_t k_max_audit_log_bytes = std::size_t{1} << 20U;

// application/json as RFC 8995 §5.8.1 gives it. Tolerated because MASAs in
// the field write them: numbers as strings ("1", "0"), a version above 1
// (an enhanced log, whose members this reader does not know are ignored),
// members of events and of "truncation" that it does not know. Refused:
// anything above max_bytes, JSON that is not strict (duplicates), a
// missing or non-array "events", an event without domainID.
Result<AuditLog> parse_audit_log(ByteView json, std::size_t max_bytes = k_max_audit_log_bytes);

struct AuditLogPolicy {
  // Vouchers the MASA issued to other domains: a device with a previous
  // owner is refused unless allowed here or its domainID is listed.
  bool allow_other_domains = false;
  std::vector<std::string> accepted_domains;
  // Nonceless vouchers to other domains (which stay valid until they
  // expire, wherever the device is): refused unless allowed here or the
  // domainID is listed.
  bool allow_nonceless_other_domains = false;
  std::vector<std::string> nonceless_domains;
  // Entries the MASA left out without saying whose ("arbitrary").
  std::uint64_t max_arbitrary_truncation = 0;
  friend bool operator==(const AuditLogPolicy&, const AuditLogPolicy&) = default;
};

struct AuditVerdict {
  bool accepted = true;
  std::string reason;  // why not, naming the entry
};

// own_domain_id: the domainID (RFC 8995 §5.8.2) of the certificate the
// voucher just obtained pins, i.e. this registrar's domain.
AuditVerdict apply_audit_log_policy(const AuditLog& log, const std::string& own_domain_id,
                                    const AuditLogPolicy& policy);

}  // namespace vouchsafe::registrar
