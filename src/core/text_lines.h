// Line-by-line reading of text files from outside (CSV batches, imports):
// std::getline would read a line of any length into memory before the
// caller can refuse it.
#pragma once

#include <cstddef>
#include <istream>
#include <string>

namespace vouchsafe {

enum class LineRead { line, end, too_long };

// Reads up to '\n' into `line` (without it, and without a trailing '\r').
// A line longer than max_length is consumed no further than max_length + 2
// characters and reported as too_long; the stream is then left mid-line.
LineRead read_line(std::istream& in, std::string& line, std::size_t max_length);

}  // namespace vouchsafe
