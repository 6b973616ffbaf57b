// ECIES: ECDH, HKDF-SHA-256, AES-256-GCM, all through OpenSSL's EVP.
#include "crypto/ecies.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "crypto/co_generated_key.h"
#include "crypto/keys.h"
#include "crypto/openssl_error.h"
#include "crypto/seed_derivation.h"

namespace vouchsafe::crypto {
namespace {

constexpr std::size_t k_point_size = 65;
constexpr std::size_t k_nonce_size = 12;
constexpr std::size_t k_tag_size = 16;
constexpr std::size_t k_key_size = 32;

using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using KdfPtr = std::unique_ptr<EVP_KDF, Deleter<EVP_KDF, EVP_KDF_free>>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, Deleter<EVP_KDF_CTX, EVP_KDF_CTX_free>>;

Result<SecretBytes> ecdh(EVP_PKEY* ours, EVP_PKEY* theirs) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(ours, nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), theirs) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) {
    return openssl_fail(ErrorCode::invalid_value, "ECDH with the recipient's key");
  }
  SecretBytes shared(len);
  if (EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1 || len != shared.size()) {
    return openssl_fail(ErrorCode::internal, "ECDH");
  }
  return shared;
}

Result<SecretBytes> derive_key(const SecretBytes& shared, ByteView ephemeral, ByteView recipient,
                               std::string_view info) {
  Bytes salt(ephemeral.begin(), ephemeral.end());
  salt.insert(salt.end(), recipient.begin(), recipient.end());
  KdfPtr hkdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  KdfCtxPtr ctx(hkdf ? EVP_KDF_CTX_new(hkdf.get()) : nullptr);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                        const_cast<std::uint8_t*>(shared.data()), shared.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt.data(), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()),
                                        info.size()),
      OSSL_PARAM_construct_end()};
  SecretBytes key(k_key_size);
  if (!ctx || EVP_KDF_derive(ctx.get(), key.data(), key.size(), params) != 1) {
    return openssl_fail(ErrorCode::internal, "HKDF-SHA-256");
  }
  return key;
}

Result<PkeyPtr> key_of_point(ByteView point) {
  return parse_public_key(p256_spki_from_point(point));
}

}  // namespace

Result<Bytes> ecies_seal(ByteView recipient_point, ByteView plaintext, ByteView associated_data,
                         std::string_view info) {
  ASSIGN_OR_RETURN(auto recipient, key_of_point(recipient_point));
  auto ephemeral = generate_key(KeyType::p256);
  if (!ephemeral) return openssl_fail(ErrorCode::internal, "an ephemeral P-256 key");
  ASSIGN_OR_RETURN(const Bytes e_point, p256_public_point(ephemeral.get()));
  ASSIGN_OR_RETURN(const SecretBytes shared, ecdh(ephemeral.get(), recipient.get()));
  ASSIGN_OR_RETURN(const SecretBytes key, derive_key(shared, e_point, recipient_point, info));

  Bytes out(e_point);
  out.resize(k_point_size + k_nonce_size + plaintext.size() + k_tag_size);
  std::uint8_t* nonce = out.data() + k_point_size;
  std::uint8_t* body = nonce + k_nonce_size;
  if (RAND_bytes(nonce, static_cast<int>(k_nonce_size)) != 1) {
    return openssl_fail(ErrorCode::internal, "a random nonce");
  }
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), key.data(), nonce, nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, associated_data.data(),
                        static_cast<int>(associated_data.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), body, &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), body + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(k_tag_size),
                          body + plaintext.size()) != 1) {
    return openssl_fail(ErrorCode::internal, "AES-256-GCM");
  }
  return out;
}

Result<SecretBytes> ecies_open(EVP_PKEY* recipient_key, ByteView sealed, ByteView associated_data,
                               std::string_view info) {
  if (sealed.size() < k_ecies_overhead) {
    return fail(ErrorCode::invalid_value, "the sealed value is shorter than ECIES's overhead");
  }
  const ByteView e_point = sealed.first(k_point_size);
  const ByteView nonce = sealed.subspan(k_point_size, k_nonce_size);
  const ByteView body =
      sealed.subspan(k_point_size + k_nonce_size, sealed.size() - k_ecies_overhead);
  const ByteView tag = sealed.last(k_tag_size);
  ASSIGN_OR_RETURN(auto ephemeral, key_of_point(e_point));
  ASSIGN_OR_RETURN(const Bytes recipient_point, p256_public_point(recipient_key));
  ASSIGN_OR_RETURN(const SecretBytes shared, ecdh(recipient_key, ephemeral.get()));
  ASSIGN_OR_RETURN(const SecretBytes key, derive_key(shared, e_point, recipient_point, info));

  SecretBytes plain(body.size());
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), key.data(), nonce.data(), nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, associated_data.data(),
                        static_cast<int>(associated_data.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), plain.data(), &len, body.data(),
                        static_cast<int>(body.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(k_tag_size),
                          const_cast<std::uint8_t*>(tag.data())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), plain.data() + len, &len) != 1) {
    ERR_clear_error();
    return fail(ErrorCode::bad_signature,
                "the sealed value does not open: tampered, or made for another key or context");
  }
  return plain;
}

}  // namespace vouchsafe::crypto
