// The registrar's endpoints as pipelines of named steps, each refusing
// with its own RegistrarError: BRSKI (RFC 8995 §5.3-§5.8) and EST (RFC
// 7030 as RFC 8995 §5.9 profiles it).
#include "registrar/registrar_service.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "crypto/der.h"
#include "crypto/keys.h"
#include "crypto/oids.h"
#include "crypto/trust_store.h"
#include "pki/certificate_fields.h"
#include "registrar/enrolling_voucher.h"
#include "registrar/voucher_request.h"
#include "voucher/artifact.h"
#include "voucher/json_codec.h"
#include "voucher/json_reader.h"

namespace vouchsafe::registrar {
namespace {

using E = RegistrarError;
using voucher::Form;

constexpr std::string_view k_cms = "application/voucher-cms+json";
constexpr std::string_view k_jws = "application/voucher-jws+json";
constexpr std::string_view k_cose = "application/voucher+cose";
constexpr std::string_view k_cose_legacy = "application/voucher-cose+cbor";
constexpr std::string_view k_json = "application/json";
// A status report is a few hundred bytes of JSON.
constexpr std::size_t k_max_status_bytes = std::size_t{16} << 10U;
// How much of a MASA's refusal the pledge is told.
constexpr std::size_t k_max_masa_reason = 600;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The type/subtype of a media type, lower case, without parameters.
std::string essence(std::string_view media_type) {
  std::string out(trim(media_type.substr(0, media_type.find(';'))));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The first media range of an Accept header that names a voucher form; the
// request's form for none, "*/*" or "application/*".
std::optional<Form> answer_form(std::string_view accept, Form request) {
  if (trim(accept).empty()) return request;
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    const std::string range = essence(accept.substr(0, comma));
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    if (range == "*/*" || range == "application/*") return request;
    if (auto form = voucher_form_of(range)) return form;
  }
  return std::nullopt;
}

// A MASA's plain-text reason on one line: its status table's sentence and
// the detail under it (which says which check failed), bounded.
std::string one_line(ByteView body, std::size_t max) {
  std::string text(as_text(body.first(std::min(body.size(), max))));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\n') {
      out += " / ";
    } else {
      out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    }
  }
  return out;
}

bool same_bytes(ByteView a, ByteView b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// RFC 8995 §2.3.2: MASAURLSyntax ::= IA5String, an authority.
std::optional<std::string> masa_authority(const crypto::DecodedCertificate& idevid) {
  const crypto::CertificateExtension* ext = idevid.extension(crypto::oid::pe_masa_url);
  if (ext == nullptr) return std::nullopt;
  auto value = crypto::der::parse_single(ext->value, crypto::der::k_ia5_string, "MASA URL");
  if (!value || value->value.empty() || value->value.size() > 255) return std::nullopt;
  std::string text(as_text(value->value));
  // Tolerate a scheme some factories write, though §2.3.2 says authority.
  if (text.rfind("https://", 0) == 0) text.erase(0, 8);
  while (!text.empty() && text.back() == '/') text.pop_back();
  if (text.empty() || text.find('/') != std::string::npos) return std::nullopt;
  return text;
}

// The identity an authenticated TLS client certificate gives.
struct Identity {
  crypto::CertificateRef certificate;
  std::string serial;       // its subject serialNumber
  std::string fingerprint;  // hex SHA-256 of its DER
};

// What the store keeps of an LDevID issued.
store::LdevidRecord ldevid_record(const std::string& serial, std::time_t at, Bytes der,
                                  bool renewal) {
  store::LdevidRecord record;
  record.serial = serial;
  record.at = at;
  record.renewal = renewal;
  if (auto cert = crypto::CertificateCache::shared().decode(der)) {
    record.not_after = (*cert)->not_after;
    if (X509* x = (*cert)->x509()) {
      const ASN1_INTEGER* number = X509_get0_serialNumber(x);
      record.certificate_serial = hex_encode(ByteView(
          ASN1_STRING_get0_data(number), static_cast<std::size_t>(ASN1_STRING_length(number))));
    }
  }
  record.certificate_der = std::move(der);
  return record;
}

}  // namespace

