// Certificate field readers.
#include "pki/certificate_fields.h"

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <vector>

#include "crypto/der.h"
#include "crypto/handles.h"
#include "crypto/oids.h"
#include "crypto/openssl_error.h"

namespace vouchsafe::pki {

Result<std::string> name_serial_number(const X509_NAME* name, const std::string& what) {
  const int at = X509_NAME_get_index_by_NID(name, NID_serialNumber, -1);
  if (at < 0) return std::string();
  if (X509_NAME_get_index_by_NID(name, NID_serialNumber, at) >= 0) {
    return fail(ErrorCode::invalid_value, what + " has more than one serialNumber");
  }
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, value);
  if (len < 0) {
    return crypto::openssl_fail(ErrorCode::malformed_der,
                                what + "'s serialNumber is not a readable string");
  }
  std::string serial(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return serial;
}

Result<std::string> device_serial_of(X509* idevid) {
  ASSIGN_OR_RETURN(auto serial, name_serial_number(X509_get_subject_name(idevid), "the IDevID"));
  if (serial.empty()) {
    return fail(ErrorCode::invalid_value, "the IDevID's subject has no serialNumber");
  }
  return serial;
}

Result<Bytes> idevid_issuer_of(X509* idevid) {
  const int at = X509_get_ext_by_NID(idevid, NID_authority_key_identifier, -1);
  if (at < 0) {
    return fail(ErrorCode::invalid_value, "the IDevID has no AuthorityKeyIdentifier");
  }
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(X509_get_ext(idevid, at));
  Bytes der = crypto::to_der(value, i2d_ASN1_OCTET_STRING);
  if (der.empty()) return fail(ErrorCode::internal, "cannot encode the AuthorityKeyIdentifier");
  return der;
}

namespace {

namespace der = crypto::der;

// The serialNumber value elements of a Name (SEQUENCE OF SET OF
// AttributeTypeAndValue), every one of them.
Result<std::vector<der::Element>> serial_number_values(ByteView name) {
  std::vector<der::Element> out;
  ASSIGN_OR_RETURN(const der::Element seq, der::parse_single(name, der::k_sequence, "Name"));
  der::Reader top(name);
  ASSIGN_OR_RETURN(der::Reader n, top.enter(seq, "Name"));
  while (!n.empty()) {
    ASSIGN_OR_RETURN(const der::Element rdn, n.expect(der::k_set, "RDN"));
    ASSIGN_OR_RETURN(der::Reader set, n.enter(rdn, "RDN"));
    while (!set.empty()) {
      ASSIGN_OR_RETURN(const der::Element atv,
                       set.expect(der::k_sequence, "AttributeTypeAndValue"));
      ASSIGN_OR_RETURN(der::Reader pair, set.enter(atv, "AttributeTypeAndValue"));
      ASSIGN_OR_RETURN(const der::Element type, pair.expect(der::k_oid, "AttributeType"));
      ASSIGN_OR_RETURN(const der::Element value, pair.next());
      if (crypto::oid::is(type.value, crypto::oid::at_serial_number)) out.push_back(value);
    }
  }
  return out;
}

}  // namespace

Result<std::string> device_serial_of(const crypto::DecodedCertificate& idevid) {
  auto values = serial_number_values(idevid.subject);
  if (values && values->size() == 1) {
    const der::Element& v = values->front();
    const bool ascii = std::all_of(v.value.begin(), v.value.end(),
                                   [](std::uint8_t b) { return b != 0 && b < 0x80; });
    const bool text = v.tag == der::k_printable_string || v.tag == der::k_ia5_string ||
                      v.tag == der::k_utf8_string;
    // ASCII reads the same in all three; anything else is the X509 reader's.
    if (text && ascii && !v.value.empty()) return std::string(as_text(v.value));
  } else if (values && values->empty()) {
    return fail(ErrorCode::invalid_value, "the IDevID's subject has no serialNumber");
  }
  X509* cert = idevid.x509();
  if (cert == nullptr) return fail(ErrorCode::malformed_der, "the IDevID is not a DER certificate");
  return device_serial_of(cert);
}

Result<Bytes> idevid_issuer_of(const crypto::DecodedCertificate& idevid) {
  const crypto::CertificateExtension* aki =
      idevid.extension(crypto::oid::ce_authority_key_identifier);
  if (aki == nullptr) {
    return fail(ErrorCode::invalid_value, "the IDevID has no AuthorityKeyIdentifier");
  }
  return Bytes(aki->encoded_value.begin(), aki->encoded_value.end());
}

}  // namespace vouchsafe::pki
