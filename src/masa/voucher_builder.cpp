// Building and signing the voucher.
#include "masa/detail/voucher_builder.h"

#include "crypto/keys.h"
#include "voucher/artifact.h"
#include "voucher/cbor_codec.h"
#include "voucher/cose.h"

namespace vouchsafe::masa::detail {

const crypto::CertificateRef& pinned_certificate(const std::vector<crypto::CertificateRef>& chain,
                                                 MasaConfig::Pinning pinning) {
  return pinning == MasaConfig::Pinning::registrar_certificate ? chain.front() : chain.back();
}

std::string domain_id(const crypto::DecodedCertificate& cert) {
  if (const ByteView ski = crypto::subject_key_identifier(cert); !ski.empty()) {
    return base64_encode(ski);
  }
  return base64_encode(crypto::sha256(cert.spki_der));
}

voucher::Voucher build_voucher(const VoucherContents& contents) {
  voucher::Voucher v;
  v.kind = voucher::ArtifactKind::voucher;
  v.created_on = DateTime::from_unix_seconds(contents.now);
  v.assertion = contents.assertion;
  v.serial_number = contents.serial_number;
  // RFC 8366 §5.3: nonce and expires-on are mutually exclusive.
  if (contents.nonce) {
    v.nonce = contents.nonce;
    v.nonce_spelling.text = contents.nonce_spelling;
  } else if (contents.expires_on) {
    v.expires_on = DateTime::from_unix_seconds(*contents.expires_on);
  }
  v.pinned_domain_cert = contents.pinned_domain_cert;
  v.idevid_issuer = contents.idevid_issuer;
  v.enrolling = contents.enrolling;
  // A pledge usually cannot reach the domain's revocation information
  // before it has enrolled, so the voucher does not ask it to check.
  v.domain_cert_revocation_checks = false;
  return v;
}

Outcome<Bytes> sign_voucher(const voucher::Voucher& v, voucher::Form form, const MasaKey& key,
                            bool bare_cose) {
  voucher::SigningIdentity identity{key.signer.get(), key.chain};
  Result<Bytes> signed_voucher = fail(ErrorCode::internal, "unsigned");
  if (bare_cose && form == voucher::Form::cose) {
    voucher::CoseSignOptions options;
    options.include_x5bag = false;
    options.kid = to_bytes(key.id);
    if (auto valid = voucher::validate(v); !valid) return refuse(MasaError::signing_failure);
    signed_voucher = voucher::sign_cose(voucher::encode_cbor(v), identity, options);
  } else {
    signed_voucher = voucher::sign_artifact(v, form, identity);
  }
  if (!signed_voucher) return refuse(MasaError::signing_failure);
  return std::move(signed_voucher).value();
}

}  // namespace vouchsafe::masa::detail
