// Bounded file reading, crash-safe file writing, private directories.
#pragma once

#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/result.h"

namespace vouchsafe {

// Reads a whole file, refusing files larger than max_size bytes.
Result<Bytes> read_file(const std::string& path, std::size_t max_size = 16U << 20U);

// Writes via a temporary file and rename, so readers never see half a file.
// mode is applied before any byte is written (0600 for secrets).
Status write_file_atomic(const std::string& path, ByteView data, unsigned mode = 0644);

// Creates `path` and any missing parents as directories of mode 0700,
// whatever the umask; directories that exist are left as they are.
Status create_private_directories(const std::string& path);

// The permission bits of `path` (0755), or nullopt if it cannot be stat'ed.
std::optional<unsigned> file_mode(const std::string& path);

}  // namespace vouchsafe
