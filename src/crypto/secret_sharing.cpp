// Secret sharing over libgfshare.
#include "crypto/secret_sharing.h"

#include <openssl/rand.h>

#include <cstdlib>
#include <memory>
#include <mutex>

// libgfshare's header declares C functions without extern "C".
extern "C" {
#include <libgfshare.h>
}

#include "crypto/handles.h"

namespace vouchsafe::crypto {
namespace {

using GfshareCtxPtr = std::unique_ptr<gfshare_ctx, Deleter<gfshare_ctx, gfshare_ctx_free>>;

// libgfshare draws its polynomial coefficients from gfshare_fill_rand, and
// gfshare_ctx_free overwrites the context with it: it starts unset (2.0;
// the library offers random(3), which is predictable), so it is set before
// any context is made. The coefficients are the secret's protection, so
// they come from OpenSSL's CSPRNG; a failing RNG aborts, since a share made
// from non-random coefficients would leak the key.
void fill_from_openssl(unsigned char* buffer, unsigned int count) {
  if (RAND_bytes(buffer, static_cast<int>(count)) != 1) std::abort();
}

void use_openssl_random() {
  static std::once_flag once;
  std::call_once(once, [] { gfshare_fill_rand = fill_from_openssl; });
}

}  // namespace

Result<std::vector<SecretShare>> split_secret(ByteView secret, unsigned shares,
                                              unsigned threshold) {
  if (shares < 2 || shares > 255 || threshold < 2 || threshold > shares) {
    return fail(ErrorCode::usage,
                "a split needs 2 to 255 shares and a threshold from 2 to the "
                "number of shares (got " +
                    std::to_string(threshold) + " of " + std::to_string(shares) + ")");
  }
  if (secret.empty()) return fail(ErrorCode::usage, "nothing to split");
  use_openssl_random();
  std::vector<unsigned char> indices(shares);
  for (unsigned i = 0; i < shares; ++i) indices[i] = static_cast<unsigned char>(i + 1);
  GfshareCtxPtr ctx(gfshare_ctx_init_enc(indices.data(), shares,
                                         static_cast<unsigned char>(threshold),
                                         static_cast<unsigned>(secret.size())));
  if (!ctx) return fail(ErrorCode::internal, "libgfshare cannot start a split");
  SecretBytes copy(secret);  // libgfshare takes a non-const pointer
  gfshare_ctx_enc_setsecret(ctx.get(), copy.data());
  std::vector<SecretShare> out;
  for (unsigned i = 0; i < shares; ++i) {
    SecretShare s;
    s.index = indices[i];
    s.data = SecretBytes(secret.size());
    gfshare_ctx_enc_getshare(ctx.get(), static_cast<unsigned char>(i), s.data.data());
    out.push_back(std::move(s));
  }
  return out;
}

Result<SecretBytes> combine_shares(const std::vector<const SecretShare*>& shares) {
  if (shares.size() < 2) return fail(ErrorCode::usage, "at least two shares are needed");
  use_openssl_random();
  const std::size_t size = shares.front()->data.size();
  std::vector<unsigned char> indices;
  for (const auto* s : shares) {
    if (s->index == 0 || s->data.size() != size || size == 0) {
      return fail(ErrorCode::invalid_value, "shares of different lengths or index 0");
    }
    for (const auto i : indices) {
      if (i == s->index) {
        return fail(ErrorCode::invalid_value,
                    "share index " + std::to_string(s->index) + " is given twice");
      }
    }
    indices.push_back(s->index);
  }
  GfshareCtxPtr ctx(gfshare_ctx_init_dec(indices.data(), static_cast<unsigned>(indices.size()),
                                         static_cast<unsigned>(size)));
  if (!ctx) return fail(ErrorCode::internal, "libgfshare cannot start a recovery");
  for (std::size_t i = 0; i < shares.size(); ++i) {
    SecretBytes copy(shares[i]->data.view());
    gfshare_ctx_dec_giveshare(ctx.get(), static_cast<unsigned char>(i), copy.data());
  }
  SecretBytes secret(size);
  gfshare_ctx_dec_extract(ctx.get(), secret.data());
  return secret;
}

}  // namespace vouchsafe::crypto
