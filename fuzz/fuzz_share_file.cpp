// Fuzz target for key-ceremony share files (docs/key-ceremony.md): untrusted
// files officers carry around. Whatever parses must write back to text that
// parses to the same share.
#include <cstddef>
#include <cstdint>

#include "factory/ceremony.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vouchsafe;
  auto share = factory::parse_share_file(ByteView(data, size));
  if (share) {
    const auto text = factory::share_file_text(*share);
    auto again = factory::parse_share_file(as_bytes(text));
    if (!again || factory::share_file_text(*again) != text) __builtin_trap();
  }
  return 0;
}