std::string_view voucher_media_type(Form form) {
  switch (form) {
    case Form::cms:
      return k_cms;
    case Form::jws:
      return k_jws;
    case Form::cose:
      return k_cose;
  }
  return k_cms;
}

std::optional<Form> voucher_form_of(std::string_view media_type) {
  const std::string e = essence(media_type);
  if (e == k_cms) return Form::cms;
  if (e == k_jws) return Form::jws;
  if (e == k_cose || e == k_cose_legacy) return Form::cose;
  return std::nullopt;
}

std::string domain_id_of(const crypto::DecodedCertificate& cert) {
  if (const ByteView ski = crypto::subject_key_identifier(cert); !ski.empty()) {
    return base64_encode(ski);
  }
  return base64_encode(crypto::sha256(cert.spki_der));
}

struct RegistrarService::State {
  State(RegistrarConfig c, store::RegistrarStore& s, MasaClient& m)
      : config(std::move(c)), store(s), masa(m) {}

  RegistrarConfig config;
  store::RegistrarStore& store;
  MasaClient& masa;
  std::shared_ptr<const crypto::TrustStore> manufacturers;
  std::shared_ptr<const crypto::TrustStore> domain;
  crypto::CertificateRef tls_certificate;
  RegistrarResponse cacerts;  // the same for every caller

  [[nodiscard]] std::time_t now() const { return config.now ? config.now() : std::time(nullptr); }

  // Per request: the pledge's serial once known, for the events.
  struct Context {
    std::string serial;
  };

  static RegistrarOutcome<Identity> authenticate(const Caller& caller,
                                                 const crypto::TrustStore& anchors, E refusal,
                                                 const std::string& what, std::time_t at);
  RegistrarOutcome<Identity> authenticate_idevid(const Caller& caller, std::time_t at) {
    return authenticate(caller, *manufacturers, E::pledge_not_authenticated,
                        "an IDevID of a configured manufacturer", at);
  }
  // An IDevID, or an LDevID of this domain (after enrollment).
  RegistrarOutcome<Identity> authenticate_pledge(const Caller& caller, std::time_t at) {
    auto idevid = authenticate_idevid(caller, at);
    if (idevid || idevid.refusal().error != E::pledge_not_authenticated) return idevid;
    auto ldevid = authenticate(caller, *domain, E::pledge_not_authenticated, "an LDevID", at);
    if (ldevid) return ldevid;
    return idevid;
  }

  // The MASA: the IDevID names its authority (RFC 8995 §2.3.2); the
  // configuration allows it, or sends every request elsewhere.
  [[nodiscard]] RegistrarOutcome<std::string> masa_base_url(
      const crypto::DecodedCertificate& idevid) const;
  // The certificate of this registrar's chain a voucher pins.
  [[nodiscard]] RegistrarOutcome<crypto::CertificateRef> pinned_in_domain(
      const voucher::Voucher& v) const;
  // RFC 8995 §5.8.3: the device's audit log, fetched with the same RVR
  // (SPEC.md §2) and judged by the configured policy.
  Check<E> check_history(const std::string& base_url, Form form, const Bytes& rvr,
                         const std::string& domain_id);

  RegistrarOutcome<RegistrarResponse> request_voucher(const RegistrarRequest& r, Context& ctx);
  RegistrarOutcome<RegistrarResponse> status_report(const RegistrarRequest& r, Context& ctx);
  RegistrarOutcome<RegistrarResponse> csrattrs(const RegistrarRequest& r, Context& ctx);
  RegistrarOutcome<RegistrarResponse> enroll(const RegistrarRequest& r, Context& ctx);

