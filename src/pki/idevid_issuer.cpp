// IDevID issuance at factory speed: the TBSCertificate (RFC 5280 §4.1) is
// written with the DER writer from parts prepared once per issuing CA, so a
// certificate costs one SHA-1, one signature and a few hundred bytes copied.
#include <openssl/asn1.h>
#include <openssl/x509v3.h>

#include <array>
#include <string_view>

#include "crypto/der.h"
#include "crypto/oids.h"
#include "crypto/openssl_error.h"
#include "pki/certificate_profiles.h"

namespace vouchsafe::pki {
namespace der = crypto::der;

namespace {

using MdPtr = std::unique_ptr<EVP_MD, crypto::Deleter<EVP_MD, EVP_MD_free>>;
using Asn1StringPtr = std::unique_ptr<ASN1_STRING, crypto::Deleter<ASN1_STRING, ASN1_STRING_free>>;

namespace oid = crypto::oid;

// version [0] EXPLICIT INTEGER 2 (v3), the same in every certificate.
constexpr std::array<std::uint8_t, 5> k_version_v3 = {0xA0, 0x03, 0x02, 0x01, 0x02};

// keyUsage digitalSignature (bit 0) and keyEncipherment (bit 2) as SPEC.md
// §5 asks: bits 101 in the first octet, the 5 trailing zero bits unused
// (X.690 §11.2.2).
constexpr std::array<std::uint8_t, 2> k_idevid_key_usage_bits = {0x05, 0xA0};

constexpr std::string_view k_serial_placeholder = "{serial}";
constexpr std::size_t k_max_serial_length = 64;  // RFC 5280 Appendix A ub-serial-number
constexpr std::size_t k_max_name_length = 64;    // ub-common-name, ub-organization-name...
constexpr std::size_t k_max_masa_url_length = 255;

// Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET
// STRING }; body writes the DER that the OCTET STRING wraps.
template <typename Body>
void write_extension(der::Writer& w, ByteView oid, bool critical, Body&& body) {
  w.sequence([&](der::Writer& ext) {
    ext.add_oid(oid);
    if (critical) ext.add_boolean(true);  // X.690 §11.5: a DEFAULT value is omitted
    const std::size_t mark = ext.open(der::k_octet_string);
    body(ext);
    ext.close(mark);
  });
}

// RelativeDistinguishedName ::= SET OF AttributeTypeAndValue, one per RDN.
void write_rdn(der::Writer& w, ByteView oid, std::uint8_t string_tag, std::string_view value) {
  w.set_of([&](der::Writer& set) {
    set.sequence([&](der::Writer& atv) { atv.add_oid(oid).add(string_tag, as_bytes(value)); });
  });
}

// Characters, not octets, of UTF-8 text (RFC 5280's upper bounds count them).
std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xC0U) != 0x80U ? 1 : 0;
  return n;
}

// A subject attribute as given by configuration: valid UTF-8 (checked by
// OpenSSL's string conversion) of at most 64 characters.
Status check_name_attribute(std::string_view what, std::string_view value,
                            std::size_t placeholder_chars = 0) {
  ASN1_STRING* raw = nullptr;
  const int rc =
      ASN1_mbstring_copy(&raw, reinterpret_cast<const unsigned char*>(value.data()),
                         static_cast<int>(value.size()), MBSTRING_UTF8, B_ASN1_UTF8STRING);
  const Asn1StringPtr owned(raw);
  if (rc < 0) {
    crypto::openssl_reason("");  // clear the queue
    return fail(ErrorCode::invalid_value, "the IDevID " + std::string(what) + " is not UTF-8");
  }
  if (utf8_length(value) - placeholder_chars > k_max_name_length) {
    return fail(ErrorCode::invalid_value, "the IDevID " + std::string(what) +
                                              " is longer than 64 characters (RFC 5280 "
                                              "Appendix A)");
  }
  return ok();
}

// RFC 8995 §2.3.2: the extension holds only the authority of the MASA URL
// ("masa.example.com:443"); the pledge adds "https://" and "/.well-known/brski".
Status check_masa_url(const std::string& url) {
  if (url.size() > k_max_masa_url_length) {
    return fail(ErrorCode::invalid_value, "the MASA URL is longer than 255 characters");
  }
  for (const char c : url) {
    if (c <= 0x20 || c >= 0x7F) {
      return fail(ErrorCode::invalid_value,
                  "the MASA URL must be printable ASCII without spaces (an IA5String authority)");
    }
    if (c == '/') {
      return fail(ErrorCode::invalid_value,
                  "the MASA URL '" + url +
                      "' must be an authority such as masa.example.com:443, without a scheme or "
                      "path (RFC 8995 §2.3.2)");
    }
  }
  return ok();
}

