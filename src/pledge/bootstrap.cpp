// The pledge's flow, step by step.
#include "pledge/bootstrap.h"

#include <array>
#include <cassert>
#include <nlohmann/json.hpp>

#include "crypto/certificate_cache.h"
#include "crypto/keys.h"
#include "crypto/signer.h"
#include "crypto/trust_store.h"
#include "pki/certificate_fields.h"
#include "pledge/enrollment.h"
#include "pledge/voucher_request.h"
#include "voucher/artifact.h"

namespace vouchsafe::pledge {
namespace {

using E = PledgeError;

constexpr std::array<ErrorEntry, 19> k_table{{
    {E::registrar_unreachable, "registrar_unreachable", "the registrar could not be reached"},
    {E::voucher_refused, "voucher_refused", "the registrar did not return a voucher"},
    {E::voucher_malformed, "voucher_malformed", "the registrar's answer is not a voucher"},
    {E::voucher_signature_invalid, "voucher_signature_invalid",
     "the voucher is not signed by the MASA this pledge trusts"},
    {E::voucher_serial_mismatch, "voucher_serial_mismatch",
     "the voucher is for another device's serial-number"},
    {E::voucher_nonce_mismatch, "voucher_nonce_mismatch",
     "the voucher's nonce is not this request's (an old or replayed voucher)"},
    {E::voucher_expired, "voucher_expired",
     "the voucher carries no nonce and no expires-on in the future"},
    {E::voucher_assertion_refused, "voucher_assertion_refused",
     "the voucher's assertion is not one this pledge accepts"},
    {E::voucher_idevid_issuer_mismatch, "voucher_idevid_issuer_mismatch",
     "the voucher's idevid-issuer is not this device's IDevID issuer"},
    {E::registrar_not_in_domain, "registrar_not_in_domain",
     "the registrar's TLS certificate does not chain to the voucher's pinned-domain-cert "
     "(RFC 8995 §5.6.2)"},
    {E::cacerts_failed, "cacerts_failed", "the domain's CA certificates could not be obtained"},
    {E::csrattrs_failed, "csrattrs_failed", "the CSR attributes could not be obtained"},
    {E::enroll_refused, "enroll_refused", "the registrar did not issue an LDevID"},
    {E::ldevid_invalid, "ldevid_invalid",
     "the LDevID returned is not for this key and device, or does not chain to the pinned "
     "domain"},
    {E::enrolling_missing, "enrolling_missing",
     "the voucher carries no enrolling extension (docs/enrolling-voucher.md)"},
    {E::enrolling_for_another_device, "enrolling_for_another_device",
     "the enrolling extension was made for another device's key"},
    {E::enrolling_share_unreadable, "enrolling_share_unreadable",
     "the owner's share does not open with this device's key: tampered, or made for another "
     "certificate"},
    {E::enrolling_key_mismatch, "enrolling_key_mismatch",
     "this device's key and the owner's share do not make the LDevID's key"},
    {E::internal, "internal", "the pledge failed"},
}};

constexpr bool table_in_enum_order() {
  for (std::size_t i = 0; i < k_table.size(); ++i) {
    if (static_cast<std::size_t>(k_table[i].error) != i) return false;
  }
  return true;
}
static_assert(table_in_enum_order() &&
                  k_table.size() == static_cast<std::size_t>(PledgeError::internal) + 1,
              "k_table must list every PledgeError in declaration order");

constexpr std::string_view k_brski = "/.well-known/brski/";
constexpr std::string_view k_est = "/.well-known/est/";

std::string media_type(voucher::Form form) {
  switch (form) {
    case voucher::Form::cms:
      return "application/voucher-cms+json";
    case voucher::Form::cose:
      return "application/voucher+cose";
    case voucher::Form::jws:
      return "application/voucher-jws+json";
  }
  return "";
}

// A refusal's plain text, first lines joined: what the registrar said.
std::string said(const TransportReply& reply) {
  std::string text(
      as_text(ByteView(reply.body).first(std::min<std::size_t>(reply.body.size(), 600))));
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      if (!out.empty() && out.back() != ' ') out += " ";
      continue;
    }
    out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return "HTTP " + std::to_string(reply.status) + (out.empty() ? "" : ": " + out);
}

std::string path(std::string_view prefix, std::string_view endpoint) {
  return std::string(prefix) + std::string(endpoint);
}

struct Flow {
  const PledgeIdentity& identity;
  const MasaTrust& masa;
  RegistrarTransport& registrar;
  const BootstrapOptions& options;

  [[nodiscard]] std::time_t now() const { return options.now ? options.now() : std::time(nullptr); }
  void step(std::string_view name) const {
    if (options.on_step) options.on_step(name);
  }

