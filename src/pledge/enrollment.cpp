// EST bodies on the pledge's side.
#include "pledge/enrollment.h"

#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "crypto/der.h"
#include "crypto/oids.h"
#include "crypto/openssl_error.h"

namespace vouchsafe::pledge {
namespace {

namespace der = crypto::der;
namespace oid = crypto::oid;

using Pkcs7Ptr = std::unique_ptr<PKCS7, crypto::Deleter<PKCS7, PKCS7_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, crypto::Deleter<X509_REQ, X509_REQ_free>>;

bool is_space(std::uint8_t c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Applies one OID the registrar named (alone or as an attribute's value).
void apply_oid(ByteView id, CsrRequirements& out) {
  if (oid::is(id, oid::at_serial_number)) out.serial_number = true;
  if (oid::is(id, oid::prime256v1)) out.key_type = crypto::KeyType::p256;
  if (oid::is(id, oid::secp384r1)) out.key_type = crypto::KeyType::p384;
  if (oid::is(id, oid::ecdsa_with_sha256)) out.sha384 = false;
  if (oid::is(id, oid::ecdsa_with_sha384)) out.sha384 = true;
}

// Attribute ::= SEQUENCE { type OID, values SET OF ANY }.
Status apply_attribute(der::Reader& parent, const der::Element& element, CsrRequirements& out) {
  ASSIGN_OR_RETURN(der::Reader attr, parent.enter(element, "Attribute"));
  ASSIGN_OR_RETURN(const der::Element type, attr.expect(der::k_oid, "Attribute type"));
  ASSIGN_OR_RETURN(const der::Element set, attr.expect(der::k_set, "Attribute values"));
  ASSIGN_OR_RETURN(der::Reader values, attr.enter(set, "Attribute values"));
  while (!values.empty()) {
    ASSIGN_OR_RETURN(const der::Element value, values.next());
    if (oid::is(type.value, oid::at_serial_number)) {
      out.serial_number = true;
      if (value.tag == der::k_printable_string || value.tag == der::k_utf8_string) {
        out.serial_value = std::string(as_text(value.value));
      }
    } else if (oid::is(type.value, oid::ec_public_key) && value.tag == der::k_oid) {
      apply_oid(value.value, out);  // RFC 7030 §4.5.2: the curve of an EC key
    }
  }
  return ok();
}

}  // namespace

Result<Bytes> decode_est_body(ByteView body, std::size_t max) {
  if (!body.empty() && body[0] == der::k_sequence) {
    if (body.size() > max) return fail(ErrorCode::input_too_large, "the EST body is too large");
    return Bytes(body.begin(), body.end());
  }
  if (body.size() > max * 2) return fail(ErrorCode::input_too_large, "the EST body is too large");
  std::string text;
  for (const std::uint8_t c : body) {
    if (!is_space(c)) text += static_cast<char>(c);
  }
  return base64_decode(text);
}

Result<CsrRequirements> parse_csr_attributes(ByteView body) {
  CsrRequirements out;
  ASSIGN_OR_RETURN(const Bytes decoded, decode_est_body(body, k_max_csrattrs_bytes));
  if (decoded.empty()) return out;  // RFC 7030 §4.5.2: no attributes
  der::Reader top(decoded, 8);
  ASSIGN_OR_RETURN(const der::Element seq, top.expect(der::k_sequence, "CsrAttrs"));
  TRY(top.expect_end("CsrAttrs"));
  ASSIGN_OR_RETURN(der::Reader items, top.enter(seq, "CsrAttrs"));
  while (!items.empty()) {
    ASSIGN_OR_RETURN(const der::Element item, items.next());
    if (item.tag == der::k_oid) {
      apply_oid(item.value, out);
    } else if (item.tag == der::k_sequence) {
      TRY(apply_attribute(items, item, out));
    } else {
      return fail(ErrorCode::malformed_der,
                  "CsrAttrs holds something other than an OID or an "
                  "Attribute");
    }
  }
  return out;
}

crypto::PkeyPtr generate_ldevid_key(const CsrRequirements& requirements) {
  return crypto::generate_key(requirements.key_type);
}

Result<Bytes> make_csr(EVP_PKEY* key, const CsrRequirements& requirements,
                       const std::string& serial) {
  X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1 || X509_REQ_set_pubkey(req.get(), key) != 1) {
    return crypto::openssl_fail(ErrorCode::internal, "cannot make a certificate request");
  }
  if (requirements.serial_number) {
    const std::string value = requirements.serial_value.value_or(serial);
    X509_NAME* name = X509_REQ_get_subject_name(req.get());
    if (X509_NAME_add_entry_by_NID(name, NID_serialNumber, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
      return crypto::openssl_fail(ErrorCode::invalid_value, "cannot set the request's subject");
    }
  }
  if (X509_REQ_sign(req.get(), key, requirements.sha384 ? EVP_sha384() : EVP_sha256()) <= 0) {
    return crypto::openssl_fail(ErrorCode::bad_key, "cannot sign the certificate request");
  }
  Bytes out = crypto::to_der(req.get(), i2d_X509_REQ);
  if (out.empty()) return crypto::openssl_fail(ErrorCode::internal, "cannot encode the request");
  return out;
}

Result<std::vector<crypto::X509Ptr>> parse_certs_only(ByteView body) {
  ASSIGN_OR_RETURN(const Bytes decoded, decode_est_body(body, k_max_pkcs7_bytes));
  if (decoded.size() > k_max_pkcs7_bytes) {
    return fail(ErrorCode::input_too_large, "the PKCS#7 is too large");
  }
  const unsigned char* p = decoded.data();
  Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(decoded.size())));
  if (!p7 || p != decoded.data() + decoded.size()) {
    return crypto::openssl_fail(ErrorCode::malformed_der, "not one DER PKCS#7");
  }
  if (PKCS7_type_is_signed(p7.get()) == 0 || p7->d.sign == nullptr) {
    return fail(ErrorCode::wrong_content_type, "the PKCS#7 is not a certs-only SignedData");
  }
  std::vector<crypto::X509Ptr> out;
  STACK_OF(X509)* certs = p7->d.sign->cert;
  for (int i = 0; certs != nullptr && i < sk_X509_num(certs); ++i) {
    out.push_back(crypto::share(sk_X509_value(certs, i)));
  }
  if (out.empty()) return fail(ErrorCode::missing_leaf, "the PKCS#7 holds no certificate");
  return out;
}

}  // namespace vouchsafe::pledge
