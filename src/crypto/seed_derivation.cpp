// Seed and DICE key derivation.
#include "crypto/seed_derivation.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include <array>
#include <cstring>

#include "crypto/openssl_error.h"

namespace vouchsafe::crypto {
namespace {

constexpr std::string_view k_salt = "vouchsafe-idevid-seed-v1";
constexpr std::string_view k_info = "vouchsafe P-256 private key";
constexpr std::string_view k_dice_label = "vouchsafe-dice-cdi-v1";

// SubjectPublicKeyInfo header for id-ecPublicKey / prime256v1 with a 65-byte
// uncompressed point (RFC 5480 §2).
constexpr std::array<std::uint8_t, 26> k_p256_spki_prefix = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01,
    0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};

using MacPtr = std::unique_ptr<EVP_MAC, Deleter<EVP_MAC, EVP_MAC_free>>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, Deleter<EVP_MAC_CTX, EVP_MAC_CTX_free>>;
using GroupPtr = std::unique_ptr<EC_GROUP, Deleter<EC_GROUP, EC_GROUP_free>>;
using PointPtr = std::unique_ptr<EC_POINT, Deleter<EC_POINT, EC_POINT_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, Deleter<BN_CTX, BN_CTX_free>>;
inline void clear_free_bn(BIGNUM* b) {
  BN_clear_free(b);
}
using SecretBignumPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, clear_free_bn>>;

// Per-thread state, set up once: an HMAC-SHA-256 context whose digest is
// already resolved, and the P-256 group. EVP_KDF("HKDF") looks its digest up
// by name on every call, which cost more than the derivation itself in a
// factory batch (and serialises threads on OpenSSL's name map).
struct ThreadState {
  MacPtr hmac{EVP_MAC_fetch(nullptr, "HMAC", nullptr)};
  MacCtxPtr mac{EVP_MAC_CTX_new(hmac.get())};
  GroupPtr group{EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)};
  BnCtxPtr bn_ctx{BN_CTX_new()};
  ThreadState() {
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                                 OSSL_PARAM_construct_end()};
    EVP_MAC_CTX_set_params(mac.get(), params);
  }
};

ThreadState& thread_state() {
  thread_local ThreadState state;
  return state;
}

// HMAC-SHA-256(key, a || b) into out (32 bytes).
Status hmac_sha256(ByteView key, ByteView a, ByteView b, std::uint8_t* out) {
  auto* mac = thread_state().mac.get();
  std::size_t len = 0;
  if (EVP_MAC_init(mac, key.data(), key.size(), nullptr) != 1 ||
      EVP_MAC_update(mac, a.data(), a.size()) != 1 ||
      EVP_MAC_update(mac, b.data(), b.size()) != 1 || EVP_MAC_final(mac, out, &len, 32) != 1 ||
      len != 32) {
    return openssl_fail(ErrorCode::internal, "HMAC-SHA-256 failed");
  }
  return ok();
}

// RFC 5869 with SHA-256 and L = 32: PRK = HMAC(salt, IKM); OKM = T(1) =
// HMAC(PRK, info || 0x01).
Status hkdf_sha256(ByteView ikm, std::string_view salt, ByteView info, std::uint8_t* out) {
  SecretBytes prk(32);
  TRY(hmac_sha256(as_bytes(salt), ikm, {}, prk.data()));
  const std::uint8_t one = 0x01;
  return hmac_sha256(prk.view(), info, {&one, 1}, out);
}

}  // namespace

Result<DerivedKey> derive_p256_key(ByteView seed) {
  if (seed.size() != k_seed_size) {
    return fail(ErrorCode::invalid_value,
                "a device seed is 32 bytes (256 bits), got " + std::to_string(seed.size()));
  }
  auto& st = thread_state();
  const BIGNUM* order = EC_GROUP_get0_order(st.group.get());
  DerivedKey key{SecretBytes(32), {}};
  SecretBignumPtr d(BN_secure_new());
  // Rejection sampling keeps the scalar exactly uniform on [1, n-1]; a
  // candidate is rejected with probability about 2^-32.
  bool found = false;
  for (unsigned counter = 0; counter < 256 && !found; ++counter) {
    Bytes info = to_bytes(k_info);
    info.push_back(static_cast<std::uint8_t>(counter));
    TRY(hkdf_sha256(seed, k_salt, info, key.private_scalar.data()));
    BN_bin2bn(key.private_scalar.data(), 32, d.get());
    found = BN_is_zero(d.get()) == 0 && BN_cmp(d.get(), order) < 0;
  }
  if (!found) return fail(ErrorCode::internal, "no valid scalar from this seed");

  PointPtr pub(EC_POINT_new(st.group.get()));
  if (!pub ||
      EC_POINT_mul(st.group.get(), pub.get(), d.get(), nullptr, nullptr, st.bn_ctx.get()) != 1) {
    return openssl_fail(ErrorCode::internal, "cannot compute the public key");
  }
  key.public_point.resize(65);
  if (EC_POINT_point2oct(st.group.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED,
                         key.public_point.data(), 65, st.bn_ctx.get()) != 65) {
    return openssl_fail(ErrorCode::internal, "cannot encode the public key");
  }
  return key;
}

Result<SecretBytes> dice_cdi(ByteView seed, ByteView firmware_sha256) {
  if (seed.size() != k_seed_size) {
    return fail(ErrorCode::invalid_value,
                "a device seed is 32 bytes (256 bits), got " + std::to_string(seed.size()));
  }
  if (firmware_sha256.size() != 32) {
    return fail(ErrorCode::invalid_value, "the firmware measurement is a SHA-256 digest");
  }
  SecretBytes cdi(32);
  TRY(hmac_sha256(seed, as_bytes(k_dice_label), firmware_sha256, cdi.data()));
  return cdi;
}

Result<PkeyPtr> derived_key_to_pkey(const DerivedKey& key) {
  SecretBignumPtr d(BN_secure_new());
  BN_bin2bn(key.private_scalar.data(), 32, d.get());
  std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>> bld(
      OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get());
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, key.public_point.data(),
                                   key.public_point.size());
  std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>> params(
      OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    return openssl_fail(ErrorCode::internal, "cannot build the derived key");
  }
  return PkeyPtr(raw);
}

Bytes p256_spki_from_point(ByteView point) {
  Bytes spki(k_p256_spki_prefix.begin(), k_p256_spki_prefix.end());
  spki.insert(spki.end(), point.begin(), point.end());
  return spki;
}

}  // namespace vouchsafe::crypto