  void record(const std::string& serial, const std::string& kind, bool ok, std::string detail) {
    if (serial.empty()) return;
    // The answer stands even if its note cannot be written.
    (void)store.record_event({serial, now(), kind, ok, std::move(detail)});
  }
};

RegistrarService::RegistrarService(RegistrarConfig config, store::RegistrarStore& store,
                                   MasaClient& masa)
    : state_(std::make_unique<State>(std::move(config), store, masa)) {
  auto& s = *state_;
  if (!s.config.signer || s.config.chain.empty() || !s.config.domain_ca) {
    throw std::invalid_argument("the registrar needs its key, its certificate and a domain CA");
  }
  std::vector<crypto::X509Ptr> anchors;
  for (const auto& a : s.config.manufacturer_anchors) anchors.push_back(crypto::share(a.get()));
  s.manufacturers = std::make_shared<const crypto::TrustStore>(std::move(anchors));
  std::vector<crypto::X509Ptr> domain;
  for (X509* c : s.config.domain_ca->certificates()) domain.push_back(crypto::share(c));
  s.domain = std::make_shared<const crypto::TrustStore>(std::move(domain));
  if (s.config.tls_certificate_der.empty()) {
    s.tls_certificate = s.config.chain.front();
  } else {
    auto tls = crypto::CertificateCache::shared().decode(s.config.tls_certificate_der);
    if (!tls)
      throw std::invalid_argument("the registrar's TLS certificate: " + tls.error().message);
    s.tls_certificate = std::move(tls).value();
  }
  auto pkcs7 = certs_only_der(s.config.domain_ca->certificates());
  if (!pkcs7) throw std::invalid_argument(pkcs7.error().message);
  s.cacerts.status = 200;
  s.cacerts.content_type = std::string(k_pkcs7);
  s.cacerts.body = to_bytes(base64_body(*pkcs7));
  s.cacerts.headers = {{"Content-Transfer-Encoding", "base64"}};
}

RegistrarService::~RegistrarService() = default;

RegistrarResponse RegistrarService::handle(const RegistrarRequest& request) {
  State& s = *state_;
  State::Context ctx;
  RegistrarOutcome<RegistrarResponse> answer = refuse(E::unknown_endpoint);
  if (request.body.size() > s.config.max_request_bytes) {
    answer =
        refuse(E::request_too_large, std::to_string(request.body.size()) + " bytes; the limit is " +
                                         std::to_string(s.config.max_request_bytes));
  } else {
    switch (request.endpoint) {
      case Endpoint::request_voucher:
        answer = s.request_voucher(request, ctx);
        break;
      case Endpoint::voucher_status:
      case Endpoint::enroll_status:
        answer = s.status_report(request, ctx);
        break;
      case Endpoint::cacerts:
        answer = s.cacerts;
        break;
      case Endpoint::csrattrs:
        answer = s.csrattrs(request, ctx);
        break;
      case Endpoint::simple_enroll:
      case Endpoint::simple_reenroll:
        answer = s.enroll(request, ctx);
        break;
    }
  }
  if (answer) return std::move(answer).value();
  const RegistrarRefusal& refusal = answer.refusal();
  s.record(ctx.serial, std::string(status_entry(refusal.error).name), false, refusal.detail);
  return refusal_response(refusal);
}

RegistrarOutcome<Identity> RegistrarService::State::authenticate(const Caller& caller,
                                                                 const crypto::TrustStore& anchors,
                                                                 E refusal, const std::string& what,
                                                                 std::time_t at) {
  if (caller.certificate_der.empty()) {
    return refuse(refusal, "the connection presented no client certificate");
  }
  auto& cache = crypto::CertificateCache::shared();
  auto leaf = cache.decode(caller.certificate_der);
  if (!leaf) return refuse(refusal, "the client certificate: " + leaf.error().message);
  std::vector<crypto::CertificateRef> untrusted;
  for (const Bytes& der : caller.chain_der) {
    if (auto c = cache.decode(der)) untrusted.push_back(std::move(c).value());
  }
  auto path = anchors.validate(*leaf, untrusted, at);
  if (!path) {
    return refuse(refusal, "the client certificate is not " + what + ": " + path.error().message);
  }
  auto serial = pki::device_serial_of(**leaf);
  if (!serial) return refuse(E::pledge_identity_unusable, serial.error().message);
  return Identity{*leaf, std::move(serial).value(), hex_encode((*leaf)->der_sha256)};
}

