// Checking a device's PKCS#10 request (RFC 2986) before its key is
// certified: parseable, self-signed by the key it carries, an ECDSA key.
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "crypto/algorithm.h"
#include "crypto/keys.h"
#include "crypto/openssl_error.h"
#include "pki/certificate_fields.h"
#include "pki/certificate_profiles.h"

namespace vouchsafe::pki {
namespace {

using X509ReqPtr = std::unique_ptr<X509_REQ, crypto::Deleter<X509_REQ, X509_REQ_free>>;

// A CSR is a few hundred bytes; anything far larger is not one.
constexpr std::size_t k_max_csr_size = 64U << 10U;

bool looks_pem(ByteView data) {
  return as_text(data).find("-----BEGIN") != std::string_view::npos;
}

Result<X509ReqPtr> parse_request(ByteView csr) {
  ERR_clear_error();
  X509ReqPtr req;
  if (looks_pem(csr)) {
    // Reads "CERTIFICATE REQUEST" and the older "NEW CERTIFICATE REQUEST".
    crypto::BioPtr bio(BIO_new_mem_buf(csr.data(), static_cast<int>(csr.size())));
    if (!bio) return crypto::openssl_fail(ErrorCode::internal, "cannot read the CSR");
    req.reset(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
    if (!req) {
      return crypto::openssl_fail(ErrorCode::malformed_der,
                                  "the CSR is not a PEM PKCS#10 certificate request");
    }
    return req;
  }
  const unsigned char* p = csr.data();
  req.reset(d2i_X509_REQ(nullptr, &p, static_cast<long>(csr.size())));
  if (!req) {
    return crypto::openssl_fail(ErrorCode::malformed_der,
                                "the CSR is not a DER PKCS#10 certificate request");
  }
  if (p != csr.data() + csr.size()) {
    return fail(ErrorCode::malformed_der, "trailing bytes after the CSR");
  }
  return req;
}

std::string type_name(EVP_PKEY* key) {
  const char* name = EVP_PKEY_get0_type_name(key);
  return name != nullptr ? name : "of an unknown type";
}

// IDevIDs of this PKI carry ECDSA P-256 or P-384 keys (ECDSA PKI profile).
Status check_key(EVP_PKEY* key) {
  if (key == nullptr) {
    crypto::openssl_reason("");  // clear the queue
    return fail(ErrorCode::unsupported_algorithm,
                "the CSR's public key is of an algorithm or form that cannot be read");
  }
  auto alg = crypto::algorithm_for_key(key);
  if (!alg ||
      (*alg != crypto::SignatureAlgorithm::es256 && *alg != crypto::SignatureAlgorithm::es384)) {
    return fail(ErrorCode::unsupported_algorithm,
                std::string("the CSR's key is ") + type_name(key) +
                    (alg ? "" : " (" + alg.error().message + ")") +
                    "; an IDevID key must be ECDSA P-256 or P-384");
  }
  return ok();
}

}  // namespace

Result<CheckedCsr> check_csr(ByteView csr) {
  if (csr.size() > k_max_csr_size) {
    return fail(ErrorCode::input_too_large, "the CSR is larger than 64 KiB");
  }
  if (csr.empty()) return fail(ErrorCode::malformed_der, "the CSR is empty");
  ASSIGN_OR_RETURN(X509ReqPtr req, parse_request(csr));
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());  // owned by req
  TRY(check_key(key));
  // RFC 2986 §3: the request is signed with the private key it asks to
  // certify, which proves the device holds that key (proof of possession).
  if (X509_REQ_verify(req.get(), key) != 1) {
    crypto::openssl_reason("");  // clear the queue
    return fail(ErrorCode::bad_signature,
                "the CSR's signature does not verify (no proof of possession)");
  }
  CheckedCsr checked;
  checked.subject_public_key_info = crypto::public_key_der(key);
  if (checked.subject_public_key_info.empty()) {
    return crypto::openssl_fail(ErrorCode::internal, "cannot encode the CSR's public key");
  }
  ASSIGN_OR_RETURN(checked.subject_serial, name_serial_number(X509_REQ_get_subject_name(req.get()), "the CSR's subject"));
  return checked;
}

}  // namespace vouchsafe::pki
