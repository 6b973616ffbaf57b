// Passphrase sources.
#include "core/secrets.h"

#include <cstdlib>

#include "core/file.h"

namespace vouchsafe {

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

Result<std::string> require_passphrase(const std::string& passphrase_file, const char* env_name,
                                       const std::string& what, const std::string& file_flag) {
  ASSIGN_OR_RETURN(auto pass, read_passphrase(passphrase_file, env_name));
  if (!pass) {
    return fail(ErrorCode::bad_passphrase,
                what + " is needed: " + file_flag + " FILE or $" + env_name);
  }
  return *pass;
}

Result<std::string> ca_passphrase(const std::string& passphrase_file) {
  return require_passphrase(passphrase_file, "VOUCHSAFE_CA_PASSPHRASE", "the CA keys' passphrase",
                            "--passphrase-file");
}

}  // namespace vouchsafe
