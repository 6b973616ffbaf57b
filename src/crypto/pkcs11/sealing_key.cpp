// AES-256-GCM on a token, with a key that never leaves it.
#include "crypto/pkcs11/sealing_key.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <vector>

namespace vouchsafe::crypto::pkcs11 {
namespace {

constexpr std::size_t k_id = 8, k_iv = 12, k_tag = 16;
constexpr std::size_t k_max_plaintext = 4096;
// More keys of one label than processes that could race to make the first.
constexpr std::size_t k_max_keys = 16;
// PKCS#11 3.0's code for a tag that does not verify; p11-kit's 2.40 header
// does not define it.
constexpr CK_RV k_ckr_aead_decrypt_failed = 0x42;

// The ids of the secret keys labelled `label`, lowest first.
Result<std::vector<Bytes>> key_ids(Token& token, Token::Session& session,
                                   const std::string& label) {
  ASSIGN_OR_RETURN(auto objects, token.find_objects(session, CKO_SECRET_KEY, label, std::nullopt,
                                                    k_max_keys, "the secret key '" + label + "'"));
  std::vector<Bytes> ids;
  for (const CK_OBJECT_HANDLE object : objects) {
    ASSIGN_OR_RETURN(auto id, token.attribute(session, object, CKA_ID));
    if (id && id->size() == k_id) ids.push_back(std::move(*id));
  }
  std::ranges::sort(ids);
  return ids;
}

Status make_key(Token& token, Token::Session& session, const std::string& label) {
  Bytes id(k_id);
  if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1) {
    return fail(ErrorCode::internal, "the random number generator failed");
  }
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  CK_OBJECT_CLASS secret = CKO_SECRET_KEY;
  CK_KEY_TYPE aes = CKK_AES;
  CK_ULONG length = 32;
  std::string label_copy = label;
  // Sensitive and not extractable: its value never leaves the token.
  std::vector<CK_ATTRIBUTE> key_template = {
      {CKA_CLASS, &secret, sizeof secret},     {CKA_KEY_TYPE, &aes, sizeof aes},
      {CKA_VALUE_LEN, &length, sizeof length}, {CKA_TOKEN, &yes, sizeof yes},
      {CKA_PRIVATE, &yes, sizeof yes},         {CKA_SENSITIVE, &yes, sizeof yes},
      {CKA_EXTRACTABLE, &no, sizeof no},       {CKA_ENCRYPT, &yes, sizeof yes},
      {CKA_DECRYPT, &yes, sizeof yes},         {CKA_LABEL, label_copy.data(), label_copy.size()},
      {CKA_ID, id.data(), id.size()},
  };
  CK_MECHANISM mechanism{CKM_AES_KEY_GEN, nullptr, 0};
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  const CK_RV rv = token.functions()->C_GenerateKey(session.handle(), &mechanism,
                                                    key_template.data(), key_template.size(), &key);
  if (rv != CKR_OK) {
    return token.failure(ErrorCode::bad_key, "generating the secret key '" + label + "'", rv);
  }
  return ok();
}

}  // namespace

Result<std::unique_ptr<SealingKey>> SealingKey::open_or_make(const Pkcs11Uri& token_uri,
                                                             const std::string& label) {
  ASSIGN_OR_RETURN(auto token, Token::open(token_uri));
  for (const CK_MECHANISM_TYPE m : {CKM_AES_KEY_GEN, CKM_AES_GCM}) {
    if (!token->offers(m)) {
      return fail(ErrorCode::bad_key,
                  std::string(m == CKM_AES_GCM ? "CKM_AES_GCM" : "CKM_AES_KEY_GEN") +
                      " is not offered by " + token->describe() +
                      ": unsupported mechanism, so nothing can be sealed there");
    }
  }
  ASSIGN_OR_RETURN(auto session, token->session());
  ASSIGN_OR_RETURN(auto ids, key_ids(*token, session, label));
  if (ids.empty()) {
    TRY(make_key(*token, session, label));
    ASSIGN_OR_RETURN(ids, key_ids(*token, session, label));  // another process's may be lower
    if (ids.empty()) {
      return fail(ErrorCode::bad_key, "the secret key '" + label + "' just made on " +
                                          token->describe() + " cannot be found");
    }
  }
  return std::unique_ptr<SealingKey>(
      new SealingKey(std::move(token), label, std::move(ids.front())));
}

