// The MASA audit log (RFC 8995 §5.8): the entry recorded for each voucher,
// and the application/json response of requestauditlog with its
// truncation rules.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "store/asset_store.h"
#include "voucher/model.h"

namespace vouchsafe::masa::detail {

// RFC 8995 §5.8.1: the truncation counts may saturate at 1024.
inline constexpr std::int64_t k_truncation_saturation = 1024;

// nonce_text: the voucher's nonce as its JSON carries it (none: nonceless).
store::AuditEntry make_audit_entry(std::time_t now, std::string domain_id,
                                   std::optional<std::string> nonce_text,
                                   voucher::Assertion assertion, std::string caller_fingerprint);

// Whether any of these domainIDs has an entry: the requester is or was an
// owner of the device.
bool logged_for_domain(const std::vector<store::AuditEntry>& entries,
                       const std::vector<std::string>& domain_ids);

// RFC 8995 §5.8.1 response. Entries come oldest first (store order) and
// are shown oldest first. Repeats of one domainID collapse into their
// latest entry, nonced and nonceless apart, its "truncated" member saying
// how many it stands for ("nonced duplicates" / "nonceless duplicates").
// Beyond max_entries events (0: no limit) the oldest are dropped and
// counted as "arbitrary". Counts saturate at 1024; "truncation" is present
// only when something was left out.
Bytes render_audit_log(const std::vector<store::AuditEntry>& entries, std::size_t max_entries);

}  // namespace vouchsafe::masa::detail
