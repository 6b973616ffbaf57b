// Fuzz target for PKCS#12 bundles (RFC 7292) as the pledge loads its
// identity from one (pledge::identity_from_pkcs12, `pledge bootstrap
// --pkcs12 dev.p12`): size and MAC iteration count are bounded before
// any work; whatever opens must hold a key that matches its certificate.
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>

#include "pledge/identity.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vouchsafe;
  auto identity = pledge::identity_from_pkcs12(ByteView(data, size), "fuzz-passphrase");
  if (!identity) return 0;
  if (identity->chain.empty() || identity->serial.empty() ||
      X509_check_private_key(identity->chain.front().get(), identity->key.get()) != 1) {
    __builtin_trap();
  }
  return 0;
}
