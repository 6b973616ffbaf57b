// Fuzz target for the list of device serials `device export --serials`
// reads (factory/serial_list.h). Every serial read is non-empty, has no
// space or tab at either end, holds no line break and fits the line bound;
// reading stops at the first line too long.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "factory/serial_list.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vouchsafe;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  factory::SerialListReader reader(in, "fuzz.txt");
  while (true) {
    auto serial = reader.next();
    if (!serial || !*serial) break;
    const std::string& s = **serial;
    if (s.empty() || s.size() > factory::k_max_serial_line) __builtin_trap();
    if (s.front() == ' ' || s.front() == '\t' || s.back() == ' ' || s.back() == '\t') {
      __builtin_trap();
    }
    if (s.find('\n') != std::string::npos || s.front() == '#') __builtin_trap();
  }
  return 0;
}