// The subjectPublicKey BIT STRING contents without the unused-bits octet,
// from a SubjectPublicKeyInfo that must be one well-formed SEQUENCE.
Result<ByteView> subject_public_key_bits(ByteView spki) {
  der::Reader top(spki);
  ASSIGN_OR_RETURN(der::Element info, top.expect(der::k_sequence, "SubjectPublicKeyInfo"));
  TRY(top.expect_end("SubjectPublicKeyInfo"));
  ASSIGN_OR_RETURN(der::Reader fields, top.enter(info, "SubjectPublicKeyInfo"));
  TRY(fields.expect(der::k_sequence, "SubjectPublicKeyInfo algorithm"));
  ASSIGN_OR_RETURN(der::Element bits, fields.expect(der::k_bit_string, "subjectPublicKey"));
  TRY(fields.expect_end("SubjectPublicKeyInfo"));
  if (bits.value.size() < 2 || bits.value[0] != 0) {
    return fail(ErrorCode::malformed_der, "subjectPublicKey is not a whole number of octets");
  }
  return bits.value.subspan(1);
}

Bytes name_der(X509_NAME* name) {
  return crypto::to_der(name, i2d_X509_NAME);
}

}  // namespace

// Everything a certificate shares with the others from the same issuer,
// immutable after create(), so issue() may run on many threads at once.
struct IdevidIssuer::Prepared {
  std::shared_ptr<const crypto::Signer> signer;
  MdPtr sha1;
  Bytes signature_algorithm;  // AlgorithmIdentifier
  Bytes issuer;               // the CA's subject Name, as the CA encodes it
  Bytes not_after;            // GeneralizedTime 99991231235959Z
  Bytes subject_prefix;       // the O and OU RDNs
  std::string common_name;    // with "{serial}" placeholders; empty for no CN
  std::size_t common_name_placeholders = 0;
  std::size_t common_name_fixed_chars = 0;  // characters besides the placeholders
  Bytes hw_type_oid;                        // OBJECT IDENTIFIER contents
  Bytes leading_extensions;                 // basicConstraints, keyUsage
  Bytes authority_key_identifier;           // the AKI extension
  Bytes masa_url_extension;                 // empty when no MASA URL is configured
};

IdevidIssuer::IdevidIssuer(std::unique_ptr<Prepared> prepared) : prepared_(std::move(prepared)) {}
IdevidIssuer::~IdevidIssuer() = default;

