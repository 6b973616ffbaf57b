// The PKCS#11 signer against a throw-away SoftHSM2 token.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "crypto/key_reference.h"
#include "crypto/keys.h"
#include "crypto/pkcs11/pkcs11_signer.h"
#include "crypto/signature.h"
#include "crypto/signer.h"
#include "support/softhsm.h"

namespace vouchsafe::crypto {
namespace {

using testing::make_test_token;

class Pkcs11Test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto token = make_test_token("unit");
    ASSERT_TRUE(token) << token.error().message;
    token_ = *token;
    auto store = parse_key_store(token_.store_text());
    ASSERT_TRUE(store) << store.error().message;
    store_ = *store;
  }
  testing::TestToken token_;
  KeyStore store_;
};

// SoftHSM 2.6.1 leaks an ASN1_STRING in its EdDSA key-pair code, which the
// ASan build's leak check would charge to this test: Ed25519 on the token
// is tested in the other builds.
#if defined(__SANITIZE_ADDRESS__)
constexpr KeyType k_token_key_types[] = {KeyType::p256, KeyType::p384};
#else
constexpr KeyType k_token_key_types[] = {KeyType::p256, KeyType::p384, KeyType::ed25519};
#endif

TEST_F(Pkcs11Test, GeneratedKeysSignWhatTheirPublicKeyVerifies) {
  for (const auto type : k_token_key_types) {
    const std::string name = "key-" + std::to_string(static_cast<int>(type));
    auto key = generate_key_in(store_, type, name, std::nullopt);
    ASSERT_TRUE(key) << key.error().message;
    ASSERT_TRUE(key->reference.on_token());
    EXPECT_EQ(key->reference.uri.object, name);
    ASSERT_TRUE(key->reference.uri.id);
    // Opened again from its reference's text, as configuration names it.
    auto signer = open_signer(key->reference.text(), std::nullopt);
    ASSERT_TRUE(signer) << signer.error().message;
    const Bytes message = to_bytes("a voucher's signed attributes");
    auto signature = (*signer)->sign(message);
    ASSERT_TRUE(signature) << signature.error().message;
    EXPECT_TRUE(verify_bytes((*signer)->public_key(), (*signer)->algorithm(), message, *signature,
                             SignatureEncoding::der));
    EXPECT_FALSE(verify_bytes((*signer)->public_key(), (*signer)->algorithm(),
                              to_bytes("another message"), *signature, SignatureEncoding::der));
  }
}

// What GnuTLS asks of the MASA's TLS key: a signature over a digest it
// made itself, which must verify as a signature over the message.
TEST_F(Pkcs11Test, TokenAndFileKeysSignADigestAsTheyWouldItsMessage) {
  const Bytes message = to_bytes("a TLS 1.3 CertificateVerify's content");
  auto token_key = generate_key_in(store_, KeyType::p384, "digest-signer", std::nullopt);
  ASSERT_TRUE(token_key) << token_key.error().message;
  auto file_key = SoftwareSigner::create(generate_key(KeyType::p256));
  ASSERT_TRUE(file_key) << file_key.error().message;
  for (const Signer* signer :
       {token_key->signer.get(), static_cast<const Signer*>(file_key->get())}) {
    auto digest = digest_bytes(digest_for(signer->algorithm()), message);
    ASSERT_TRUE(digest) << digest.error().message;
    auto signature = signer->sign_digest(*digest);
    ASSERT_TRUE(signature) << signature.error().message;
    EXPECT_TRUE(verify_bytes(signer->public_key(), signer->algorithm(), message, *signature,
                             SignatureEncoding::der));
    const Bytes truncated(digest->begin(), digest->end() - 1);
    EXPECT_FALSE(signer->sign_digest(truncated));
  }
  auto edwards = SoftwareSigner::create(generate_key(KeyType::ed25519));
  ASSERT_TRUE(edwards) << edwards.error().message;
  auto refused = (*edwards)->sign_digest(Bytes(32));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::usage);
}

TEST_F(Pkcs11Test, ThePrivateKeyCannotBeReadOut) {
  auto key = generate_key_in(store_, KeyType::p256, "secret", std::nullopt);
  ASSERT_TRUE(key) << key.error().message;
  auto signer = pkcs11::Pkcs11Signer::open(key->reference.uri);
  ASSERT_TRUE(signer) << signer.error().message;
  auto session = (*signer)->token()->session();
  ASSERT_TRUE(session);
  CK_FUNCTION_LIST* f = (*signer)->token()->functions();
  std::uint8_t value[256];
  CK_ATTRIBUTE a{CKA_VALUE, value, sizeof value};
  EXPECT_EQ(f->C_GetAttributeValue(session->handle(), (*signer)->private_key_handle(), &a, 1),
            CKR_ATTRIBUTE_SENSITIVE);
  CK_BBOOL sensitive = CK_FALSE;
  CK_BBOOL extractable = CK_TRUE;
  CK_ATTRIBUTE flags[] = {{CKA_SENSITIVE, &sensitive, sizeof sensitive},
                          {CKA_EXTRACTABLE, &extractable, sizeof extractable}};
  ASSERT_EQ(f->C_GetAttributeValue(session->handle(), (*signer)->private_key_handle(), flags, 2),
            CKR_OK);
  EXPECT_EQ(sensitive, CK_TRUE);
  EXPECT_EQ(extractable, CK_FALSE);
}

