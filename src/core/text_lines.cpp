// Bounded line reading.
#include "core/text_lines.h"

#include <streambuf>

namespace vouchsafe {

LineRead read_line(std::istream& in, std::string& line, std::size_t max_length) {
  line.clear();
  std::streambuf* buf = in.rdbuf();
  if (buf == nullptr) return LineRead::end;
  bool any = false;
  while (true) {
    const int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      if (!any) return LineRead::end;
      break;
    }
    any = true;
    if (c == '\n') break;
    // The '\r' of a CRLF line may take the line one over the limit.
    if (line.size() > max_length) return LineRead::too_long;
    line.push_back(static_cast<char>(c));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.size() > max_length) return LineRead::too_long;
  return LineRead::line;
}

}  // namespace vouchsafe
