// File helpers: bounded reads, atomic writes, and devices left as devices.
#include "core/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace vouchsafe {
namespace {

TEST(WriteFileAtomic, WritesAndReplacesRegularFilesWithTheGivenMode) {
  const auto path =
      std::filesystem::temp_directory_path() / ("vs-file-" + std::to_string(::getpid()));
  ASSERT_TRUE(write_file_atomic(path.string(), as_bytes("one"), 0600));
  ASSERT_TRUE(write_file_atomic(path.string(), as_bytes("two"), 0600));
  EXPECT_EQ(*read_file(path.string()), to_bytes("two"));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777U, 0600U);
  std::filesystem::remove(path);
}

TEST(WriteFileAtomic, WritesIntoDevNullWithoutReplacingIt) {
  ASSERT_TRUE(write_file_atomic("/dev/null", as_bytes("discarded")));
  struct stat st {};
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode)) << "/dev/null was replaced by a regular file";
}

TEST(ReadFile, RefusesFilesOverTheLimitAndReadsPipes) {
  EXPECT_EQ(read_file("/proc/self/status", 8).error().code, ErrorCode::input_too_large);
  EXPECT_TRUE(read_file("/proc/self/status"));  // size 0 in stat, content when read
}

// Sets the umask for one scope.
class Umask {
 public:
  explicit Umask(mode_t mask) : old_(::umask(mask)) {}
  ~Umask() { ::umask(old_); }
  Umask(const Umask&) = delete;
  Umask& operator=(const Umask&) = delete;

 private:
  mode_t old_;
};

TEST(CreatePrivateDirectories, MakesEveryNewLevel0700WhateverTheUmask) {
  const auto base =
      std::filesystem::temp_directory_path() / ("vs-private-" + std::to_string(::getpid()));
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  ::chmod(base.c_str(), 0755);
  for (const mode_t mask : {mode_t{022}, mode_t{0}, mode_t{0277}}) {
    const Umask scoped(mask);
    const auto leaf = base / ("m" + std::to_string(mask)) / "home" / "keys";
    ASSERT_TRUE(create_private_directories(leaf.string()));
    EXPECT_EQ(file_mode(leaf.string()), 0700U) << "umask " << mask;
    EXPECT_EQ(file_mode(leaf.parent_path().string()), 0700U) << "umask " << mask;
    EXPECT_EQ(file_mode(leaf.parent_path().parent_path().string()), 0700U) << "umask " << mask;
  }
  // What exists is not ours to change.
  EXPECT_EQ(file_mode(base.string()), 0755U);
  ASSERT_TRUE(create_private_directories(base.string()));
  EXPECT_EQ(file_mode(base.string()), 0755U);
  // A file where a directory belongs.
  std::ofstream(base / "file") << "x";
  EXPECT_FALSE(create_private_directories((base / "file").string()));
  EXPECT_FALSE(create_private_directories((base / "file" / "below").string()));
  std::filesystem::remove_all(base);
}

}  // namespace
}  // namespace vouchsafe
