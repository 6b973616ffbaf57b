// Fuzz target for session-ticket key rows as the asset store hands them
// back (service/ticket_seal.h): the store is outside the MASA's process, so
// a row is read as untrusted, its scrypt cost bounded before any is spent.
// A row that opens must seal again to a row that opens to the same key.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "service/ticket_seal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vouchsafe;
  static const auto seal = service::passphrase_ticket_seal("fuzz-passphrase");
  auto opened = seal->open(7, ByteView(data, size));
  if (opened) {
    auto row = seal->seal(7, opened->view());
    if (!row) __builtin_trap();
    auto again = seal->open(7, *row);
    if (!again || !std::ranges::equal(again->view(), opened->view())) __builtin_trap();
  }
  return 0;
}