Result<std::unique_ptr<IdevidIssuer>> IdevidIssuer::create(
    const IdevidProfile& profile, X509* ca_cert, std::shared_ptr<const crypto::Signer> ca_signer) {
  if (ca_cert == nullptr || !ca_signer) {
    return fail(ErrorCode::internal, "IdevidIssuer needs the issuing CA certificate and signer");
  }
  auto p = std::make_unique<Prepared>();

  // RFC 5758 §3.2: ecdsa-with-SHA256/384 carry no parameters.
  switch (ca_signer->algorithm()) {
    case crypto::SignatureAlgorithm::es256:
      p->signature_algorithm =
          der::Writer().sequence([](der::Writer& w) { w.add_oid(oid::ecdsa_with_sha256); }).take();
      break;
    case crypto::SignatureAlgorithm::es384:
      p->signature_algorithm =
          der::Writer().sequence([](der::Writer& w) { w.add_oid(oid::ecdsa_with_sha384); }).take();
      break;
    default:
      return fail(ErrorCode::unsupported_algorithm,
                  "an issuing CA key must be ECDSA P-256 or P-384 (ECDSA PKI profile)");
  }
  if (EVP_PKEY_eq(X509_get0_pubkey(ca_cert), ca_signer->public_key()) != 1) {
    crypto::openssl_reason("");  // clear the queue
    return fail(ErrorCode::bad_key, "the issuing CA's signing key does not match its certificate");
  }
  // X509_check_ca is 1 for basicConstraints CA:TRUE with keyCertSign allowed.
  if (X509_check_ca(ca_cert) != 1) {
    return fail(ErrorCode::invalid_value, "the issuing CA certificate is not a CA certificate");
  }
  const ASN1_OCTET_STRING* ca_ski = X509_get0_subject_key_id(ca_cert);
  if (ca_ski == nullptr) {
    // RFC 8995 §2.3.1: the registrar names the IDevID issuer by the AKI.
    return fail(ErrorCode::invalid_value,
                "the issuing CA certificate has no subjectKeyIdentifier to put in the AKI");
  }
  p->issuer = name_der(X509_get_subject_name(ca_cert));
  if (p->issuer.empty())
    return crypto::openssl_fail(ErrorCode::internal, "cannot encode the issuer");

  p->sha1.reset(EVP_MD_fetch(nullptr, "SHA1", nullptr));
  if (!p->sha1) return crypto::openssl_fail(ErrorCode::internal, "SHA-1 is not available");

  // 802.1AR §8.5 and RFC 5280 §4.1.2.5: 99991231235959Z, GeneralizedTime.
  p->not_after = der::Writer().add_generalized_time(k_no_expiry).take();

  TRY(check_name_attribute("organization", profile.organization));
  TRY(check_name_attribute("organizational unit", profile.organizational_unit));
  der::Writer prefix;
  if (!profile.organization.empty()) {
    write_rdn(prefix, oid::at_organization, der::k_utf8_string, profile.organization);
  }
  if (!profile.organizational_unit.empty()) {
    write_rdn(prefix, oid::at_organizational_unit, der::k_utf8_string, profile.organizational_unit);
  }
  p->subject_prefix = prefix.take();

  p->common_name = profile.common_name;
  for (std::size_t at = p->common_name.find(k_serial_placeholder); at != std::string::npos;
       at = p->common_name.find(k_serial_placeholder, at + k_serial_placeholder.size())) {
    ++p->common_name_placeholders;
  }
  const std::size_t placeholder_chars = p->common_name_placeholders * k_serial_placeholder.size();
  TRY(check_name_attribute("common name", p->common_name, placeholder_chars));
  p->common_name_fixed_chars = utf8_length(p->common_name) - placeholder_chars;

  if (profile.hw_type_oid.empty()) {
    return fail(ErrorCode::invalid_value,
                "the product has no hwType OID for the hardwareModuleName (RFC 4108 §5)");
  }
  auto hw_type = der::oid_from_text(profile.hw_type_oid);
  if (!hw_type) {
    return fail(ErrorCode::invalid_value, "the hwType '" + profile.hw_type_oid +
                                              "' is not an OID in dotted form (such as "
                                              "1.3.6.1.4.1.32473.1)");
  }
  p->hw_type_oid = std::move(hw_type).value();

  der::Writer leading;
  // RFC 5280 §4.2.1.9: basicConstraints with cA absent (FALSE), critical.
  write_extension(leading, oid::ce_basic_constraints, true,
                  [](der::Writer& w) { w.sequence([](der::Writer&) {}); });
  // SPEC.md §5 (ECDSA PKI profile): keyUsage critical digitalSignature,
  // keyEncipherment.
  write_extension(leading, oid::ce_key_usage, true,
                  [](der::Writer& w) { w.add(der::k_bit_string, k_idevid_key_usage_bits); });
  p->leading_extensions = leading.take();

  // RFC 5280 §4.2.1.1: keyIdentifier [0] IMPLICIT, the issuer's SKI.
  const ByteView ski(ASN1_STRING_get0_data(ca_ski),
                     static_cast<std::size_t>(ASN1_STRING_length(ca_ski)));
  der::Writer aki;
  write_extension(aki, oid::ce_authority_key_identifier, false, [&](der::Writer& w) {
    w.sequence([&](der::Writer& s) { s.add(der::context(0, false), ski); });
  });
  p->authority_key_identifier = aki.take();

  if (!profile.masa_url.empty()) {
    TRY(check_masa_url(profile.masa_url));
    // RFC 8995 §2.3.2: non-critical, MASAURLSyntax ::= IA5String.
    der::Writer masa;
    write_extension(masa, oid::pe_masa_url, false,
                    [&](der::Writer& w) { w.add(der::k_ia5_string, as_bytes(profile.masa_url)); });
    p->masa_url_extension = masa.take();
  }

  p->signer = std::move(ca_signer);
  return std::unique_ptr<IdevidIssuer>(new IdevidIssuer(std::move(p)));
}

