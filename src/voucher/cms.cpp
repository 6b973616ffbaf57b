// CMS SignedData (RFC 5652) built and parsed with our own DER code: OpenSSL's
// CMS layer re-decodes and re-encodes the whole structure and reaches only a
// quarter of the raw signature rate.
#include "voucher/cms.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crypto/algorithm.h"
#include "crypto/der.h"
#include "crypto/keys.h"
#include "crypto/oids.h"
#include "crypto/signature.h"

namespace vouchsafe::voucher {
namespace {

namespace der = crypto::der;
using crypto::SignatureAlgorithm;

// OBJECT IDENTIFIER contents octets, written out once.
using Oid = std::span<const std::uint8_t>;
// 1.2.840.113549.1.7.1 id-data, 1.2.840.113549.1.7.2 id-signedData
constexpr std::array<std::uint8_t, 9> k_id_data = {0x2A, 0x86, 0x48, 0x86, 0xF7,
                                                   0x0D, 0x01, 0x07, 0x01};
constexpr std::array<std::uint8_t, 9> k_id_signed_data = {0x2A, 0x86, 0x48, 0x86, 0xF7,
                                                          0x0D, 0x01, 0x07, 0x02};
// 1.2.840.113549.1.9.16.1.40 id-ct-animaJSONVoucher (RFC 8366 §8.3)
constexpr std::array<std::uint8_t, 11> k_id_ct_voucher = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D,
                                                          0x01, 0x09, 0x10, 0x01, 0x28};
// 1.2.840.113549.1.9.3 / .4 / .5: contentType, messageDigest, signingTime
constexpr std::array<std::uint8_t, 9> k_attr_content_type = {0x2A, 0x86, 0x48, 0x86, 0xF7,
                                                             0x0D, 0x01, 0x09, 0x03};
constexpr std::array<std::uint8_t, 9> k_attr_message_digest = {0x2A, 0x86, 0x48, 0x86, 0xF7,
                                                               0x0D, 0x01, 0x09, 0x04};
constexpr std::array<std::uint8_t, 9> k_attr_signing_time = {0x2A, 0x86, 0x48, 0x86, 0xF7,
                                                             0x0D, 0x01, 0x09, 0x05};
// 2.16.840.1.101.3.4.2.1 / .2 / .3: SHA-256, SHA-384, SHA-512
constexpr std::array<std::uint8_t, 9> k_sha256 = {0x60, 0x86, 0x48, 0x01, 0x65,
                                                  0x03, 0x04, 0x02, 0x01};
constexpr std::array<std::uint8_t, 9> k_sha384 = {0x60, 0x86, 0x48, 0x01, 0x65,
                                                  0x03, 0x04, 0x02, 0x02};
constexpr std::array<std::uint8_t, 9> k_sha512 = {0x60, 0x86, 0x48, 0x01, 0x65,
                                                  0x03, 0x04, 0x02, 0x03};
// 1.2.840.113549.1.1.1 rsaEncryption; .11/.12/.13 sha256/384/512WithRSAEncryption
constexpr std::array<std::uint8_t, 9> k_rsa = {0x2A, 0x86, 0x48, 0x86, 0xF7,
                                               0x0D, 0x01, 0x01, 0x01};
constexpr std::array<std::uint8_t, 9> k_rsa_sha256 = {0x2A, 0x86, 0x48, 0x86, 0xF7,
                                                      0x0D, 0x01, 0x01, 0x0B};
constexpr std::array<std::uint8_t, 9> k_rsa_sha384 = {0x2A, 0x86, 0x48, 0x86, 0xF7,
                                                      0x0D, 0x01, 0x01, 0x0C};
constexpr std::array<std::uint8_t, 9> k_rsa_sha512 = {0x2A, 0x86, 0x48, 0x86, 0xF7,
                                                      0x0D, 0x01, 0x01, 0x0D};

// A SignedData may carry the signer's whole chain; more than this is abuse.
constexpr std::size_t k_max_certificates = 32;

bool same(ByteView a, ByteView b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

std::string oid_name(ByteView oid) {
  auto text = der::oid_to_text(oid);
  return text ? *text : std::string("(invalid OID)");
}

// ---------------------------------------------------------------- algorithms

struct SigningProfile {
  Oid digest_oid;
  const EVP_MD* md;
  Oid signature_oid;
};

// RFC 5754 §2 / RFC 5758 §3.2: the digest matches the curve; RFC 8419 §3.1:
// with Ed25519 the digestAlgorithm is SHA-512.
SigningProfile profile_for(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::es256:
      return {k_sha256, crypto::sha256_digest(), crypto::oid::ecdsa_with_sha256};
    case SignatureAlgorithm::es384:
      return {k_sha384, crypto::sha384_digest(), crypto::oid::ecdsa_with_sha384};
    case SignatureAlgorithm::es512:
      return {k_sha512, crypto::sha512_digest(), crypto::oid::ecdsa_with_sha512};
    case SignatureAlgorithm::ed25519:
      break;
  }
  return {k_sha512, crypto::sha512_digest(), crypto::oid::ed25519};
}

const EVP_MD* digest_by_oid(ByteView oid) {
  if (same(oid, k_sha256)) return crypto::sha256_digest();
  if (same(oid, k_sha384)) return crypto::sha384_digest();
  if (same(oid, k_sha512)) return crypto::sha512_digest();
  return nullptr;
}

enum class KeyKind { ec, ed25519, rsa };

struct VerifyAlgorithm {
  KeyKind key;
  const EVP_MD* md;  // the signature's hash; nullptr for Ed25519
};

// The signatureAlgorithm names the hash itself, or (id-ecPublicKey,
// rsaEncryption) leaves it to digestAlgorithm, as RFC 5753 §2.1.1 and
// RFC 3370 §3.2 allow.
Result<VerifyAlgorithm> verify_algorithm(ByteView signature_oid, const EVP_MD* digest) {
  if (same(signature_oid, crypto::oid::ecdsa_with_sha256))
    return VerifyAlgorithm{KeyKind::ec, crypto::sha256_digest()};
  if (same(signature_oid, crypto::oid::ecdsa_with_sha384))
    return VerifyAlgorithm{KeyKind::ec, crypto::sha384_digest()};
  if (same(signature_oid, crypto::oid::ecdsa_with_sha512))
    return VerifyAlgorithm{KeyKind::ec, crypto::sha512_digest()};
  if (same(signature_oid, crypto::oid::ec_public_key)) return VerifyAlgorithm{KeyKind::ec, digest};
  if (same(signature_oid, crypto::oid::ed25519)) return VerifyAlgorithm{KeyKind::ed25519, nullptr};
  if (same(signature_oid, k_rsa_sha256))
    return VerifyAlgorithm{KeyKind::rsa, crypto::sha256_digest()};
  if (same(signature_oid, k_rsa_sha384))
    return VerifyAlgorithm{KeyKind::rsa, crypto::sha384_digest()};
  if (same(signature_oid, k_rsa_sha512))
    return VerifyAlgorithm{KeyKind::rsa, crypto::sha512_digest()};
  if (same(signature_oid, k_rsa)) return VerifyAlgorithm{KeyKind::rsa, digest};
  return fail(ErrorCode::unsupported_algorithm,
              "unsupported CMS signatureAlgorithm " + oid_name(signature_oid));
}

Status check_key_kind(EVP_PKEY* key, KeyKind kind) {
  const char* name = kind == KeyKind::ec ? "EC" : (kind == KeyKind::ed25519 ? "ED25519" : "RSA");
  if (EVP_PKEY_is_a(key, name) != 1) {
    return fail(ErrorCode::bad_signature, std::string("the signature algorithm needs an ") + name +
                                              " key, the signer's key is another type");
  }
  return ok();
}

// AlgorithmIdentifier (RFC 5280 §4.1.1.2) with absent or NULL parameters,
// the only forms the hash and signature algorithms here use (RFC 5754 §2).
Result<ByteView> read_algorithm(der::Reader& r, std::string_view what) {
  ASSIGN_OR_RETURN(const der::Element seq, r.expect(der::k_sequence, what));
  ASSIGN_OR_RETURN(der::Reader inner, r.enter(seq, what));
  ASSIGN_OR_RETURN(const der::Element oid, inner.expect(der::k_oid, what));
  if (!inner.empty()) {
    ASSIGN_OR_RETURN(const der::Element params, inner.next());
    if (params.tag != der::k_null || !params.value.empty()) {
      return fail(ErrorCode::unsupported_algorithm,
                  std::string(what) + " " + oid_name(oid.value) + " has unsupported parameters");
    }
  }
  TRY(inner.expect_end(what));
  return oid.value;
}

void add_algorithm(der::Writer& w, Oid oid) {
  const std::size_t mark = w.open(der::k_sequence);
  w.add_oid(oid);
  w.close(mark);
}

// ---------------------------------------------------------------- certificates

struct IssuerAndSerial {
  ByteView issuer;  // the encoded Name
  ByteView serial;  // INTEGER contents
};

// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL,
// serialNumber, signature, issuer, ... } ... } (RFC 5280 §4.1); only the
// headers up to the issuer are read.
Result<IssuerAndSerial> issuer_and_serial(ByteView certificate) {
  der::Reader r(certificate);
  ASSIGN_OR_RETURN(const der::Element cert, r.expect(der::k_sequence, "Certificate"));
  ASSIGN_OR_RETURN(der::Reader c, r.enter(cert, "Certificate"));
  ASSIGN_OR_RETURN(const der::Element tbs, c.expect(der::k_sequence, "TBSCertificate"));
  ASSIGN_OR_RETURN(der::Reader t, c.enter(tbs, "TBSCertificate"));
  TRY(t.optional(der::context(0, true)));
  ASSIGN_OR_RETURN(const der::Element serial, t.expect(der::k_integer, "serialNumber"));
  TRY(t.expect(der::k_sequence, "signature"));
  ASSIGN_OR_RETURN(const der::Element issuer, t.expect(der::k_sequence, "issuer"));
  return IssuerAndSerial{issuer.encoded, serial.value};
}

// RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING, for
// a signer without a certificate (RFC 5652 §5.3 subjectKeyIdentifier).
Result<Bytes> key_identifier(EVP_PKEY* key) {
  const Bytes spki = crypto::public_key_der(key);
  der::Reader r(spki);
  ASSIGN_OR_RETURN(const der::Element seq, r.expect(der::k_sequence, "SubjectPublicKeyInfo"));
  ASSIGN_OR_RETURN(der::Reader s, r.enter(seq, "SubjectPublicKeyInfo"));
  TRY(s.expect(der::k_sequence, "algorithm"));
  ASSIGN_OR_RETURN(const der::Element bits, s.expect(der::k_bit_string, "subjectPublicKey"));
  if (bits.value.empty()) return fail(ErrorCode::bad_key, "empty public key");
  return crypto::digest_bytes(crypto::sha1_digest(), bits.value.subspan(1));
}

// ---------------------------------------------------------------- parsing

struct SignerInfo {
  std::optional<IssuerAndSerial> issuer_and_serial;
  ByteView subject_key_identifier;
  ByteView digest_oid;
  std::optional<der::Element> signed_attrs;
  ByteView signature_oid;
  ByteView signature;
};

struct SignedData {
  ByteView content_type;
  ByteView content;
  std::vector<ByteView> certificates;
  SignerInfo signer;
};

Result<SignerInfo> parse_signer_info(der::Reader& r) {
  SignerInfo si;
  ASSIGN_OR_RETURN(const der::Element seq, r.expect(der::k_sequence, "SignerInfo"));
  ASSIGN_OR_RETURN(der::Reader s, r.enter(seq, "SignerInfo"));
  ASSIGN_OR_RETURN(const der::Element version, s.expect(der::k_integer, "SignerInfo version"));
  ASSIGN_OR_RETURN(const std::int64_t v, der::read_integer(version));
  if (v != 1 && v != 3) {
    return fail(ErrorCode::malformed_der,
                "SignerInfo version " + std::to_string(v) + " is neither 1 nor 3 (RFC 5652 §5.3)");
  }
  // SignerIdentifier ::= CHOICE { issuerAndSerialNumber, [0] subjectKeyIdentifier }
  if (s.peek_tag() == der::context(0, false)) {
    ASSIGN_OR_RETURN(const der::Element ski, s.next());
    si.subject_key_identifier = ski.value;
  } else {
    ASSIGN_OR_RETURN(const der::Element ias, s.expect(der::k_sequence, "issuerAndSerialNumber"));
    ASSIGN_OR_RETURN(der::Reader i, s.enter(ias, "issuerAndSerialNumber"));
    ASSIGN_OR_RETURN(const der::Element issuer, i.expect(der::k_sequence, "issuer"));
    ASSIGN_OR_RETURN(const der::Element serial, i.expect(der::k_integer, "serialNumber"));
    TRY(i.expect_end("issuerAndSerialNumber"));
    si.issuer_and_serial = IssuerAndSerial{issuer.encoded, serial.value};
  }
  ASSIGN_OR_RETURN(si.digest_oid, read_algorithm(s, "digestAlgorithm"));
  ASSIGN_OR_RETURN(si.signed_attrs, s.optional(der::context(0, true)));
  ASSIGN_OR_RETURN(si.signature_oid, read_algorithm(s, "signatureAlgorithm"));
  ASSIGN_OR_RETURN(const der::Element signature, s.expect(der::k_octet_string, "signature"));
  si.signature = signature.value;
  TRY(s.optional(der::context(1, true)));  // unsignedAttrs: not used
  TRY(s.expect_end("SignerInfo"));
  return si;
}

Result<SignedData> parse_signed_data(ByteView input) {
  SignedData out;
  der::Reader top(input);
  ASSIGN_OR_RETURN(const der::Element ci, top.expect(der::k_sequence, "ContentInfo"));
  TRY(top.expect_end("ContentInfo"));
  ASSIGN_OR_RETURN(der::Reader c, top.enter(ci, "ContentInfo"));
  ASSIGN_OR_RETURN(const der::Element type, c.expect(der::k_oid, "ContentInfo contentType"));
  if (!same(type.value, k_id_signed_data)) {
    return fail(ErrorCode::wrong_content_type,
                "the CMS ContentInfo holds " + oid_name(type.value) +
                    ", not id-signedData 1.2.840.113549.1.7.2 (RFC 5652 §5.1)");
  }
  ASSIGN_OR_RETURN(const der::Element explicit0, c.expect(der::context(0, true), "content [0]"));
  TRY(c.expect_end("ContentInfo"));
  ASSIGN_OR_RETURN(der::Reader e, c.enter(explicit0, "content [0]"));
  ASSIGN_OR_RETURN(const der::Element sd_seq, e.expect(der::k_sequence, "SignedData"));
  TRY(e.expect_end("SignedData"));
  ASSIGN_OR_RETURN(der::Reader sd, e.enter(sd_seq, "SignedData"));

  // RFC 5652 §5.1: 1 or 3 for what we accept (4 and 5 announce attribute or
  // other certificate formats, which are skipped below anyway).
  ASSIGN_OR_RETURN(const der::Element version, sd.expect(der::k_integer, "SignedData version"));
  ASSIGN_OR_RETURN(const std::int64_t v, der::read_integer(version));
  if (v != 1 && v != 3 && v != 4 && v != 5) {
    return fail(ErrorCode::malformed_der,
                "SignedData version " + std::to_string(v) + " is not defined (RFC 5652 §5.1)");
  }
  ASSIGN_OR_RETURN(const der::Element algs, sd.expect(der::k_set, "digestAlgorithms"));
  ASSIGN_OR_RETURN(der::Reader a, sd.enter(algs, "digestAlgorithms"));
  while (!a.empty()) TRY(read_algorithm(a, "digestAlgorithm"));

  ASSIGN_OR_RETURN(const der::Element encap, sd.expect(der::k_sequence, "encapContentInfo"));
  ASSIGN_OR_RETURN(der::Reader ec, sd.enter(encap, "encapContentInfo"));
  ASSIGN_OR_RETURN(const der::Element ctype, ec.expect(der::k_oid, "eContentType"));
  out.content_type = ctype.value;
  // RFC 8366 §5.4 names id-ct-animaJSONVoucher; every published example
  // (RFC 8995 App. C, 8366bis App. A) uses id-data, so both are vouchers.
  if (!same(ctype.value, k_id_ct_voucher) && !same(ctype.value, k_id_data)) {
    return fail(ErrorCode::wrong_content_type,
                "eContentType " + oid_name(ctype.value) +
                    " is neither id-ct-animaJSONVoucher (1.2.840.113549.1.9.16.1.40) nor id-data");
  }
  ASSIGN_OR_RETURN(const auto econtent, ec.optional(der::context(0, true)));
  if (!econtent) {
    return fail(ErrorCode::malformed_der,
                "the CMS has no eContent: detached signatures are not vouchers");
  }
  TRY(ec.expect_end("encapContentInfo"));
  ASSIGN_OR_RETURN(der::Reader oc, ec.enter(*econtent, "eContent"));
  if (oc.peek_tag() == (der::k_octet_string | der::k_constructed_bit)) {
    return fail(ErrorCode::malformed_der, "eContent is a constructed OCTET STRING (BER, not DER)");
  }
  ASSIGN_OR_RETURN(const der::Element payload, oc.expect(der::k_octet_string, "eContent"));
  TRY(oc.expect_end("eContent"));
  out.content = payload.value;

  ASSIGN_OR_RETURN(const auto certs, sd.optional(der::context(0, true)));
  if (certs) {
    ASSIGN_OR_RETURN(der::Reader cr, sd.enter(*certs, "certificates"));
    while (!cr.empty()) {
      ASSIGN_OR_RETURN(const der::Element cert, cr.next());
      // RFC 5652 §10.2.2: attribute and other certificate choices carry no
      // signer key for us; only plain certificates (a SEQUENCE) are kept.
      if (cert.tag != der::k_sequence) continue;
      if (out.certificates.size() == k_max_certificates) {
        return fail(
            ErrorCode::input_too_large,
            "the CMS carries more than " + std::to_string(k_max_certificates) + " certificates");
      }
      out.certificates.push_back(cert.encoded);
    }
  }
  TRY(sd.optional(der::context(1, true)));  // crls: revocation is the path validator's concern

  ASSIGN_OR_RETURN(const der::Element infos, sd.expect(der::k_set, "signerInfos"));
  TRY(sd.expect_end("SignedData"));
  ASSIGN_OR_RETURN(der::Reader si, sd.enter(infos, "signerInfos"));
  if (si.empty()) return fail(ErrorCode::malformed_der, "the CMS has no SignerInfo");
  ASSIGN_OR_RETURN(out.signer, parse_signer_info(si));
  if (!si.empty()) {
    return fail(ErrorCode::malformed_der,
                "the CMS has more than one SignerInfo; a voucher has exactly one (RFC 8366 §5.4)");
  }
  return out;
}

// The values of the contentType and messageDigest attributes. RFC 5652
// §5.3: both MUST be present when signedAttrs are; §11.1/§11.2: each once,
// with a single value.
struct RequiredAttributes {
  ByteView content_type;
  ByteView message_digest;
};

Result<RequiredAttributes> read_signed_attributes(const der::Element& attrs) {
  // Elements keep their absolute offsets, so errors still point into the input.
  const der::Reader root{ByteView{}};
  ASSIGN_OR_RETURN(der::Reader list, root.enter(attrs, "signedAttrs"));
  if (list.empty()) return fail(ErrorCode::malformed_der, "signedAttrs is empty (RFC 5652 §5.3)");
  std::optional<ByteView> content_type;
  std::optional<ByteView> message_digest;
  while (!list.empty()) {
    ASSIGN_OR_RETURN(const der::Element attr, list.expect(der::k_sequence, "Attribute"));
    ASSIGN_OR_RETURN(der::Reader a, list.enter(attr, "Attribute"));
    ASSIGN_OR_RETURN(const der::Element type, a.expect(der::k_oid, "attrType"));
    ASSIGN_OR_RETURN(const der::Element values, a.expect(der::k_set, "attrValues"));
    TRY(a.expect_end("Attribute"));
    const bool is_type = same(type.value, k_attr_content_type);
    const bool is_digest = same(type.value, k_attr_message_digest);
    if (!is_type && !is_digest) continue;  // signingTime and others bind nothing we check
    std::optional<ByteView>& slot = is_type ? content_type : message_digest;
    const char* name = is_type ? "contentType" : "messageDigest";
    if (slot) {
      return fail(ErrorCode::malformed_der,
                  std::string("signedAttrs carry ") + name + " twice (RFC 5652 §11)");
    }
    ASSIGN_OR_RETURN(der::Reader vr, a.enter(values, name));
    ASSIGN_OR_RETURN(const der::Element value,
                     vr.expect(is_type ? der::k_oid : der::k_octet_string, name));
    if (!vr.empty()) {
      return fail(ErrorCode::malformed_der,
                  std::string(name) + " has more than one value (RFC 5652 §11)");
    }
    slot = value.value;
  }
  if (!content_type || !message_digest) {
    return fail(ErrorCode::malformed_der,
                "signedAttrs lack contentType or messageDigest (RFC 5652 §5.3)");
  }
  return RequiredAttributes{*content_type, *message_digest};
}

// Which embedded certificate the SignerInfo names (RFC 5652 §5.3 sid).
crypto::CertificateRef find_signer(const SignerInfo& si,
                                   const std::vector<crypto::CertificateRef>& certs) {
  for (const auto& c : certs) {
    if (si.issuer_and_serial) {
      auto fields = issuer_and_serial(c->der);
      if (fields && same(fields->issuer, si.issuer_and_serial->issuer) &&
          same(fields->serial, si.issuer_and_serial->serial)) {
        return c;
      }
    } else if (const ByteView id = crypto::subject_key_identifier(*c); !id.empty()) {
      if (same(id, si.subject_key_identifier)) return c;
    }
  }
  return nullptr;
}

}  // namespace

