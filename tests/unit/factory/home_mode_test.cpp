// A home is its owner's alone: 0700 directories and a 0600 asset store,
// whatever the umask; a home with looser modes is used with a warning.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/file.h"
#include "factory/authority.h"

namespace vouchsafe::factory {
namespace {

namespace fs = std::filesystem;
const std::string k_pass = "unit-test-passphrase";

class HomeMode : public ::testing::TestWithParam<mode_t> {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("vs-home-mode-" + std::to_string(::getpid()) + "-" + std::to_string(GetParam()));
    fs::remove_all(base_);
    home_.root = base_ / "new" / "home";
    old_umask_ = ::umask(GetParam());
  }
  void TearDown() override {
    ::umask(old_umask_);
    fs::remove_all(base_);
  }
  fs::path base_;
  Home home_;
  mode_t old_umask_ = 0;
};

TEST_P(HomeMode, InitMakesEveryDirectory0700AndTheStore0600) {
  InitOptions init;
  init.root_key_type = crypto::KeyType::p256;
  testing::internal::CaptureStderr();
  ASSERT_TRUE(init_pki(home_, init, k_pass));
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  for (const auto& dir : {base_ / "new", home_.root, home_.keys_dir(), home_.certs_dir()}) {
    EXPECT_EQ(file_mode(dir.string()), 0700U) << dir << " under umask 0" << std::oct << GetParam();
  }
  EXPECT_EQ(file_mode(home_.store_file().string()), 0600U);
  EXPECT_EQ(file_mode((home_.keys_dir() / "root-ca.key.pem").string()), 0600U);
}

TEST_P(HomeMode, AHomeOthersCanReadIsUsedWithAWarning) {
  fs::create_directories(home_.root);
  ::chmod(home_.root.c_str(), 0755);
  testing::internal::CaptureStderr();
  auto store = open_store(home_);
  const auto warning = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_NE(warning.find(home_.root.string() + " has mode 0755"), std::string::npos) << warning;
  EXPECT_NE(warning.find("chmod 700 " + home_.root.string()), std::string::npos) << warning;
  EXPECT_EQ(file_mode(home_.root.string()), 0755U) << "not changed behind the operator's back";
}

INSTANTIATE_TEST_SUITE_P(Umasks, HomeMode, ::testing::Values(mode_t{022}, mode_t{0}));

}  // namespace
}  // namespace vouchsafe::factory