  // Tells the registrar why, where the flow allows it; the refusal's detail
  // says whether it heard.
  Refusal<E> report(std::string_view endpoint, Refusal<E> refusal) {
    const std::string reason =
        std::string(error_entry(refusal.error).name) + ": " +
        (refusal.detail.empty() ? std::string(error_entry(refusal.error).reason) : refusal.detail);
    auto sent = registrar.post(path(k_brski, endpoint), "application/json", "",
                               status_report(false, reason));
    refusal.detail +=
        (refusal.detail.empty() ? "" : "; ") + std::string("reported to the registrar (") +
        std::string(endpoint) +
        (sent ? ", " + std::to_string(sent->status) + ")" : ": " + sent.error().message + ")");
    return refusal;
  }

  PledgeOutcome<Enrollment> run();
  PledgeOutcome<voucher::VerifiedArtifact> check_voucher(const Bytes& body, const Bytes& nonce);
  [[nodiscard]] PledgeOutcome<crypto::X509Ptr> pin_domain(
      const voucher::Voucher& v, const std::vector<Bytes>& registrar_chain) const;
};

PledgeOutcome<voucher::VerifiedArtifact> Flow::check_voucher(const Bytes& body,
                                                             const Bytes& nonce) {
  return pledge::check_voucher(body, identity, masa, nonce, options.accepted_assertions, now());
}

PledgeOutcome<crypto::X509Ptr> Flow::pin_domain(const voucher::Voucher& v,
                                                const std::vector<Bytes>& registrar_chain) const {
  auto& cache = crypto::CertificateCache::shared();
  auto leaf = cache.decode(registrar_chain.front());
  if (!leaf) return refuse(E::registrar_not_in_domain, "its certificate: " + leaf.error().message);
  // RFC 8366bis: pinned-domain-pubk(-sha256) pin the registrar's key itself.
  if (!v.pinned_domain_cert) {
    if (v.pinned_domain_pubk && *v.pinned_domain_pubk == (*leaf)->spki_der)
      return crypto::X509Ptr();
    if (v.pinned_domain_pubk_sha256 &&
        *v.pinned_domain_pubk_sha256 == crypto::sha256((*leaf)->spki_der)) {
      return crypto::X509Ptr();
    }
    return refuse(E::registrar_not_in_domain, "the voucher pins no certificate or key of it");
  }
  auto pinned = crypto::parse_certificate_der(*v.pinned_domain_cert);
  if (!pinned) return refuse(E::voucher_malformed, "pinned-domain-cert: " + pinned.error().message);
  // RFC 8995 §5.6.2: the pinned certificate becomes the trust anchor for
  // the registrar's TLS certificate, seen (not checked) until now.
  std::vector<crypto::X509Ptr> anchor;
  anchor.push_back(crypto::share(pinned->get()));
  const crypto::TrustStore store(std::move(anchor));
  std::vector<crypto::CertificateRef> untrusted;
  for (std::size_t i = 1; i < registrar_chain.size(); ++i) {
    if (auto c = cache.decode(registrar_chain[i])) untrusted.push_back(std::move(c).value());
  }
  auto path_ok = store.validate(*leaf, untrusted, now());
  if (!path_ok) return refuse(E::registrar_not_in_domain, path_ok.error().message);
  return std::move(pinned).value();
}

PledgeOutcome<Enrollment> Flow::run() {
  const std::vector<Bytes> registrar_chain = registrar.registrar_chain();
  if (registrar_chain.empty()) {
    return refuse(E::registrar_unreachable, "the registrar showed no TLS certificate");
  }
  auto signer = crypto::SoftwareSigner::create(crypto::share(identity.key.get()));
  if (!signer) return refuse(E::internal, signer.error().message);
  // The request names the IDevID alone: the registrar and the MASA know
  // its issuers, and the TLS handshake already sent the chain.
  voucher::SigningIdentity idevid{
      signer->get(), {crypto::make_certificate_ref(crypto::share(identity.chain.front().get()))}};

  // RFC 8995 §5.2: nonce, created-on, proximity-registrar-cert = the
  // registrar's TLS certificate, serial-number; signed with the IDevID.
  step("requestvoucher");
  const Bytes nonce = options.nonce.value_or(fresh_nonce());
  PledgeRequestOptions request_options;
  request_options.form = options.form;
  request_options.nonce = nonce;
  request_options.created_on = DateTime::from_unix_seconds(now());
  auto pvr = make_pledge_voucher_request(idevid, registrar_chain.front(), request_options);
  if (!pvr) return refuse(E::internal, pvr.error().message);
  auto reply = registrar.post(path(k_brski, "requestvoucher"), media_type(options.form),
                              media_type(options.form), *pvr);
  if (!reply) return refuse(E::registrar_unreachable, reply.error().message);
  if (reply->status != 200) return refuse(E::voucher_refused, said(*reply));

  step("verify voucher");
  Enrollment out;
  auto checked = check_voucher(reply->body, nonce);
  if (!checked) return report("voucher_status", std::move(checked).refusal());
  out.voucher = std::move(reply->body);
  out.voucher_payload = checked->payload;
  auto pinned = pin_domain(checked->payload, registrar_chain);
  if (!pinned) return report("voucher_status", std::move(pinned).refusal());
  out.pinned_domain_cert = std::move(pinned).value();

  // RFC 8995 §5.7: the voucher is accepted; the connection is now
  // authenticated both ways.
  step("voucher_status");
  (void)registrar.post(path(k_brski, "voucher_status"), "application/json", "",
                       status_report(true, "voucher accepted"));

  // RFC 8995 §5.9.1: the domain's CA certificates, which must belong to
  // the pinned domain.
  step("cacerts");
  auto cacerts = registrar.get(path(k_est, "cacerts"), "application/pkcs7-mime");
  if (!cacerts) return refuse(E::registrar_unreachable, cacerts.error().message);
  if (cacerts->status != 200)
    return report("enrollstatus", refuse(E::cacerts_failed, said(*cacerts)));
  auto domain_certs = parse_certs_only(cacerts->body);
  if (!domain_certs) {
    return report("enrollstatus", refuse(E::cacerts_failed, domain_certs.error().message));
  }
  std::vector<crypto::CertificateRef> domain_refs;
  for (const auto& c : *domain_certs)
    domain_refs.push_back(crypto::make_certificate_ref(crypto::share(c.get())));
  if (out.pinned_domain_cert) {
    std::vector<crypto::X509Ptr> anchor;
    anchor.push_back(crypto::share(out.pinned_domain_cert.get()));
    const crypto::TrustStore pinned_store(std::move(anchor));
    for (std::size_t i = 0; i < domain_refs.size(); ++i) {
      if (pinned_store.validate(domain_refs[i], domain_refs, now())) {
        out.domain_certificates.push_back(crypto::share((*domain_certs)[i].get()));
      }
    }
    if (out.domain_certificates.empty()) {
      return report("enrollstatus", refuse(E::cacerts_failed,
                                           "none of the certificates chains to the pinned domain"));
    }
  } else {
    out.domain_certificates = std::move(domain_certs).value();
  }

  // RFC 8995 §5.9.2: the pledge MUST ask what the LDevID needs.
  step("csrattrs");
  auto attrs_reply = registrar.get(path(k_est, "csrattrs"), "application/csrattrs");
  if (!attrs_reply) return refuse(E::registrar_unreachable, attrs_reply.error().message);
  if (attrs_reply->status != 200) {
    return report("enrollstatus", refuse(E::csrattrs_failed, said(*attrs_reply)));
  }
  auto requirements = parse_csr_attributes(attrs_reply->body);
  if (!requirements) {
    return report("enrollstatus", refuse(E::csrattrs_failed, requirements.error().message));
  }

  // RFC 8995 §5.9.3 / RFC 7030 §4.2.1: a fresh key, a PKCS#10 request.
  step("simpleenroll");
  out.ldevid_key = generate_ldevid_key(*requirements);
  auto csr = make_csr(out.ldevid_key.get(), *requirements, identity.serial);
  if (!csr) return report("enrollstatus", refuse(E::internal, csr.error().message));
  const std::string csr_base64 = base64_encode(*csr) + "\n";
  auto enrolled = registrar.post(path(k_est, "simpleenroll"), "application/pkcs10",
                                 "application/pkcs7-mime", as_bytes(csr_base64));
  if (!enrolled) return refuse(E::registrar_unreachable, enrolled.error().message);
  if (enrolled->status != 200)
    return report("enrollstatus", refuse(E::enroll_refused, said(*enrolled)));
  auto issued = parse_certs_only(enrolled->body);
  if (!issued) return report("enrollstatus", refuse(E::ldevid_invalid, issued.error().message));
  for (auto& c : *issued) {
    if (EVP_PKEY_eq(X509_get0_pubkey(c.get()), out.ldevid_key.get()) == 1)
      out.ldevid = crypto::share(c.get());
  }
  if (!out.ldevid) {
    return report("enrollstatus",
                  refuse(E::ldevid_invalid, "no certificate for this pledge's key"));
  }
  // The LDevID belongs to the pinned domain and names this device.
  if (out.pinned_domain_cert) {
    std::vector<crypto::X509Ptr> anchor;
    anchor.push_back(crypto::share(out.pinned_domain_cert.get()));
    const crypto::TrustStore pinned_store(std::move(anchor));
    auto path_ok = pinned_store.validate(
        crypto::make_certificate_ref(crypto::share(out.ldevid.get())), domain_refs, now());
    if (!path_ok) return report("enrollstatus", refuse(E::ldevid_invalid, path_ok.error().message));
  }
  auto serial = pki::name_serial_number(X509_get_subject_name(out.ldevid.get()), "the LDevID");
  if (requirements->serial_number &&
      (!serial || *serial != requirements->serial_value.value_or(identity.serial))) {
    return report("enrollstatus",
                  refuse(E::ldevid_invalid, "its subject serialNumber is not this device's"));
  }

  // RFC 8995 §5.9.4.
  step("enrollstatus");
  (void)registrar.post(path(k_brski, "enrollstatus"), "application/json", "",
                       status_report(true, "LDevID installed"));
  return out;
}

}  // namespace

