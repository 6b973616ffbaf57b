// EST bodies and the CSR check.
#include "registrar/est.h"

#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "crypto/der.h"
#include "crypto/oids.h"
#include "crypto/openssl_error.h"
#include "pki/certificate_fields.h"

namespace vouchsafe::registrar {
namespace {

namespace der = crypto::der;
namespace oid = crypto::oid;

using Pkcs7Ptr = std::unique_ptr<PKCS7, crypto::Deleter<PKCS7, PKCS7_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, crypto::Deleter<X509_REQ, X509_REQ_free>>;

bool is_space(std::uint8_t c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int curve_nid(crypto::KeyType type) {
  return type == crypto::KeyType::p384 ? NID_secp384r1 : NID_X9_62_prime256v1;
}

int signature_nid(crypto::KeyType type) {
  return type == crypto::KeyType::p384 ? NID_ecdsa_with_SHA384 : NID_ecdsa_with_SHA256;
}

std::string curve_name(crypto::KeyType type) {
  return type == crypto::KeyType::p384 ? "P-384" : "P-256";
}

}  // namespace

Bytes csr_attributes_der(const CsrAttributes& a) {
  const bool p384 = a.key_type == crypto::KeyType::p384;
  der::Writer w;
  w.sequence([&](der::Writer& attrs) {
    // RFC 8995 §5.9.2: the registrar tells the pledge what the LDevID
    // needs; the serialNumber carries the IDevID's (802.1AR identity).
    attrs.sequence([&](der::Writer& attr) {
      attr.add_oid(oid::at_serial_number);
      attr.set_of([&](der::Writer& values) {
        values.add(der::k_printable_string, as_bytes(a.serial_number));
      });
    });
    attrs.sequence([&](der::Writer& attr) {
      attr.add_oid(oid::ec_public_key);
      attr.set_of([&](der::Writer& values) {
        if (p384) {
          values.add_oid(oid::secp384r1);
        } else {
          values.add_oid(oid::prime256v1);
        }
      });
    });
    if (p384) {
      attrs.add_oid(oid::ecdsa_with_sha384);
    } else {
      attrs.add_oid(oid::ecdsa_with_sha256);
    }
  });
  return w.take();
}

Result<Bytes> certs_only_der(const std::vector<X509*>& certificates) {
  Pkcs7Ptr p7(PKCS7_new());
  // RFC 7030 §4.1.3: a SignedData with no signerInfos and an empty
  // id-data content, holding only certificates.
  if (!p7 || PKCS7_set_type(p7.get(), NID_pkcs7_signed) != 1 ||
      PKCS7_content_new(p7.get(), NID_pkcs7_data) != 1) {
    return crypto::openssl_fail(ErrorCode::internal, "cannot make a certs-only PKCS#7");
  }
  for (X509* c : certificates) {
    if (PKCS7_add_certificate(p7.get(), c) != 1) {
      return crypto::openssl_fail(ErrorCode::internal, "cannot add a certificate to the PKCS#7");
    }
  }
  Bytes out = crypto::to_der(p7.get(), i2d_PKCS7);
  if (out.empty()) return crypto::openssl_fail(ErrorCode::internal, "cannot encode the PKCS#7");
  return out;
}

std::string base64_body(ByteView der) {
  const std::string flat = base64_encode(der);
  std::string out;
  out.reserve(flat.size() + flat.size() / 64 + 2);
  for (std::size_t i = 0; i < flat.size(); i += 64) {
    out.append(flat, i, 64);
    out += '\n';
  }
  return out;
}

Result<Bytes> decode_est_body(ByteView body, std::size_t max_decoded) {
  if (!body.empty() && body[0] == der::k_sequence) {
    if (body.size() > max_decoded) return fail(ErrorCode::input_too_large, "the body is too large");
    return Bytes(body.begin(), body.end());
  }
  // base64 grows by 4/3, plus line breaks.
  if (body.size() > max_decoded * 2)
    return fail(ErrorCode::input_too_large, "the body is too large");
  std::string text;
  text.reserve(body.size());
  for (const std::uint8_t c : body) {
    if (!is_space(c)) text += static_cast<char>(c);
  }
  ASSIGN_OR_RETURN(Bytes decoded, base64_decode(text));
  if (decoded.size() > max_decoded)
    return fail(ErrorCode::input_too_large, "the body is too large");
  return decoded;
}

RegistrarOutcome<EnrollmentRequest> check_enrollment_request(ByteView body,
                                                             const CsrAttributes& wanted) {
  auto der_bytes = decode_est_body(body, k_max_csr_bytes);
  if (!der_bytes) {
    return refuse(der_bytes.error().code == ErrorCode::input_too_large
                      ? RegistrarError::request_too_large
                      : RegistrarError::csr_malformed,
                  der_bytes.error().message);
  }
  const unsigned char* p = der_bytes->data();
  X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der_bytes->size())));
  if (!req || p != der_bytes->data() + der_bytes->size()) {
    crypto::openssl_reason("");
    return refuse(RegistrarError::csr_malformed, "not one DER PKCS#10 CertificationRequest");
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());  // owned by req
  if (key == nullptr) {
    crypto::openssl_reason("");
    return refuse(RegistrarError::csr_malformed, "the request's public key cannot be read");
  }
  // RFC 2986 §3 / RFC 7030 §3.4: proof of possession of the key.
  if (X509_REQ_verify(req.get(), key) != 1) {
    crypto::openssl_reason("");
    return refuse(RegistrarError::csr_malformed,
                  "the request's signature does not verify (no proof of possession)");
  }
  // RFC 8995 §5.9.2 (SPEC.md §2): the registrar validates the CSR against
  // the attributes it asked for.
  auto serial =
      pki::name_serial_number(X509_REQ_get_subject_name(req.get()), "the request's subject");
  if (!serial) return refuse(RegistrarError::csr_mismatch, serial.error().message);
  if (*serial != wanted.serial_number) {
    return refuse(RegistrarError::csr_mismatch,
                  serial->empty() ? "the subject has no serialNumber; csrattrs asks for '" +
                                        wanted.serial_number + "'"
                                  : "the subject's serialNumber '" + serial->substr(0, 64) +
                                        "' is not the IDevID's '" + wanted.serial_number + "'");
  }
  const bool ec = EVP_PKEY_is_a(key, "EC") == 1;
  char group[64] = {};
  std::size_t group_len = 0;
  const bool named =
      ec && EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &group_len) == 1;
  const int nid = named ? OBJ_txt2nid(group) : NID_undef;
  crypto::openssl_reason("");
  if (nid != curve_nid(wanted.key_type)) {
    return refuse(
        RegistrarError::csr_mismatch,
        std::string("the key is ") +
            (ec ? (named ? group : "EC on an unnamed curve") : EVP_PKEY_get0_type_name(key)) +
            "; csrattrs asks for id-ecPublicKey on " + curve_name(wanted.key_type));
  }
  if (X509_REQ_get_signature_nid(req.get()) != signature_nid(wanted.key_type)) {
    return refuse(RegistrarError::csr_mismatch,
                  std::string("the request is signed with ") +
                      OBJ_nid2sn(X509_REQ_get_signature_nid(req.get())) + "; csrattrs asks for " +
                      OBJ_nid2sn(signature_nid(wanted.key_type)));
  }
  return EnrollmentRequest{crypto::share(key), std::move(serial).value()};
}

}  // namespace vouchsafe::registrar
