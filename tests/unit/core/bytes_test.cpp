// Base64 and hex codecs.
#include "core/bytes.h"

#include <gtest/gtest.h>

namespace vouchsafe {
namespace {

TEST(Base64, RoundTripsEveryLengthModuloThree) {
  for (std::size_t n = 0; n < 10; ++n) {
    Bytes data(n);
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(i * 37 + 1);
    auto back = base64_decode(base64_encode(data));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, data);
    auto url = base64url_decode(base64url_encode(data));
    ASSERT_TRUE(url);
    EXPECT_EQ(*url, data);
  }
}

TEST(Base64, EncodesTheRfc4648Examples) {
  EXPECT_EQ(base64_encode(as_bytes("foobar")), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(as_bytes("fooba")), "Zm9vYmE=");
  EXPECT_EQ(base64url_encode(as_bytes("fo")), "Zm8");
}

TEST(Base64, RejectsCharactersOutsideTheAlphabet) {
  EXPECT_EQ(base64_decode("Zm9v-mFy").error().code, ErrorCode::malformed_base64);
  EXPECT_EQ(base64url_decode("Zm9v+mFy").error().code, ErrorCode::malformed_base64);
  EXPECT_FALSE(base64_decode("Zm9vY"));     // impossible length
  EXPECT_FALSE(base64_decode("Zm9=vYmE"));  // padding in the middle
}

TEST(Hex, DecodesWithSeparatorsAndRejectsOddDigits) {
  auto b = hex_decode("DE:ad be\nEF");
  ASSERT_TRUE(b);
  EXPECT_EQ(hex_encode(*b), "deadbeef");
  EXPECT_FALSE(hex_decode("abc"));
  EXPECT_FALSE(hex_decode("zz"));
}

}  // namespace
}  // namespace vouchsafe
