// The PROXY protocol v2 header a trusted balancer sends before the client's
// bytes: its size from the first 16 bytes, then the header parsed.
#include <cstddef>
#include <cstdint>

#include "net/detail/proxy_header.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vouchsafe::net::detail;
  const vouchsafe::ByteView input(data, size);
  auto header_size = proxy_v2_size(input);
  if (header_size &&
      (*header_size < k_proxy_v2_prefix_size || *header_size > k_proxy_v2_max_size)) {
    __builtin_trap();  // the connection reads exactly this many bytes
  }
  if (header_size && *header_size <= size) (void)parse_proxy_v2(input.first(*header_size));
  (void)parse_proxy_v2(input);
  return 0;
}
