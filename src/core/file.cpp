// File helpers.
#include "core/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

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

Status write_file_atomic(const std::string& path, ByteView data, unsigned mode) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return fail(ErrorCode::io_error, "cannot create " + tmp + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < data.size()) {
    const auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(ErrorCode::io_error, "cannot write " + path + ": " + why);
    }
    done += static_cast<std::size_t>(n);
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

}  // namespace vouchsafe
