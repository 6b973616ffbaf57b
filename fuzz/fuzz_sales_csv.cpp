// Fuzz target for the sales system's owner CSV ("SERIAL,BASE64_DER_CERTIFICATE"
// lines, factory/owner_import.h, `device assign-owner --import`). Every
// anchor accepted is a DER certificate that parses.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "crypto/keys.h"
#include "factory/owner_import.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vouchsafe;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  auto read = factory::read_owner_assignments(in, "fuzz.csv");
  if (!read) return 0;
  for (const auto& a : *read) {
    if (a.serial.empty() || !crypto::parse_certificate_der(a.anchor_der)) __builtin_trap();
  }
  return 0;
}