TEST_F(Pkcs11Test, ThreadsSignAtOnceOnSessionsOfTheirOwn) {
  auto key = generate_key_in(store_, KeyType::p256, "busy", std::nullopt);
  ASSERT_TRUE(key) << key.error().message;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        const Bytes m = to_bytes("message " + std::to_string(i));
        auto s = key->signer->sign(m);
        if (s && verify_bytes(key->signer->public_key(), key->signer->algorithm(), m, *s,
                              SignatureEncoding::der)) {
          ++good;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 100);
}

TEST_F(Pkcs11Test, ALabelInUseIsNotGeneratedTwice) {
  ASSERT_TRUE(generate_key_in(store_, KeyType::p256, "once", std::nullopt));
  auto again = generate_key_in(store_, KeyType::p256, "once", std::nullopt);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("exists"), std::string::npos);
}

TEST_F(Pkcs11Test, AWrongPinIsNamedWithItsCkrCodeAndNotShown) {
  auto key = generate_key_in(store_, KeyType::p256, "pinned", std::nullopt);
  ASSERT_TRUE(key) << key.error().message;
  const std::string wrong_pin_file = token_.pin_file + ".wrong";
  {
    FILE* f = std::fopen(wrong_pin_file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("0000-wrong\n", f);
    std::fclose(f);
  }
  // The first signer's token must be gone, or its login would carry over.
  key->signer.reset();
  Pkcs11Uri uri = key->reference.uri;
  uri.pin_source = "file:" + wrong_pin_file;
  auto signer = pkcs11::Pkcs11Signer::open(uri);
  ASSERT_FALSE(signer);
  EXPECT_EQ(signer.error().code, ErrorCode::bad_passphrase);
  const auto& m = signer.error().message;
  EXPECT_NE(m.find("CKR_PIN_INCORRECT"), std::string::npos) << m;
  EXPECT_NE(m.find(token_.label), std::string::npos) << m;
  EXPECT_NE(m.find(testing::k_softhsm_module), std::string::npos) << m;
  EXPECT_EQ(m.find("0000-wrong"), std::string::npos) << m;
}

TEST_F(Pkcs11Test, AMissingModuleTokenOrKeyEachSayWhatToFix) {
  Pkcs11Uri uri = token_.store;
  uri.object = "absent";
  uri.module_path = "/nonexistent/libpkcs11.so";
  auto no_module = pkcs11::Pkcs11Signer::open(uri);
  ASSERT_FALSE(no_module);
  EXPECT_NE(no_module.error().message.find("/nonexistent/libpkcs11.so"), std::string::npos);

  uri.module_path = testing::k_softhsm_module;
  uri.token = "no-such-token";
  auto no_token = pkcs11::Pkcs11Signer::open(uri);
  ASSERT_FALSE(no_token);
  EXPECT_NE(no_token.error().message.find("no token labelled 'no-such-token'"), std::string::npos)
      << no_token.error().message;

  uri.token = token_.label;
  auto no_key = pkcs11::Pkcs11Signer::open(uri);
  ASSERT_FALSE(no_key);
  EXPECT_NE(no_key.error().message.find("object 'absent'"), std::string::npos)
      << no_key.error().message;
  EXPECT_NE(no_key.error().message.find(token_.label), std::string::npos);
}

TEST_F(Pkcs11Test, NoPinSourceAndNoVariableIsABadPassphrase) {
  ::unsetenv(k_pkcs11_pin_env);
  Pkcs11Uri uri = token_.store;
  uri.pin_source.clear();
  uri.object = "anything";
  auto signer = pkcs11::Pkcs11Signer::open(uri);
  ASSERT_FALSE(signer);
  EXPECT_EQ(signer.error().code, ErrorCode::bad_passphrase);
  EXPECT_NE(signer.error().message.find(k_pkcs11_pin_env), std::string::npos);
}

TEST_F(Pkcs11Test, DestroyedKeysAreGone) {
  auto key = generate_key_in(store_, KeyType::p256, "doomed", std::nullopt);
  ASSERT_TRUE(key) << key.error().message;
  const auto ref = key->reference;
  key->signer.reset();
  ASSERT_TRUE(destroy_key(ref));
  EXPECT_FALSE(open_signer(ref, std::nullopt));
}

TEST(FileKeys, AreWrittenEncryptedAndOpenWithTheirPassphrase) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("vs-keys-" + std::to_string(::getpid()));
  KeyStore store{KeyReference{KeyReference::Kind::file, dir.string(), {}}};
  auto key = generate_key_in(store, KeyType::p256, "k", std::string("passphrase-1"));
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_FALSE(open_signer(key->reference, std::string("wrong-passphrase")));
  EXPECT_TRUE(open_signer(key->reference, std::string("passphrase-1")));
  EXPECT_FALSE(generate_key_in(store, KeyType::p256, "k2", std::string("short")));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vouchsafe::crypto
