// The SQLite asset store's files are readable by their owner only: they
// hold the audit log and the customers' domain IDs.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/file.h"
#include "store/asset_store.h"

namespace vouchsafe::store {
namespace {

namespace fs = std::filesystem;

class SqliteFileMode : public ::testing::TestWithParam<mode_t> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vs-store-mode-" + std::to_string(::getpid()) + "-" + std::to_string(GetParam()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    old_umask_ = ::umask(GetParam());
  }
  void TearDown() override {
    ::umask(old_umask_);
    fs::remove_all(dir_);
  }
  fs::path dir_;
  mode_t old_umask_ = 0;
};

TEST_P(SqliteFileMode, CreatesTheDatabaseAndItsWalAndShm0600) {
  const auto path = (dir_ / "assets.db").string();
  auto store = open_sqlite_store(path);
  ASSERT_TRUE(store) << store.error().message;
  // A write, so that SQLite has made the -wal and -shm files.
  CaRecord ca;
  ca.name = "root";
  ca.role = CaRole::root;
  ca.certificate_der = {0x30, 0x00};
  ASSERT_TRUE((*store)->add_ca(ca));
  for (const char* suffix : {"", "-wal", "-shm"}) {
    ASSERT_TRUE(fs::exists(path + suffix)) << suffix;
    EXPECT_EQ(file_mode(path + suffix), 0600U)
        << suffix << " under umask 0" << std::oct << GetParam();
  }
}

TEST_P(SqliteFileMode, LeavesTheModeOfAnExistingStoreAsItIs) {
  const auto path = (dir_ / "assets.db").string();
  ASSERT_TRUE(open_sqlite_store(path));
  ::chmod(path.c_str(), 0640);
  ASSERT_TRUE(open_sqlite_store(path));
  EXPECT_EQ(file_mode(path), 0640U);
}

INSTANTIATE_TEST_SUITE_P(Umasks, SqliteFileMode, ::testing::Values(mode_t{022}, mode_t{0}));

}  // namespace
}  // namespace vouchsafe::store
