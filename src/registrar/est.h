// EST (RFC 7030) as RFC 8995 §5.9 profiles it, on the registrar's side:
// the bodies of cacerts, csrattrs and simple(re)enroll, and the check of a
// pledge's certificate request against the attributes it was asked for.
#pragma once

#include <string>
#include <vector>

#include "core/bytes.h"
#include "crypto/handles.h"
#include "crypto/keys.h"
#include "registrar/status_table.h"

namespace vouchsafe::registrar {

inline constexpr std::string_view k_pkcs7_certs_only =
    "application/pkcs7-mime; smime-type=certs-only";
inline constexpr std::string_view k_pkcs7 = "application/pkcs7-mime";
inline constexpr std::string_view k_csrattrs = "application/csrattrs";
inline constexpr std::string_view k_pkcs10 = "application/pkcs10";

// What the LDevID needs (RFC 8995 §5.9.2): the IDevID's serialNumber in
// the subject, and the key type and signature algorithm of the domain.
struct CsrAttributes {
  std::string serial_number;
  crypto::KeyType key_type = crypto::KeyType::p256;  // p256 or p384
};

// CsrAttrs (RFC 7030 §4.5.2) DER:
//   SEQUENCE {
//     Attribute { id-at-serialNumber, SET { PrintableString serial } },
//     Attribute { id-ecPublicKey, SET { OID curve } },   -- the key type
//     OID ecdsa-with-SHA256 (or -SHA384)                 -- the signature
//   }
// Naming the curve as the value of an id-ecPublicKey attribute is how RFC
// 7030 §4.5.2's own example asks for a key type.
Bytes csr_attributes_der(const CsrAttributes& attributes);

// A degenerate certs-only CMS SignedData (RFC 7030 §4.1.3, §4.2.3; RFC
// 5652 §5 with no signers and no content), DER.
Result<Bytes> certs_only_der(const std::vector<X509*>& certificates);

// RFC 7030 §4: "Content-Transfer-Encoding: base64" bodies, in lines of 64
// characters (RFC 2045 §6.8 allows 76).
std::string base64_body(ByteView der);
// A body that is base64 (whitespace ignored), as RFC 7030 sends; raw DER
// (a SEQUENCE) is taken as it is, since some clients send it.
Result<Bytes> decode_est_body(ByteView body, std::size_t max_decoded);

// A checked PKCS#10 request (RFC 2986): its key (proof of possession
// verified) and subject serialNumber.
struct EnrollmentRequest {
  crypto::PkeyPtr key;
  std::string serial_number;
};

// The largest certificate request read.
inline constexpr std::size_t k_max_csr_bytes = std::size_t{16} << 10U;

// Decodes (base64 or DER, at most k_max_csr_bytes once decoded), checks
// the self-signature, then that the request follows `wanted`: subject
// serialNumber equal to it, an EC key on the curve asked for, signed with
// the matching ECDSA digest. csr_malformed or csr_mismatch, saying what.
RegistrarOutcome<EnrollmentRequest> check_enrollment_request(ByteView body,
                                                             const CsrAttributes& wanted);

}  // namespace vouchsafe::registrar
