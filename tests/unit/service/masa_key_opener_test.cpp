// The MASA's keys are opened once per process: several key files derived
// at once, each reference handing out the same signer afterwards, and a
// file that does not open named while the others stay open.
#include "service/masa_key_opener.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <filesystem>

#include "core/file.h"
#include "crypto/keys.h"

namespace vouchsafe::service {
namespace {

const std::string k_passphrase = "opener-test-passphrase";

class MasaKeyOpenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vouchsafe-key-opener-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A P-256 key written encrypted under `passphrase`; returns its path.
  std::string key_file(const std::string& name, const std::string& passphrase = k_passphrase) {
    auto key = crypto::generate_key(crypto::KeyType::p256);
    keys_.emplace(name, crypto::PkeyPtr(EVP_PKEY_dup(key.get())));
    const auto pem = crypto::private_key_pem(key.get(), passphrase);
    EXPECT_TRUE(pem);
    std::string path = (dir_ / (name + ".key.pem")).string();
    EXPECT_TRUE(write_file_atomic(path, as_bytes(*pem), 0600));
    return path;
  }
  [[nodiscard]] bool holds(const std::shared_ptr<const crypto::Signer>& signer,
                           const std::string& name) const {
    return EVP_PKEY_eq(signer->public_key(), keys_.at(name).get()) == 1;
  }

  std::filesystem::path dir_;
  std::map<std::string, crypto::PkeyPtr> keys_;
};

TEST_F(MasaKeyOpenerTest, OpensSeveralKeyFilesAtOnceAndEachOnlyOnce) {
  std::vector<std::string> paths;
  for (const char* name : {"a", "b", "c", "d"}) paths.push_back(key_file(name));
  paths.push_back(paths.front());  // named twice: opened once

  MasaKeyOpener opener(k_passphrase);
  ASSERT_TRUE(opener.open(paths));
  EXPECT_EQ(opener.size(), 4U);
  const auto a = opener.signer(paths[0]);
  const auto d = opener.signer(paths[3]);
  ASSERT_TRUE(a && d);
  EXPECT_TRUE(holds(*a, "a"));
  EXPECT_TRUE(holds(*d, "d"));
  EXPECT_FALSE(holds(*a, "d"));

  // A later call (a rollover's refresh) opens only what is new, and hands
  // out the very signers it opened before.
  paths.push_back(key_file("e"));
  ASSERT_TRUE(opener.open(paths));
  EXPECT_EQ(opener.size(), 5U);
  EXPECT_EQ(opener.signer(paths[0])->get(), a->get());
  EXPECT_TRUE(holds(*opener.signer(paths.back()), "e"));
}

TEST_F(MasaKeyOpenerTest, OpensAReferenceOnFirstUseWhenNotOpenedBefore) {
  const auto path = key_file("late");
  MasaKeyOpener opener(k_passphrase);
  const auto signer = opener.signer(path);
  ASSERT_TRUE(signer) << signer.error().message;
  EXPECT_TRUE(holds(*signer, "late"));
  EXPECT_EQ(opener.signer(path)->get(), signer->get());
  EXPECT_EQ(opener.size(), 1U);
}

TEST_F(MasaKeyOpenerTest, NamesTheFirstFileThatDoesNotOpenAndKeepsTheOthers) {
  const auto good = key_file("good");
  const auto other = key_file("other", "another-passphrase");
  const auto missing = (dir_ / "missing.key.pem").string();

  MasaKeyOpener opener(k_passphrase);
  const auto opened = opener.open({good, other, missing});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::bad_passphrase) << opened.error().message;
  EXPECT_NE(opened.error().message.find(other), std::string::npos) << opened.error().message;
  EXPECT_EQ(opener.size(), 1U);
  EXPECT_TRUE(opener.signer(good));
  // A failure is not remembered: the file is tried again when asked for.
  EXPECT_FALSE(opener.signer(other));
  EXPECT_EQ(opener.size(), 1U);
}

TEST_F(MasaKeyOpenerTest, RefusesAReferenceThatIsNotOneBeforeOpeningAnything) {
  const auto good = key_file("good");
  MasaKeyOpener opener(k_passphrase);
  const auto opened = opener.open({good, ""});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::usage);
  EXPECT_EQ(opener.size(), 0U);
}

}  // namespace
}  // namespace vouchsafe::service
