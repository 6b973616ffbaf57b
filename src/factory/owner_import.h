// The sales system's owner file (`device assign-owner --import`): CSV lines
// "SERIAL,BASE64_DER_CERTIFICATE", one owner anchor a line, '#' comments,
// blank lines and a "serial,..." header skipped. Untrusted: it comes from
// another system, so each line is bounded and every anchor parsed.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace vouchsafe::factory {

struct OwnerAssignment {
  std::int64_t line = 0;
  std::string serial;
  Bytes anchor_der;  // a DER certificate that parsed
};

// A base64 certificate line: room for a 24 KiB certificate, far more than a
// CA certificate needs.
inline constexpr std::size_t k_max_owner_line = 32U << 10U;

// Every assignment of the file, or the first line that is wrong (label:line:
// why). Device serials are not looked up here.
Result<std::vector<OwnerAssignment>> read_owner_assignments(std::istream& in,
                                                            const std::string& label);

}  // namespace vouchsafe::factory
