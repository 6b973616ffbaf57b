// File helpers: bounded reads, atomic writes, and devices left as devices.
#include "core/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace vouchsafe {
namespace {

TEST(WriteFileAtomic, WritesAndReplacesRegularFilesWithTheGivenMode) {
  const auto path = std::filesystem::temp_directory_path() / ("vs-file-" + std::to_string(::getpid()));
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

}  // namespace
}  // namespace vouchsafe
