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
  if (pvr.payload.kind != voucher::ArtifactKind::voucher_request) {
    return fail(ErrorCode::invalid_value, "the pledge sent a voucher, not a voucher-request");
  }
  voucher::Voucher rvr;
  rvr.kind = voucher::ArtifactKind::voucher_request;
  rvr.created_on = options.created_on;
  rvr.serial_number = pvr.payload.serial_number;
  if (!options.nonceless) {
    rvr.nonce = pvr.payload.nonce;
    rvr.nonce_spelling = pvr.payload.nonce_spelling;  // the pledge compares its own text
  }
  if (!pvr.envelope.signer_chain.empty()) {
    // RFC 8995 §5.5: the serial number is the one the authenticated IDevID names.
    ASSIGN_OR_RETURN(auto serial, pki::device_serial_of(*pvr.envelope.signer_chain.front()));
    if (serial != rvr.serial_number) {
      return fail(ErrorCode::invalid_value, "the pledge's serial-number " +
                                                rvr.serial_number.value_or("") +
                                                " is not its IDevID's " + serial);
    }
    if (auto issuer = pki::idevid_issuer_of(*pvr.envelope.signer_chain.front())) {
      rvr.idevid_issuer = std::move(issuer).value();
    }
  }
  rvr.prior_signed_voucher_request = Bytes(pledge_request.begin(), pledge_request.end());
  return voucher::sign_artifact(rvr, options.form, registrar);
}

}  // namespace vouchsafe::registrar
