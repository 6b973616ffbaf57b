// Fuzz target for device PKCS#10 requests (RFC 2986), DER or PEM, as the
// factory's CSR issuance path reads them (pki::check_csr, which
// factory::issue_from_csr and `idevid batch --csrs` call). A request it
// accepts has a public key that reads back; its subject serialNumber may be
// absent (the operator then names the serial).
#include <cstddef>
#include <cstdint>

#include "crypto/keys.h"
#include "pki/certificate_profiles.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vouchsafe;
  auto checked = pki::check_csr(ByteView(data, size));
  if (checked) {
    if (!crypto::parse_public_key(checked->subject_public_key_info)) __builtin_trap();
  }
  return 0;
}
