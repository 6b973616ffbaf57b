// Deterministic P-256 IDevID keys from a 256-bit device seed, computed the
// same way by the factory (to certify the public key) and by the device (to
// use the private key). docs/seed-derivation.md is the specification.
#pragma once

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/handles.h"
#include "crypto/secret.h"

namespace vouchsafe::crypto {

constexpr std::size_t k_seed_size = 32;

struct DerivedKey {
  SecretBytes private_scalar;  // 32 bytes, big-endian, 1 <= d < n
  Bytes public_point;          // 65 bytes, uncompressed 04 || X || Y
};

// HKDF-SHA-256 with salt "vouchsafe-idevid-seed-v1", then rejection
// sampling of 32-byte candidates into [1, n-1].
Result<DerivedKey> derive_p256_key(ByteView seed);

// DICE-style compound device identifier: the key changes with the firmware.
// CDI = HMAC-SHA-256(seed, "vouchsafe-dice-cdi-v1" || SHA-256(firmware)).
Result<SecretBytes> dice_cdi(ByteView seed, ByteView firmware_sha256);

// The derived key as an EVP_PKEY the device can sign with.
Result<PkeyPtr> derived_key_to_pkey(const DerivedKey& key);

// SubjectPublicKeyInfo DER of an uncompressed P-256 point, without going
// through OpenSSL's key decoders (a fixed 26-byte prefix + the point).
Bytes p256_spki_from_point(ByteView point);

}  // namespace vouchsafe::crypto
