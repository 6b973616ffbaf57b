// Certificate field readers.
#include "pki/certificate_fields.h"

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "crypto/handles.h"
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

}  // namespace vouchsafe::pki
