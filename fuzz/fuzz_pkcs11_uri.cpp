// Fuzz target for key references (RFC 7512 pkcs11: URIs and paths), which
// arrive from configuration, the store and continuity bundles. Whatever
// parses must format back to a URI that parses to the same attributes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/key_reference.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ref = vouchsafe::crypto::parse_key_reference(text);
  if (ref && ref->on_token()) {
    auto again = vouchsafe::crypto::parse_key_reference(ref->text());
    if (!again || !(*again == *ref)) __builtin_trap();
  }
  return 0;
}