Result<Bytes> IdevidIssuer::issue(const std::string& serial, ByteView subject_public_key_info,
                                  std::time_t not_before) const {
  const Prepared& p = *prepared_;
  TRY(check_device_serial(serial));
  ASSIGN_OR_RETURN(const ByteView key_bits, subject_public_key_bits(subject_public_key_info));
  if (not_before < 0 || not_before > k_no_expiry) {
    return fail(ErrorCode::invalid_value, "notBefore is outside 1970..9999");
  }
  if (p.common_name_fixed_chars + p.common_name_placeholders * serial.size() > k_max_name_length) {
    return fail(ErrorCode::invalid_value, "the common name for serial '" + serial +
                                              "' is longer than 64 characters (RFC 5280 "
                                              "Appendix A)");
  }
  std::string common_name = p.common_name;
  for (std::size_t at = common_name.find(k_serial_placeholder); at != std::string::npos;
       at = common_name.find(k_serial_placeholder, at + serial.size())) {
    common_name.replace(at, k_serial_placeholder.size(), serial);
  }

  // RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits.
  std::array<std::uint8_t, 20> ski{};
  unsigned int ski_length = 0;
  if (EVP_Digest(key_bits.data(), key_bits.size(), ski.data(), &ski_length, p.sha1.get(),
                 nullptr) != 1 ||
      ski_length != ski.size()) {
    return crypto::openssl_fail(ErrorCode::internal, "cannot hash the device's public key");
  }
  const Bytes certificate_serial = random_certificate_serial();

  der::Writer tbs(768);
  tbs.sequence([&](der::Writer& w) {
    w.add_encoded(k_version_v3);
    w.add_unsigned_integer(certificate_serial);
    w.add_encoded(p.signature_algorithm);
    w.add_encoded(p.issuer);
    w.sequence([&](der::Writer& validity) {
      validity.add_time(not_before);  // UTCTime until 2049 (RFC 5280 §4.1.2.5)
      validity.add_encoded(p.not_after);
    });
    w.sequence([&](der::Writer& subject) {
      subject.add_encoded(p.subject_prefix);
      if (!common_name.empty()) {
        write_rdn(subject, oid::at_common_name, der::k_utf8_string, common_name);
      }
      // 802.1AR §8.6 and RFC 8995 §2.3.1: the voucher serial-number, a
      // PrintableString (RFC 5280 Appendix A: X520SerialNumber).
      write_rdn(subject, oid::at_serial_number, der::k_printable_string, serial);
    });
    w.add_encoded(subject_public_key_info);
    w.constructed(der::context(3, true), [&](der::Writer& explicit_tag) {
      explicit_tag.sequence([&](der::Writer& exts) {
        exts.add_encoded(p.leading_extensions);
        write_extension(exts, oid::ce_subject_key_identifier, false,
                        [&](der::Writer& v) { v.add_octet_string(ski); });
        exts.add_encoded(p.authority_key_identifier);
        // RFC 4108 §5: otherName hardwareModuleName { hwType, hwSerialNum };
        // not critical since the subject is not empty (RFC 5280 §4.2.1.6).
        write_extension(exts, oid::ce_subject_alt_name, false, [&](der::Writer& v) {
          v.sequence([&](der::Writer& general_names) {
            general_names.constructed(der::context(0, true), [&](der::Writer& other_name) {
              other_name.add_oid(oid::on_hardware_module_name);
              other_name.constructed(der::context(0, true), [&](der::Writer& value) {
                value.sequence([&](der::Writer& hw) {
                  hw.add_oid(p.hw_type_oid).add_octet_string(as_bytes(serial));
                });
              });
            });
          });
        });
        exts.add_encoded(p.masa_url_extension);
      });
    });
  });
  const Bytes tbs_der = tbs.take();

  ASSIGN_OR_RETURN(const Bytes signature, p.signer->sign(tbs_der));

  // RFC 5280 §4.1.1: Certificate ::= SEQUENCE { tbsCertificate,
  // signatureAlgorithm, signatureValue BIT STRING }.
  der::Writer certificate(tbs_der.size() + p.signature_algorithm.size() + signature.size() + 16);
  certificate.sequence([&](der::Writer& w) {
    w.add_encoded(tbs_der);
    w.add_encoded(p.signature_algorithm);
    const std::size_t mark = w.open(der::k_bit_string);
    const std::uint8_t no_unused_bits = 0;
    w.add_encoded(ByteView(&no_unused_bits, 1));
    w.add_encoded(signature);
    w.close(mark);
  });
  return certificate.take();
}

Status check_device_serial(const std::string& serial) {
  if (serial.empty()) return fail(ErrorCode::invalid_value, "the device serial number is empty");
  if (serial.size() > k_max_serial_length) {
    return fail(ErrorCode::invalid_value,
                "the device serial number has " + std::to_string(serial.size()) +
                    " characters; at most 64 fit (RFC 5280 Appendix A ub-serial-number)");
  }
  // X.680 §41.4: PrintableString is A-Z a-z 0-9 space ' ( ) + , - . / : = ?
  static constexpr std::string_view k_punctuation = " '()+,-./:=?";
  for (std::size_t i = 0; i < serial.size(); ++i) {
    const char c = serial[i];
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum || k_punctuation.find(c) != std::string_view::npos) continue;
    const auto byte = static_cast<std::uint8_t>(c);
    const std::string shown = (byte > 0x20 && byte < 0x7F)
                                  ? "'" + std::string(1, c) + "'"
                                  : "byte 0x" + hex_encode(ByteView(&byte, 1));
    return fail(ErrorCode::invalid_value,
                "the device serial number has " + shown + " at position " + std::to_string(i + 1) +
                    "; a PrintableString allows only A-Z a-z 0-9 space and ' ( ) + , - . / : = ?");
  }
  return ok();
}

}  // namespace vouchsafe::pki
