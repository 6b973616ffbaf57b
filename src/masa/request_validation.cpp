// Media types, the registrar voucher-request, the pledge voucher-request
// inside it, and the cross-checks between them (RFC 8995 §5.5).
#include "masa/detail/request_validation.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>

#include "crypto/der.h"
#include "crypto/keys.h"
#include "crypto/oids.h"
#include "pki/certificate_fields.h"
#include "voucher/artifact.h"

namespace vouchsafe::masa::detail {
namespace {

using voucher::Form;

// ---------------------------------------------------------------- media types

constexpr std::string_view k_cms = "application/voucher-cms+json";
constexpr std::string_view k_jws = "application/voucher-jws+json";
constexpr std::string_view k_cose = "application/voucher+cose";
// The name earlier cBRSKI drafts used (SPEC.md §1: accept both).
constexpr std::string_view k_cose_legacy = "application/voucher-cose+cbor";
constexpr std::string_view k_json = "application/json";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The type/subtype of a media type, lower case, without parameters.
std::string essence(std::string_view media_type) {
  return lower(trim(media_type.substr(0, media_type.find(';'))));
}

std::optional<Form> form_of(std::string_view essence_text) {
  if (essence_text == k_cms) return Form::cms;
  if (essence_text == k_jws) return Form::jws;
  if (essence_text == k_cose || essence_text == k_cose_legacy) return Form::cose;
  return std::nullopt;
}

struct AcceptItem {
  std::string range;
  double q = 1.0;
};

// RFC 9110 §12.5.1: media ranges with optional q weights, best first (in
// the client's order among equals); q=0 means "not acceptable".
std::vector<AcceptItem> parse_accept(std::string_view accept) {
  std::vector<AcceptItem> items;
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    std::string_view part = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    AcceptItem item{essence(part)};
    if (item.range.empty()) continue;
    std::string_view params = part.substr(std::min(part.find(';'), part.size()));
    while (!params.empty()) {
      params.remove_prefix(1);  // the ';'
      const auto next = params.find(';');
      const std::string param = lower(trim(params.substr(0, next)));
      params = next == std::string_view::npos ? std::string_view{} : params.substr(next);
      if (param.rfind("q=", 0) == 0) item.q = std::strtod(param.c_str() + 2, nullptr);
    }
    if (item.q > 0) items.push_back(std::move(item));
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const AcceptItem& a, const AcceptItem& b) { return a.q > b.q; });
  return items;
}

// --------------------------------------------------------------- envelopes

// Which refusal a voucher-module error becomes; `pledge` picks the PVR's.
Refusal envelope_refusal(const Error& error, bool pledge) {
  const std::string what = pledge ? "pledge voucher-request: " : "registrar voucher-request: ";
  switch (error.code) {
    case ErrorCode::input_too_large:
      return refuse(MasaError::request_too_large, what + error.message);
    case ErrorCode::unknown_signer:
      return refuse(pledge ? MasaError::pvr_signer_unidentified : MasaError::rvr_signature_invalid,
                    what + error.message);
    case ErrorCode::bad_signature:
    case ErrorCode::unsupported_algorithm:
      return refuse(pledge ? MasaError::pvr_signature_invalid : MasaError::rvr_signature_invalid,
                    what + error.message);
    case ErrorCode::untrusted_chain:
      return refuse(pledge ? MasaError::pvr_signer_unknown : MasaError::rvr_signature_invalid,
                    what + error.message);
    case ErrorCode::io_error:
    case ErrorCode::usage:
    case ErrorCode::internal:
    case ErrorCode::bad_passphrase:
      // Our failure, not theirs: say nothing of it to the caller.
      return refuse(MasaError::internal_error);
    default:
      return refuse(MasaError::malformed_request, what + error.message);
  }
}

bool same_certificate(const crypto::CertificateRef& a, const crypto::CertificateRef& b) {
  return a && b && a->der_sha256 == b->der_sha256;
}

