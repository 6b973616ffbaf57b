// Turns OpenSSL's error queue into an Error an operator can read.
#pragma once

#include <string>

#include "core/error.h"
#include "core/result.h"

namespace vouchsafe::crypto {

// Drains the thread's OpenSSL error queue into "context: reason".
std::string openssl_reason(const std::string& context);
Unexpected openssl_fail(ErrorCode code, const std::string& context);

}  // namespace vouchsafe::crypto
