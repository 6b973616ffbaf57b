// The Signer of a private key on a PKCS#11 token: ECDSA P-256/P-384 with
// CKM_ECDSA over a digest computed here (every token offers it; the raw r||s
// comes back and is DER-encoded as Signer promises), Ed25519 with CKM_EDDSA
// where the token offers it. Key pairs are generated on the token.
#pragma once

#include <p11-kit/pkcs11.h>

#include <memory>

#include "crypto/key_reference.h"
#include "crypto/pkcs11/token.h"
#include "crypto/signer.h"

namespace vouchsafe::crypto::pkcs11 {

class Pkcs11Signer final : public Signer {
 public:
  // The private key the URI names (object= and/or id=) with its public key
  // (the public key object of the same label and id). Errors name the
  // module, token, object and CKR_ code; an algorithm the token cannot sign
  // with is bad_key naming the mechanism.
  static Result<std::unique_ptr<Pkcs11Signer>> open(const Pkcs11Uri& uri);

  [[nodiscard]] SignatureAlgorithm algorithm() const override { return algorithm_; }
  [[nodiscard]] EVP_PKEY* public_key() const override { return public_key_.get(); }
  // Thread-safe: each call leases a session of its own from the token's pool.
  [[nodiscard]] Result<Bytes> sign(ByteView data) const override;
  // CKM_ECDSA takes the digest as its input: the same operation.
  [[nodiscard]] Result<Bytes> sign_digest(ByteView digest) const override;

  // For the benchmark's raw C_Sign loop and the tests' extraction attempt.
  [[nodiscard]] const std::shared_ptr<Token>& token() const { return token_; }
  [[nodiscard]] CK_OBJECT_HANDLE private_key_handle() const { return private_key_; }
  [[nodiscard]] const std::string& object_name() const { return object_name_; }

 private:
  // One C_Sign of `input`: the message for EdDSA, the digest for ECDSA.
  [[nodiscard]] Result<Bytes> sign_input(ByteView input) const;

  Pkcs11Signer(std::shared_ptr<Token> token, CK_OBJECT_HANDLE key, PkeyPtr public_key,
               SignatureAlgorithm alg, std::string object_name)
      : token_(std::move(token)),
        private_key_(key),
        public_key_(std::move(public_key)),
        algorithm_(alg),
        object_name_(std::move(object_name)) {}
  std::shared_ptr<Token> token_;
  CK_OBJECT_HANDLE private_key_;
  PkeyPtr public_key_;
  SignatureAlgorithm algorithm_;
  std::string object_name_;
};

// Generates a key pair on the token `where` names (token, module-path,
// pin-source), labelled `label`, with a fresh random CKA_ID: the private
// half CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_SIGN.
// Returns the URI of the new key. A label in use is refused.
Result<Pkcs11Uri> generate_key_pair(const Pkcs11Uri& where, KeyType type, const std::string& label);

// Destroys both halves of the key pair the URI names.
Status destroy_key_pair(const Pkcs11Uri& uri);

}  // namespace vouchsafe::crypto::pkcs11
