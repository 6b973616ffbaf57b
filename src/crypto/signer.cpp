// Software signer.
#include "crypto/signer.h"

#include "crypto/openssl_error.h"
#include "crypto/signature.h"

namespace vouchsafe::crypto {

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

}  // namespace vouchsafe::crypto
