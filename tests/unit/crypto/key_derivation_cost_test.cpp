// An encrypted key file names its own key-derivation cost; one that asks
// for an absurd cost is refused before any of it is spent.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>

#include "crypto/keys.h"

namespace vouchsafe::crypto {
namespace {

using X509SigPtr = std::unique_ptr<X509_SIG, Deleter<X509_SIG, X509_SIG_free>>;
using AlgorPtr = std::unique_ptr<X509_ALGOR, Deleter<X509_ALGOR, X509_ALGOR_free>>;

// An "ENCRYPTED PRIVATE KEY" with the given algorithm and garbage for the
// encrypted key: building it derives nothing, whatever the cost it names.
std::string encrypted_key_pem(AlgorPtr algorithm) {
  X509SigPtr sig(X509_SIG_new());
  X509_ALGOR* alg = nullptr;
  ASN1_OCTET_STRING* data = nullptr;
  X509_SIG_getm(sig.get(), &alg, &data);
  EXPECT_EQ(X509_ALGOR_copy(alg, algorithm.get()), 1);
  const unsigned char garbage[48] = {1, 2, 3};
  ASN1_OCTET_STRING_set(data, garbage, sizeof garbage);
  BioPtr bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_PKCS8(bio.get(), sig.get()), 1);
  char* text = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &text);
  return {text, static_cast<std::size_t>(n)};
}

std::string pbkdf2_key(int iterations) {
  unsigned char salt[16] = {};
  return encrypted_key_pem(AlgorPtr(PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), iterations, salt,
                                                      sizeof salt, nullptr, NID_hmacWithSHA256)));
}

// The refusal, which must come at once.
Error refused(const std::string& pem) {
  const auto start = std::chrono::steady_clock::now();
  auto key = parse_private_key(as_bytes(pem), std::string("passphrase"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  if (key) {
    ADD_FAILURE() << "accepted";
    return {};
  }
  return key.error();
}

TEST(KeyDerivationCost, RefusesMorePbkdf2IterationsThanFiveMillionBeforeDerivingAnything) {
  const auto e = refused(pbkdf2_key(5'000'001));
  EXPECT_EQ(e.code, ErrorCode::bad_key);
  EXPECT_NE(e.message.find("asks for 5000001 key-derivation iterations; more than 5000000 are "
                           "refused"),
            std::string::npos)
      << e.message;
}

TEST(KeyDerivationCost, RefusesTooManyPkcs12PbeIterations) {
  unsigned char salt[8] = {};
  const auto e = refused(encrypted_key_pem(AlgorPtr(
      PKCS5_pbe_set(NID_pbe_WithSHA1And3_Key_TripleDES_CBC, 5'000'001, salt, sizeof salt))));
  EXPECT_NE(e.message.find("5000001 key-derivation iterations"), std::string::npos) << e.message;
}

TEST(KeyDerivationCost, RefusesScryptParametersThatWouldRunForHours) {
  unsigned char salt[16] = {};
  const auto e = refused(encrypted_key_pem(AlgorPtr(
      PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), salt, sizeof salt, nullptr, 1U << 14U, 8, 4096))));
  EXPECT_EQ(e.code, ErrorCode::bad_key);
  EXPECT_NE(e.message.find("scrypt parameters (N 16384, r 8, p 4096)"), std::string::npos)
      << e.message;
}

TEST(KeyDerivationCost, ReadsKeysAtTheCountsWeAndOpenSslWrite) {
  auto key = generate_key(KeyType::p256);
  auto pem = private_key_pem(key.get(), std::string("passphrase"));
  ASSERT_TRUE(pem);
  EXPECT_TRUE(parse_private_key(as_bytes(*pem), std::string("passphrase")));
  // Within the limit, a wrong passphrase is still just that.
  auto wrong = parse_private_key(as_bytes(pbkdf2_key(2048)), std::string("passphrase"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::bad_passphrase);
}

}  // namespace
}  // namespace vouchsafe::crypto
