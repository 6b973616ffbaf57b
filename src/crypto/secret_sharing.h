// Shamir k-of-n secret sharing over GF(2^8) (libgfshare): the root key and
// the MASA CA key are split among officers so that no k-1 of them can sign.
#pragma once

#include <cstdint>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/secret.h"

namespace vouchsafe::crypto {

struct SecretShare {
  std::uint8_t index = 0;  // 1..255, the x coordinate; never 0 (that is the secret)
  SecretBytes data;        // as long as the secret
};

// n shares (2..255), any `threshold` (2..n) of which rebuild the secret.
// Randomness is OpenSSL's RAND_bytes, not libgfshare's random() default.
Result<std::vector<SecretShare>> split_secret(ByteView secret, unsigned shares, unsigned threshold);

// The secret from exactly `threshold` or more shares of one split (distinct
// indices, equal lengths; callers check which split each share is from:
// the arithmetic cannot tell a wrong share from a right one).
Result<SecretBytes> combine_shares(const std::vector<const SecretShare*>& shares);

}  // namespace vouchsafe::crypto
