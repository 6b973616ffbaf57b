// Certificate cache, and the reading of certificates with our DER reader.
#include "crypto/certificate_cache.h"

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include <algorithm>
#include <atomic>
#include <string_view>
#include <vector>

#include "crypto/der.h"
#include "crypto/keys.h"
#include "crypto/oids.h"

namespace vouchsafe::crypto {
namespace {

// A key holding only a curve's parameters, made once per thread and curve.
PkeyPtr curve_template(const char* group) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group), 0),
      OSSL_PARAM_construct_end()};
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_KEY_PARAMETERS, params) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return PkeyPtr(key);
}

// An EC public key from its curve and point: a copy of the curve's template
// given the point (which OpenSSL checks is on the curve). EVP_PKEY_fromdata
// would look the curve up by name for every key, three times the cost.
PkeyPtr ec_public_key(const char* group, ByteView point) {
  thread_local std::vector<std::pair<const char*, PkeyPtr>> templates;
  auto it = std::find_if(templates.begin(), templates.end(),
                         [&](const auto& t) { return std::string_view(t.first) == group; });
  if (it == templates.end()) {
    PkeyPtr made = curve_template(group);
    if (!made) return nullptr;
    it = templates.emplace(templates.end(), group, std::move(made));
  }
  PkeyPtr key(EVP_PKEY_dup(it->second.get()));
  if (!key || EVP_PKEY_set1_encoded_public_key(key.get(), point.data(), point.size()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return key;
}

// The key of a SubjectPublicKeyInfo. Named-curve EC and Ed25519 keys are
// built from their parts: d2i_PUBKEY goes through OSSL_DECODER, which costs
// several times more and takes locks shared by every thread.
PkeyPtr public_key_of(ByteView spki) {
  der::Reader r(spki);
  auto parts = [&]() -> Result<std::pair<ByteView, ByteView>> {  // algorithm, key bits
    ASSIGN_OR_RETURN(const der::Element seq, r.expect(der::k_sequence, "SubjectPublicKeyInfo"));
    ASSIGN_OR_RETURN(der::Reader s, r.enter(seq, "SubjectPublicKeyInfo"));
    ASSIGN_OR_RETURN(const der::Element alg, s.expect(der::k_sequence, "algorithm"));
    ASSIGN_OR_RETURN(const der::Element bits, s.expect(der::k_bit_string, "subjectPublicKey"));
    TRY(s.expect_end("SubjectPublicKeyInfo"));
    return std::pair{alg.value, bits.value};
  }();
  if (parts && !parts->second.empty() && parts->second[0] == 0) {
    const ByteView key = parts->second.subspan(1);
    der::Reader a(parts->first);
    auto oid = a.expect(der::k_oid, "algorithm");
    if (oid && oid::is(oid->value, oid::ed25519) && a.empty()) {
      PkeyPtr k(
          EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, key.data(), key.size()));
      if (k) return k;
    } else if (oid && oid::is(oid->value, oid::ec_public_key)) {
      auto curve = a.expect(der::k_oid, "namedCurve");
      const char* group = nullptr;
      if (curve && a.empty()) {
        if (oid::is(curve->value, oid::prime256v1)) group = "P-256";
        if (oid::is(curve->value, oid::secp384r1)) group = "P-384";
        if (oid::is(curve->value, oid::secp521r1)) group = "P-521";
      }
      if (group != nullptr) {
        if (PkeyPtr k = ec_public_key(group, key)) return k;
      }
    }
  }
  ERR_clear_error();
  const unsigned char* p = spki.data();
  PkeyPtr k(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));
  if (!k || p != spki.data() + spki.size()) {
    ERR_clear_error();
    return nullptr;
  }
  return k;
}

