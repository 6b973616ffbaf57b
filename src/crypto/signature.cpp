// EVP_DigestSign / EVP_DigestVerify wrappers.
#include "crypto/signature.h"

#include <openssl/ecdsa.h>

#include "crypto/handles.h"
#include "crypto/openssl_error.h"

namespace vouchsafe::crypto {

Result<Bytes> digest_sign(EVP_MD_CTX* ctx, ByteView data) {
  std::size_t len = 0;
  if (EVP_DigestSign(ctx, nullptr, &len, data.data(), data.size()) != 1) {
    return openssl_fail(ErrorCode::bad_key, "cannot size the signature");
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx, sig.data(), &len, data.data(), data.size()) != 1) {
    return openssl_fail(ErrorCode::bad_key, "signing failed");
  }
  sig.resize(len);
  return sig;
}

Result<Bytes> sign_bytes(EVP_PKEY* key, SignatureAlgorithm alg, ByteView data) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digest_for(alg), nullptr, key) != 1) {
    return openssl_fail(ErrorCode::bad_key, "cannot start signing");
  }
  return digest_sign(ctx.get(), data);
}

Status verify_bytes(EVP_PKEY* key, SignatureAlgorithm alg, ByteView data, ByteView signature,
                    SignatureEncoding encoding) {
  Bytes der;
  ByteView sig = signature;
  if (encoding == SignatureEncoding::raw && alg != SignatureAlgorithm::ed25519) {
    if (signature.size() != 2 * ecdsa_field_size(alg)) {
      return fail(ErrorCode::bad_signature, "signature has the wrong length for its algorithm");
    }
    ASSIGN_OR_RETURN(der, ecdsa_raw_to_der(signature));
    sig = der;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, digest_for(alg), nullptr, key) != 1) {
    return openssl_fail(ErrorCode::bad_signature, "the signer's key cannot verify");
  }
  if (EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) != 1) {
    openssl_reason("");  // clear the queue
    return fail(ErrorCode::bad_signature, "signature does not verify");
  }
  return ok();
}

Status verify_with_digest(EVP_PKEY* key, const EVP_MD* md, ByteView data, ByteView signature) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) != 1) {
    openssl_reason("");  // clear the queue
    return fail(ErrorCode::bad_signature, "the signer's key cannot verify with this digest");
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data.data(), data.size()) !=
      1) {
    openssl_reason("");
    return fail(ErrorCode::bad_signature, "signature does not verify");
  }
  return ok();
}

Result<Bytes> digest_bytes(const EVP_MD* md, ByteView data) {
  if (md == nullptr) return fail(ErrorCode::internal, "no digest algorithm given");
  Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1) {
    return openssl_fail(ErrorCode::internal, "cannot compute the digest");
  }
  out.resize(len);
  return out;
}

Result<Bytes> ecdsa_der_to_raw(ByteView der, std::size_t field_size) {
  const unsigned char* p = der.data();
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != der.data() + der.size()) {
    return fail(ErrorCode::malformed_der, "ECDSA signature is not valid DER");
  }
  Bytes raw(2 * field_size);
  const BIGNUM* r = ECDSA_SIG_get0_r(sig.get());
  const BIGNUM* s = ECDSA_SIG_get0_s(sig.get());
  if (BN_bn2binpad(r, raw.data(), static_cast<int>(field_size)) < 0 ||
      BN_bn2binpad(s, raw.data() + field_size, static_cast<int>(field_size)) < 0) {
    return fail(ErrorCode::internal, "ECDSA signature too large for its curve");
  }
  return raw;
}

Result<Bytes> ecdsa_raw_to_der(ByteView raw) {
  if (raw.empty() || raw.size() % 2 != 0) {
    return fail(ErrorCode::bad_signature, "raw ECDSA signature has an odd length");
  }
  const auto half = static_cast<int>(raw.size() / 2);
  BignumPtr r(BN_bin2bn(raw.data(), half, nullptr));
  BignumPtr s(BN_bin2bn(raw.data() + half, half, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return fail(ErrorCode::internal, "out of memory");
  }
  (void)r.release();  // now owned by sig
  (void)s.release();
  Bytes der = to_der(sig.get(), i2d_ECDSA_SIG);
  if (der.empty()) return fail(ErrorCode::internal, "cannot encode ECDSA signature");
  return der;
}

}  // namespace vouchsafe::crypto
