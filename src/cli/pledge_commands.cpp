// `vouchsafe pledge bootstrap`: a device's side of RFC 8995, as firmware
// runs it: its IDevID key from wherever the device holds it, the MASA's
// anchor built in, the registrar's address given (discovery is out of
// scope), and the LDevID, its key and the domain's anchors written out.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/file.h"
#include "core/secrets.h"
#include "crypto/keys.h"
#include "pki/certificate_fields.h"
#include "pledge/apply_voucher.h"
#include "pledge/bootstrap.h"
#include "pledge/identity.h"
#include "service/pledge_transport.h"
#include "voucher/trust_policy.h"

namespace vouchsafe::cli {
namespace {

namespace fs = std::filesystem;

struct BootstrapArgs {
  std::string registrar, idevid, key, pkcs12, seed_file, firmware, masa_anchor, masa_pubkey,
      voucher_authority, out, form = "cms", passphrase_file, bundle_passphrase_file;
  int timeout = 30;
  bool json = false;
};

// The IDevID identity from the one source the flags name.
Result<pledge::PledgeIdentity> load_identity(const BootstrapArgs& a) {
  if (!a.pkcs12.empty()) {
    ASSIGN_OR_RETURN(auto pass,
                     require_passphrase(a.bundle_passphrase_file, "VOUCHSAFE_BUNDLE_PASSPHRASE",
                                        "the bundle's passphrase", "--bundle-passphrase-file"));
    ASSIGN_OR_RETURN(auto bundle, read_file(a.pkcs12, 64U << 10U));
    return pledge::identity_from_pkcs12(bundle, pass);
  }
  if (a.idevid.empty()) {
    return fail(ErrorCode::usage,
                "give the IDevID: --pkcs12 BUNDLE, or --idevid CERT with --key KEY or "
                "--seed-file FILE");
  }
  if (!a.seed_file.empty()) {
    ASSIGN_OR_RETURN(auto chain, crypto::load_certificates(a.idevid));
    ASSIGN_OR_RETURN(const std::string serial, pki::device_serial_of(chain.front().get()));
    ASSIGN_OR_RETURN(auto text, read_file(a.seed_file, 64U << 20U));
    auto seed = pledge::seed_for(as_text(text), serial);
    OPENSSL_cleanse(text.data(), text.size());
    TRY(seed);
    std::optional<Bytes> firmware;
    if (!a.firmware.empty()) {
      ASSIGN_OR_RETURN(auto image, read_file(a.firmware, 1U << 30U));
      firmware = std::move(image);
    }
    return pledge::identity_from_seed(std::move(chain), seed->view(), firmware);
  }
  if (a.key.empty()) return fail(ErrorCode::usage, "--idevid needs --key or --seed-file");
  ASSIGN_OR_RETURN(auto pass, read_passphrase(a.passphrase_file, "VOUCHSAFE_PLEDGE_PASSPHRASE"));
  return pledge::identity_from_files(a.idevid, a.key, pass);
}

Result<pledge::MasaTrust> load_masa_trust(const BootstrapArgs& a) {
  pledge::MasaTrust trust;
  if (!a.masa_pubkey.empty()) {
    ASSIGN_OR_RETURN(trust.public_key, crypto::load_public_key(a.masa_pubkey));
  } else if (!a.masa_anchor.empty()) {
    ASSIGN_OR_RETURN(trust.anchors, crypto::load_certificates(a.masa_anchor));
    trust.voucher_authority = a.voucher_authority;
  } else {
    return fail(ErrorCode::usage,
                "give the MASA's anchor: --masa-anchor CERT or --masa-pubkey KEY");
  }
  return trust;
}

std::string pem_of(const std::vector<X509*>& certs) {
  std::string pem;
  for (X509* c : certs) pem += crypto::certificate_pem(c);
  return pem;
}

// The output directory: LDevID, its key (encrypted), the domain's anchors,
// the voucher and the certificate it pinned.
Status write_enrollment(const fs::path& dir, const pledge::Enrollment& e, voucher::Form form,
                        const std::string& passphrase) {
  TRY(create_private_directories(dir.string()));
  ASSIGN_OR_RETURN(auto key_pem, crypto::private_key_pem(e.ldevid_key.get(), passphrase));
  auto written = write_file_atomic((dir / "ldevid.key.pem").string(), as_bytes(key_pem), 0600);
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  TRY(written);
  TRY(write_file_atomic((dir / "ldevid.pem").string(), as_bytes(pem_of({e.ldevid.get()}))));
  std::vector<X509*> anchors;
  for (const auto& c : e.domain_certificates) anchors.push_back(c.get());
  TRY(write_file_atomic((dir / "domain-ca.pem").string(), as_bytes(pem_of(anchors))));
  if (e.pinned_domain_cert) {
    TRY(write_file_atomic((dir / "pinned-domain-cert.pem").string(),
                          as_bytes(pem_of({e.pinned_domain_cert.get()}))));
  }
  return write_file_atomic((dir / ("voucher." + std::string(voucher::form_name(form)))).string(),
                           e.voucher);
}

std::string name_text(const X509_NAME* name) {
  return crypto::name_rfc2253(name);
}

// A refusal: the reason with its name in brackets, exit 1.
int refused(const std::string& serial, const Refusal<pledge::PledgeError>& r, bool json) {
  const auto& entry = pledge::error_entry(r.error);
  if (json) {
    nlohmann::ordered_json out{{"serial", serial},
                               {"onboarded", false},
                               {"error", entry.name},
                               {"reason", entry.reason},
                               {"detail", r.detail}};
    std::cout << out.dump() << "\n";
  }
  std::cerr << "vouchsafe: " << serial << ": " << entry.reason
            << (r.detail.empty() ? "" : ": " + r.detail) << " [" << entry.name << "]\n";
  return k_exit_rejected;
}

int bootstrap_command(const BootstrapArgs& a) {
  auto form = voucher::parse_form(a.form);
  if (!form) return report_error(form.error());
  auto identity = load_identity(a);
  if (!identity) return report_error(identity.error());
  auto trust = load_masa_trust(a);
  if (!trust) return report_error(trust.error());
  // The LDevID's key is written encrypted; its passphrase is checked first.
  auto pass = require_passphrase(a.passphrase_file, "VOUCHSAFE_PLEDGE_PASSPHRASE",
                                 "the passphrase for the LDevID's key", "--passphrase-file");
  if (!pass) return report_error(pass.error());

  auto transport = service::HttpsRegistrarTransport::connect(a.registrar, *identity,
                                                             std::chrono::seconds(a.timeout));
  if (!transport) {
    std::cerr << "vouchsafe: " << identity->serial << ": "
              << pledge::error_entry(pledge::PledgeError::registrar_unreachable).reason << " ("
              << a.registrar << "): " << transport.error().message << " [registrar_unreachable]\n";
    return k_exit_rejected;
  }
  pledge::BootstrapOptions options;
  options.form = *form;
  auto enrolled = pledge::bootstrap(*identity, *trust, **transport, options);
  if (!enrolled) return refused(identity->serial, enrolled.refusal(), a.json);
  if (auto w = write_enrollment(a.out, *enrolled, *form, *pass); !w) return report_error(w.error());
  const std::string subject = name_text(X509_get_subject_name(enrolled->ldevid.get()));
  const std::string issuer = name_text(X509_get_issuer_name(enrolled->ldevid.get()));
  if (a.json) {
    nlohmann::ordered_json out{
        {"serial", identity->serial},
        {"onboarded", true},
        {"ldevid_subject", subject},
        {"ldevid_issuer", issuer},
        {"assertion", voucher::assertion_name(enrolled->voucher_payload.assertion.value_or(
                          voucher::Assertion::logged))},
        {"out", a.out}};
    std::cout << out.dump() << "\n";
  } else {
    std::cout << identity->serial << ": onboarded; LDevID subject " << subject << ", issuer "
              << issuer << " (written to " << a.out << ")\n";
  }
  return k_exit_ok;
}

struct ApplyArgs : BootstrapArgs {
  std::string voucher_file;
};

// docs/enrolling-voucher.md: a voucher that came as a file, applied with no
// connection; the LDevID, its key z (encrypted) and the pinned domain
// certificate written out.
int apply_voucher_command(const ApplyArgs& a) {
  auto file = read_file(a.voucher_file, voucher::k_default_max_input);
  if (!file) return report_error(file.error());
  auto identity = load_identity(a);
  if (!identity) return report_error(identity.error());
  auto trust = load_masa_trust(a);
  if (!trust) return report_error(trust.error());
  auto pass = require_passphrase(a.passphrase_file, "VOUCHSAFE_PLEDGE_PASSPHRASE",
                                 "the passphrase for the LDevID's key", "--passphrase-file");
  if (!pass) return report_error(pass.error());
  auto applied = pledge::apply_enrolling_voucher(*file, *identity, *trust, std::time(nullptr));
  if (!applied) return refused(identity->serial, applied.refusal(), a.json);

  const fs::path dir(a.out);
  const auto written = [&]() -> Status {
    TRY(create_private_directories(dir.string()));
    ASSIGN_OR_RETURN(auto key_pem, crypto::private_key_pem(applied->ldevid_key.get(), *pass));
    auto key = write_file_atomic((dir / "ldevid.key.pem").string(), as_bytes(key_pem), 0600);
    OPENSSL_cleanse(key_pem.data(), key_pem.size());
    TRY(key);
    TRY(write_file_atomic((dir / "ldevid.pem").string(),
                          as_bytes(pem_of({applied->ldevid.get()}))));
    TRY(write_file_atomic((dir / "domain-ca.pem").string(),
                          as_bytes(pem_of({applied->pinned_domain_cert.get()}))));
    return write_file_atomic((dir / "voucher").string(), *file);
  }();
  if (!written) return report_error(written.error());
  const std::string subject = name_text(X509_get_subject_name(applied->ldevid.get()));
  const std::string issuer = name_text(X509_get_issuer_name(applied->ldevid.get()));
  if (a.json) {
    nlohmann::ordered_json out{{"serial", identity->serial}, {"onboarded", true},
                               {"ldevid_subject", subject},  {"ldevid_issuer", issuer},
                               {"co_generated", true},       {"out", a.out}};
    std::cout << out.dump() << "\n";
  } else {
    std::cout << identity->serial << ": enrolled offline; LDevID subject " << subject << ", issuer "
              << issuer << ", its key completed here (written to " << a.out << ")\n";
  }
  return k_exit_ok;
}

// The flags naming the device's IDevID, its MASA anchor and the output.
void add_device_options(CLI::App* cmd, BootstrapArgs& a) {
  cmd->add_option("--idevid", a.idevid, "The IDevID certificate (and chain), PEM or DER");
  cmd->add_option("--key", a.key,
                  "Its key, PEM (if encrypted: $VOUCHSAFE_PLEDGE_PASSPHRASE or --passphrase-file)");
  cmd->add_option("--pkcs12", a.pkcs12,
                  "Key and IDevID in a PKCS#12 bundle (passphrase: $VOUCHSAFE_BUNDLE_PASSPHRASE)");
  cmd->add_option("--bundle-passphrase-file", a.bundle_passphrase_file,
                  "File whose first line is the bundle's passphrase");
  cmd->add_option("--seed-file", a.seed_file,
                  "The key's seed: a seeds file (SERIAL,HEX lines) or a file holding the hex seed");
  cmd->add_option("--firmware", a.firmware, "DICE: the firmware image the key is bound to");
  auto* anchor = cmd->add_option("--masa-anchor", a.masa_anchor, "The MASA's CA certificate");
  auto* pubkey = cmd->add_option("--masa-pubkey", a.masa_pubkey,
                                 "Or the MASA's voucher-signing public key, bare (PEM)");
  anchor->excludes(pubkey);
  cmd->add_option("--require-voucher-authority", a.voucher_authority,
                  "With --masa-anchor the manufacturer root (MASA key architecture 3): the "
                  "certificate policy OID the voucher signer's chain must carry")
      ->needs(anchor);
  cmd->add_option("--out", a.out, "Output directory (made 0700)")->required();
  cmd->add_option("--passphrase-file", a.passphrase_file,
                  "File whose first line is the pledge's passphrase (IDevID key, LDevID key)");
  cmd->add_flag("--json", a.json, "One JSON line on stdout");
}

}  // namespace

void add_pledge_commands(CLI::App& app, Action& action) {
  auto* noun = app.add_subcommand("pledge", "A device's side of onboarding (RFC 8995)");
  noun->require_subcommand(1);
  noun->footer(k_exit_codes_help);

  auto a = std::make_shared<BootstrapArgs>();
  auto* boot = noun->add_subcommand(
      "bootstrap",
      "Onboard as a device: provisional TLS to the registrar with the IDevID, a voucher-request,\n"
      "the voucher checked against the built-in MASA anchor, the registrar checked against the\n"
      "domain it pins, then EST enrollment. Writes ldevid.pem, ldevid.key.pem (encrypted under\n"
      "$VOUCHSAFE_PLEDGE_PASSPHRASE or --passphrase-file), domain-ca.pem, the voucher and the\n"
      "pinned certificate to --out. Every failure is reported to the registrar where the flow\n"
      "still allows it.");
  boot->add_option("--registrar", a->registrar, "The registrar, HOST:PORT")->required();
  add_device_options(boot, *a);
  boot->add_option("--form", a->form, "Voucher form: cms, cose or jws")
      ->check(CLI::IsMember({"cms", "cose", "jws"}))
      ->capture_default_str();
  boot->add_option("--timeout", a->timeout, "Seconds per exchange")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  boot->footer(
      std::string("\nEXAMPLES:\n"
                  "  vouchsafe pledge bootstrap --registrar 192.0.2.1:9443 --idevid dev.pem --key "
                  "dev.key \\\n"
                  "      --masa-anchor masa-ca.pem --out ./enrolled\n"
                  "  vouchsafe pledge bootstrap --registrar 192.0.2.1:9443 --pkcs12 dev.p12 \\\n"
                  "      --masa-pubkey masa.pub --out ./enrolled\n"
                  "  vouchsafe pledge bootstrap --registrar 192.0.2.1:9443 --idevid dev.pem \\\n"
                  "      --seed-file seed.hex --firmware fw.bin --masa-anchor masa-ca.pem --out "
                  "./enrolled\n") +
      "\nEXIT CODES:\n"
      "  0  onboarded: an LDevID of the registrar's domain, written to --out\n"
      "  1  refused: the registrar, the MASA or this pledge's checks said no (the reason\n"
      "     follows, with its name in brackets, e.g. [voucher_nonce_mismatch])\n"
      "  2  usage or environment error (bad flags, unreadable file, wrong passphrase)\n");
  boot->callback([&action, a] { action = [a] { return bootstrap_command(*a); }; });

  auto av = std::make_shared<ApplyArgs>();
  auto* apply = noun->add_subcommand(
      "apply-voucher",
      "Apply an enrolling voucher that came as a file (docs/enrolling-voucher.md), with no\n"
      "connection: the voucher checked against the built-in MASA anchor (nonceless, not\n"
      "expired, for this device), the owner's share opened with the IDevID key, the LDevID's\n"
      "key completed (z = x + y) and checked. Writes ldevid.pem, ldevid.key.pem (encrypted),\n"
      "domain-ca.pem (the pinned domain certificate) and the voucher to --out.");
  apply->add_option("VOUCHER", av->voucher_file, "The voucher file (CMS, COSE or JWS)")->required();
  add_device_options(apply, *av);
  apply->footer(
      std::string("\nEXAMPLES:\n"
                  "  vouchsafe pledge apply-voucher voucher.cms --idevid dev.pem --key dev.key \\\n"
                  "      --masa-anchor masa-ca.pem --out ./enrolled\n") +
      "\nEXIT CODES:\n"
      "  0  enrolled: an LDevID of the owner's domain and its key, written to --out\n"
      "  1  refused: the voucher or the share failed a check (the reason follows, with its\n"
      "     name in brackets, e.g. [enrolling_share_unreadable])\n"
      "  2  usage or environment error (bad flags, unreadable file, wrong passphrase)\n");
  apply->callback([&action, av] { action = [av] { return apply_voucher_command(*av); }; });
}

}  // namespace vouchsafe::cli
