// Bounded file reading and crash-safe file writing.
#pragma once

#include <string>

#include "core/bytes.h"
#include "core/result.h"

namespace vouchsafe {

// Reads a whole file, refusing files larger than max_size bytes.
Result<Bytes> read_file(const std::string& path, std::size_t max_size = 16U << 20U);

// Writes via a temporary file and rename, so readers never see half a file.
// mode is applied before any byte is written (0600 for secrets).
Status write_file_atomic(const std::string& path, ByteView data, unsigned mode = 0644);

}  // namespace vouchsafe
