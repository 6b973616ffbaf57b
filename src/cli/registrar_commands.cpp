// `vouchsafe registrar request-voucher | request-audit-log`: what an owner's
// registrar does, for testing a MASA end to end: a pledge voucher-request
// signed with the device's key, wrapped in a registrar voucher-request,
// posted over HTTPS with the registrar's client certificate.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/secrets.h"
#include "core/file.h"
#include "crypto/keys.h"
#include "crypto/signer.h"
#include "net/https_client.h"
#include "pledge/voucher_request.h"
#include "registrar/voucher_request.h"
#include "voucher/artifact.h"

namespace vouchsafe::cli {
namespace {

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

struct RequestArgs {
  std::string masa_url, masa_ca, registrar_cert, registrar_key, pledge_cert, pledge_key,
      form = "cms", accept, out, verify_anchor;
  bool insecure = false;
  bool nonceless = false;
};

// A key and its certificate (chain) as a signing identity.
struct LoadedIdentity {
  std::unique_ptr<crypto::SoftwareSigner> signer;
  voucher::SigningIdentity identity;
};

Result<LoadedIdentity> load_identity(const std::string& cert, const std::string& key,
                                     const char* passphrase_env) {
  ASSIGN_OR_RETURN(auto pass, read_passphrase("", passphrase_env));
  ASSIGN_OR_RETURN(auto pkey, crypto::load_private_key(key, pass));
  ASSIGN_OR_RETURN(auto certs, crypto::load_certificates(cert));
  if (X509_check_private_key(certs.front().get(), pkey.get()) != 1) {
    return fail(ErrorCode::bad_key, cert + " does not hold the public key of " + key);
  }
  LoadedIdentity out;
  ASSIGN_OR_RETURN(out.signer, crypto::SoftwareSigner::create(std::move(pkey)));
  out.identity.signer = out.signer.get();
  for (auto& c : certs) out.identity.chain.push_back(crypto::make_certificate_ref(std::move(c)));
  return out;
}

Result<Bytes> build_rvr(const RequestArgs& a, const LoadedIdentity& registrar) {
  ASSIGN_OR_RETURN(auto form, voucher::parse_form(a.form));
  ASSIGN_OR_RETURN(auto pledge,
                   load_identity(a.pledge_cert, a.pledge_key, "VOUCHSAFE_PLEDGE_PASSPHRASE"));
  pledge::PledgeRequestOptions p;
  p.form = form;
  if (!a.nonceless) p.nonce = pledge::fresh_nonce();
  // The pledge sees the registrar's TLS certificate: here the same certificate.
  ASSIGN_OR_RETURN(auto pvr, pledge::make_pledge_voucher_request(
                                 pledge.identity, registrar.identity.chain.front()->der, p));
  registrar::RegistrarRequestOptions r;
  r.form = form;
  r.nonceless = a.nonceless;
  return registrar::make_registrar_voucher_request(registrar.identity, pvr, r);
}

int request_command(const RequestArgs& a, bool audit_log) {
  auto registrar =
      load_identity(a.registrar_cert, a.registrar_key, "VOUCHSAFE_REGISTRAR_PASSPHRASE");
  if (!registrar) return report_error(registrar.error());
  auto rvr = build_rvr(a, *registrar);
  if (!rvr) return report_error(rvr.error());
  auto form = voucher::parse_form(a.form);
  auto accept = voucher::parse_form(a.accept.empty() ? a.form : a.accept);
  if (!accept) return report_error(accept.error());

  net::ClientOptions client;
  client.ca_file = a.masa_ca;
  client.insecure = a.insecure;
  client.cert_file = a.registrar_cert;
  client.key_file = a.registrar_key;
  auto pass = read_passphrase("", "VOUCHSAFE_REGISTRAR_PASSPHRASE");
  if (pass && *pass) client.key_passphrase = **pass;
  std::string url = a.masa_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += audit_log ? "/.well-known/brski/requestauditlog" : "/.well-known/brski/requestvoucher";
  auto response = net::https_post(
      url, media_type(*form), audit_log ? "application/json" : media_type(*accept), *rvr, client);
  if (!response) return report_error(response.error());
  const std::string text(response->body.begin(), response->body.end());
  if (response->status != 200) {
    std::cerr << "vouchsafe: the MASA answered " << response->status << ": " << text
              << (text.empty() || text.back() != '\n' ? "\n" : "");
    return k_exit_rejected;
  }
  if (audit_log) {
    std::cout << text << (text.empty() || text.back() != '\n' ? "\n" : "");
    return k_exit_ok;
  }
  if (!a.verify_anchor.empty()) {
    auto anchors = crypto::load_certificates(a.verify_anchor);
    if (!anchors) return report_error(anchors.error());
    auto verified = voucher::verify_artifact(
        response->body, voucher::TrustPolicy::with_anchors(std::move(anchors).value()));
    if (!verified) return report_error(verified.error());
    std::cerr << "voucher for " << verified->payload.serial_number.value_or("?") << " verified ("
              << voucher::assertion_name(
                     verified->payload.assertion.value_or(voucher::Assertion::logged))
              << ")\n";
  }
  if (a.out.empty()) {
    std::cout.write(reinterpret_cast<const char*>(response->body.data()),
                    static_cast<std::streamsize>(response->body.size()));
  } else if (auto w = write_file_atomic(a.out, response->body); !w) {
    return report_error(w.error());
  }
  return k_exit_ok;
}

void add_request_options(CLI::App* cmd, RequestArgs& a) {
  cmd->add_option("--masa-url", a.masa_url, "The MASA, https://host:port")->required();
  cmd->add_option("--masa-ca", a.masa_ca, "CA certificate of the MASA's TLS server");
  cmd->add_flag("--insecure", a.insecure, "Accept any MASA TLS certificate (tests only)");
  cmd->add_option("--registrar-cert", a.registrar_cert,
                  "Registrar certificate (id-kp-cmcRA) and chain, PEM; also the TLS client cert")
      ->required();
  cmd->add_option("--registrar-key", a.registrar_key,
                  "Its key (passphrase: $VOUCHSAFE_REGISTRAR_PASSPHRASE)")
      ->required();
  cmd->add_option("--pledge-cert", a.pledge_cert, "The device's IDevID, PEM")->required();
  cmd->add_option("--pledge-key", a.pledge_key,
                  "The device's key (passphrase: $VOUCHSAFE_PLEDGE_PASSPHRASE)")
      ->required();
  cmd->add_option("--form", a.form, "cms, cose or jws")
      ->check(CLI::IsMember({"cms", "cose", "jws"}))
      ->capture_default_str();
  cmd->add_flag("--nonceless", a.nonceless, "Ask for a nonceless voucher (with expires-on)");
}

}  // namespace

void add_registrar_commands(CLI::App& app, Action& action) {
  auto* noun = app.add_subcommand(
      "registrar", "Act as an owner's registrar towards a MASA (tests, demonstrations)");
  noun->require_subcommand(1);
  noun->footer(k_exit_codes_help);

  auto ra = std::make_shared<RequestArgs>();
  auto* request = noun->add_subcommand(
      "request-voucher",
      "Build a pledge voucher-request with the device's key and a registrar voucher-request\n"
      "with the registrar's, post it to the MASA, and write the voucher it returns.");
  add_request_options(request, *ra);
  request->add_option("--accept", ra->accept, "Voucher form wanted (default: --form)")
      ->check(CLI::IsMember({"cms", "cose", "jws"}));
  request->add_option("--out", ra->out, "Write the voucher here (default: standard output)");
  request->add_option("--verify-anchor", ra->verify_anchor,
                      "Verify the voucher against this MASA anchor before writing it");
  request->footer(
      std::string(
          "\nEXAMPLES:\n"
          "  vouchsafe registrar request-voucher --masa-url https://127.0.0.1:8443 \\\n"
          "      --masa-ca masa/masa-ca.pem --registrar-cert reg.pem --registrar-key reg.key \\\n"
          "      --pledge-cert dev.pem --pledge-key dev.key --out voucher.cms\n") +
      k_exit_codes_help);
  request->callback([&action, ra] { action = [ra] { return request_command(*ra, false); }; });

  auto la = std::make_shared<RequestArgs>();
  auto* log = noun->add_subcommand(
      "request-audit-log",
      "Ask the MASA for a device's audit log (RFC 8995 §5.8) and print its JSON.");
  add_request_options(log, *la);
  log->footer(
      std::string(
          "\nEXAMPLES:\n"
          "  vouchsafe registrar request-audit-log --masa-url https://127.0.0.1:8443 \\\n"
          "      --masa-ca masa/masa-ca.pem --registrar-cert reg.pem --registrar-key reg.key \\\n"
          "      --pledge-cert dev.pem --pledge-key dev.key | jq .events\n") +
      k_exit_codes_help);
  log->callback([&action, la] { action = [la] { return request_command(*la, true); }; });
}

}  // namespace vouchsafe::cli
