// An AES-256 key on a PKCS#11 token that seals small secrets with AES-GCM
// on the token: made there (sensitive, not extractable), and found again by
// its label by every process that shares the token, so that what one seals
// the others open, and nothing off the token can.
#pragma once

#include <memory>
#include <string>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/key_reference.h"
#include "crypto/pkcs11/token.h"
#include "crypto/secret.h"

namespace vouchsafe::crypto::pkcs11 {

class SealingKey {
 public:
  // The key labelled `label` on the token the URI names (its object and id
  // are ignored), made there when there is none. When several processes
  // made one at once, each seals with the one of lowest CKA_ID and opens
  // with whichever a sealed text names. bad_key naming the mechanism when
  // the token offers no CKM_AES_KEY_GEN or CKM_AES_GCM.
  static Result<std::unique_ptr<SealingKey>> open_or_make(const Pkcs11Uri& token_uri,
                                                          const std::string& label);

  // key id (8 bytes) || IV (12) || ciphertext || tag (16); `aad` is
  // authenticated with it.
  [[nodiscard]] Result<Bytes> seal(ByteView plaintext, ByteView aad) const;
  // The plaintext; bad_passphrase when the tag does not verify (another
  // key of the label, other aad, altered), as crypto::open_box says it;
  // invalid_value when too short; bad_key when no key has its id.
  [[nodiscard]] Result<SecretBytes> open(ByteView sealed, ByteView aad) const;

  [[nodiscard]] std::string describe() const;

 private:
  SealingKey(std::shared_ptr<Token> token, std::string label, Bytes id)
      : token_(std::move(token)), label_(std::move(label)), id_(std::move(id)) {}
  enum class Direction { seal, open };
  // A session with AES-GCM begun (C_EncryptInit or C_DecryptInit) under
  // the key of `id`.
  [[nodiscard]] Result<Token::Session> begin(Direction direction, ByteView id, ByteView iv,
                                             ByteView aad) const;

  std::shared_ptr<Token> token_;
  std::string label_;
  Bytes id_;  // of the key it seals with
};

}  // namespace vouchsafe::crypto::pkcs11
