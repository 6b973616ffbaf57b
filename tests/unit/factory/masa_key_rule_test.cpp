// The documented rule that binds a device to one of its product's MASA keys
// at manufacture (MASA key architecture 4, docs/masa-keys.md).
#include <gtest/gtest.h>

#include "factory/home.h"

namespace vouchsafe::factory {
namespace {

TEST(MasaKeyRule, NoSlotsBindsNoKey) {
  ProductConfig p{"widget", "1.3.6.1.4.1.99999.1.1", "WG"};
  EXPECT_EQ(masa_key_id(p, "WG-F1-00000007", 0), "");
}

TEST(MasaKeyRule, SerialModuloTakesTheTrailingNumber) {
  ProductConfig p{"widget", "1.3.6.1.4.1.99999.1.1", "WG"};
  p.masa_key_slots = 4;
  EXPECT_EQ(masa_key_id(p, "WG-F1-00000007", 0), "widget-3");
  EXPECT_EQ(masa_key_id(p, "WG-F1-00000008", 0), "widget-0");
  // Longer than any integer: read modulo N digit by digit.
  EXPECT_EQ(masa_key_id(p, "WG-F1-123456789012345678901234567890", 0), "widget-2");
  // No trailing digit: a hash of the serial, stable across runs.
  EXPECT_EQ(masa_key_id(p, "WG-F1-ABC", 0), masa_key_id(p, "WG-F1-ABC", 999));
}

TEST(MasaKeyRule, DateWindowCountsWholeWindowsSince1970) {
  ProductConfig p{"widget", "1.3.6.1.4.1.99999.1.1", "WG"};
  p.masa_key_slots = 3;
  p.masa_key_rule = MasaKeyRule::date_window;
  p.masa_key_window_days = 10;
  const std::int64_t day = 86400;
  EXPECT_EQ(masa_key_id(p, "WG-F1-00000001", 0), "widget-0");
  EXPECT_EQ(masa_key_id(p, "WG-F1-00000001", 9 * day), "widget-0");
  EXPECT_EQ(masa_key_id(p, "WG-F1-00000001", 10 * day), "widget-1");
  EXPECT_EQ(masa_key_id(p, "WG-F1-00000002", 35 * day), "widget-0");  // window 3 mod 3
}

}  // namespace
}  // namespace vouchsafe::factory