// RFC 8995 §5.5.2: the farthest CA of the chain the RVR carries, found by
// walking issuers up from the signer through the embedded certificates;
// the signer itself when it came without its CA.
crypto::CertificateRef farthest_ca(const crypto::CertificateRef& signer,
                                   const std::vector<crypto::CertificateRef>& embedded) {
  crypto::CertificateRef current = signer;
  std::vector<const crypto::DecodedCertificate*> visited{signer.get()};
  while (true) {
    crypto::CertificateRef issuer;
    for (const auto& candidate : embedded) {
      if (std::find(visited.begin(), visited.end(), candidate.get()) != visited.end()) continue;
      if (same_certificate(candidate, current)) continue;
      X509* candidate_cert = candidate->x509();
      X509* current_cert = current->x509();
      if (candidate_cert == nullptr || current_cert == nullptr) continue;
      if (X509_check_ca(candidate_cert) > 0 &&
          X509_check_issued(candidate_cert, current_cert) == X509_V_OK) {
        issuer = candidate;
        break;
      }
    }
    if (!issuer) return current;
    visited.push_back(issuer.get());
    current = issuer;
  }
}

voucher::TrustPolicy anchored(std::shared_ptr<const crypto::TrustStore> trust, std::time_t now,
                              std::size_t max_input) {
  voucher::TrustPolicy policy;
  policy.anchors = std::move(trust);
  policy.at = now;
  policy.max_input = max_input;
  return policy;
}

// RFC 8995 §5.5.4: the certificate that signed the registrar voucher-request
// carries the id-kp-cmcRA extended key usage (RFC 7030 §3.6.1), which marks
// it as a registrar's.
bool has_cmc_ra(X509* cert) {
  using EkuPtr = std::unique_ptr<EXTENDED_KEY_USAGE,
                                 crypto::Deleter<EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free>>;
  EkuPtr eku(static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr)));
  if (!eku) return false;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    if (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku.get(), i)) == NID_cmcRA) return true;
  }
  return false;
}

std::string quoted(const std::optional<std::string>& s) {
  return s ? "'" + s->substr(0, 64) + "'" : std::string("none");
}

}  // namespace

// ------------------------------------------------------------ media types

Outcome<MediaForm> request_form(std::string_view content_type) {
  const std::string type = essence(content_type);
  if (auto form = form_of(type)) return MediaForm{*form, type};
  return refuse(MasaError::unsupported_media_type,
                "got Content-Type '" + std::string(content_type.substr(0, 80)) + "'");
}

Outcome<MediaForm> response_form(std::string_view accept, const MediaForm& request) {
  if (trim(accept).empty()) return request;
  for (const AcceptItem& item : parse_accept(accept)) {
    if (item.range == "*/*" || item.range == "application/*") return request;
    if (auto form = form_of(item.range)) return MediaForm{*form, item.range};
  }
  return refuse(MasaError::not_acceptable,
                "got Accept '" + std::string(accept.substr(0, 120)) +
                    "'; this MASA signs vouchers as application/voucher-cms+json, "
                    "application/voucher-jws+json and application/voucher+cose");
}

Check accepts_json(std::string_view accept) {
  if (trim(accept).empty()) return std::nullopt;
  for (const AcceptItem& item : parse_accept(accept)) {
    if (item.range == "*/*" || item.range == "application/*" || item.range == k_json) {
      return std::nullopt;
    }
  }
  return refuse(MasaError::not_acceptable,
                "the audit log (RFC 8995 §5.8.1) is application/json; got Accept '" +
                    std::string(accept.substr(0, 120)) + "'");
}

// ------------------------------------------------------ registrar request

