// Signature algorithms we sign and verify with, and their parameters.
#pragma once

#include <openssl/evp.h>

#include <string_view>

#include "core/result.h"

namespace vouchsafe::crypto {

enum class SignatureAlgorithm { es256, es384, es512, ed25519 };

// The algorithm a key signs with: ECDSA with the digest matching its curve
// (P-256/SHA-256, P-384/SHA-384, P-521/SHA-512), or Ed25519.
Result<SignatureAlgorithm> algorithm_for_key(const EVP_PKEY* key);

// nullptr for Ed25519, which hashes internally.
// SHA-1/2 implementations fetched once from the default provider. The
// EVP_shaN() objects make OpenSSL 3 look the implementation up again, under
// a lock, on every EVP_DigestInit or EVP_DigestVerifyInit.
const EVP_MD* sha1_digest();
const EVP_MD* sha256_digest();
const EVP_MD* sha384_digest();
const EVP_MD* sha512_digest();

const EVP_MD* digest_for(SignatureAlgorithm alg);

// Bytes of r and of s in a raw (JOSE/COSE) ECDSA signature; 0 for Ed25519.
std::size_t ecdsa_field_size(SignatureAlgorithm alg);

// JOSE "alg" names (RFC 7518 §3.1, RFC 8037) and COSE algorithm ids (RFC 9053).
std::string_view jose_name(SignatureAlgorithm alg);
Result<SignatureAlgorithm> from_jose_name(std::string_view name);
int cose_id(SignatureAlgorithm alg);
Result<SignatureAlgorithm> from_cose_id(long long id);

}  // namespace vouchsafe::crypto