PledgeOutcome<voucher::VerifiedArtifact> check_voucher(ByteView body,
                                                       const PledgeIdentity& identity,
                                                       const MasaTrust& masa,
                                                       const std::optional<Bytes>& nonce,
                                                       const std::set<voucher::Assertion>& accepted,
                                                       std::time_t at) {
  voucher::TrustPolicy policy;
  if (masa.public_key) {
    policy = voucher::TrustPolicy::with_pinned_key(crypto::share(masa.public_key.get()));
  } else {
    std::vector<crypto::X509Ptr> anchors;
    for (const auto& a : masa.anchors) anchors.push_back(crypto::share(a.get()));
    policy = voucher::TrustPolicy::with_anchors(std::move(anchors));
    policy.required_policy = masa.voucher_authority;
  }
  policy.at = at;
  // RFC 8995 §5.6.1: the signature, with the MASA's anchor built in.
  auto verified = voucher::verify_artifact(body, policy);
  if (!verified) {
    switch (verified.error().code) {
      case ErrorCode::bad_signature:
      case ErrorCode::untrusted_chain:
      case ErrorCode::unknown_signer:
      case ErrorCode::unsupported_algorithm:
        return refuse(E::voucher_signature_invalid, verified.error().message);
      default:
        return refuse(E::voucher_malformed, verified.error().message);
    }
  }
  const voucher::Voucher& v = verified->payload;
  if (v.kind != voucher::ArtifactKind::voucher) {
    return refuse(E::voucher_malformed, "it is a voucher-request");
  }
  if (v.serial_number != identity.serial) {
    return refuse(E::voucher_serial_mismatch, "serial-number '" +
                                                  v.serial_number.value_or("").substr(0, 64) +
                                                  "', this device is '" + identity.serial + "'");
  }
  // RFC 8366bis: a pledge that finds idevid-issuer checks it against its
  // own IDevID's AKI.
  if (v.idevid_issuer) {
    auto own = pki::idevid_issuer_of(identity.chain.front().get());
    if (!own || *own != *v.idevid_issuer) return refuse(E::voucher_idevid_issuer_mismatch);
  }
  // RFC 8995 §5.6.1: the nonce is this request's; a nonceless voucher is
  // good only until its expires-on (RFC 8366 §5.3).
  if (v.nonce) {
    if (!nonce) return refuse(E::voucher_nonce_mismatch, "no nonce was sent for it");
    if (*v.nonce != *nonce) return refuse(E::voucher_nonce_mismatch);
  } else if (!v.expires_on || v.expires_on->unix_seconds() <= at) {
    return refuse(E::voucher_expired,
                  v.expires_on ? "expires-on " + format_date_time(*v.expires_on) + " has passed"
                               : "it has neither a nonce nor expires-on");
  }
  if (!v.assertion || !accepted.contains(*v.assertion)) {
    return refuse(E::voucher_assertion_refused,
                  v.assertion ? "assertion " + std::string(voucher::assertion_name(*v.assertion))
                              : "it has no assertion");
  }
  return std::move(verified).value();
}

std::span<const ErrorEntry> error_table() {
  return k_table;
}

const ErrorEntry& error_entry(PledgeError error) {
  const auto i = static_cast<std::size_t>(error);
  assert(i < k_table.size());
  return k_table[i];
}

Bytes status_report(bool status, const std::string& reason) {
  nlohmann::ordered_json report;
  report["version"] = 1;
  report["status"] = status;
  if (!reason.empty()) report["reason"] = reason;
  return to_bytes(report.dump());
}

PledgeOutcome<Enrollment> bootstrap(const PledgeIdentity& identity, const MasaTrust& masa,
                                    RegistrarTransport& registrar,
                                    const BootstrapOptions& options) {
  Flow flow{identity, masa, registrar, options};
  return flow.run();
}

}  // namespace vouchsafe::pledge