RegistrarOutcome<std::string> RegistrarService::State::masa_base_url(
    const crypto::DecodedCertificate& idevid) const {
  if (!config.masa.override_url.empty()) return config.masa.override_url;
  const auto authority = masa_authority(idevid);
  if (!authority) return refuse(E::masa_unknown);
  const auto& allowed = config.masa.allowed_authorities;
  if (std::find(allowed.begin(), allowed.end(), *authority) == allowed.end()) {
    return refuse(E::masa_not_allowed, "the IDevID names " + authority->substr(0, 80));
  }
  return "https://" + *authority;
}

RegistrarOutcome<crypto::CertificateRef> RegistrarService::State::pinned_in_domain(
    const voucher::Voucher& v) const {
  for (const auto& c : config.chain) {
    if ((v.pinned_domain_cert && same_bytes(*v.pinned_domain_cert, c->der)) ||
        (v.pinned_domain_pubk && *v.pinned_domain_pubk == c->spki_der)) {
      return c;
    }
  }
  return refuse(E::voucher_unusable, "it pins no certificate of this registrar's domain");
}

Check<RegistrarError> RegistrarService::State::check_history(const std::string& base_url, Form form,
                                                             const Bytes& rvr,
                                                             const std::string& domain_id) {
  auto log_reply =
      masa.post(MasaPost{base_url, "requestauditlog", std::string(voucher_media_type(form)),
                         std::string(k_json), rvr});
  if (!log_reply) {
    return refuse(E::audit_log_unavailable, base_url + ": " + log_reply.error().message);
  }
  if (log_reply->status != 200) {
    return refuse(E::audit_log_unavailable, "the MASA answered " +
                                                std::to_string(log_reply->status) + ": " +
                                                one_line(log_reply->body, k_max_masa_reason));
  }
  auto log = parse_audit_log(log_reply->body);
  if (!log) return refuse(E::audit_log_unavailable, "the log: " + log.error().message);
  const AuditVerdict verdict = apply_audit_log_policy(*log, domain_id, config.audit_log);
  if (!verdict.accepted) return refuse(E::audit_log_refused, verdict.reason);
  return std::nullopt;
}

