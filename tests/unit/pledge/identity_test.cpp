// The pledge's identity from a PKCS#12 bundle: every key derivation the
// bundle asks for is bounded before it is spent.
#include "pledge/identity.h"

#include <gtest/gtest.h>
#include <openssl/pkcs12.h>

#include <algorithm>

#include "unit/registrar/registrar_fixture.h"

namespace vouchsafe::pledge {
namespace {

class Pkcs12Identity : public registrar::testing::OnboardingTest {
 protected:
  // The device's identity as a bundle: the key shrouded with PBES2 and
  // `iterations` PBKDF2 rounds, the certificates in the clear.
  Bytes bundle(const PledgeIdentity& identity, int iterations) {
    PKCS12* raw =
        PKCS12_create("bundle-passphrase", "device", identity.key.get(),
                      identity.chain.front().get(), nullptr, NID_aes_256_cbc, -1, iterations, 1, 0);
    EXPECT_NE(raw, nullptr);
    std::unique_ptr<PKCS12, decltype(&PKCS12_free)> p12(raw, &PKCS12_free);
    unsigned char* der = nullptr;
    const int size = i2d_PKCS12(p12.get(), &der);
    Bytes out(der, der + size);
    OPENSSL_free(der);
    return out;
  }
};

TEST_F(Pkcs12Identity, OpensABundleWithACurrentIterationCount) {
  const auto identity = registrar::testing::device_identity(device());
  auto opened = identity_from_pkcs12(bundle(identity, 600'000), "bundle-passphrase");
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->serial, identity.serial);
}

// The MAC's count was bounded; the key's own was not, and PKCS12_parse
// would spend whatever the file asks. 1,000,000 (02 03 0F 42 40) becomes
// 8,388,607 in place; the MAC no longer matches, which is checked later.
TEST_F(Pkcs12Identity, RefusesAKeyWhoseDerivationCostsTooMuchBeforeSpendingIt) {
  const auto identity = registrar::testing::device_identity(device());
  auto der = bundle(identity, 1'000'000);
  const Bytes count{0x02, 0x03, 0x0F, 0x42, 0x40};
  auto at = std::search(der.begin(), der.end(), count.begin(), count.end());
  ASSERT_NE(at, der.end());
  at[2] = 0x7F;
  at[3] = 0xFF;
  at[4] = 0xFF;
  auto opened = identity_from_pkcs12(der, "bundle-passphrase");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::bad_key);
  EXPECT_NE(opened.error().message.find("the PKCS#12 bundle's key asks for 8388607"),
            std::string::npos)
      << opened.error().message;
}

}  // namespace
}  // namespace vouchsafe::pledge
