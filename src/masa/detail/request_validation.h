// The MASA's checks of a registrar voucher-request and the pledge
// voucher-request inside it (RFC 8995 §5.5.2–5.5.6), each step refusing
// with its own MasaError.
#pragma once

#include <chrono>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/certificate_cache.h"
#include "crypto/trust_store.h"
#include "masa/detail/outcome.h"
#include "masa/detail/trust_cache.h"
#include "store/asset_store.h"
#include "voucher/model.h"
#include "voucher/trust_policy.h"

namespace vouchsafe::masa::detail {

// A voucher media type as the client wrote it, and the envelope it names.
struct MediaForm {
  voucher::Form form;
  std::string media_type;
};

// Content-Type of a voucher-request: CMS, JWS or COSE (both COSE names).
Outcome<MediaForm> request_form(std::string_view content_type);
// The voucher form an Accept header asks for; "*/*", "application/*" or
// no header means the request's own form.
Outcome<MediaForm> response_form(std::string_view accept, const MediaForm& request);
// requestauditlog answers application/json only.
Check accepts_json(std::string_view accept);

struct RegistrarRequest {
  voucher::Voucher payload;
  voucher::Form form;
  // The validated path: the registrar's certificate first, the domain's
  // temporary trust anchor (RFC 8995 §5.5.2) last.
  std::vector<crypto::CertificateRef> chain;
  std::vector<crypto::CertificateRef> embedded;  // as sent
};

// RFC 8995 §5.5.2–5.5.4: the envelope verifies with the chain it carries,
// its farthest CA acting as a temporary trust anchor (the end-entity itself
// when it sends no CA); the signer carries id-kp-cmcRA; the payload is a
// voucher-request.
Outcome<RegistrarRequest> verify_registrar_request(ByteView body, const MediaForm& form,
                                                   const std::string& caller_fingerprint,
                                                   std::time_t now, std::size_t max_input,
                                                   TrustCache& cache);

// The request is the TLS client's own: the RVR's signer certificate is the
// client certificate, or carries the same public key (a registrar may
// renew one certificate and not the other).
Check check_signed_by_caller(const RegistrarRequest& rvr, ByteView caller_certificate_der);

// The RVR's created-on lies within [now - max_age, now + skew].
Check check_request_age(const voucher::Voucher& rvr, std::time_t now, std::chrono::seconds max_age,
                        std::chrono::seconds skew);

// The issuing CAs of the asset store (active and retired: a retired CA's
// devices are still ours) as the trust anchors of IDevIDs. Loaded on first
// use and reloaded when an IDevID does not chain, so a CA created by
// another process is picked up without a restart.
class IdevidAnchors {
 public:
  explicit IdevidAnchors(store::CaRegistry& store) : store_(store) {}
  Outcome<std::shared_ptr<const crypto::TrustStore>> current();
  // Re-reads the store; true when the set of issuing CAs changed.
  Outcome<bool> reload();

 private:
  store::CaRegistry& store_;
  std::mutex mutex_;
  std::shared_ptr<const crypto::TrustStore> trust_;
  std::string key_;  // the anchors' SHA-256s, to notice a change
};

// Whether the registrar included the pledge's own request.
bool carries_pledge_request(const voucher::Voucher& rvr);

struct PledgeRequest {
  voucher::Voucher payload;
  crypto::CertificateRef idevid;             // the PVR's signer
  std::optional<std::string> idevid_serial;  // its subject serialNumber (2.5.4.5)
};

// RFC 8995 §5.5.5: the prior-signed-voucher-request verifies with an IDevID
// issued by one of our issuing CAs, and is a voucher-request.
// recorded_idevid: the certificate on record for the device the registrar
// names, if any (voucher::TrustPolicy::recorded_signer). A cBRSKI request
// that names no signer is tried with it and with the certificates of the
// registrar's x5bag, where constrained-voucher -31 §9.2.1 puts the
// pledge's chain.
Outcome<PledgeRequest> verify_pledge_request(const RegistrarRequest& rvr, std::time_t now,
                                             std::size_t max_input, IdevidAnchors& anchors,
                                             const crypto::CertificateRef& recorded_idevid);

// RFC 8995 §5.5.5: RVR serial-number == PVR serial-number == the IDevID's
// subject serialNumber.
Check check_serial_numbers(const RegistrarRequest& rvr, const PledgeRequest& pvr);

// RFC 8366bis idevid-issuer, when the registrar sent one, identifies the
// issuer of the pledge's IDevID: the AuthorityKeyIdentifier extension value
// as 8366bis defines it (the DER OCTET STRING), or, as registrars in the
// field write it, the AKI SEQUENCE or its keyIdentifier alone, the issuer
// Name in DER, or OpenSSL's one-line or RFC 2253 text of that Name.
// Anything else disagrees with the IDevID and is refused.
Check check_idevid_issuer(const voucher::Voucher& rvr, const crypto::DecodedCertificate& idevid);

// RFC 8995 §5.5.5: the registrar the pledge saw (proximity-registrar-cert,
// or cBRSKI's proximity-registrar-pubk / -pubk-sha256) is in the chain that
// signed the RVR: assertion proximity; else the fallback or a refusal.
Outcome<voucher::Assertion> check_proximity(const RegistrarRequest& rvr, const PledgeRequest& pvr,
                                            std::optional<voucher::Assertion> fallback);

// RFC 8995 §5.5.6: when the RVR carries a nonce the PVR carries the same.
Check check_nonces(const RegistrarRequest& rvr, const PledgeRequest& pvr);

}  // namespace vouchsafe::masa::detail