std::time_t to_time_t(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

Result<std::time_t> read_time(der::Reader& r, std::string_view what) {
  ASSIGN_OR_RETURN(const der::Element t, r.next());
  auto when = der::read_time(t);
  if (!when) return fail(ErrorCode::malformed_der, std::string(what) + ": " + when.error().message);
  return when;
}

// Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY } (RFC 5280
// §4.1.2.4), checked for shape only: its bytes are compared, not read.
Status check_name(const der::Reader& parent, const der::Element& name, std::string_view what) {
  ASSIGN_OR_RETURN(der::Reader n, parent.enter(name, what));
  while (!n.empty()) {
    ASSIGN_OR_RETURN(const der::Element rdn, n.expect(der::k_set, what));
    ASSIGN_OR_RETURN(der::Reader set, n.enter(rdn, what));
    if (set.empty()) return fail(ErrorCode::malformed_der, std::string(what) + " has an empty RDN");
    while (!set.empty()) {
      ASSIGN_OR_RETURN(const der::Element atv, set.expect(der::k_sequence, what));
      ASSIGN_OR_RETURN(der::Reader pair, set.enter(atv, what));
      TRY(pair.expect(der::k_oid, what));
      TRY(pair.next());
      TRY(pair.expect_end(what));
    }
  }
  return ok();
}

// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
// signatureValue } (RFC 5280 §4.1), every field of the TBSCertificate
// read down to the extensions' values.
Status read_fields(DecodedCertificate& c) {
  der::Reader r(c.der);
  ASSIGN_OR_RETURN(const der::Element cert, r.expect(der::k_sequence, "Certificate"));
  TRY(r.expect_end("Certificate"));
  ASSIGN_OR_RETURN(der::Reader cr, r.enter(cert, "Certificate"));
  ASSIGN_OR_RETURN(const der::Element tbs, cr.expect(der::k_sequence, "TBSCertificate"));
  ASSIGN_OR_RETURN(const der::Element sig_alg, cr.expect(der::k_sequence, "signatureAlgorithm"));
  ASSIGN_OR_RETURN(const der::Element sig, cr.expect(der::k_bit_string, "signatureValue"));
  TRY(cr.expect_end("Certificate"));
  c.tbs = tbs.encoded;
  c.signature_algorithm = sig_alg.encoded;
  ASSIGN_OR_RETURN(der::Reader ar, cr.enter(sig_alg, "signatureAlgorithm"));
  ASSIGN_OR_RETURN(const der::Element alg_oid, ar.expect(der::k_oid, "signatureAlgorithm"));
  c.signature_algorithm_oid = alg_oid.value;
  c.signature_algorithm_has_params = !ar.empty();
  if (sig.value.empty()) return fail(ErrorCode::malformed_der, "empty signatureValue");
  c.signature_has_unused_bits = sig.value[0] != 0;
  c.signature_value = sig.value.subspan(1);

  ASSIGN_OR_RETURN(der::Reader t, cr.enter(tbs, "TBSCertificate"));
  ASSIGN_OR_RETURN(const auto version, t.optional(der::context(0, true)));
  if (version) {
    ASSIGN_OR_RETURN(der::Reader vr, t.enter(*version, "version"));
    ASSIGN_OR_RETURN(const der::Element v, vr.expect(der::k_integer, "version"));
    TRY(vr.expect_end("version"));
    ASSIGN_OR_RETURN(const std::int64_t n, der::read_integer(v));
    if (n < 0 || n > 2) return fail(ErrorCode::malformed_der, "unknown certificate version");
    c.version = static_cast<long>(n);
  }
  TRY(t.expect(der::k_integer, "serialNumber"));
  ASSIGN_OR_RETURN(const der::Element inner_alg, t.expect(der::k_sequence, "signature"));
  c.tbs_signature_algorithm = inner_alg.encoded;
  ASSIGN_OR_RETURN(const der::Element issuer, t.expect(der::k_sequence, "issuer"));
  TRY(check_name(t, issuer, "issuer"));
  c.issuer = issuer.encoded;
  ASSIGN_OR_RETURN(const der::Element validity, t.expect(der::k_sequence, "validity"));
  ASSIGN_OR_RETURN(der::Reader vr, t.enter(validity, "validity"));
  ASSIGN_OR_RETURN(c.not_before, read_time(vr, "notBefore"));
  ASSIGN_OR_RETURN(c.not_after, read_time(vr, "notAfter"));
  TRY(vr.expect_end("validity"));
  ASSIGN_OR_RETURN(const der::Element subject, t.expect(der::k_sequence, "subject"));
  TRY(check_name(t, subject, "subject"));
  c.subject = subject.encoded;
  ASSIGN_OR_RETURN(const der::Element spki, t.expect(der::k_sequence, "subjectPublicKeyInfo"));
  c.spki_der.assign(spki.encoded.begin(), spki.encoded.end());
  TRY(t.optional(der::context(1, false)));  // issuerUniqueID
  TRY(t.optional(der::context(2, false)));  // subjectUniqueID
  ASSIGN_OR_RETURN(const auto extensions, t.optional(der::context(3, true)));
  TRY(t.expect_end("TBSCertificate"));
  if (!extensions) return ok();

  ASSIGN_OR_RETURN(der::Reader er, t.enter(*extensions, "extensions"));
  ASSIGN_OR_RETURN(const der::Element list, er.expect(der::k_sequence, "extensions"));
  TRY(er.expect_end("extensions"));
  ASSIGN_OR_RETURN(der::Reader lr, er.enter(list, "extensions"));
  while (!lr.empty()) {
    ASSIGN_OR_RETURN(const der::Element ext, lr.expect(der::k_sequence, "Extension"));
    ASSIGN_OR_RETURN(der::Reader x, lr.enter(ext, "Extension"));
    CertificateExtension out;
    ASSIGN_OR_RETURN(const der::Element oid, x.expect(der::k_oid, "extnID"));
    out.oid = oid.value;
    ASSIGN_OR_RETURN(const auto critical, x.optional(der::k_boolean));
    if (critical) {
      if (critical->value.size() != 1) {
        return fail(ErrorCode::malformed_der, "an extension's critical flag is not a BOOLEAN");
      }
      out.critical = critical->value[0] != 0;
    }
    ASSIGN_OR_RETURN(const der::Element value, x.expect(der::k_octet_string, "extnValue"));
    TRY(x.expect_end("Extension"));
    out.value = value.value;
    out.encoded_value = value.encoded;
    c.extensions.push_back(out);
  }
  return ok();
}

std::atomic<std::uint64_t> g_x509_decodes{0};

}  // namespace