Result<Bytes> SealingKey::seal(ByteView plaintext, ByteView aad) const {
  if (plaintext.empty() || plaintext.size() > k_max_plaintext) {
    return fail(ErrorCode::invalid_value,
                "cannot seal " + std::to_string(plaintext.size()) + " bytes on a token");
  }
  Bytes out(id_);
  out.resize(k_id + k_iv);
  if (RAND_bytes(out.data() + k_id, static_cast<int>(k_iv)) != 1) {
    return fail(ErrorCode::internal, "the random number generator failed");
  }
  ASSIGN_OR_RETURN(auto session, begin(Direction::seal, id_, ByteView(out).subspan(k_id), aad));
  CK_FUNCTION_LIST* f = token_->functions();
  Bytes sealed(plaintext.size() + k_tag);
  CK_ULONG length = sealed.size();
  const CK_RV rv = f->C_Encrypt(session.handle(), const_cast<std::uint8_t*>(plaintext.data()),
                                plaintext.size(), sealed.data(), &length);
  if (rv != CKR_OK || length != sealed.size()) {
    session.mark_broken();
    return token_->failure(ErrorCode::bad_key, "C_Encrypt with " + describe(), rv);
  }
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

Result<SecretBytes> SealingKey::open(ByteView sealed, ByteView aad) const {
  if (sealed.size() <= k_id + k_iv + k_tag ||
      sealed.size() > k_id + k_iv + k_max_plaintext + k_tag) {
    return fail(ErrorCode::invalid_value,
                "not a text sealed on a token (" + std::to_string(sealed.size()) + " bytes)");
  }
  const ByteView id = sealed.first(k_id);
  const ByteView iv = sealed.subspan(k_id, k_iv);
  const ByteView body = sealed.subspan(k_id + k_iv);
  ASSIGN_OR_RETURN(auto session, begin(Direction::open, id, iv, aad));
  CK_FUNCTION_LIST* f = token_->functions();
  SecretBytes plain(body.size());
  CK_ULONG length = plain.size();
  const CK_RV rv = f->C_Decrypt(session.handle(), const_cast<std::uint8_t*>(body.data()),
                                body.size(), plain.data(), &length);
  // A tag that does not verify: CKR_ENCRYPTED_DATA_INVALID in PKCS#11 2.40,
  // CKR_AEAD_DECRYPT_FAILED in 3.0, CKR_GENERAL_ERROR from SoftHSM 2.6.
  if (rv == CKR_ENCRYPTED_DATA_INVALID || rv == k_ckr_aead_decrypt_failed ||
      rv == CKR_GENERAL_ERROR) {
    return token_->failure(
        ErrorCode::bad_passphrase,
        "opening a sealed text with " + describe() + " (altered, or sealed for another purpose)",
        rv);
  }
  if (rv != CKR_OK || length != body.size() - k_tag) {
    session.mark_broken();
    return token_->failure(ErrorCode::bad_key, "C_Decrypt with " + describe(), rv);
  }
  SecretBytes out(plain.view().first(length));
  return out;
}

Result<Token::Session> SealingKey::begin(Direction direction, ByteView id, ByteView iv,
                                         ByteView aad) const {
  ASSIGN_OR_RETURN(auto session, token_->session());
  ASSIGN_OR_RETURN(auto key, token_->find_object(session, CKO_SECRET_KEY, label_,
                                                 Bytes(id.begin(), id.end()), "secret key"));
  // PKCS#11 declares the pointers non-const; the token only reads them.
  CK_GCM_PARAMS params{const_cast<std::uint8_t*>(iv.data()),  iv.size(),  iv.size() * 8,
                       const_cast<std::uint8_t*>(aad.data()), aad.size(), k_tag * 8};
  CK_MECHANISM mechanism{CKM_AES_GCM, &params, sizeof params};
  CK_FUNCTION_LIST* f = token_->functions();
  const bool seal = direction == Direction::seal;
  const CK_RV rv = seal ? f->C_EncryptInit(session.handle(), &mechanism, key)
                        : f->C_DecryptInit(session.handle(), &mechanism, key);
  if (rv != CKR_OK) {
    session.mark_broken();
    return token_->failure(
        ErrorCode::bad_key,
        std::string(seal ? "C_EncryptInit" : "C_DecryptInit") + " with " + describe(), rv);
  }
  return session;
}

std::string SealingKey::describe() const {
  return "the secret key '" + label_ + "' on " + token_->describe();
}

}  // namespace vouchsafe::crypto::pkcs11
