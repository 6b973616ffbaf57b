// Fuzz target for the EST bodies (RFC 7030 as RFC 8995 §5.9 profiles it)
// read from the other side: the pledge's readers of csrattrs and of a
// certs-only PKCS#7, and the registrar's check of a pledge's PKCS#10. The
// first input byte picks the parser. A request the registrar accepts must
// carry the serial number it was asked for.
#include <cstddef>
#include <cstdint>

#include "core/bytes.h"
#include "pledge/enrollment.h"
#include "registrar/est.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const vouchsafe::ByteView body(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      (void)vouchsafe::pledge::parse_csr_attributes(body);
      break;
    case 1:
      (void)vouchsafe::pledge::parse_certs_only(body);
      break;
    default: {
      const vouchsafe::registrar::CsrAttributes wanted{"WG-F-1", vouchsafe::crypto::KeyType::p256};
      auto checked = vouchsafe::registrar::check_enrollment_request(body, wanted);
      if (checked && checked->serial_number != wanted.serial_number) __builtin_trap();
      break;
    }
  }
  return 0;
}
