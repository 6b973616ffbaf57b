// A list of device serials (`device export --serials`): one serial a line,
// '#' comments and blank lines skipped, spaces and tabs around a serial not
// part of it. It comes from another system (a sales order, a shipment), so
// each line is bounded.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>

#include "core/result.h"

namespace vouchsafe::factory {

// Longer lines are refused without being read into memory whole.
inline constexpr std::size_t k_max_serial_line = 256;

class SerialListReader {
 public:
  // label names the input in errors ("path:line: why").
  SerialListReader(std::istream& in, std::string label) : in_(in), label_(std::move(label)) {}
  // The next serial; nullopt at the end of the input.
  Result<std::optional<std::string>> next();

 private:
  std::istream& in_;
  std::string label_;
  std::int64_t line_ = 0;
};

}  // namespace vouchsafe::factory
