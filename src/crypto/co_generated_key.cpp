// P-256 scalar and point arithmetic with OpenSSL's EC_POINT and BIGNUM.
#include "crypto/co_generated_key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <array>

#include "crypto/keys.h"
#include "crypto/openssl_error.h"

namespace vouchsafe::crypto {
namespace {

using GroupPtr = std::unique_ptr<EC_GROUP, Deleter<EC_GROUP, EC_GROUP_free>>;
using PointPtr = std::unique_ptr<EC_POINT, Deleter<EC_POINT, EC_POINT_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, Deleter<BN_CTX, BN_CTX_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
inline void clear_free_bn(BIGNUM* b) {
  BN_clear_free(b);
}
using SecretBnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, clear_free_bn>>;

constexpr std::size_t k_scalar_size = 32;
constexpr std::size_t k_point_size = 65;  // 04 || X || Y

struct Curve {
  GroupPtr group{EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)};
  BnCtxPtr ctx{BN_CTX_secure_new()};
};

Result<PointPtr> read_point(const Curve& c, ByteView point, const char* what) {
  PointPtr p(EC_POINT_new(c.group.get()));
  if (!p || point.size() != k_point_size || point[0] != 0x04 ||
      EC_POINT_oct2point(c.group.get(), p.get(), point.data(), point.size(), c.ctx.get()) != 1) {
    return fail(ErrorCode::invalid_value,
                std::string(what) + " is not an uncompressed P-256 point on the curve");
  }
  return p;
}

Result<Bytes> write_point(const Curve& c, const EC_POINT* p) {
  if (EC_POINT_is_at_infinity(c.group.get(), p) == 1) {
    return fail(ErrorCode::invalid_value, "the point is at infinity");
  }
  Bytes out(k_point_size);
  if (EC_POINT_point2oct(c.group.get(), p, POINT_CONVERSION_UNCOMPRESSED, out.data(), out.size(),
                         c.ctx.get()) != out.size()) {
    return openssl_fail(ErrorCode::internal, "encode a P-256 point");
  }
  return out;
}

// A scalar in [1, n-1], else an error naming it.
Result<SecretBnPtr> read_scalar(const Curve& c, ByteView scalar, const char* what) {
  SecretBnPtr s(BN_secure_new());
  if (!s || scalar.size() != k_scalar_size ||
      BN_bin2bn(scalar.data(), static_cast<int>(scalar.size()), s.get()) == nullptr ||
      BN_is_zero(s.get()) != 0 || BN_cmp(s.get(), EC_GROUP_get0_order(c.group.get())) >= 0) {
    return fail(ErrorCode::invalid_value, std::string(what) + " is not a P-256 scalar in [1, n-1]");
  }
  return s;
}

Result<Curve> curve() {
  Curve c;
  if (!c.group || !c.ctx) return openssl_fail(ErrorCode::internal, "P-256 group");
  return c;
}

}  // namespace

Result<Bytes> p256_public_point(EVP_PKEY* key) {
  if (key == nullptr || EVP_PKEY_is_a(key, "EC") != 1) {
    return fail(ErrorCode::invalid_value, "not an EC key");
  }
  std::array<char, 32> group{};
  std::size_t group_len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(),
                                     &group_len) != 1 ||
      std::string_view(group.data(), group_len) != "prime256v1") {
    return fail(ErrorCode::invalid_value, "not a P-256 key");
  }
  Bytes point(k_point_size);
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(),
                                      &len) != 1 ||
      len != k_point_size) {
    // A key may keep its point compressed; ask for it uncompressed.
    char form[] = "uncompressed";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, form, 0),
        OSSL_PARAM_construct_end()};
    if (EVP_PKEY_set_params(key, const_cast<OSSL_PARAM*>(params)) != 1 ||
        EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(),
                                        &len) != 1 ||
        len != k_point_size) {
      return openssl_fail(ErrorCode::invalid_value, "read the P-256 public point");
    }
  }
  return point;
}

Result<Bytes> p256_point_from_spki(ByteView spki) {
  ASSIGN_OR_RETURN(auto key, parse_public_key(spki));
  return p256_public_point(key.get());
}

Result<DerivedKey> p256_key_parts(EVP_PKEY* key) {
  ASSIGN_OR_RETURN(Bytes point, p256_public_point(key));
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1) {
    return fail(ErrorCode::bad_key, "the key holds no private scalar");
  }
  SecretBnPtr scalar(raw);
  DerivedKey parts;
  parts.private_scalar = SecretBytes(k_scalar_size);
  if (BN_bn2binpad(scalar.get(), parts.private_scalar.data(), k_scalar_size) !=
      static_cast<int>(k_scalar_size)) {
    return openssl_fail(ErrorCode::internal, "encode the private scalar");
  }
  parts.public_point = std::move(point);
  return parts;
}

Result<Bytes> p256_point_add(ByteView x_point, ByteView y_point) {
  ASSIGN_OR_RETURN(const Curve c, curve());
  ASSIGN_OR_RETURN(auto x, read_point(c, x_point, "X"));
  ASSIGN_OR_RETURN(auto y, read_point(c, y_point, "Y"));
  PointPtr z(EC_POINT_new(c.group.get()));
  if (!z || EC_POINT_add(c.group.get(), z.get(), x.get(), y.get(), c.ctx.get()) != 1) {
    return openssl_fail(ErrorCode::internal, "add two P-256 points");
  }
  return write_point(c, z.get());
}

Result<SecretBytes> p256_scalar_add(ByteView x, ByteView y) {
  ASSIGN_OR_RETURN(const Curve c, curve());
  ASSIGN_OR_RETURN(auto a, read_scalar(c, x, "x"));
  ASSIGN_OR_RETURN(auto b, read_scalar(c, y, "y"));
  SecretBnPtr sum(BN_secure_new());
  if (!sum || BN_mod_add(sum.get(), a.get(), b.get(), EC_GROUP_get0_order(c.group.get()),
                         c.ctx.get()) != 1) {
    return openssl_fail(ErrorCode::internal, "add two P-256 scalars");
  }
  if (BN_is_zero(sum.get()) != 0) return fail(ErrorCode::invalid_value, "x + y is zero mod n");
  SecretBytes out(k_scalar_size);
  if (BN_bn2binpad(sum.get(), out.data(), k_scalar_size) != static_cast<int>(k_scalar_size)) {
    return openssl_fail(ErrorCode::internal, "encode the sum");
  }
  return out;
}

Result<Bytes> p256_public_point_of(ByteView scalar) {
  ASSIGN_OR_RETURN(const Curve c, curve());
  ASSIGN_OR_RETURN(auto s, read_scalar(c, scalar, "the scalar"));
  PointPtr p(EC_POINT_new(c.group.get()));
  if (!p || EC_POINT_mul(c.group.get(), p.get(), s.get(), nullptr, nullptr, c.ctx.get()) != 1) {
    return openssl_fail(ErrorCode::internal, "multiply the P-256 generator");
  }
  return write_point(c, p.get());
}

}  // namespace vouchsafe::crypto
