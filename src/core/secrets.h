// Passphrases come from a file or an environment variable, never from an
// argument (arguments are visible to every user through /proc).
#pragma once

#include <optional>
#include <string>

#include "core/result.h"

namespace vouchsafe {

// The first line of passphrase_file if given, else the variable env_name if
// set, else nullopt.
Result<std::optional<std::string>> read_passphrase(const std::string& passphrase_file,
                                                   const char* env_name);

// As read_passphrase, but its absence is a bad_passphrase error that tells
// the operator both ways to give `what`.
Result<std::string> require_passphrase(const std::string& passphrase_file, const char* env_name,
                                       const std::string& what, const std::string& file_flag);

// The passphrase of the CA keys in a home: --passphrase-file or $VOUCHSAFE_CA_PASSPHRASE.
Result<std::string> ca_passphrase(const std::string& passphrase_file);
constexpr const char* k_ca_passphrase_help =
    "File whose first line is the CA keys' passphrase (else $VOUCHSAFE_CA_PASSPHRASE)";

}  // namespace vouchsafe
