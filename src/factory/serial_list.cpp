// Reading a list of device serials, line by bounded line.
#include "factory/serial_list.h"

#include "core/text_lines.h"

namespace vouchsafe::factory {

Result<std::optional<std::string>> SerialListReader::next() {
  std::string text;
  while (true) {
    const LineRead read = read_line(in_, text, k_max_serial_line);
    if (read == LineRead::end) {
      if (in_.bad()) return fail(ErrorCode::io_error, "cannot read " + label_);
      return std::optional<std::string>();
    }
    ++line_;
    if (read == LineRead::too_long) {
      return fail(ErrorCode::input_too_large,
                  label_ + ":" + std::to_string(line_) + ": longer than a serial");
    }
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos || text[first] == '#') continue;
    return std::optional<std::string>(text.substr(first, text.find_last_not_of(" \t") - first + 1));
  }
}

}  // namespace vouchsafe::factory
