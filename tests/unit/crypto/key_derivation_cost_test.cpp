// An encrypted key file names its own key-derivation cost; one that asks
// for an absurd cost is refused before any of it is spent.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "core/file.h"
#include "crypto/keys.h"

namespace vouchsafe::crypto {
namespace {

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

// Read back with OpenSSL's own ASN.1 decoders: PBES2, PBKDF2 with
// HMAC-SHA256 at OWASP's count and a 128-bit salt, AES-256-CBC.
TEST(KeyDerivationCost, WritesKeysUnderPbkdf2HmacSha256At600000IterationsAndA16ByteSalt) {
  auto key = generate_key(KeyType::p256);
  auto pem = private_key_pem(key.get(), std::string("passphrase"));
  ASSERT_TRUE(pem);
  BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  const X509SigPtr sig(PEM_read_bio_PKCS8(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(sig);
  const X509_ALGOR* alg = nullptr;
  X509_SIG_get0(sig.get(), &alg, nullptr);
  ASSERT_EQ(OBJ_obj2nid(alg->algorithm), NID_pbes2);
  const std::unique_ptr<PBE2PARAM, Deleter<PBE2PARAM, PBE2PARAM_free>> pbe2(static_cast<PBE2PARAM*>(
      ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter)));
  ASSERT_TRUE(pbe2);
  EXPECT_EQ(OBJ_obj2nid(pbe2->encryption->algorithm), NID_aes_256_cbc);
  ASSERT_EQ(OBJ_obj2nid(pbe2->keyfunc->algorithm), NID_id_pbkdf2);
  const std::unique_ptr<PBKDF2PARAM, Deleter<PBKDF2PARAM, PBKDF2PARAM_free>> kdf(
      static_cast<PBKDF2PARAM*>(
          ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter)));
  ASSERT_TRUE(kdf);
  EXPECT_EQ(ASN1_INTEGER_get(kdf->iter), 600'000);
  ASSERT_EQ(kdf->salt->type, V_ASN1_OCTET_STRING);
  EXPECT_EQ(ASN1_STRING_length(kdf->salt->value.octet_string), 16);
  ASSERT_NE(kdf->prf, nullptr);  // absent would mean HMAC-SHA1
  EXPECT_EQ(OBJ_obj2nid(kdf->prf->algorithm), NID_hmacWithSHA256);
}

// A file at OpenSSL's default count (ours before 600,000) still opens, and
// the operator is told how to re-encrypt it; our own files say nothing.
TEST(KeyDerivationCost, WarnsOfAKeyFileBelowOurCountAndStillLoadsIt) {
  auto key = generate_key(KeyType::p256);
  const Pkcs8InfoPtr info(EVP_PKEY2PKCS8(key.get()));
  const X509SigPtr weak(
      PKCS8_encrypt(-1, EVP_aes_256_cbc(), "passphrase", 10, nullptr, 0, 2048, info.get()));
  ASSERT_TRUE(weak);
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PKCS8(bio.get(), weak.get()), 1);
  char* text = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &text);
  const auto dir = std::filesystem::temp_directory_path() /
                   ("vouchsafe-kdf-warning-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string weak_path = (dir / "weak.key.pem").string();
  const std::string ours_path = (dir / "ours.key.pem").string();
  ASSERT_TRUE(write_file_atomic(weak_path, Bytes(text, text + n), 0600));
  auto ours = private_key_pem(key.get(), std::string("passphrase"));
  ASSERT_TRUE(ours);
  ASSERT_TRUE(write_file_atomic(ours_path, as_bytes(*ours), 0600));

  ::testing::internal::CaptureStderr();
  auto loaded = load_private_key(weak_path, std::string("passphrase"));
  const std::string warned = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(EVP_PKEY_eq(loaded->get(), key.get()), 1);
  EXPECT_NE(warned.find(weak_path + " is encrypted with 2048 key-derivation iterations"),
            std::string::npos)
      << warned;
  EXPECT_NE(warned.find("openssl pkcs8 -topk8"), std::string::npos) << warned;

  ::testing::internal::CaptureStderr();
  EXPECT_TRUE(load_private_key(ours_path, std::string("passphrase")));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vouchsafe::crypto
