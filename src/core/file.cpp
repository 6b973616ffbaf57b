// File helpers.
#include "core/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace vouchsafe {

Result<Bytes> read_file(const std::string& path, std::size_t max_size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::io_error, "cannot open " + path + ": " + std::strerror(errno));
  // Read in blocks rather than by the file's size, so pipes and process
  // substitutions work too; stop one byte past the limit.
  Bytes data;
  char block[16384];
  while (in) {
    in.read(block, sizeof block);
    const auto n = static_cast<std::size_t>(in.gcount());
    if (data.size() + n > max_size) {
      return fail(ErrorCode::input_too_large,
                  path + " is larger than " + std::to_string(max_size) + " bytes");
    }
    data.insert(data.end(), block, block + n);
  }
  if (in.bad()) return fail(ErrorCode::io_error, "cannot read " + path);
  return data;
}

namespace {

// Writes every byte to fd; `path` names it in the error.
Status write_all(int fd, ByteView data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return fail(ErrorCode::io_error, "cannot write " + path + ": " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  return ok();
}

}  // namespace

Status write_file_atomic(const std::string& path, ByteView data, unsigned mode) {
  // Something other than a regular file (/dev/null, a FIFO, a terminal) is
  // written in place: renaming over it would replace the device by a file.
  struct stat existing {};
  if (::stat(path.c_str(), &existing) == 0 && !S_ISREG(existing.st_mode)) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      return fail(ErrorCode::io_error, "cannot open " + path + ": " + std::strerror(errno));
    auto written = write_all(fd, data, path);
    ::close(fd);
    return written;
  }
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return fail(ErrorCode::io_error, "cannot create " + tmp + ": " + std::strerror(errno));
  }
  if (auto written = write_all(fd, data, path); !written) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return written;
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return fail(ErrorCode::io_error, "cannot flush " + path);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return fail(ErrorCode::io_error, "cannot rename into " + path + ": " + std::strerror(errno));
  }
  return ok();
}

Status create_private_directories(const std::string& path) {
  namespace fs = std::filesystem;
  std::vector<fs::path> missing;  // deepest first
  std::error_code ec;
  for (fs::path p(path); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  // Shallowest first. std::reverse, not std::views::reverse: clang 14 (the
  // fuzz preset) cannot compile libstdc++ 12's views.
  std::reverse(missing.begin(), missing.end());
  for (const fs::path& dir : missing) {
    if (::mkdir(dir.c_str(), 0700) != 0) {
      if (errno == EEXIST) continue;  // made meanwhile, by someone else: not ours to change
      return fail(ErrorCode::io_error,
                  "cannot create " + dir.string() + ": " + std::strerror(errno));
    }
    // mkdir's mode passes through the umask, which may take the owner's
    // bits too; the directory is ours, so say exactly what it is.
    if (::chmod(dir.c_str(), 0700) != 0) {
      return fail(ErrorCode::io_error,
                  "cannot chmod " + dir.string() + ": " + std::strerror(errno));
    }
  }
  if (!fs::is_directory(path, ec)) return fail(ErrorCode::io_error, path + " is not a directory");
  return ok();
}

std::optional<unsigned> file_mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<unsigned>(st.st_mode) & 07777U;
}

}  // namespace vouchsafe