Outcome<RegistrarRequest> verify_registrar_request(ByteView body, const MediaForm& form,
                                                   const std::string& caller_fingerprint,
                                                   std::time_t now, std::size_t max_input,
                                                   TrustCache& cache) {
  auto detected = voucher::detect_form(body);
  if (!detected || *detected != form.form) {
    return refuse(MasaError::malformed_request,
                  "the body is not a " + std::string(voucher::form_name(form.form)) +
                      " signed object, as its Content-Type " + form.media_type + " says");
  }

  // The anchor is only known once the envelope's certificates are read.
  // A returning registrar's last anchor is tried first: one verification
  // when its domain is unchanged. Otherwise an inspection pass reads the
  // chain (it accepts nothing) and the anchored pass decides.
  std::optional<voucher::VerifiedArtifact> verified;
  crypto::CertificateRef anchor = cache.anchor_hint(caller_fingerprint);
  if (anchor) {
    auto guess =
        voucher::verify_artifact(body, anchored(cache.store_for({anchor}), now, max_input));
    if (guess) {
      const auto& chain = guess->envelope.signer_chain;
      if (same_certificate(farthest_ca(chain.front(), guess->envelope.embedded_certificates),
                           anchor)) {
        verified = std::move(guess).value();
      }
    } else if (guess.error().code != ErrorCode::untrusted_chain) {
      return envelope_refusal(guess.error(), false);
    }
  }
  if (!verified) {
    voucher::TrustPolicy inspection = voucher::TrustPolicy::for_inspection();
    inspection.max_input = max_input;
    auto seen = voucher::verify_artifact(body, inspection);
    if (!seen) return envelope_refusal(seen.error(), false);
    if (seen->envelope.signer_chain.empty()) {
      return refuse(MasaError::rvr_signature_invalid,
                    "registrar voucher-request: it carries no certificate for its signer");
    }
    anchor = farthest_ca(seen->envelope.signer_chain.front(), seen->envelope.embedded_certificates);
    auto checked =
        voucher::verify_artifact(body, anchored(cache.store_for({anchor}), now, max_input));
    if (!checked) return envelope_refusal(checked.error(), false);
    verified = std::move(checked).value();
    cache.remember_anchor(caller_fingerprint, anchor);
  }

  RegistrarRequest out{std::move(verified->payload), form.form,
                       std::move(verified->envelope.signer_chain),
                       std::move(verified->envelope.embedded_certificates)};
  X509* signer = out.chain.front()->x509();
  if (signer == nullptr || !has_cmc_ra(signer)) {
    return refuse(MasaError::rvr_signer_not_registrar,
                  "signer: " + (signer != nullptr ? crypto::certificate_subject(signer)
                                                  : std::string("(not readable by OpenSSL)")));
  }
  if (out.payload.kind != voucher::ArtifactKind::voucher_request) {
    return refuse(MasaError::malformed_request,
                  "the registrar's payload is a voucher, not an ietf-voucher-request:voucher");
  }
  return out;
}

Check check_signed_by_caller(const RegistrarRequest& rvr, ByteView caller_certificate_der) {
  if (caller_certificate_der.empty()) {
    return refuse(MasaError::rvr_not_from_caller, "the connection presented no certificate");
  }
  const crypto::CertificateRef& signer = rvr.chain.front();
  if (std::equal(signer->der.begin(), signer->der.end(), caller_certificate_der.begin(),
                 caller_certificate_der.end())) {
    return std::nullopt;
  }
  auto caller = crypto::CertificateCache::shared().decode(caller_certificate_der);
  if (caller && (*caller)->spki_der == signer->spki_der) return std::nullopt;
  return refuse(
      MasaError::rvr_not_from_caller,
      "signer: " + (signer->x509() != nullptr ? crypto::certificate_subject(signer->x509())
                                              : std::string("(unreadable)")));
}

Check check_request_age(const voucher::Voucher& rvr, std::time_t now, std::chrono::seconds max_age,
                        std::chrono::seconds skew) {
  if (!rvr.created_on) return std::nullopt;
  const std::int64_t created = rvr.created_on->unix_seconds();
  const std::int64_t age = static_cast<std::int64_t>(now) - created;
  if (age > max_age.count()) {
    return refuse(MasaError::rvr_stale, "created-on " + format_date_time(*rvr.created_on) + " is " +
                                            std::to_string(age) +
                                            " s before this MASA's clock; the limit is " +
                                            std::to_string(max_age.count()) + " s");
  }
  if (-age > skew.count()) {
    return refuse(MasaError::rvr_stale, "created-on " + format_date_time(*rvr.created_on) + " is " +
                                            std::to_string(-age) +
                                            " s ahead of this MASA's clock; the limit is " +
                                            std::to_string(skew.count()) + " s");
  }
  return std::nullopt;
}

