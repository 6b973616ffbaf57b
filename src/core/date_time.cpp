// RFC 3339 date-and-time parsing and formatting.
#include "core/date_time.h"

#include <cstdio>

namespace vouchsafe {
namespace {

bool read_digits(std::string_view s, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

Unexpected bad(std::string_view text, std::string_view why) {
  return fail(ErrorCode::invalid_date, "invalid date-and-time '" + std::string(text.substr(0, 40)) +
                                           "': " + std::string(why));
}

}  // namespace

DateTime DateTime::from_unix_seconds(std::int64_t seconds) {
  return DateTime{Microseconds{std::chrono::seconds{seconds}}, 0};
}

std::int64_t DateTime::unix_seconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(utc.time_since_epoch()).count();
}

Result<DateTime> parse_date_time(std::string_view text) {
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (text.size() < 20 || !read_digits(text, 0, 4, year) || text[4] != '-' ||
      !read_digits(text, 5, 2, month) || text[7] != '-' || !read_digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't') || !read_digits(text, 11, 2, hour) || text[13] != ':' ||
      !read_digits(text, 14, 2, minute) || text[16] != ':' || !read_digits(text, 17, 2, second)) {
    return bad(text, "expected YYYY-MM-DDTHH:MM:SS");
  }
  const std::chrono::year_month_day ymd{std::chrono::year{year},
                                        std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return bad(text, "no such calendar date");
  // 60 allows a leap second; it is folded into the next minute.
  if (hour > 23 || minute > 59 || second > 60) return bad(text, "time out of range");

  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 6) micros = micros * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 12) return bad(text, "bad fractional seconds");
    for (std::size_t d = digits; d < 6; ++d) micros *= 10;
  }
  int offset = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh = 0;
    int om = 0;
    if (!read_digits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !read_digits(text, pos + 4, 2, om) || oh > 23 || om > 59) {
      return bad(text, "bad zone offset");
    }
    offset = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad(text, "missing zone (Z or +hh:mm)");
  }
  if (pos != text.size()) return bad(text, "trailing characters");

  const auto days = std::chrono::sys_days{ymd};
  const auto local = days + std::chrono::hours{hour} + std::chrono::minutes{minute} +
                     std::chrono::seconds{second} + std::chrono::microseconds{micros};
  return DateTime{Microseconds{local - std::chrono::minutes{offset}}, offset};
}

std::string format_date_time(const DateTime& value) {
  const auto local = value.utc + std::chrono::minutes{value.offset_minutes};
  const auto days = std::chrono::floor<std::chrono::days>(local);
  const std::chrono::year_month_day ymd{days};
  const std::chrono::hh_mm_ss tod{local - days};
  char buf[64];
  (void)std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld",
                      static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                      static_cast<unsigned>(ymd.day()), static_cast<long>(tod.hours().count()),
                      static_cast<long>(tod.minutes().count()),
                      static_cast<long>(tod.seconds().count()));
  std::string out = buf;
  auto micros = tod.subseconds().count();
  if (micros != 0) {
    (void)std::snprintf(buf, sizeof buf, ".%06ld", static_cast<long>(micros));
    std::string frac = buf;
    while (frac.back() == '0') frac.pop_back();
    out += frac;
  }
  if (value.offset_minutes == 0) {
    out += 'Z';
  } else {
    const int m = value.offset_minutes < 0 ? -value.offset_minutes : value.offset_minutes;
    (void)std::snprintf(buf, sizeof buf, "%c%02d:%02d", value.offset_minutes < 0 ? '-' : '+',
                        m / 60, m % 60);
    out += buf;
  }
  return out;
}

DateTime now_date_time() {
  return DateTime{std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()), 0};
}

}  // namespace vouchsafe