const CertificateExtension* DecodedCertificate::extension(ByteView oid) const {
  for (const auto& e : extensions) {
    if (e.oid.size() == oid.size() && std::equal(oid.begin(), oid.end(), e.oid.begin())) return &e;
  }
  return nullptr;
}

std::uint64_t x509_decode_count() {
  return g_x509_decodes.load(std::memory_order_relaxed);
}

X509* DecodedCertificate::x509() const {
  std::call_once(x509_once_, [this] {
    g_x509_decodes.fetch_add(1, std::memory_order_relaxed);
    auto cert = parse_certificate_der(der);
    if (cert) x509_ = std::move(cert).value();
  });
  return x509_.get();
}

Result<std::shared_ptr<DecodedCertificate>> read_certificate(ByteView der) {
  auto decoded = std::make_shared<DecodedCertificate>();
  decoded->der.assign(der.begin(), der.end());
  if (auto read = read_fields(*decoded); !read) {
    return fail(ErrorCode::malformed_der, "not a DER certificate: " + read.error().message);
  }
  decoded->public_key = public_key_of(decoded->spki_der);
  if (!decoded->public_key) {
    return fail(ErrorCode::bad_key, "the certificate's public key cannot be decoded");
  }
  return decoded;
}

CertificateCache& CertificateCache::shared() {
  static CertificateCache cache;
  return cache;
}

Result<CertificateRef> CertificateCache::decode(ByteView der) {
  Bytes hash = sha256(der);
  std::string key(hash.begin(), hash.end());
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(key); it != entries_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(auto decoded, read_certificate(der));
  decoded->der_sha256 = std::move(hash);
  std::lock_guard lock(mutex_);
  // A simple bound: a peer cannot grow the cache without limit.
  if (entries_.size() >= capacity_) entries_.clear();
  entries_.emplace(std::move(key), decoded);
  return CertificateRef(std::move(decoded));
}

CertificateRef make_certificate_ref(X509Ptr cert) {
  const Bytes der = certificate_der(cert.get());
  std::shared_ptr<DecodedCertificate> decoded;
  if (auto read = read_certificate(der)) {
    decoded = std::move(read).value();
  } else {
    decoded = std::make_shared<DecodedCertificate>();
    decoded->der = der;
    decoded->public_key.reset(X509_get_pubkey(cert.get()));
    decoded->spki_der = to_der(X509_get_X509_PUBKEY(cert.get()), i2d_X509_PUBKEY);
    decoded->not_before = to_time_t(X509_get0_notBefore(cert.get()));
    decoded->not_after = to_time_t(X509_get0_notAfter(cert.get()));
  }
  decoded->der_sha256 = sha256(decoded->der);
  std::call_once(decoded->x509_once_, [&] { decoded->x509_ = std::move(cert); });
  return decoded;
}

ByteView subject_key_identifier(const DecodedCertificate& cert) {
  static constexpr ByteView k_oid(oid::ce_subject_key_identifier);
  const CertificateExtension* ext = cert.extension(k_oid);
  if (ext == nullptr) return {};
  auto id = der::parse_single(ext->value, der::k_octet_string, "SubjectKeyIdentifier");
  return id ? id->value : ByteView{};
}

}  // namespace vouchsafe::crypto