// ------------------------------------------------------- pledge request

Outcome<std::shared_ptr<const crypto::TrustStore>> IdevidAnchors::current() {
  {
    std::lock_guard lock(mutex_);
    if (trust_) return trust_;
  }
  auto loaded = reload();
  if (!loaded) return std::move(loaded).refusal();
  std::lock_guard lock(mutex_);
  return trust_;
}

Outcome<bool> IdevidAnchors::reload() {
  auto cas = store_.list_cas();
  if (!cas) return refuse(MasaError::store_failure);
  std::vector<crypto::X509Ptr> anchors;
  std::string key;
  for (const store::CaRecord& ca : *cas) {
    if (ca.role != store::CaRole::issuing) continue;
    auto decoded = crypto::CertificateCache::shared().decode(ca.certificate_der);
    if (!decoded || (*decoded)->x509() == nullptr)
      continue;  // a record we cannot read anchors nothing
    key.append((*decoded)->der_sha256.begin(), (*decoded)->der_sha256.end());
    anchors.push_back(crypto::share((*decoded)->x509()));
  }
  std::lock_guard lock(mutex_);
  if (trust_ && key == key_) return false;
  trust_ = std::make_shared<const crypto::TrustStore>(std::move(anchors));
  key_ = std::move(key);
  return true;
}

bool carries_pledge_request(const voucher::Voucher& rvr) {
  return rvr.prior_signed_voucher_request && !rvr.prior_signed_voucher_request->empty();
}

Outcome<PledgeRequest> verify_pledge_request(const RegistrarRequest& rvr, std::time_t now,
                                             std::size_t max_input, IdevidAnchors& anchors,
                                             const crypto::CertificateRef& recorded_idevid) {
  // RFC 8995 §5.5.5: the MASA verifies the pledge's own request inside.
  if (!carries_pledge_request(rvr.payload)) return refuse(MasaError::pvr_missing);
  const Bytes& pvr = *rvr.payload.prior_signed_voucher_request;
  std::vector<crypto::CertificateRef> candidates;
  if (recorded_idevid) candidates.push_back(recorded_idevid);
  candidates.insert(candidates.end(), rvr.embedded.begin(), rvr.embedded.end());
  const auto policy = [&](std::shared_ptr<const crypto::TrustStore> trust) {
    voucher::TrustPolicy p = anchored(std::move(trust), now, max_input);
    if (recorded_idevid) p.recorded_signer = recorded_idevid->der;
    p.candidate_signers = candidates;
    return p;
  };
  MASA_ASSIGN(auto trust, anchors.current());
  auto verified = voucher::verify_artifact(pvr, policy(trust));
  if (!verified && verified.error().code == ErrorCode::untrusted_chain) {
    MASA_ASSIGN(const bool changed, anchors.reload());
    if (changed) {
      MASA_ASSIGN(trust, anchors.current());
      verified = voucher::verify_artifact(pvr, policy(trust));
    }
  }
  if (!verified) return envelope_refusal(verified.error(), true);
  if (verified->payload.kind != voucher::ArtifactKind::voucher_request) {
    return refuse(MasaError::malformed_request,
                  "the prior-signed-voucher-request's payload is a voucher, not a "
                  "voucher-request");
  }
  PledgeRequest out{std::move(verified->payload), verified->envelope.signer_chain.front(), {}};
  // PrintableString in our IDevIDs; UTF8String in RFC 8995 Appendix C's.
  if (auto serial = pki::device_serial_of(*out.idevid)) out.idevid_serial = *serial;
  return out;
}

Check check_serial_numbers(const RegistrarRequest& rvr, const PledgeRequest& pvr) {
  const auto& registrar = rvr.payload.serial_number;
  const auto& pledge = pvr.payload.serial_number;
  if (registrar != pledge || pledge != pvr.idevid_serial) {
    return refuse(MasaError::serial_mismatch, "registrar voucher-request " + quoted(registrar) +
                                                  ", pledge voucher-request " + quoted(pledge) +
                                                  ", IDevID " + quoted(pvr.idevid_serial));
  }
  return std::nullopt;
}

