// Fuzz target for the factory's seed-batch CSV ("SERIAL,SEED" lines from the
// device vendor, factory/seed_file.h). Every seed read is 32 bytes and every
// serial trimmed; reading stops at the first bad line.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "factory/seed_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vouchsafe;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  factory::SeedFileReader reader(in, "fuzz.csv");
  while (true) {
    auto line = reader.next();
    if (!line || !*line) break;
    if ((*line)->seed.view().size() != 32) __builtin_trap();
    const std::string& serial = (*line)->serial;
    if (!serial.empty() && (serial.front() == ' ' || serial.back() == ' ')) __builtin_trap();
  }
  return 0;
}
