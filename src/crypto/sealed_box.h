// Bytes sealed under a passphrase: AES-256-GCM with a key derived by scrypt
// (RFC 7914). Key shares and continuity bundles are written this way.
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/secret.h"

namespace vouchsafe::crypto {

// scrypt's cost. The default is OWASP's 2023 recommendation (N = 2^17,
// r = 8, p = 1: 128 MiB and about half a second per derivation); what a file
// asks for is bounded before any work is spent on it (check_scrypt_cost).
struct ScryptCost {
  std::uint64_t n = std::uint64_t{1} << 17U;
  std::uint32_t r = 8;
  std::uint32_t p = 1;
  friend bool operator==(const ScryptCost&, const ScryptCost&) = default;
};

// At most N = 2^20, r = 16, p = 4 and 1 GiB of memory: four times OWASP's
// cost in each dimension, and a bound a hostile file cannot raise.
Status check_scrypt_cost(const ScryptCost& cost);

struct SealedBox {
  ScryptCost cost;
  Bytes salt;        // 16 random bytes
  Bytes nonce;       // 12 random bytes (GCM IV)
  Bytes ciphertext;  // the plaintext's length
  Bytes tag;         // 16 bytes
};

// `aad` is authenticated with the ciphertext (a share's index, threshold and
// split): changing it makes opening fail as a wrong passphrase would.
Result<SealedBox> seal(ByteView plaintext, const std::string& passphrase, ByteView aad,
                       const ScryptCost& cost = {});

// bad_passphrase when the tag does not verify (a wrong passphrase, or the
// box or aad altered); invalid_value for malformed sizes or costs.
Result<SecretBytes> open_box(const SealedBox& box, const std::string& passphrase, ByteView aad);

}  // namespace vouchsafe::crypto
