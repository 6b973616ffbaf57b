// RFC 3339 date-and-time.
#include "core/date_time.h"

#include <gtest/gtest.h>

namespace vouchsafe {
namespace {

TEST(DateTime, ParsesUtcAndOffsetsToTheSameInstant) {
  auto z = parse_date_time("2021-04-13T21:59:15Z");
  auto off = parse_date_time("2021-04-13T17:59:15-04:00");
  ASSERT_TRUE(z);
  ASSERT_TRUE(off);
  EXPECT_EQ(*z, *off);
  EXPECT_EQ(z->unix_seconds(), 1618351155);
  EXPECT_EQ(format_date_time(*off), "2021-04-13T17:59:15-04:00");
}

TEST(DateTime, KeepsFractionalSeconds) {
  auto t = parse_date_time("2017-01-01T00:00:02.125Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_date_time(*t), "2017-01-01T00:00:02.125Z");
}

TEST(DateTime, RejectsImpossibleDatesAndMissingZones) {
  EXPECT_EQ(parse_date_time("2021-02-30T00:00:00Z").error().code, ErrorCode::invalid_date);
  EXPECT_FALSE(parse_date_time("2021-04-13T24:00:00Z"));
  EXPECT_FALSE(parse_date_time("2021-04-13T12:00:00"));
  EXPECT_FALSE(parse_date_time("2021-04-13 12:00:00Z"));
  EXPECT_FALSE(parse_date_time("2021-04-13T12:00:00Zjunk"));
  EXPECT_FALSE(parse_date_time(""));
}

}  // namespace
}  // namespace vouchsafe
