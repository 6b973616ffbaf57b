// OpenSSL error queue formatting.
#include "crypto/openssl_error.h"

#include <openssl/err.h>

namespace vouchsafe::crypto {

std::string openssl_reason(const std::string& context) {
  std::string out = context;
  unsigned long code = 0;
  bool first = true;
  while ((code = ERR_get_error()) != 0) {
    if (first) {
      const char* reason = ERR_reason_error_string(code);
      out += ": ";
      out += reason != nullptr ? reason : "unknown OpenSSL error";
      first = false;
    }
  }
  return out;
}

Unexpected openssl_fail(ErrorCode code, const std::string& context) {
  return fail(code, openssl_reason(context));
}

}  // namespace vouchsafe::crypto
