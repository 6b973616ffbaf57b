// Pledge voucher-request.
#include "pledge/voucher_request.h"

#include <openssl/rand.h>

#include "crypto/keys.h"
#include "pki/certificate_fields.h"
#include "voucher/artifact.h"

namespace vouchsafe::pledge {

Bytes fresh_nonce() {
  Bytes nonce(16);
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) std::abort();
  return nonce;
}

Result<Bytes> make_pledge_voucher_request(const voucher::SigningIdentity& idevid,
                                          ByteView registrar_certificate_der,
                                          const PledgeRequestOptions& options) {
  if (idevid.chain.empty())
    return fail(ErrorCode::usage, "the pledge needs its IDevID certificate");
  voucher::Voucher pvr;
  pvr.kind = voucher::ArtifactKind::voucher_request;
  pvr.assertion = voucher::Assertion::proximity;
  pvr.created_on = options.created_on;
  pvr.nonce = options.nonce;
  ASSIGN_OR_RETURN(pvr.serial_number, pki::device_serial_of(*idevid.chain.front()));
  if (options.form == voucher::Form::cose) {
    // cBRSKI: a constrained pledge names the registrar by its public key.
    ASSIGN_OR_RETURN(auto registrar, crypto::parse_certificate_der(registrar_certificate_der));
    crypto::PkeyPtr key(X509_get_pubkey(registrar.get()));
    pvr.proximity_registrar_pubk = crypto::public_key_der(key.get());
  } else {
    pvr.proximity_registrar_cert =
        Bytes(registrar_certificate_der.begin(), registrar_certificate_der.end());
  }
  return voucher::sign_artifact(pvr, options.form, idevid);
}

}  // namespace vouchsafe::pledge