RegistrarOutcome<RegistrarResponse> RegistrarService::State::request_voucher(
    const RegistrarRequest& r, Context& ctx) {
  const std::time_t at = now();
  // Media types: the registrar voucher-request goes to the MASA in the
  // pledge's form (SPEC.md §3: a COSE pledge gets a COSE RVR) and asks
  // for the voucher the pledge asks for.
  const auto form = voucher_form_of(r.content_type);
  if (!form) {
    return refuse(E::unsupported_media_type,
                  "got Content-Type '" + std::string(r.content_type.substr(0, 80)) + "'");
  }
  const auto answer = answer_form(r.accept, *form);
  if (!answer) {
    return refuse(E::not_acceptable, "got Accept '" + std::string(r.accept.substr(0, 120)) + "'");
  }

  // RFC 8995 §5.3: the pledge is its IDevID, shown at the TLS handshake.
  ASSIGN_OR_REFUSE(const Identity pledge, authenticate_idevid(r.caller, at));
  ctx.serial = pledge.serial;
  if (!store.record_pledge(pledge.serial, pledge.certificate->der, at)) {
    return refuse(E::store_failure);
  }
  record(
      pledge.serial, "voucher-request", true,
      std::string(voucher::form_name(*form)) + " from IDevID " + pledge.fingerprint.substr(0, 16));

  // The pledge voucher-request: signed by that IDevID's key (RFC 8995
  // §5.3: the registrar verifies the request against the TLS client's
  // IDevID), for this device, to this registrar. The key is pinned, so a
  // request that names no signer (cBRSKI) or only its IDevID verifies.
  voucher::TrustPolicy policy =
      voucher::TrustPolicy::with_pinned_key(crypto::share(pledge.certificate->public_key.get()));
  policy.at = at;
  policy.max_input = config.max_request_bytes;
  auto pvr = voucher::verify_artifact(r.body, policy);
  if (!pvr) {
    switch (pvr.error().code) {
      case ErrorCode::bad_signature:
      case ErrorCode::unsupported_algorithm:
      case ErrorCode::untrusted_chain:
      case ErrorCode::unknown_signer:
        return refuse(E::pvr_signature_invalid,
                      "with the key of the TLS client certificate: " + pvr.error().message);
      case ErrorCode::input_too_large:
        return refuse(E::request_too_large, pvr.error().message);
      default:
        return refuse(E::malformed_request, pvr.error().message);
    }
  }
  if (pvr->payload.kind != voucher::ArtifactKind::voucher_request) {
    return refuse(E::malformed_request, "the body is a voucher, not an ietf-voucher-request");
  }
  // A certificate it names as its signer must be of the same key.
  if (!pvr->envelope.signer_chain.empty() &&
      pvr->envelope.signer_chain.front()->spki_der != pledge.certificate->spki_der) {
    return refuse(E::pvr_not_from_pledge);
  }
  if (pvr->payload.serial_number != pledge.serial) {
    return refuse(E::serial_mismatch, "serial-number '" +
                                          pvr->payload.serial_number.value_or("").substr(0, 64) +
                                          "', IDevID '" + pledge.serial + "'");
  }
  // RFC 8995 §5.2: the pledge names the registrar whose TLS certificate it
  // saw; cBRSKI pledges name its key (constrained-voucher §9.1).
  const voucher::Voucher& p = pvr->payload;
  const Bytes& our_spki = tls_certificate->spki_der;
  bool ours = false;
  if (p.proximity_registrar_cert) {
    if (same_bytes(*p.proximity_registrar_cert, tls_certificate->der)) {
      ours = true;
    } else if (auto seen = crypto::CertificateCache::shared().decode(*p.proximity_registrar_cert)) {
      ours = (*seen)->spki_der == our_spki;
    }
  } else if (p.proximity_registrar_pubk) {
    ours = *p.proximity_registrar_pubk == our_spki;
  } else if (p.proximity_registrar_pubk_sha256) {
    ours = *p.proximity_registrar_pubk_sha256 == crypto::sha256(our_spki);
  } else {
    return refuse(E::wrong_registrar, "the request names no proximity-registrar-cert");
  }
  if (!ours) return refuse(E::wrong_registrar);

  ASSIGN_OR_REFUSE(const std::string base_url, masa_base_url(*pledge.certificate));

  // RFC 8995 §5.5: the registrar voucher-request wraps the pledge's.
  RegistrarRequestOptions options;
  options.form = *form;
  options.created_on = DateTime::from_unix_seconds(at);
  voucher::SigningIdentity identity{config.signer.get(), config.chain};
  auto rvr = make_registrar_voucher_request(identity, r.body, p, pledge.certificate.get(), options);
  if (!rvr) return refuse(E::internal_error);

  MasaPost post{base_url, "requestvoucher", std::string(voucher_media_type(*form)),
                std::string(voucher_media_type(*answer)), *rvr};
  auto reply = masa.post(post);
  if (!reply) return refuse(E::masa_unreachable, base_url + ": " + reply.error().message);
  if (reply->status != 200) {
    return refuse(E::masa_refused, "the MASA (" + base_url + ") answered " +
                                       std::to_string(reply->status) + ": " +
                                       one_line(reply->body, k_max_masa_reason));
  }

  // What came back must be a voucher for this pledge that pins this
  // domain; its signature is the pledge's to judge (it holds the MASA's
  // anchor), and is checked here only against the signer it names.
  voucher::TrustPolicy inspection = voucher::TrustPolicy::for_inspection();
  inspection.max_input = std::max<std::size_t>(config.max_request_bytes, 64U << 10U);
  auto voucher = voucher::verify_artifact(reply->body, inspection);
  if (!voucher) return refuse(E::voucher_unusable, voucher.error().message);
  const voucher::Voucher& v = voucher->payload;
  if (v.kind != voucher::ArtifactKind::voucher || v.serial_number != pledge.serial) {
    return refuse(E::voucher_unusable, "it is not a voucher for serial-number " + pledge.serial);
  }
  if (p.nonce && v.nonce && *p.nonce != *v.nonce) {
    return refuse(E::voucher_unusable, "its nonce is not the pledge's");
  }
  ASSIGN_OR_REFUSE(const crypto::CertificateRef pinned, pinned_in_domain(v));
  const std::string domain_id = domain_id_of(*pinned);
  // RFC 8995 §5.8.3: the device's history, judged before anything reaches
  // the pledge.
  CHECK_OR_REFUSE(check_history(base_url, *form, *rvr, domain_id));

  store::VoucherRecord record;
  record.serial = pledge.serial;
  record.at = at;
  record.idevid_fingerprint = pledge.fingerprint;
  record.masa_url = base_url;
  record.form = std::string(voucher::form_name(voucher->envelope.form));
  record.assertion = v.assertion ? std::string(voucher::assertion_name(*v.assertion)) : "";
  if (v.nonce) record.nonce = voucher::json_nonce_text(v);
  record.domain_id = domain_id;
  record.voucher = reply->body;
  if (!store.record_voucher(record)) return refuse(E::store_failure);
  this->record(pledge.serial, "voucher-forwarded", true,
               "assertion " + record.assertion + ", domainID " + domain_id + ", from " + base_url);

  RegistrarResponse out;
  out.status = 200;
  out.content_type =
      reply->content_type.empty() ? std::string(voucher_media_type(*answer)) : reply->content_type;
  out.body = std::move(reply->body);  // RFC 8995 §5.6: unchanged
  return out;
}

