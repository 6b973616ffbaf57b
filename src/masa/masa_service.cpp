// The MASA's two endpoints as pipelines of named steps (DESIGN.md, "the
// MASA path", steps 2-7); each step refuses with its own MasaError.
#include "masa/masa_service.h"

#include <algorithm>
#include <future>
#include <stdexcept>

#include "masa/detail/agent_proximity.h"
#include "masa/detail/audit_log.h"
#include "masa/detail/enrolling.h"
#include "masa/detail/ownership_policy.h"
#include "masa/detail/request_validation.h"
#include "masa/detail/trust_cache.h"
#include "masa/detail/voucher_builder.h"
#include "pki/certificate_fields.h"
#include "voucher/json_codec.h"

namespace vouchsafe::masa {
namespace {

// The IDevID's idevid-issuer where it has an AKI (RFC 8995 App. C's have none).
std::optional<Bytes> optional_idevid_issuer(const crypto::DecodedCertificate& idevid) {
  auto issuer = pki::idevid_issuer_of(idevid);
  if (!issuer) return std::nullopt;
  return std::move(issuer).value();
}

}  // namespace

using detail::Check;
using detail::Outcome;
using detail::refuse;

struct MasaService::State {
  State(MasaConfig c, store::AssetStore& s) : config(std::move(c)), store(s), idevid(s) {}

  MasaConfig config;
  store::AssetStore& store;
  std::shared_ptr<const crypto::TrustStore> customers;  // null: no known customers
  detail::TrustCache trust;
  detail::IdevidAnchors idevid;

  [[nodiscard]] std::time_t now() const { return config.now ? config.now() : std::time(nullptr); }

  // The registrar voucher-request, the pledge's inside it, the serial
  // numbers, and the device they name with what the store knows of it for
  // the domain the voucher would pin: common to both endpoints.
  struct Validated {
    detail::RegistrarRequest rvr;
    // None for an offline request (RFC 8995 §5.5: the registrar SHOULD
    // include the pledge's; §5.5.5 leaves the rest to the MASA's policy).
    std::optional<detail::PledgeRequest> pvr;
    crypto::CertificateRef pinned;
    std::string domain;
    store::DeviceRecord device;
    crypto::CertificateRef idevid;  // the device's IDevID on record
    store::DeviceStatus status;
    bool audited_for_domain = false;
  };
  Outcome<Validated> validate(const MasaRequest& request, const detail::MediaForm& form,
                              std::time_t now);

