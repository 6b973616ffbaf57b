// Software signer.
#include "crypto/signer.h"

#include "crypto/signature.h"

namespace vouchsafe::crypto {

Result<std::unique_ptr<SoftwareSigner>> SoftwareSigner::create(PkeyPtr key) {
  ASSIGN_OR_RETURN(auto alg, algorithm_for_key(key.get()));
  return std::unique_ptr<SoftwareSigner>(new SoftwareSigner(std::move(key), alg));
}

Result<Bytes> SoftwareSigner::sign(ByteView data) const {
  return sign_bytes(key_.get(), algorithm_, data);
}

}  // namespace vouchsafe::crypto
