// The factory's seed-batch file (`idevid batch --seeds`): "SERIAL,SEED" CSV
// lines, the seed 64 hex digits (256 bits), '#' comments and blank lines
// skipped. It comes from the device vendor, so it is read as untrusted.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>

#include "core/result.h"
#include "crypto/secret.h"

namespace vouchsafe::factory {

struct SeedLine {
  std::int64_t line = 0;
  std::string serial;
  crypto::SecretBytes seed;
};

// Longer lines are refused without being read into memory whole.
inline constexpr std::size_t k_max_seed_line = 512;

class SeedFileReader {
 public:
  // label names the input in errors ("path:line: why").
  SeedFileReader(std::istream& in, std::string label) : in_(in), label_(std::move(label)) {}
  // The next seed; nullopt at the end of the input. Line text that held a
  // seed is wiped before it is dropped.
  Result<std::optional<SeedLine>> next();

 private:
  std::istream& in_;
  std::string label_;
  std::int64_t line_ = 0;
};

}  // namespace vouchsafe::factory
