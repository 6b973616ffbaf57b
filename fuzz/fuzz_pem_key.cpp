// Fuzz target for private-key files: PEM (PKCS#8, encrypted PKCS#8,
// traditional EC/RSA, legacy Proc-Type encryption) and DER, read with a
// passphrase as key files are (crypto::parse_private_key), and public keys
// (crypto::parse_public_key). The first byte says whether a passphrase is
// given. The cost of an encrypted key's derivation is bounded before
// OpenSSL spends it (k_max_pbe_iterations): a key asking for more must be
// refused, not run.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "crypto/keys.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vouchsafe;
  if (size == 0) return 0;
  const ByteView input(data + 1, size - 1);
  const std::optional<std::string> passphrase =
      (data[0] & 1U) != 0 ? std::optional<std::string>("fuzz-passphrase") : std::nullopt;
  if (auto key = crypto::parse_private_key(input, passphrase)) {
    // A key that loads can be written back and read again.
    auto pem = crypto::private_key_pem(key->get(), std::nullopt);
    if (!pem || !crypto::parse_private_key(as_bytes(*pem), std::nullopt)) __builtin_trap();
  }
  (void)crypto::parse_public_key(input);
  return 0;
}