Check check_idevid_issuer(const voucher::Voucher& rvr, const crypto::DecodedCertificate& idevid) {
  if (!rvr.idevid_issuer) return std::nullopt;
  const Bytes& claimed = *rvr.idevid_issuer;
  const auto same = [&claimed](ByteView candidate) {
    return !candidate.empty() &&
           std::equal(claimed.begin(), claimed.end(), candidate.begin(), candidate.end());
  };
  if (const auto* aki = idevid.extension(crypto::oid::ce_authority_key_identifier)) {
    if (same(aki->encoded_value) || same(aki->value)) return std::nullopt;
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT ... }
    namespace der = crypto::der;
    der::Reader top(aki->value);
    if (auto seq = top.expect(der::k_sequence, "AuthorityKeyIdentifier")) {
      if (auto fields = top.enter(*seq, "AuthorityKeyIdentifier")) {
        auto key_id = fields->next();
        if (key_id && key_id->tag == der::context(0, false) && same(key_id->value)) {
          return std::nullopt;
        }
      }
    }
  }
  if (same(idevid.issuer)) return std::nullopt;
  if (X509* cert = idevid.x509(); cert != nullptr) {
    const X509_NAME* issuer = X509_get_issuer_name(cert);
    std::array<char, 1024> oneline{};
    if (X509_NAME_oneline(issuer, oneline.data(), static_cast<int>(oneline.size())) != nullptr &&
        same(as_bytes(oneline.data()))) {
      return std::nullopt;
    }
    if (same(as_bytes(crypto::name_rfc2253(issuer)))) return std::nullopt;
  }
  return refuse(MasaError::idevid_issuer_mismatch,
                "got " + std::to_string(claimed.size()) + " bytes beginning " +
                    hex_encode(ByteView(claimed).first(std::min<std::size_t>(claimed.size(), 8))));
}

Outcome<voucher::Assertion> check_proximity(const RegistrarRequest& rvr, const PledgeRequest& pvr,
                                            std::optional<voucher::Assertion> fallback) {
  const voucher::Voucher& p = pvr.payload;
  std::optional<Bytes> seen_key;  // the SubjectPublicKeyInfo the pledge saw
  if (p.proximity_registrar_cert) {
    auto cert = crypto::CertificateCache::shared().decode(*p.proximity_registrar_cert);
    if (!cert) {
      return refuse(MasaError::malformed_request,
                    "pledge voucher-request: proximity-registrar-cert: " + cert.error().message);
    }
    seen_key = (*cert)->spki_der;
  } else if (p.proximity_registrar_pubk) {
    seen_key = *p.proximity_registrar_pubk;
  }
  bool shown = false;
  if (seen_key || p.proximity_registrar_pubk_sha256) {
    for (const auto& c : rvr.chain) {
      const Bytes& spki = c->spki_der;
      if ((seen_key && spki == *seen_key) ||
          (!seen_key && crypto::sha256(spki) == *p.proximity_registrar_pubk_sha256)) {
        shown = true;
        break;
      }
    }
  }
  if (shown) return voucher::Assertion::proximity;
  if (fallback) return *fallback;
  if (!seen_key && !p.proximity_registrar_pubk_sha256) {
    return refuse(MasaError::proximity_not_shown,
                  "the pledge voucher-request names no proximity-registrar-cert");
  }
  return refuse(MasaError::proximity_not_shown);
}

Check check_nonces(const RegistrarRequest& rvr, const PledgeRequest& pvr) {
  // RFC 8995 §5.5.6: the MASA checks that the registrar copied the
  // pledge's nonce; a registrar that sends none asks for a nonceless
  // voucher (decided by policy afterwards).
  const auto& registrar = rvr.payload.nonce;
  if (registrar && registrar != pvr.payload.nonce) {
    return refuse(MasaError::nonce_mismatch, pvr.payload.nonce
                                                 ? std::string()
                                                 : "the pledge voucher-request carries no nonce");
  }
  return std::nullopt;
}

}  // namespace vouchsafe::masa::detail
