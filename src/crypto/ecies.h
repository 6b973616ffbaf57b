// ECIES on P-256, for a secret only one device may read (the enrolling
// voucher's y, docs/enrolling-voucher.md): an ephemeral ECDH with the
// recipient's public key, HKDF-SHA-256 over the shared x-coordinate, and
// AES-256-GCM with the caller's associated data.
//
// Sealed form: E (65-byte uncompressed ephemeral point) || nonce (12) ||
// ciphertext || tag (16). HKDF salt: E || R (the recipient's point), info:
// the caller's label, so a ciphertext made for one purpose opens for no
// other.
#pragma once

#include <string_view>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/handles.h"
#include "crypto/secret.h"

namespace vouchsafe::crypto {

inline constexpr std::size_t k_ecies_overhead = 65 + 12 + 16;

Result<Bytes> ecies_seal(ByteView recipient_point, ByteView plaintext, ByteView associated_data,
                         std::string_view info);

// Fails with bad_signature when the ciphertext, the tag, the associated
// data or the key do not match: nothing tells which.
Result<SecretBytes> ecies_open(EVP_PKEY* recipient_key, ByteView sealed, ByteView associated_data,
                               std::string_view info);

}  // namespace vouchsafe::crypto
