// Registrar voucher-request.
#include "registrar/voucher_request.h"

#include "pki/certificate_fields.h"
#include "voucher/artifact.h"

namespace vouchsafe::registrar {

Result<Bytes> make_registrar_voucher_request(const voucher::SigningIdentity& registrar,
                                             ByteView pledge_request,
                                             const RegistrarRequestOptions& options) {
  ASSIGN_OR_RETURN(
      auto pvr, voucher::verify_artifact(pledge_request, voucher::TrustPolicy::for_inspection()));
  const crypto::DecodedCertificate* idevid =
      pvr.envelope.signer_chain.empty() ? nullptr : pvr.envelope.signer_chain.front().get();
  return make_registrar_voucher_request(registrar, pledge_request, pvr.payload, idevid, options);
}

Result<Bytes> make_registrar_voucher_request(const voucher::SigningIdentity& registrar,
                                             ByteView pledge_request,
                                             const voucher::Voucher& pledge_payload,
                                             const crypto::DecodedCertificate* idevid,
                                             const RegistrarRequestOptions& options) {
  if (pledge_payload.kind != voucher::ArtifactKind::voucher_request) {
    return fail(ErrorCode::invalid_value, "the pledge sent a voucher, not a voucher-request");
  }
  voucher::Voucher rvr;
  rvr.kind = voucher::ArtifactKind::voucher_request;
  rvr.created_on = options.created_on;
  // RFC 8995 §3.3 example 2 and Appendix C.2.2 repeat the pledge's assertion.
  rvr.assertion = pledge_payload.assertion;
  rvr.serial_number = pledge_payload.serial_number;
  if (!options.nonceless) {
    rvr.nonce = pledge_payload.nonce;
    rvr.nonce_spelling = pledge_payload.nonce_spelling;  // the pledge compares its own text
  }
  if (idevid != nullptr) {
    // RFC 8995 §5.5: the serial number is the one the authenticated IDevID names.
    ASSIGN_OR_RETURN(auto serial, pki::device_serial_of(*idevid));
    if (serial != rvr.serial_number) {
      return fail(ErrorCode::invalid_value, "the pledge's serial-number " +
                                                rvr.serial_number.value_or("") +
                                                " is not its IDevID's " + serial);
    }
    // RFC 8366bis idevid-issuer: the IDevID's AKI extension value, where it has one.
    if (auto issuer = pki::idevid_issuer_of(*idevid)) rvr.idevid_issuer = std::move(issuer).value();
  }
  rvr.prior_signed_voucher_request = Bytes(pledge_request.begin(), pledge_request.end());
  return voucher::sign_artifact(rvr, options.form, registrar);
}

}  // namespace vouchsafe::registrar
