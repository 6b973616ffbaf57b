// Shamir secret sharing and passphrase-sealed boxes.
#include "crypto/secret_sharing.h"

#include <gtest/gtest.h>

#include "crypto/sealed_box.h"

namespace vouchsafe::crypto {
namespace {

TEST(SecretSharing, AnyThresholdOfSharesRebuildsTheSecret) {
  const Bytes secret = to_bytes("a PKCS#8 private key, say");
  auto shares = split_secret(secret, 7, 4);
  ASSERT_TRUE(shares) << shares.error().message;
  ASSERT_EQ(shares->size(), 7U);
  for (const auto& pick : {std::vector<int>{0, 1, 2, 3},
                           {6, 4, 2, 0},
                           {1, 3, 5, 6},
                           std::vector<int>{0, 1, 2, 3, 4, 5, 6}}) {
    std::vector<const SecretShare*> some;
    for (int i : pick) some.push_back(&(*shares)[static_cast<std::size_t>(i)]);
    auto back = combine_shares(some);
    ASSERT_TRUE(back);
    EXPECT_TRUE(std::ranges::equal(back->view(), secret));
  }
}

TEST(SecretSharing, FewerThanTheThresholdRebuildSomethingElse) {
  const Bytes secret = to_bytes("0123456789abcdef0123456789abcdef");
  auto shares = split_secret(secret, 5, 3);
  ASSERT_TRUE(shares);
  auto back = combine_shares({&(*shares)[0], &(*shares)[1]});
  ASSERT_TRUE(back);
  EXPECT_FALSE(std::ranges::equal(back->view(), secret));
}

TEST(SecretSharing, RefusesRepeatedIndicesAndBadCounts) {
  auto shares = split_secret(to_bytes("secret"), 3, 2);
  ASSERT_TRUE(shares);
  EXPECT_FALSE(combine_shares({&(*shares)[0], &(*shares)[0]}));
  EXPECT_FALSE(split_secret(to_bytes("secret"), 3, 4));
  EXPECT_FALSE(split_secret(to_bytes("secret"), 1, 1));
  EXPECT_FALSE(split_secret(to_bytes("secret"), 300, 2));
}

TEST(SealedBox, OpensOnlyWithThePassphraseAndTheSameAad) {
  const ScryptCost cheap{1024, 8, 1};
  auto box = seal(to_bytes("share bytes"), "holder passphrase", to_bytes("index=3"), cheap);
  ASSERT_TRUE(box) << box.error().message;
  auto opened = open_box(*box, "holder passphrase", to_bytes("index=3"));
  ASSERT_TRUE(opened);
  EXPECT_EQ(as_text(opened->view()), "share bytes");
  auto wrong = open_box(*box, "another passphrase", to_bytes("index=3"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::bad_passphrase);
  EXPECT_FALSE(open_box(*box, "holder passphrase", to_bytes("index=4")));
}

TEST(SealedBox, RefusesCostsAHostileFileAsksFor) {
  EXPECT_FALSE(check_scrypt_cost({std::uint64_t{1} << 30U, 8, 1}));
  EXPECT_FALSE(check_scrypt_cost({1000, 8, 1}));  // not a power of two
  EXPECT_FALSE(check_scrypt_cost({1024, 0, 1}));
  EXPECT_FALSE(check_scrypt_cost({1024, 8, 64}));
  EXPECT_TRUE(check_scrypt_cost({}));
}

}  // namespace
}  // namespace vouchsafe::crypto