Result<Bytes> sign_cms(ByteView payload, const SigningIdentity& identity) {
  if (identity.signer == nullptr) return fail(ErrorCode::usage, "no signing key given");
  const SigningProfile profile = profile_for(identity.signer->algorithm());
  ASSIGN_OR_RETURN(const Bytes content_digest, crypto::digest_bytes(profile.md, payload));

  // RFC 5652 §5.3: issuerAndSerialNumber (version 1) names the certificate;
  // a signer without one is named by its key identifier (version 3).
  der::Writer sid(256);
  std::int64_t signer_info_version = 1;
  if (!identity.chain.empty()) {
    ASSIGN_OR_RETURN(const IssuerAndSerial fields, issuer_and_serial(identity.chain[0]->der));
    const std::size_t mark = sid.open(der::k_sequence);
    sid.add_encoded(fields.issuer).add(der::k_integer, fields.serial);
    sid.close(mark);
  } else {
    ASSIGN_OR_RETURN(const Bytes ski, key_identifier(identity.signer->public_key()));
    sid.add(der::context(0, false), ski);
    signer_info_version = 3;
  }

  // RFC 5652 §5.4: the signature covers the DER of the attributes with an
  // EXPLICIT SET OF tag; set_of() sorts them as DER requires.
  der::Writer attrs(192);
  attrs.set_of([&](der::Writer& w) {
    std::size_t mark = w.open(der::k_sequence);
    w.add_oid(k_attr_content_type);
    std::size_t values = w.open(der::k_set);
    w.add_oid(k_id_ct_voucher);
    w.close(values);
    w.close(mark);

    mark = w.open(der::k_sequence);
    w.add_oid(k_attr_signing_time);
    values = w.open(der::k_set);
    w.add_time(std::time(nullptr));
    w.close(values);
    w.close(mark);

    mark = w.open(der::k_sequence);
    w.add_oid(k_attr_message_digest);
    values = w.open(der::k_set);
    w.add_octet_string(content_digest);
    w.close(values);
    w.close(mark);
  });
  ASSIGN_OR_RETURN(const Bytes signature, identity.signer->sign(attrs.bytes()));
  Bytes signed_attrs = attrs.take();
  signed_attrs[0] = der::context(0, true);  // [0] IMPLICIT in the SignerInfo

  std::size_t estimate = payload.size() + signed_attrs.size() + signature.size() + 256;
  for (const auto& c : identity.chain) estimate += c->der.size();
  der::Writer w(estimate);
  const std::size_t content_info = w.open(der::k_sequence);
  w.add_oid(k_id_signed_data);
  const std::size_t explicit0 = w.open(der::context(0, true));
  const std::size_t signed_data = w.open(der::k_sequence);
  // RFC 5652 §5.1: version 3 because eContentType is not id-data.
  w.add_integer(3);
  const std::size_t digest_algorithms = w.open(der::k_set);
  add_algorithm(w, profile.digest_oid);
  w.close(digest_algorithms);

  const std::size_t encap = w.open(der::k_sequence);
  w.add_oid(k_id_ct_voucher);
  const std::size_t econtent = w.open(der::context(0, true));
  w.add_octet_string(payload);
  w.close(econtent);
  w.close(encap);

  if (!identity.chain.empty()) {
    // In chain order, signer first, as RFC 8366 §5.4 and OpenSSL write it.
    const std::size_t certificates = w.open(der::context(0, true));
    for (const auto& c : identity.chain) w.add_encoded(c->der);
    w.close(certificates);
  }

  const std::size_t signer_infos = w.open(der::k_set);
  const std::size_t signer_info = w.open(der::k_sequence);
  w.add_integer(signer_info_version);
  w.add_encoded(sid.bytes());
  add_algorithm(w, profile.digest_oid);
  w.add_encoded(signed_attrs);
  add_algorithm(w, profile.signature_oid);
  w.add_octet_string(signature);
  w.close(signer_info);
  w.close(signer_infos);

  w.close(signed_data);
  w.close(explicit0);
  w.close(content_info);
  return w.take();
}

