// AES-256-GCM under scrypt.
#include "crypto/sealed_box.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto/handles.h"
#include "crypto/openssl_error.h"

namespace vouchsafe::crypto {
namespace {

using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;

constexpr std::size_t k_salt = 16;
constexpr std::size_t k_nonce = 12;
constexpr std::size_t k_tag = 16;
constexpr std::uint64_t k_max_memory = std::uint64_t{1} << 30U;

Result<SecretBytes> derive(const std::string& passphrase, ByteView salt, const ScryptCost& cost) {
  TRY(check_scrypt_cost(cost));
  SecretBytes key(32);
  if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(), salt.data(), salt.size(), cost.n, cost.r,
                     cost.p, k_max_memory, key.data(), key.size()) != 1) {
    return openssl_fail(ErrorCode::internal, "scrypt failed");
  }
  return key;
}

}  // namespace

Status check_scrypt_cost(const ScryptCost& cost) {
  const bool power_of_two = cost.n >= 2 && (cost.n & (cost.n - 1)) == 0;
  if (!power_of_two || cost.n > (std::uint64_t{1} << 20U) || cost.r == 0 || cost.r > 16 ||
      cost.p == 0 || cost.p > 4 || 128 * cost.n * cost.r > k_max_memory) {
    return fail(ErrorCode::invalid_value,
                "scrypt parameters N " + std::to_string(cost.n) + ", r " + std::to_string(cost.r) +
                    ", p " + std::to_string(cost.p) +
                    " are out of bounds (N a power of two up to 2^20, r up to 16, p up to 4)");
  }
  return ok();
}

Result<SealedBox> seal(ByteView plaintext, const std::string& passphrase, ByteView aad,
                       const ScryptCost& cost) {
  SealedBox box;
  box.cost = cost;
  box.salt.resize(k_salt);
  box.nonce.resize(k_nonce);
  if (RAND_bytes(box.salt.data(), k_salt) != 1 || RAND_bytes(box.nonce.data(), k_nonce) != 1) {
    return openssl_fail(ErrorCode::internal, "the random number generator failed");
  }
  ASSIGN_OR_RETURN(auto key, derive(passphrase, box.salt, cost));
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  box.ciphertext.resize(plaintext.size());
  box.tag.resize(k_tag);
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), box.nonce.data()) !=
          1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), box.ciphertext.data(), &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), box.ciphertext.data() + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, k_tag, box.tag.data()) != 1) {
    return openssl_fail(ErrorCode::internal, "AES-256-GCM encryption failed");
  }
  return box;
}

Result<SecretBytes> open_box(const SealedBox& box, const std::string& passphrase, ByteView aad) {
  if (box.salt.size() != k_salt || box.nonce.size() != k_nonce || box.tag.size() != k_tag) {
    return fail(ErrorCode::invalid_value,
                "sealed data with a salt, nonce or tag of the wrong size");
  }
  ASSIGN_OR_RETURN(auto key, derive(passphrase, box.salt, box.cost));
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  SecretBytes plain(box.ciphertext.size());
  Bytes tag = box.tag;
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), box.nonce.data()) !=
          1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), plain.data(), &len, box.ciphertext.data(),
                        static_cast<int>(box.ciphertext.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, k_tag, tag.data()) != 1) {
    return openssl_fail(ErrorCode::internal, "AES-256-GCM decryption failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), plain.data() + len, &len) != 1) {
    openssl_reason("");  // clear the queue
    return fail(ErrorCode::bad_passphrase, "wrong passphrase (or the data was altered)");
  }
  return plain;
}

}  // namespace vouchsafe::crypto
