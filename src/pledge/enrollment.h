// EST (RFC 7030) on the pledge's side, as RFC 8995 §5.9 profiles it: the
// CSR attributes the registrar asks for, the certificate request that
// follows them, and the certs-only PKCS#7 bodies of cacerts and
// simpleenroll.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/handles.h"
#include "crypto/keys.h"

namespace vouchsafe::pledge {

// What csrattrs asked for, as far as this pledge understands it.
struct CsrRequirements {
  // The subject serialNumber: the value the registrar gave, or the
  // IDevID's when it asked by OID alone.
  bool serial_number = false;
  std::optional<std::string> serial_value;
  crypto::KeyType key_type = crypto::KeyType::p256;
  bool sha384 = false;  // ecdsa-with-SHA384 rather than -SHA256
};

// Largest EST bodies read (after base64 decoding): attributes are a few
// hundred bytes, a certs-only PKCS#7 a few certificates.
inline constexpr std::size_t k_max_csrattrs_bytes = std::size_t{16} << 10U;
inline constexpr std::size_t k_max_pkcs7_bytes = std::size_t{256} << 10U;

// A base64 body (whitespace ignored) or raw DER, decoded, at most max bytes.
Result<Bytes> decode_est_body(ByteView body, std::size_t max);

// CsrAttrs (RFC 7030 §4.5.2): SEQUENCE OF (OID | Attribute). Understood:
// serialNumber (an OID, or an Attribute carrying the value), the key type
// as an id-ecPublicKey attribute with a curve value (RFC 7030's example)
// or a bare curve OID, and ecdsa-with-SHA256/384. Anything else is ignored, as
// RFC 7030 §4.5.2 lets a client do. An empty body asks for nothing.
Result<CsrRequirements> parse_csr_attributes(ByteView body);

// A fresh key of the type asked for, and a PKCS#10 request with it:
// subject serialNumber (when asked) = `serial`, signed with the digest
// asked for.
crypto::PkeyPtr generate_ldevid_key(const CsrRequirements& requirements);
Result<Bytes> make_csr(EVP_PKEY* key, const CsrRequirements& requirements,
                       const std::string& serial);

// The certificates of a certs-only PKCS#7 (base64 or DER).
Result<std::vector<crypto::X509Ptr>> parse_certs_only(ByteView body);

}  // namespace vouchsafe::pledge