RegistrarOutcome<Bytes> RegistrarService::enroll_offline(const std::vector<Bytes>& idevid_chain,
                                                         Form form) {
  State& s = *state_;
  const std::time_t at = s.now();
  if (idevid_chain.empty()) return refuse(E::pledge_not_authenticated, "no IDevID given");
  // The owner must know X authentically: from an IDevID its manufacturer
  // anchors vouch for.
  const Caller device_caller{idevid_chain.front(),
                             std::vector<Bytes>(idevid_chain.begin() + 1, idevid_chain.end())};
  ASSIGN_OR_REFUSE(const Identity device, s.authenticate_idevid(device_caller, at));
  auto share = make_enrolling_extension(*device.certificate, device.serial, *s.config.domain_ca,
                                        s.config.ldevid, at);
  if (!share) return refuse(E::enrollment_failure, share.error().message);
  ASSIGN_OR_REFUSE(const std::string base_url, s.masa_base_url(*device.certificate));

  // RFC 8995 §5.5 without the pledge's request: nonceless, so the voucher
  // carries an expiry and may wait for the device.
  voucher::Voucher rvr;
  rvr.kind = voucher::ArtifactKind::voucher_request;
  rvr.created_on = DateTime::from_unix_seconds(at);
  rvr.serial_number = device.serial;
  rvr.enrolling = *share;
  voucher::SigningIdentity identity{s.config.signer.get(), s.config.chain};
  auto signed_rvr = voucher::sign_artifact(rvr, form, identity);
  if (!signed_rvr) return refuse(E::internal_error);
  const std::string media(voucher_media_type(form));
  auto reply = s.masa.post(MasaPost{base_url, "requestvoucher", media, media, *signed_rvr});
  if (!reply) return refuse(E::masa_unreachable, base_url + ": " + reply.error().message);
  if (reply->status != 200) {
    return refuse(E::masa_refused, "the MASA (" + base_url + ") answered " +
                                       std::to_string(reply->status) + ": " +
                                       one_line(reply->body, k_max_masa_reason));
  }
  voucher::TrustPolicy inspection = voucher::TrustPolicy::for_inspection();
  auto voucher = voucher::verify_artifact(reply->body, inspection);
  if (!voucher) return refuse(E::voucher_unusable, voucher.error().message);
  const voucher::Voucher& v = voucher->payload;
  if (v.kind != voucher::ArtifactKind::voucher || v.serial_number != device.serial ||
      v.enrolling != share.value()) {
    return refuse(E::voucher_unusable,
                  "it is not a voucher for serial-number " + device.serial + " carrying the share");
  }
  ASSIGN_OR_REFUSE(const crypto::CertificateRef pinned, s.pinned_in_domain(v));
  const std::string domain_id = domain_id_of(*pinned);
  CHECK_OR_REFUSE(s.check_history(base_url, form, *signed_rvr, domain_id));

  if (!s.store.record_pledge(device.serial, device.certificate->der, at)) {
    return refuse(E::store_failure);
  }
  store::VoucherRecord record;
  record.serial = device.serial;
  record.at = at;
  record.idevid_fingerprint = device.fingerprint;
  record.masa_url = base_url;
  record.form = std::string(voucher::form_name(form));
  record.assertion = v.assertion ? std::string(voucher::assertion_name(*v.assertion)) : "";
  record.domain_id = domain_id;
  record.voucher = reply->body;
  if (!s.store.record_voucher(record)) return refuse(E::store_failure);
  const store::LdevidRecord ldevid = ldevid_record(device.serial, at, share->ldevid, false);
  if (!s.store.record_ldevid(ldevid)) return refuse(E::store_failure);
  s.record(device.serial, "enrolling-voucher", true,
           "co-generated LDevID " + ldevid.certificate_serial + ", voucher from " + base_url);
  return std::move(reply->body);
}