Result<VerifiedEnvelope> verify_cms(ByteView der, const TrustPolicy& policy) {
  TRY(check_input_size(der, policy));
  ASSIGN_OR_RETURN(const SignedData sd, parse_signed_data(der));
  const SignerInfo& si = sd.signer;

  std::vector<crypto::CertificateRef> embedded;
  embedded.reserve(sd.certificates.size());
  for (const ByteView cert : sd.certificates) {
    ASSIGN_OR_RETURN(auto ref, crypto::CertificateCache::shared().decode(cert));
    embedded.push_back(std::move(ref));
  }
  crypto::CertificateRef signer = find_signer(si, embedded);
  if (!signer && !policy.pinned_key && policy.anchors) {
    return fail(ErrorCode::unknown_signer,
                "no embedded certificate matches the SignerInfo's signer identifier");
  }

  const EVP_MD* digest = digest_by_oid(si.digest_oid);
  if (digest == nullptr) {
    return fail(ErrorCode::unsupported_algorithm,
                "unsupported CMS digestAlgorithm " + oid_name(si.digest_oid));
  }
  ASSIGN_OR_RETURN(const VerifyAlgorithm alg, verify_algorithm(si.signature_oid, digest));

  // With signed attributes the signature covers them, re-tagged as a SET
  // (RFC 5652 §5.4), and they bind the content through messageDigest.
  Bytes signed_attrs;
  ByteView signed_bytes = sd.content;
  if (si.signed_attrs) {
    ASSIGN_OR_RETURN(const RequiredAttributes attrs, read_signed_attributes(*si.signed_attrs));
    // RFC 5652 §11.1: contentType carries the eContentType.
    if (!same(attrs.content_type, sd.content_type)) {
      return fail(ErrorCode::bad_signature,
                  "the signed contentType attribute differs from the eContentType");
    }
    ASSIGN_OR_RETURN(const Bytes computed, crypto::digest_bytes(digest, sd.content));
    if (!same(computed, attrs.message_digest)) {
      return fail(ErrorCode::bad_signature,
                  "the content does not match the signed messageDigest (altered payload)");
    }
    signed_attrs.assign(si.signed_attrs->encoded.begin(), si.signed_attrs->encoded.end());
    signed_attrs[0] = der::k_set;
    signed_bytes = signed_attrs;
  }

  auto verify_signature = [&](EVP_PKEY* key) -> Status {
    TRY(check_key_kind(key, alg.key));
    return crypto::verify_with_digest(key, alg.md, signed_bytes, si.signature);
  };
  ASSIGN_OR_RETURN(auto chain, check_signer(signer, embedded, policy, verify_signature));
  return VerifiedEnvelope{Form::cms,
                          Bytes(sd.content.begin(), sd.content.end()),
                          std::move(chain),
                          std::move(embedded),
                          {}};
}

}  // namespace vouchsafe::voucher
