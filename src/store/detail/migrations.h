// The asset store's numbered schema migrations, one list for both backends.
#pragma once

#include <span>

namespace vouchsafe::store::detail {

// Migration N (0-based) brings the schema from version N to N+1: the same
// change in each backend's dialect.
struct Migration {
  const char* sqlite;
  const char* postgres;
};

std::span<const Migration> migrations();

}  // namespace vouchsafe::store::detail