RegistrarOutcome<RegistrarResponse> RegistrarService::State::status_report(
    const RegistrarRequest& r, Context& ctx) {
  const bool enroll = r.endpoint == Endpoint::enroll_status;
  const std::time_t at = now();
  ASSIGN_OR_REFUSE(const Identity pledge,
                   enroll ? authenticate_pledge(r.caller, at) : authenticate_idevid(r.caller, at));
  ctx.serial = pledge.serial;
  if (essence(r.content_type) != k_json) {
    return refuse(E::unsupported_media_type, "a status report is application/json; got '" +
                                                 r.content_type.substr(0, 80) + "'");
  }
  if (r.body.size() > k_max_status_bytes) {
    return refuse(E::request_too_large, "a status report is at most 16 KiB");
  }
  // RFC 8995 §5.7 / §5.9.4: {"version": uint, "status": bool, "reason"?:
  // text, "reason-context"?: {...}}.
  auto doc = voucher::read_json(r.body, 8);
  if (!doc) return refuse(E::malformed_status, doc.error().message);
  using K = voucher::JsonValue::Kind;
  const auto* version = doc->kind == K::object ? doc->find("version") : nullptr;
  const auto* status = doc->kind == K::object ? doc->find("status") : nullptr;
  const auto* reason = doc->kind == K::object ? doc->find("reason") : nullptr;
  const auto* context = doc->kind == K::object ? doc->find("reason-context") : nullptr;
  if (version == nullptr ||
      !(version->as_unsigned_integer() || (version->kind == K::string && !version->text.empty()))) {
    return refuse(E::malformed_status, "no version");
  }
  if (status == nullptr || status->kind != K::boolean) {
    return refuse(E::malformed_status, "no boolean status");
  }
  if ((reason != nullptr && reason->kind != K::string) ||
      (context != nullptr && context->kind != K::object)) {
    return refuse(E::malformed_status, "reason must be text and reason-context an object");
  }
  std::string detail = reason != nullptr ? reason->text.substr(0, 1000) : std::string();
  record(pledge.serial, enroll ? "enroll-status" : "voucher-status", status->boolean,
         std::move(detail));
  RegistrarResponse out;
  out.status = 200;
  return out;
}

