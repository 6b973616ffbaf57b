// Software signer.
#include "crypto/signer.h"

#include "crypto/openssl_error.h"
#include "crypto/signature.h"

namespace vouchsafe::crypto {

Result<Bytes> Signer::sign_digest(ByteView /*digest*/) const {
  return fail(ErrorCode::usage, "this key signs messages only, not precomputed digests");
}

Status check_digest_size(SignatureAlgorithm algorithm, ByteView digest) {
  if (algorithm == SignatureAlgorithm::ed25519) {
    return fail(ErrorCode::usage, "Ed25519 signs messages, not precomputed digests");
  }
  const auto expected = static_cast<std::size_t>(EVP_MD_get_size(digest_for(algorithm)));
  if (digest.size() != expected) {
    return fail(ErrorCode::invalid_value, "a digest of " + std::to_string(digest.size()) +
                                              " bytes for a key that signs " +
                                              std::to_string(expected) + "-byte digests");
  }
  return ok();
}

Result<std::unique_ptr<SoftwareSigner>> SoftwareSigner::create(PkeyPtr key) {
  ASSIGN_OR_RETURN(auto alg, algorithm_for_key(key.get()));
  MdCtxPtr prototype;
  // Ed25519 is one-shot and its contexts do not copy; it signs afresh.
  if (alg != SignatureAlgorithm::ed25519) {
    prototype.reset(EVP_MD_CTX_new());
    if (!prototype ||
        EVP_DigestSignInit(prototype.get(), nullptr, digest_for(alg), nullptr, key.get()) != 1) {
      return openssl_fail(ErrorCode::bad_key, "the key cannot sign");
    }
  }
  return std::unique_ptr<SoftwareSigner>(
      new SoftwareSigner(std::move(key), alg, std::move(prototype)));
}

Result<Bytes> SoftwareSigner::sign(ByteView data) const {
  if (!prototype_) return sign_bytes(key_.get(), algorithm_, data);
  // Copying only reads the prototype, so threads may sign at once.
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), prototype_.get()) != 1) {
    return openssl_fail(ErrorCode::internal, "cannot prepare a signing context");
  }
  return digest_sign(ctx.get(), data);
}

Result<Bytes> SoftwareSigner::sign_digest(ByteView digest) const {
  TRY(check_digest_size(algorithm_, digest));
  const PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key_.get(), nullptr));
  std::size_t length = 0;
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_sign(ctx.get(), nullptr, &length, digest.data(), digest.size()) != 1) {
    return openssl_fail(ErrorCode::internal, "cannot sign a digest");
  }
  Bytes signature(length);
  if (EVP_PKEY_sign(ctx.get(), signature.data(), &length, digest.data(), digest.size()) != 1) {
    return openssl_fail(ErrorCode::internal, "cannot sign a digest");
  }
  signature.resize(length);  // DER: as long as its integers
  return signature;
}

}  // namespace vouchsafe::crypto
