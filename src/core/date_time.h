// YANG date-and-time (RFC 3339 profile) as a typed value.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/result.h"

namespace vouchsafe {

using Microseconds = std::chrono::sys_time<std::chrono::microseconds>;

struct DateTime {
  Microseconds utc{};      // the instant
  int offset_minutes = 0;  // the zone offset it was written in, kept for display
  bool operator==(const DateTime& o) const { return utc == o.utc; }
  auto operator<=>(const DateTime& o) const { return utc <=> o.utc; }

  static DateTime from_unix_seconds(std::int64_t seconds);
  [[nodiscard]] std::int64_t unix_seconds() const;
};

// Parses "2016-10-07T19:31:42Z", "2021-04-13T17:59:15.123-04:00", etc.
// Checks field ranges (month, day in month, hour...), rejects anything else.
Result<DateTime> parse_date_time(std::string_view text);

// Formats in the value's own offset; fractional seconds only when non-zero.
std::string format_date_time(const DateTime& value);

DateTime now_date_time();

}  // namespace vouchsafe
