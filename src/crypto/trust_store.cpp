// Path validation through X509_verify_cert, with a direct path for the
// common case of a leaf issued by an anchor.
#include "crypto/trust_store.h"

#include <openssl/asn1.h>

#include <algorithm>
#include <limits>

#include "crypto/der.h"
#include "crypto/keys.h"
#include "crypto/oids.h"
#include "crypto/openssl_error.h"
#include "crypto/signature.h"

namespace vouchsafe::crypto {
namespace {

constexpr std::size_t k_cache_capacity = 4096;

bool same(ByteView a, ByteView b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

std::time_t to_time_t(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

// What the direct path needs to know of a certificate's extensions. Filled
// only when every extension is one OpenSSL would read without complaint and
// we read the same way; otherwise the certificate is X509_verify_cert's.
struct Extensions {
  bool ca = false;
  bool key_usage = false;
  bool key_cert_sign = false;
  ByteView subject_key_id;
  ByteView authority_key_id;
};

// BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint
// INTEGER OPTIONAL }; OpenSSL marks a pathLen without cA invalid.
bool read_basic_constraints(ByteView value, Extensions& out) {
  auto seq = der::parse_single(value, der::k_sequence, "BasicConstraints");
  if (!seq) return false;
  der::Reader top(value);
  auto r = top.enter(*seq, "BasicConstraints");
  if (!r) return false;
  auto ca = r->optional(der::k_boolean);
  if (!ca) return false;
  if (*ca) {
    if ((*ca)->value.size() != 1) return false;
    out.ca = (*ca)->value[0] != 0;
  }
  auto path_len = r->optional(der::k_integer);
  if (!path_len || !r->empty()) return false;
  if (*path_len) {
    auto n = der::read_integer(**path_len);
    if (!n || *n < 0 || !out.ca) return false;
  }
  return true;
}

// KeyUsage ::= BIT STRING; keyCertSign is bit 5 (RFC 5280 §4.2.1.3).
bool read_key_usage(ByteView value, Extensions& out) {
  auto bits = der::parse_single(value, der::k_bit_string, "KeyUsage");
  if (!bits || bits->value.empty() || bits->value[0] > 7) return false;
  if (bits->value.size() == 1 && bits->value[0] != 0) return false;
  out.key_usage = true;
  out.key_cert_sign = bits->value.size() > 1 && (bits->value[1] & 0x04U) != 0;
  return true;
}

// ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId.
bool read_ext_key_usage(ByteView value) {
  auto seq = der::parse_single(value, der::k_sequence, "ExtKeyUsage");
  if (!seq) return false;
  der::Reader top(value);
  auto r = top.enter(*seq, "ExtKeyUsage");
  if (!r || r->empty()) return false;
  while (!r->empty()) {
    auto oid = r->expect(der::k_oid, "KeyPurposeId");
    if (!oid || !der::oid_to_text(oid->value)) return false;
  }
  return true;
}

// AuthorityKeyIdentifier with a keyIdentifier only: the issuer-and-serial
// form makes OpenSSL compare more than we do.
bool read_authority_key_id(ByteView value, Extensions& out) {
  auto seq = der::parse_single(value, der::k_sequence, "AuthorityKeyIdentifier");
  if (!seq) return false;
  der::Reader top(value);
  auto r = top.enter(*seq, "AuthorityKeyIdentifier");
  if (!r) return false;
  auto id = r->optional(der::context(0, false));
  if (!id || !r->empty()) return false;
  if (*id) out.authority_key_id = (*id)->value;
  return true;
}

// GeneralNames of the kinds IDevIDs and servers carry: otherName (802.1AR
// hardwareModuleName), rfc822Name, dNSName, URI, iPAddress.
bool read_subject_alt_name(ByteView value) {
  auto seq = der::parse_single(value, der::k_sequence, "GeneralNames");
  if (!seq) return false;
  der::Reader top(value);
  auto r = top.enter(*seq, "GeneralNames");
  if (!r || r->empty()) return false;
  while (!r->empty()) {
    auto name = r->next();
    if (!name) return false;
    switch (name->tag) {
      case der::context(0, true): {
        auto other = r->enter(*name, "otherName");
        if (!other) return false;
        auto type = other->expect(der::k_oid, "type-id");
        if (!type || !der::oid_to_text(type->value)) return false;
        auto explicit_value = other->expect(der::context(0, true), "value");
        if (!explicit_value || !other->empty()) return false;
        auto inner = other->enter(*explicit_value, "value");
        if (!inner || !inner->next() || !inner->empty()) return false;
        break;
      }
      case der::context(1, false):
      case der::context(2, false):
      case der::context(6, false):
      case der::context(7, false):
        break;
      default:
        return false;
    }
  }
  return true;
}

std::optional<Extensions> read_extensions(const DecodedCertificate& cert) {
  if (cert.tbs.empty() || cert.version != 2) return std::nullopt;
  Extensions out;
  for (std::size_t i = 0; i < cert.extensions.size(); ++i) {
    const CertificateExtension& e = cert.extensions[i];
    // RFC 5280 §4.2: at most one instance of an extension.
    for (std::size_t j = 0; j < i; ++j) {
      if (same(cert.extensions[j].oid, e.oid)) return std::nullopt;
    }
    bool readable = false;
    bool may_be_critical = true;
    if (oid::is(e.oid, oid::ce_basic_constraints)) {
      readable = read_basic_constraints(e.value, out);
    } else if (oid::is(e.oid, oid::ce_key_usage)) {
      readable = read_key_usage(e.value, out);
    } else if (oid::is(e.oid, oid::ce_ext_key_usage)) {
      readable = read_ext_key_usage(e.value);
    } else if (oid::is(e.oid, oid::ce_subject_alt_name)) {
      readable = read_subject_alt_name(e.value);
    } else if (oid::is(e.oid, oid::ce_subject_key_identifier)) {
      auto id = der::parse_single(e.value, der::k_octet_string, "SubjectKeyIdentifier");
      readable = id.has_value();
      if (id) out.subject_key_id = id->value;
      may_be_critical = false;
    } else if (oid::is(e.oid, oid::ce_authority_key_identifier)) {
      readable = read_authority_key_id(e.value, out);
      may_be_critical = false;
    } else if (oid::is(e.oid, oid::pe_masa_url)) {
      // RFC 8995 §2.3.2; OpenSSL does not read it.
      readable = true;
      may_be_critical = false;
    }
    if (!readable || (e.critical && !may_be_critical)) return std::nullopt;
  }
  return out;
}

// The digest of a certificate signature algorithm without parameters;
// nullptr and true for Ed25519; false when it is none we verify here.
bool signature_digest(ByteView algorithm, const EVP_MD*& md, bool& ed25519) {
  md = nullptr;
  ed25519 = false;
  if (oid::is(algorithm, oid::ecdsa_with_sha256)) {
    md = sha256_digest();
  } else if (oid::is(algorithm, oid::ecdsa_with_sha384)) {
    md = sha384_digest();
  } else if (oid::is(algorithm, oid::ecdsa_with_sha512)) {
    md = sha512_digest();
  } else if (oid::is(algorithm, oid::ed25519)) {
    ed25519 = true;
  } else {
    return false;
  }
  return true;
}

bool valid_at(const DecodedCertificate& c, std::time_t when) {
  // X509_cmp_time: valid from notBefore inclusive to notAfter exclusive.
  return c.not_before <= when && when < c.not_after;
}

}  // namespace

TrustStore::TrustStore(std::vector<X509Ptr> anchors)
    : anchors_(std::move(anchors)), store_(X509_STORE_new()) {
  for (const auto& a : anchors_) {
    X509_STORE_add_cert(store_.get(), a.get());
    anchor_refs_.push_back(make_certificate_ref(share(a.get())));
  }
  X509_STORE_set_flags(store_.get(), X509_V_FLAG_PARTIAL_CHAIN);

  for (std::size_t i = 0; i < anchors_.size(); ++i) {
    const DecodedCertificate& a = *anchor_refs_[i];
    const auto ext = read_extensions(a);
    // X509_check_ca: CA:TRUE, and keyCertSign when keyUsage is present.
    bool usable = ext && ext->ca && (!ext->key_usage || ext->key_cert_sign) &&
                  (EVP_PKEY_is_a(a.public_key.get(), "EC") != 0 ||
                   EVP_PKEY_is_a(a.public_key.get(), "ED25519") != 0);
    // OpenSSL matches names canonically: with two anchors of equal
    // subjects, which one it picks is its business.
    for (std::size_t j = 0; usable && j < anchors_.size(); ++j) {
      if (j != i && X509_NAME_cmp(X509_get_subject_name(anchors_[i].get()),
                                  X509_get_subject_name(anchors_[j].get())) == 0) {
        usable = false;
      }
    }
    fast_issuer_.push_back(usable);
  }
}

std::optional<TrustStore::CachedPath> TrustStore::validate_under_anchor(
    const CertificateRef& leaf, std::time_t when, bool signature_made_here) const {
  const DecodedCertificate& l = *leaf;
  if (l.tbs.empty() || same(l.issuer, l.subject)) return std::nullopt;
  std::size_t at = anchor_refs_.size();
  for (std::size_t i = 0; i < anchor_refs_.size(); ++i) {
    // A leaf that is itself an anchor is trusted as it is by OpenSSL.
    if (anchor_refs_[i]->der_sha256 == l.der_sha256) return std::nullopt;
    if (same(anchor_refs_[i]->subject, l.issuer)) at = i;
  }
  if (at == anchor_refs_.size() || !fast_issuer_[at]) return std::nullopt;
  const DecodedCertificate& anchor = *anchor_refs_[at];

  const auto leaf_ext = read_extensions(l);
  const auto anchor_ext = read_extensions(anchor);
  if (!leaf_ext || !anchor_ext) return std::nullopt;
  // X509_check_akid: a keyIdentifier must match the anchor's SKI.
  if (!leaf_ext->authority_key_id.empty() && !anchor_ext->subject_key_id.empty() &&
      !same(leaf_ext->authority_key_id, anchor_ext->subject_key_id)) {
    return std::nullopt;
  }
  if (!valid_at(l, when) || !valid_at(anchor, when)) return std::nullopt;

  // X509_verify: the TBS names the same algorithm as the outer field.
  if (!same(l.tbs_signature_algorithm, l.signature_algorithm) || l.signature_algorithm_has_params ||
      l.signature_has_unused_bits) {
    return std::nullopt;
  }
  const EVP_MD* md = nullptr;
  bool ed25519 = false;
  if (!signature_digest(l.signature_algorithm_oid, md, ed25519)) return std::nullopt;
  // check_sig_alg_match: the signature algorithm fits the issuer's key.
  if (EVP_PKEY_is_a(anchor.public_key.get(), ed25519 ? "ED25519" : "EC") == 0) return std::nullopt;
  if (!signature_made_here &&
      !verify_with_digest(anchor.public_key.get(), md, l.tbs, l.signature_value)) {
    return std::nullopt;
  }
  return CachedPath{{leaf, anchor_refs_[at]},
                    std::max(l.not_before, anchor.not_before),
                    std::min(l.not_after, anchor.not_after)};
}

Result<std::vector<CertificateRef>> TrustStore::validate(
    const CertificateRef& leaf, const std::vector<CertificateRef>& untrusted,
    std::optional<std::time_t> at, ByteView recorded_leaf) const {
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

  // Only with no untrusted certificate offered: otherwise OpenSSL's choice
  // between paths is its own.
  std::optional<CachedPath> direct;
  if (untrusted.empty()) {
    if (!recorded_leaf.empty() && std::ranges::equal(leaf->der, recorded_leaf)) {
      // Taken on the record's word, the path holds for this caller only:
      // it stays out of the cache.
      if (auto on_record = validate_under_anchor(leaf, when, true)) return on_record->chain;
    } else {
      direct = validate_under_anchor(leaf, when, false);
    }
  }
  if (direct) {
    std::lock_guard lock(mutex_);
    if (cache_.size() >= k_cache_capacity) cache_.clear();
    cache_[key] = *direct;
    return direct->chain;
  }

  X509* leaf_cert = leaf->x509();
  if (leaf_cert == nullptr) {
    return fail(ErrorCode::malformed_der, "the signer certificate is not a DER certificate");
  }
  X509StackPtr chain_in(sk_X509_new_null());
  for (const auto& c : untrusted) {
    if (X509* u = c->x509()) sk_X509_push(chain_in.get(), share(u).release());
  }
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store_.get(), leaf_cert, chain_in.get()) != 1) {
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
    if (X509_cmp(c, leaf_cert) == 0) {
      ref = leaf;
    } else {
      for (const auto& u : untrusted) {
        if (X509* x = u->x509(); x != nullptr && X509_cmp(c, x) == 0) ref = u;
      }
      for (const auto& a : anchor_refs_) {
        if (!ref && X509_cmp(c, a->x509()) == 0) ref = a;
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
