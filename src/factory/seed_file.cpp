// Reading the seed-batch CSV, line by bounded line.
#include "factory/seed_file.h"

#include <openssl/crypto.h>

#include "core/bytes.h"
#include "core/text_lines.h"

namespace vouchsafe::factory {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Wipes the line text on every way out of next().
struct Wipe {
  std::string& text;
  ~Wipe() { OPENSSL_cleanse(text.data(), text.size()); }
};

}  // namespace

Result<std::optional<SeedLine>> SeedFileReader::next() {
  std::string text;
  const Wipe wipe{text};
  const auto bad = [&](const std::string& why) {
    return fail(ErrorCode::invalid_value, label_ + ":" + std::to_string(line_) + ": " + why);
  };
  while (true) {
    const LineRead read = read_line(in_, text, k_max_seed_line);
    if (read == LineRead::end) return std::optional<SeedLine>();
    ++line_;
    if (read == LineRead::too_long) {
      return bad("line too long (more than " + std::to_string(k_max_seed_line) + " characters)");
    }
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos || text[first] == '#') continue;
    const auto comma = text.find(',');
    if (comma == std::string::npos) return bad("expected SERIAL,SEED");
    SeedLine out;
    out.line = line_;
    out.serial = trim(text.substr(0, comma));
    std::string hex = trim(text.substr(comma + 1));
    const Wipe wipe_hex{hex};
    if (hex.size() != 64) {
      return bad("the seed must be 64 hex digits (256 bits), got " + std::to_string(hex.size()) +
                 " characters");
    }
    auto seed = hex_decode(hex);
    if (!seed) return bad("the seed is not hexadecimal");
    // hex_decode skips separators (' ', '\t', ':'), so 64 characters may
    // hold fewer than 32 bytes: a short seed would derive a weak key.
    if (seed->size() != 32) {
      OPENSSL_cleanse(seed->data(), seed->size());
      return bad("the seed must be 64 hex digits (256 bits), got " +
                 std::to_string(seed->size() * 2) + " digits and separators");
    }
    out.seed = crypto::SecretBytes(*seed);
    OPENSSL_cleanse(seed->data(), seed->size());
    return std::optional<SeedLine>(std::move(out));
  }
}

}  // namespace vouchsafe::factory
