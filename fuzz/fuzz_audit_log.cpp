// Fuzz target for the registrar's reading of a MASA audit log (RFC 8995
// §5.8.1), which comes from across the Internet: whatever it accepts, the
// policy must judge, and the most lenient policy accept.
#include <cstddef>
#include <cstdint>

#include "core/bytes.h"
#include "registrar/audit_log_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vouchsafe::registrar;
  auto log = parse_audit_log(vouchsafe::ByteView(data, size));
  if (!log) return 0;
  AuditLogPolicy strict;
  AuditLogPolicy lenient;
  lenient.allow_other_domains = true;
  lenient.allow_nonceless_other_domains = true;
  lenient.max_arbitrary_truncation = UINT64_MAX;
  (void)apply_audit_log_policy(*log, "us", strict);
  // The most lenient policy accepts every log.
  if (!apply_audit_log_policy(*log, "us", lenient).accepted) __builtin_trap();
  return 0;
}
