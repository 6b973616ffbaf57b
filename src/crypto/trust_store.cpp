// Path validation through X509_verify_cert.
#include "crypto/trust_store.h"

#include <openssl/asn1.h>

#include <algorithm>

#include "crypto/keys.h"
#include "crypto/openssl_error.h"

namespace vouchsafe::crypto {
namespace {

constexpr std::size_t k_cache_capacity = 4096;

std::time_t to_time_t(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

}  // namespace

TrustStore::TrustStore(std::vector<X509Ptr> anchors)
    : anchors_(std::move(anchors)), store_(X509_STORE_new()) {
  for (const auto& a : anchors_) {
    X509_STORE_add_cert(store_.get(), a.get());
    anchor_refs_.push_back(make_certificate_ref(share(a.get())));
  }
  X509_STORE_set_flags(store_.get(), X509_V_FLAG_PARTIAL_CHAIN);
}

Result<std::vector<CertificateRef>> TrustStore::validate(
    const CertificateRef& leaf, const std::vector<CertificateRef>& untrusted,
    std::optional<std::time_t> at) const {
  const std::time_t when = at.value_or(std::time(nullptr));
  std::string key(leaf->der_sha256.begin(), leaf->der_sha256.end());
  for (const auto& c : untrusted) key.append(c->der_sha256.begin(), c->der_sha256.end());
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      if (when >= it->second.valid_from && when <= it->second.valid_until) {
        return it->second.chain;
      }
    }
  }

  X509StackPtr chain_in(sk_X509_new_null());
  for (const auto& c : untrusted) sk_X509_push(chain_in.get(), share(c->cert.get()).release());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store_.get(), leaf->cert.get(), chain_in.get()) != 1) {
    return openssl_fail(ErrorCode::internal, "cannot start path validation");
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, when);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    openssl_reason("");
    return fail(ErrorCode::untrusted_chain,
                std::string("signer certificate does not chain to a trust anchor: ") +
                    X509_verify_cert_error_string(err));
  }

  CachedPath path{{}, 0, std::numeric_limits<std::time_t>::max()};
  STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get());
  for (int i = 0; i < sk_X509_num(built); ++i) {
    X509* c = sk_X509_value(built, i);
    path.valid_from = std::max(path.valid_from, to_time_t(X509_get0_notBefore(c)));
    path.valid_until = std::min(path.valid_until, to_time_t(X509_get0_notAfter(c)));
    // Reuse the decoded objects we were given; wrap anchors once.
    CertificateRef ref;
    if (X509_cmp(c, leaf->cert.get()) == 0) {
      ref = leaf;
    } else {
      for (const auto& u : untrusted) {
        if (X509_cmp(c, u->cert.get()) == 0) ref = u;
      }
      for (const auto& a : anchor_refs_) {
        if (!ref && X509_cmp(c, a->cert.get()) == 0) ref = a;
      }
      if (!ref) ref = make_certificate_ref(share(c));
    }
    path.chain.push_back(std::move(ref));
  }
  std::lock_guard lock(mutex_);
  if (cache_.size() >= k_cache_capacity) cache_.clear();
  cache_[key] = path;
  return path.chain;
}

}  // namespace vouchsafe::crypto
