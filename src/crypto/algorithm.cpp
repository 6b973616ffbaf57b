// Algorithm tables.
#include "crypto/algorithm.h"

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>

#include <string>

namespace vouchsafe::crypto {
namespace {

const EVP_MD* fetched(const char* name, const EVP_MD* fallback) {
  const EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  return md != nullptr ? md : fallback;
}

}  // namespace

// Each fetched digest lives for the whole process.
const EVP_MD* sha1_digest() {
  static const EVP_MD* const md = fetched("SHA1", EVP_sha1());
  return md;
}

const EVP_MD* sha256_digest() {
  static const EVP_MD* const md = fetched("SHA2-256", EVP_sha256());
  return md;
}

const EVP_MD* sha384_digest() {
  static const EVP_MD* const md = fetched("SHA2-384", EVP_sha384());
  return md;
}

const EVP_MD* sha512_digest() {
  static const EVP_MD* const md = fetched("SHA2-512", EVP_sha512());
  return md;
}

Result<SignatureAlgorithm> algorithm_for_key(const EVP_PKEY* key) {
  if (key == nullptr) return fail(ErrorCode::bad_key, "no key");
  if (EVP_PKEY_is_a(key, "ED25519") != 0) return SignatureAlgorithm::ed25519;
  if (EVP_PKEY_is_a(key, "EC") == 0) {
    return fail(ErrorCode::unsupported_algorithm, "key type is neither ECDSA nor Ed25519");
  }
  char curve[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &len) !=
      1) {
    return fail(ErrorCode::bad_key, "cannot read the EC key's curve");
  }
  const std::string name(curve, len);
  if (name == SN_X9_62_prime256v1) return SignatureAlgorithm::es256;
  if (name == SN_secp384r1) return SignatureAlgorithm::es384;
  if (name == SN_secp521r1) return SignatureAlgorithm::es512;
  return fail(ErrorCode::unsupported_algorithm, "unsupported curve " + name);
}

const EVP_MD* digest_for(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::es256:
      return sha256_digest();
    case SignatureAlgorithm::es384:
      return sha384_digest();
    case SignatureAlgorithm::es512:
      return sha512_digest();
    case SignatureAlgorithm::ed25519:
      return nullptr;
  }
  return nullptr;
}

std::size_t ecdsa_field_size(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::es256:
      return 32;
    case SignatureAlgorithm::es384:
      return 48;
    case SignatureAlgorithm::es512:
      return 66;
    case SignatureAlgorithm::ed25519:
      return 0;
  }
  return 0;
}

std::string_view jose_name(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::es256:
      return "ES256";
    case SignatureAlgorithm::es384:
      return "ES384";
    case SignatureAlgorithm::es512:
      return "ES512";
    case SignatureAlgorithm::ed25519:
      return "EdDSA";
  }
  return "";
}

Result<SignatureAlgorithm> from_jose_name(std::string_view name) {
  if (name == "ES256") return SignatureAlgorithm::es256;
  if (name == "ES384") return SignatureAlgorithm::es384;
  if (name == "ES512") return SignatureAlgorithm::es512;
  if (name == "EdDSA") return SignatureAlgorithm::ed25519;
  return fail(ErrorCode::unsupported_algorithm,
              "unsupported JOSE alg '" + std::string(name.substr(0, 32)) + "'");
}

int cose_id(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::es256:
      return -7;
    case SignatureAlgorithm::es384:
      return -35;
    case SignatureAlgorithm::es512:
      return -36;
    case SignatureAlgorithm::ed25519:
      return -8;
  }
  return 0;
}

Result<SignatureAlgorithm> from_cose_id(long long id) {
  switch (id) {
    case -7:
      return SignatureAlgorithm::es256;
    case -35:
      return SignatureAlgorithm::es384;
    case -36:
      return SignatureAlgorithm::es512;
    case -8:
      return SignatureAlgorithm::ed25519;
    default:
      return fail(ErrorCode::unsupported_algorithm, "unsupported COSE alg " + std::to_string(id));
  }
}

}  // namespace vouchsafe::crypto
