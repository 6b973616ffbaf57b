// Reading the sales system's owner CSV, line by bounded line.
#include "factory/owner_import.h"

#include "core/text_lines.h"
#include "crypto/keys.h"

namespace vouchsafe::factory {

Result<std::vector<OwnerAssignment>> read_owner_assignments(std::istream& in,
                                                            const std::string& label) {
  std::vector<OwnerAssignment> out;
  std::string line;
  std::int64_t number = 0;
  while (true) {
    const LineRead read = read_line(in, line, k_max_owner_line);
    if (read == LineRead::end) break;
    ++number;
    const auto where = label + ":" + std::to_string(number) + ": ";
    if (read == LineRead::too_long) {
      return fail(
          ErrorCode::input_too_large,
          where + "line too long (more than " + std::to_string(k_max_owner_line) + " characters)");
    }
    if (line.empty() || line[0] == '#' || line.rfind("serial,", 0) == 0) continue;
    const auto comma = line.find(',');
    if (comma == std::string::npos) {
      return fail(ErrorCode::invalid_value, where + "expected SERIAL,BASE64_DER_CERTIFICATE");
    }
    OwnerAssignment a;
    a.line = number;
    a.serial = line.substr(0, comma);
    if (a.serial.empty()) return fail(ErrorCode::invalid_value, where + "the serial is empty");
    auto der = base64_decode(line.substr(comma + 1));
    if (!der) return fail(der.error().code, where + der.error().message);
    if (auto cert = crypto::parse_certificate_der(*der); !cert) {
      return fail(cert.error().code, where + "the owner anchor is not a certificate");
    }
    a.anchor_der = std::move(der).value();
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace vouchsafe::factory