RegistrarOutcome<RegistrarResponse> RegistrarService::State::csrattrs(const RegistrarRequest& r,
                                                                      Context& ctx) {
  ASSIGN_OR_REFUSE(const Identity pledge, authenticate_pledge(r.caller, now()));
  ctx.serial = pledge.serial;
  RegistrarResponse out;
  out.status = 200;
  out.content_type = std::string(k_csrattrs);
  out.body = to_bytes(base64_body(csr_attributes_der({pledge.serial, config.ldevid_key_type})));
  out.headers = {{"Content-Transfer-Encoding", "base64"}};
  return out;
}

RegistrarOutcome<RegistrarResponse> RegistrarService::State::enroll(const RegistrarRequest& r,
                                                                    Context& ctx) {
  const bool renewal = r.endpoint == Endpoint::simple_reenroll;
  const std::time_t at = now();
  Identity pledge;
  if (renewal) {
    // RFC 7030 §4.2.2: re-enrollment is authenticated by the certificate
    // being renewed.
    ASSIGN_OR_REFUSE(pledge, authenticate(r.caller, *domain, E::reenroll_needs_ldevid,
                                          "an LDevID of this domain", at));
    ctx.serial = pledge.serial;
  } else {
    ASSIGN_OR_REFUSE(pledge, authenticate_idevid(r.caller, at));
    ctx.serial = pledge.serial;
    // RFC 8995 §5.8.3 and the issue's rule: an LDevID only for a pledge
    // that got its voucher through this registrar (and so passed the
    // audit-log policy), with the same IDevID.
    auto had = store.has_voucher(pledge.serial, pledge.fingerprint);
    if (!had) return refuse(E::store_failure);
    if (!*had) return refuse(E::no_voucher);
  }
  if (essence(r.content_type) != k_pkcs10) {
    return refuse(E::unsupported_media_type, "simpleenroll takes application/pkcs10; got '" +
                                                 r.content_type.substr(0, 80) + "'");
  }
  ASSIGN_OR_REFUSE(auto request,
                   check_enrollment_request(r.body, {pledge.serial, config.ldevid_key_type}));
  auto ldevid = config.domain_ca->issue_ldevid(request.key.get(), pledge.serial, config.ldevid, at);
  if (!ldevid) return refuse(E::enrollment_failure);
  auto pkcs7 = certs_only_der({ldevid->get()});
  if (!pkcs7) return refuse(E::enrollment_failure);

  const store::LdevidRecord record =
      ldevid_record(pledge.serial, at, crypto::certificate_der(ldevid->get()), renewal);
  if (!store.record_ldevid(record)) return refuse(E::store_failure);
  this->record(pledge.serial, renewal ? "ldevid-renewed" : "ldevid-issued", true,
               "certificate serial " + record.certificate_serial);

  // RFC 7030 §4.2.3: a certs-only PKCS#7 in base64.
  RegistrarResponse out;
  out.status = 200;
  out.content_type = std::string(k_pkcs7_certs_only);
  out.body = to_bytes(base64_body(*pkcs7));
  out.headers = {{"Content-Transfer-Encoding", "base64"}};
  return out;
}

}  // namespace vouchsafe::registrar
