// Passphrases come from a file or an environment variable, never from an
// argument (arguments are visible to every user through /proc).
#pragma once

#include <optional>
#include <string>

#include "core/result.h"

namespace vouchsafe::cli {

// The first line of passphrase_file if given, else the variable env_name if
// set, else nullopt.
Result<std::optional<std::string>> read_passphrase(const std::string& passphrase_file,
                                                   const char* env_name);

}  // namespace vouchsafe::cli
