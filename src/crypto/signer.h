// The Signer interface: anything that can sign with a private key it may not
// reveal (a software key now, a PKCS#11 token later).
#pragma once

#include <memory>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/algorithm.h"
#include "crypto/handles.h"

namespace vouchsafe::crypto {

class Signer {
 public:
  virtual ~Signer() = default;
  [[nodiscard]] virtual SignatureAlgorithm algorithm() const = 0;
  // The public half, for embedding and self-checks.
  [[nodiscard]] virtual EVP_PKEY* public_key() const = 0;
  // Signs data; ECDSA signatures come back DER-encoded (see signature.h).
  [[nodiscard]] virtual Result<Bytes> sign(ByteView data) const = 0;
  // Signs a digest already made with the algorithm's hash, for a caller
  // that hashes itself (GnuTLS, for the TLS handshake). ECDSA only: EdDSA
  // hashes the message itself. The default refuses.
  [[nodiscard]] virtual Result<Bytes> sign_digest(ByteView digest) const;
};

// Whether `digest` fits the algorithm's hash (and the algorithm takes
// digests at all), for sign_digest implementations.
Status check_digest_size(SignatureAlgorithm algorithm, ByteView digest);

// A private key held in process memory. Signing starts from a context
// initialised once and copied per signature: EVP_DigestSignInit resolves
// the digest and key through OpenSSL's provider layer every time, about a
// seventh of an ECDSA signature's cost, and contended across threads.
class SoftwareSigner final : public Signer {
 public:
  static Result<std::unique_ptr<SoftwareSigner>> create(PkeyPtr key);
  [[nodiscard]] SignatureAlgorithm algorithm() const override { return algorithm_; }
  [[nodiscard]] EVP_PKEY* public_key() const override { return key_.get(); }
  [[nodiscard]] Result<Bytes> sign(ByteView data) const override;
  [[nodiscard]] Result<Bytes> sign_digest(ByteView digest) const override;

 private:
  SoftwareSigner(PkeyPtr key, SignatureAlgorithm alg, MdCtxPtr prototype)
      : key_(std::move(key)), algorithm_(alg), prototype_(std::move(prototype)) {}
  PkeyPtr key_;
  SignatureAlgorithm algorithm_;
  MdCtxPtr prototype_;  // null where contexts cannot be copied (Ed25519)
};

}  // namespace vouchsafe::crypto
