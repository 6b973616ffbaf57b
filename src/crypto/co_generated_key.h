// Keys made by two parties (the enrolling voucher, docs/enrolling-voucher.md):
// a device holds {x, X = xG}, an owner picks {y, Y = yG}, and the key pair
// {z = x + y mod n, Z = X + Y} is one only the device can complete while the
// owner computes Z alone. P-256 only.
#pragma once

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/handles.h"
#include "crypto/seed_derivation.h"

namespace vouchsafe::crypto {

// The scalar and the uncompressed point of a P-256 private key.
Result<DerivedKey> p256_key_parts(EVP_PKEY* key);
// The uncompressed point of a P-256 public key (SPKI or EVP_PKEY).
Result<Bytes> p256_public_point(EVP_PKEY* key);
Result<Bytes> p256_point_from_spki(ByteView spki);

// Z = X + Y; refuses points not on the curve and a sum at infinity (Y = -X).
Result<Bytes> p256_point_add(ByteView x_point, ByteView y_point);
// z = x + y mod n; refuses scalars out of [1, n-1] and a zero sum.
Result<SecretBytes> p256_scalar_add(ByteView x, ByteView y);
// zG, to check a completed key against the point it must have.
Result<Bytes> p256_public_point_of(ByteView scalar);

}  // namespace vouchsafe::crypto
