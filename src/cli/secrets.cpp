// Passphrase sources.
#include "cli/secrets.h"

#include <cstdlib>

#include "core/file.h"

namespace vouchsafe::cli {

Result<std::optional<std::string>> read_passphrase(const std::string& passphrase_file,
                                                   const char* env_name) {
  if (!passphrase_file.empty()) {
    ASSIGN_OR_RETURN(auto data, read_file(passphrase_file, 4096));
    std::string text(data.begin(), data.end());
    if (auto nl = text.find_first_of("\r\n"); nl != std::string::npos) text.resize(nl);
    return std::optional<std::string>(std::move(text));
  }
  if (const char* value = std::getenv(env_name); value != nullptr) {
    return std::optional<std::string>(value);
  }
  return std::optional<std::string>();
}

}  // namespace vouchsafe::cli
