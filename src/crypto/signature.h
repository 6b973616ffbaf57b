// Signing and verifying bytes with an EVP_PKEY, and ECDSA signature encodings.
#pragma once

#include <openssl/evp.h>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/algorithm.h"

namespace vouchsafe::crypto {

// How an ECDSA signature is written: DER ECDSA-Sig-Value (X.509, CMS) or
// fixed-size r||s (JOSE, COSE). Ed25519 signatures are the same in both.
enum class SignatureEncoding { der, raw };

// EVP_DigestSign on an initialised context: sizes, signs, trims.
Result<Bytes> digest_sign(EVP_MD_CTX* ctx, ByteView data);

// Signs data; ECDSA signatures come back DER-encoded.
Result<Bytes> sign_bytes(EVP_PKEY* key, SignatureAlgorithm alg, ByteView data);

// Verifies; any failure is ErrorCode::bad_signature.
Status verify_bytes(EVP_PKEY* key, SignatureAlgorithm alg, ByteView data, ByteView signature,
                    SignatureEncoding encoding);

// Verifies with the digest named apart from the key, as CMS does (RFC 5652
// §5.4: digestAlgorithm, so a P-384 key may have signed a SHA-256 digest).
// md is nullptr for Ed25519; ECDSA signatures are DER. Any failure is
// ErrorCode::bad_signature.
Status verify_with_digest(EVP_PKEY* key, const EVP_MD* md, ByteView data, ByteView signature);

// The digest of data with md (CMS messageDigest, RFC 5652 §11.2).
Result<Bytes> digest_bytes(const EVP_MD* md, ByteView data);

Result<Bytes> ecdsa_der_to_raw(ByteView der, std::size_t field_size);
Result<Bytes> ecdsa_raw_to_der(ByteView raw);

}  // namespace vouchsafe::crypto