  // A signed voucher, to be returned once its audit entry is durable.
  struct SignedVoucher {
    std::string serial;
    store::AuditEntry audit_entry;
    std::optional<store::DeviceEvent> first_use;  // written with the entry
    MasaResponse response;
  };
  Outcome<SignedVoucher> request_voucher(const MasaRequest& request);
  Outcome<MasaResponse> request_audit_log(const MasaRequest& request);
};

MasaService::MasaService(MasaConfig config, store::AssetStore& store)
    : state_(std::make_unique<State>(std::move(config), store)) {
  auto& c = state_->config;
  if (!c.keys) {
    if (!c.signer) throw std::invalid_argument("the MASA needs a voucher-signing key");
    std::map<std::string, MasaKey> keys;
    keys.emplace(std::string(k_default_key_id),
                 MasaKey{std::string(k_default_key_id), c.signer, c.signer_chain});
    c.keys = std::make_shared<KeyRing>(
        std::make_shared<const KeySet>(KeyArchitecture::offline_ca, std::move(keys)));
  }
  if (!state_->config.customer_anchors.empty()) {
    std::vector<crypto::X509Ptr> anchors;
    for (const auto& a : state_->config.customer_anchors) anchors.push_back(crypto::share(a.get()));
    state_->customers = std::make_shared<const crypto::TrustStore>(std::move(anchors));
  }
}

MasaService::~MasaService() = default;

MasaResponse MasaService::handle(const MasaRequest& request) {
  std::promise<MasaResponse> answered;
  auto response = answered.get_future();
  handle_async(request, [&answered](MasaResponse r) { answered.set_value(std::move(r)); });
  return response.get();
}

void MasaService::handle_async(const MasaRequest& request, Completion done) {
  const auto refused = [&done](const detail::Refusal& r) {
    done(refusal_response(r.error, r.detail));
  };
  if (request.endpoint == k_request_audit_log) {
    auto response = state_->request_audit_log(request);
    if (!response) return refused(response.refusal());
    return done(std::move(response).value());
  }
  if (request.endpoint != k_request_voucher) return refused(refuse(MasaError::unknown_endpoint));
  auto signed_voucher = state_->request_voucher(request);
  if (!signed_voucher) return refused(signed_voucher.refusal());
  // Step 8: the audit entry is durable before the voucher leaves (RFC 8995
  // §5.8; DESIGN.md: what the MASA signed it has recorded first). The
  // worker goes on meanwhile; the store's writer thread answers.
  auto v = std::make_shared<State::SignedVoucher>(std::move(signed_voucher).value());
  state_->store.append_audit_async(v->serial, std::move(v->audit_entry), std::move(v->first_use),
                                   [v, done = std::move(done)](const Status& appended) {
                                     if (!appended)
                                       return done(refusal_response(MasaError::store_failure, {}));
                                     done(std::move(v->response));
                                   });
}

Outcome<MasaService::State::Validated> MasaService::State::validate(const MasaRequest& request,
                                                                    const detail::MediaForm& form,
                                                                    std::time_t now) {
  if (request.body.size() > config.max_request_bytes) {
    return refuse(MasaError::request_too_large, std::to_string(request.body.size()) +
                                                    " bytes; the limit is " +
                                                    std::to_string(config.max_request_bytes));
  }
  MASA_ASSIGN(auto rvr,
              detail::verify_registrar_request(request.body, form, request.caller.fingerprint, now,
                                               config.max_request_bytes, trust));
  // Replays: a request speaks only for the registrar that posts it, and
  // only for a while.
  if (config.bind_request_to_tls_client) {
    MASA_CHECK(detail::check_signed_by_caller(rvr, request.caller.certificate_der));
  }
  MASA_CHECK(
      detail::check_request_age(rvr.payload, now, config.max_request_age, config.max_clock_skew));
  crypto::CertificateRef pinned = detail::pinned_certificate(rvr.chain, config.pinning);
  std::string domain = detail::domain_id(*pinned);

  // The device the registrar names, read before the pledge's request: the
  // IDevID on record is one we issued, so a PVR signed with exactly that
  // certificate needs no second check of its signature (crypto::TrustStore).
  std::optional<store::DeviceForVoucher> known;
  crypto::CertificateRef recorded;
  if (rvr.payload.serial_number) {
    auto found = store.device_for_voucher(*rvr.payload.serial_number, domain);
    if (!found) return refuse(MasaError::store_failure);
    known = std::move(found).value();
  }
  if (known) {
    auto decoded = crypto::CertificateCache::shared().decode(known->device.certificate_der);
    if (!decoded) return refuse(MasaError::internal_error);
    recorded = std::move(decoded).value();
  }
  if (!detail::carries_pledge_request(rvr.payload)) {
    if (!rvr.payload.serial_number) {
      return refuse(MasaError::malformed_request,
                    "a registrar voucher-request without the pledge's request must name the "
                    "device's serial-number");
    }
    if (!known) {
      return refuse(MasaError::device_unknown,
                    "serial-number '" + *rvr.payload.serial_number + "'");
    }
    MASA_CHECK(detail::check_idevid_issuer(rvr.payload, *recorded));
    return Validated{std::move(rvr),           std::nullopt,
                     std::move(pinned),        std::move(domain),
                     std::move(known->device), std::move(recorded),
                     std::move(known->status), known->audited_for_domain};
  }
  MASA_ASSIGN(auto pvr,
              detail::verify_pledge_request(rvr, now, config.max_request_bytes, idevid, recorded));
  MASA_CHECK(detail::check_serial_numbers(rvr, pvr));
  MASA_CHECK(detail::check_idevid_issuer(rvr.payload, *pvr.idevid));

  const std::string& serial = *rvr.payload.serial_number;
  if (!known) return refuse(MasaError::device_unknown, "serial-number '" + serial + "'");
  // The IDevID chains to our CA, but a reissued device's old certificate
  // (and key) no longer speaks for it.
  if (known->device.certificate_der != pvr.idevid->der) {
    return refuse(MasaError::pvr_signer_unknown,
                  "the IDevID that signed it is not the one on record for device '" + serial +
                      "' (it has been reissued)");
  }
  return Validated{std::move(rvr),           std::move(pvr),           std::move(pinned),
                   std::move(domain),        std::move(known->device), std::move(recorded),
                   std::move(known->status), known->audited_for_domain};
}

Outcome<MasaService::State::SignedVoucher> MasaService::State::request_voucher(
    const MasaRequest& request) {
  const std::time_t at = now();
  // Step 1: media types.
  MASA_ASSIGN(const auto form, detail::request_form(request.content_type));
  MASA_ASSIGN(const auto answer_form, detail::response_form(request.accept, form));
  // Steps 2-3: the two voucher-requests and the device.
  MASA_ASSIGN(auto v, validate(request, form, at));
  const std::string& serial = v.device.serial;
  // Step 4: proximity and nonces; for an offline request, the policy that
  // stands in for them.
  voucher::Assertion assertion = voucher::Assertion::verified;
  const bool authenticated =
      detail::caller_authenticated(request.caller, customers.get(), v.rvr, at);
  if (v.pvr && detail::asks_agent_proximity(v.pvr->payload)) {
    MASA_ASSIGN(assertion, detail::check_agent_proximity(v.rvr, *v.pvr, at, trust));
    MASA_CHECK(detail::check_nonces(v.rvr, *v.pvr));
  } else if (v.pvr) {
    MASA_ASSIGN(assertion, detail::check_proximity(v.rvr, *v.pvr, config.fallback_assertion));
    MASA_CHECK(detail::check_nonces(v.rvr, *v.pvr));
  } else {
    MASA_CHECK(detail::check_offline_request(v.rvr, v.status, authenticated, at, trust));
  }

  // Step 5: the device's status and ownership policy.
  const std::string& domain = v.domain;
  if (v.status.stolen) {
    // The refusal stands even if the event cannot be written.
    (void)store.record_event(serial, "refused-stolen",
                             "registrar " + request.caller.fingerprint + ", domainID " + domain,
                             at);
    return refuse(MasaError::device_stolen);
  }
  const store::OwnershipPolicy policy =
      detail::effective_ownership(v.status, v.device.product, config);
  MASA_CHECK(detail::check_owner(policy, v.status, v.rvr, at, trust));

  // Step 6: nonceless vouchers, bounded by the configured lifetime and by
  // every certificate of the registrar's chain (RFC 8995 §5.6: expires-on
  // no later than the registrar certificate's expiry).
  std::optional<std::time_t> expires_on;
  if (!v.rvr.payload.nonce) {
    MASA_CHECK(detail::check_nonceless(authenticated, policy, config));
    std::time_t until = at + static_cast<std::time_t>(config.max_nonceless_lifetime.count());
    for (const auto& c : v.rvr.chain) until = std::min(until, c->not_after);
    expires_on = until;
  }

  // Trust on first use (open policy): the first voucher for a domain is an
  // event in the device's history, written with the voucher's audit entry.
  std::optional<store::DeviceEvent> first_use;
  if (policy == store::OwnershipPolicy::open && !v.audited_for_domain) {
    first_use = store::DeviceEvent{
        "owner-tofu", "domainID " + domain + ", registrar " + request.caller.fingerprint, at};
  }

  // Step 7: the voucher.
  detail::VoucherContents contents;
  contents.now = at;
  contents.assertion = assertion;
  contents.serial_number = serial;
  // The pledge's nonce in the pledge's spelling: the pledge compares the
  // text, and a registrar may have re-encoded it (check_nonces compared the
  // two by their bytes).
  if (v.rvr.payload.nonce && v.pvr) {
    contents.nonce = v.pvr->payload.nonce;
    contents.nonce_spelling = v.pvr->payload.nonce_spelling.text;
  }
  contents.expires_on = expires_on;
  contents.pinned_domain_cert = v.pinned->der;
  // RFC 8366bis idevid-issuer: computed here, and only where configured.
  // The enrolling voucher: the owner's share of a co-generated key,
  // checked and carried to the device (docs/enrolling-voucher.md).
  if (v.rvr.payload.enrolling) {
    MASA_CHECK(detail::check_enrolling(*v.rvr.payload.enrolling, *v.idevid, serial, v.rvr, v.pinned,
                                       at, trust));
    contents.enrolling = v.rvr.payload.enrolling;
  }
  if (config.voucher_idevid_issuer) contents.idevid_issuer = optional_idevid_issuer(*v.idevid);
  const voucher::Voucher built = detail::build_voucher(contents);
  // Step 7b: the key the architecture assigns this device (SPEC.md §6). The
  // set is held to the end of the request, so a rollover meanwhile does not
  // change the key under it.
  const std::shared_ptr<const KeySet> keys = config.keys->current();
  auto key = keys->for_device(v.device);
  if (!key) return refuse(MasaError::signing_failure, "no voucher-signing key for this device");
  MASA_ASSIGN(Bytes signed_voucher,
              detail::sign_voucher(built, answer_form.form, **key, keys->bare_cose()));
  // The audit log names the nonce as the voucher's JSON does (RFC 8995 App. C
  // registrars send base64url and look for their own text).
  std::optional<std::string> nonce_text;
  if (built.nonce) nonce_text = voucher::json_nonce_text(built);
  return SignedVoucher{serial,
                       detail::make_audit_entry(at, domain, std::move(nonce_text), assertion,
                                                request.caller.fingerprint),
                       std::move(first_use),
                       MasaResponse{200, answer_form.media_type, std::move(signed_voucher)}};
}

Outcome<MasaResponse> MasaService::State::request_audit_log(const MasaRequest& request) {
  const std::time_t at = now();
  MASA_ASSIGN(const auto form, detail::request_form(request.content_type));
  MASA_CHECK(detail::accepts_json(request.accept));
  MASA_ASSIGN(auto v, validate(request, form, at));
  auto log = store.audit_log(v.device.serial);
  if (!log) return refuse(MasaError::store_failure);
  // RFC 8995 §5.8: only a registrar that is or was an owner reads the log;
  // SPEC.md §2: anyone else gets 404, as for an unknown device. Any
  // certificate of the requester's own chain identifies its domain, so a
  // change of pinning policy does not lock an owner out.
  std::vector<std::string> domains;
  for (const auto& c : v.rvr.chain) domains.push_back(detail::domain_id(*c));
  if (!detail::logged_for_domain(*log, domains)) return refuse(MasaError::audit_log_not_owner);
  return MasaResponse{200, "application/json",
                      detail::render_audit_log(*log, config.audit_log_max_entries)};
}

}  // namespace vouchsafe::masa
