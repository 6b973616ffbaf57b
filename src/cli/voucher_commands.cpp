// `vouchsafe voucher inspect | sign | verify`.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/date_time.h"
#include "core/file.h"
#include "core/secrets.h"
#include "crypto/algorithm.h"
#include "crypto/key_reference.h"
#include "crypto/keys.h"
#include "crypto/signer.h"
#include "voucher/artifact.h"
#include "voucher/json_codec.h"

namespace vouchsafe::cli {
namespace {

using nlohmann::json;

json describe_certificate(const crypto::CertificateRef& c) {
  json j;
  if (X509* cert = c->x509()) {
    j["subject"] = crypto::certificate_subject(cert);
    crypto::BioPtr bio(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(bio.get(), X509_get_issuer_name(cert), 0, XN_FLAG_RFC2253);
    char* text = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &text);
    j["issuer"] = std::string(text, static_cast<std::size_t>(len));
  }
  auto alg = crypto::algorithm_for_key(c->public_key.get());
  j["key"] = alg ? std::string(crypto::jose_name(*alg))
                 : std::string(EVP_PKEY_get0_type_name(c->public_key.get()));
  j["sha256"] = hex_encode(c->der_sha256);
  return j;
}

json describe(const voucher::VerifiedArtifact& artifact, std::string_view trust) {
  json out;
  out["form"] = voucher::form_name(artifact.envelope.form);
  out["kind"] =
      artifact.payload.kind == voucher::ArtifactKind::voucher ? "voucher" : "voucher-request";
  out["trust"] = trust;
  json chain = json::array();
  for (const auto& c : artifact.envelope.signer_chain) chain.push_back(describe_certificate(c));
  out["signer_chain"] = chain;
  out["payload"] = voucher::to_json(artifact.payload);
  return out;
}

void print_human(const json& d) {
  std::cout << "form:     " << d["form"].get<std::string>() << "\n"
            << "kind:     " << d["kind"].get<std::string>() << "\n"
            << "trust:    " << d["trust"].get<std::string>() << "\n";
  const auto& chain = d["signer_chain"];
  if (chain.empty()) {
    std::cout << "signer:   no certificate in the envelope\n";
  }
  for (std::size_t i = 0; i < chain.size(); ++i) {
    const auto& c = chain[i];
    std::cout << (i == 0 ? "signer:   " : "chain:    ") << c["subject"].get<std::string>() << "\n"
              << "          issuer " << c["issuer"].get<std::string>() << ", key "
              << c["key"].get<std::string>() << "\n"
              << "          sha256 " << c["sha256"].get<std::string>() << "\n";
  }
  std::cout << "payload:\n" << d["payload"].dump(2) << "\n";
}

Result<Bytes> read_input(const std::string& path, std::size_t max_size) {
  // Read a little past the limit so that the size check reports the real problem.
  auto data = read_file(path, max_size + 1);
  if (!data && data.error().code == ErrorCode::input_too_large) {
    return fail(ErrorCode::input_too_large, path + " is larger than the limit of " +
                                                std::to_string(max_size) + " bytes (--max-size)");
  }
  return data;
}

struct VerifyOptions {
  std::string file;
  std::vector<std::string> anchors;
  std::string pubkey;
  std::string at;
  std::size_t max_size = voucher::k_default_max_input;
  bool json_output = false;
  std::string voucher_authority;
};

int verify_command(const VerifyOptions& o, bool inspect) {
  voucher::TrustPolicy policy;
  std::string trust;
  if (inspect) {
    policy = voucher::TrustPolicy::for_inspection();
    trust = "not checked against any anchor (inspect)";
  } else if (!o.pubkey.empty()) {
    auto key = crypto::load_public_key(o.pubkey);
    if (!key) return report_error(key.error());
    policy = voucher::TrustPolicy::with_pinned_key(std::move(key).value());
    trust = "signature verified with the pinned public key " + o.pubkey;
  } else {
    std::vector<crypto::X509Ptr> anchors;
    for (const auto& path : o.anchors) {
      auto certs = crypto::load_certificates(path);
      if (!certs) return report_error(certs.error());
      for (auto& c : *certs) anchors.push_back(std::move(c));
    }
    policy = voucher::TrustPolicy::with_anchors(std::move(anchors));
    trust = "signer chains to a given anchor";
    if (!o.voucher_authority.empty()) {
      policy.required_policy = o.voucher_authority;
      trust += " through a voucher authority (" + o.voucher_authority + ")";
    }
  }
  policy.max_input = o.max_size;
  if (!o.at.empty()) {
    auto when = parse_date_time(o.at);
    if (!when) return report_error({ErrorCode::usage, "--at: " + when.error().message});
    policy.at = static_cast<std::time_t>(when->unix_seconds());
  }
  auto data = read_input(o.file, o.max_size);
  if (!data) return report_error(data.error());
  auto artifact = voucher::verify_artifact(*data, policy);
  if (!artifact) return report_error(artifact.error());
  const json d = describe(*artifact, trust);
  if (o.json_output) {
    std::cout << d.dump(2) << "\n";
  } else {
    print_human(d);
  }
  return k_exit_ok;
}

struct SignOptions {
  std::string payload;
  std::string key;
  std::string cert;
  std::string chain;
  std::string form = "cms";
  std::string out;
  std::string passphrase_file;
};

int sign_command(const SignOptions& o) {
  auto form = voucher::parse_form(o.form);
  if (!form) return report_error(form.error());
  auto passphrase = read_passphrase(o.passphrase_file, "VOUCHSAFE_KEY_PASSPHRASE");
  if (!passphrase) return report_error(passphrase.error());
  // A key file or a pkcs11: URI: every signature goes through a Signer.
  auto signer = crypto::open_signer(o.key, *passphrase);
  if (!signer) return report_error(signer.error());
  auto certs = crypto::load_certificates(o.cert);
  if (!certs) return report_error(certs.error());
  if (EVP_PKEY_eq(X509_get0_pubkey(certs->front().get()), (*signer)->public_key()) != 1) {
    return report_error({ErrorCode::bad_key, o.cert + " does not hold the public key of " + o.key});
  }
  voucher::SigningIdentity identity;
  for (auto& c : *certs) identity.chain.push_back(crypto::make_certificate_ref(std::move(c)));
  if (!o.chain.empty()) {
    auto extra = crypto::load_certificates(o.chain);
    if (!extra) return report_error(extra.error());
    for (auto& c : *extra) identity.chain.push_back(crypto::make_certificate_ref(std::move(c)));
  }
  identity.signer = signer->get();

  auto text = read_file(o.payload, voucher::k_default_max_input);
  if (!text) return report_error(text.error());
  auto model = voucher::decode_json(*text);
  if (!model) return report_error({model.error().code, o.payload + ": " + model.error().message});
  auto signed_bytes = voucher::sign_artifact(*model, *form, identity);
  if (!signed_bytes) return report_error(signed_bytes.error());
  if (o.out.empty()) {
    std::cout.write(reinterpret_cast<const char*>(signed_bytes->data()),
                    static_cast<std::streamsize>(signed_bytes->size()));
    std::cout.flush();
  } else if (auto written = write_file_atomic(o.out, *signed_bytes); !written) {
    return report_error(written.error());
  }
  return k_exit_ok;
}

}  // namespace

void add_voucher_commands(CLI::App& app, Action& action) {
  auto* noun =
      app.add_subcommand("voucher", "Sign, verify and inspect vouchers and voucher-requests");
  noun->require_subcommand(1);
  noun->footer(k_exit_codes_help);

  auto inspect_opts = std::make_shared<VerifyOptions>();
  auto* inspect = noun->add_subcommand(
      "inspect",
      "Detect the form (CMS, COSE, JWS), print the payload as JSON and the signer.\n"
      "The signature is checked against the envelope's own signer certificate; no trust\n"
      "anchor is involved, so use `verify` before acting on a voucher.");
  inspect->add_option("FILE", inspect_opts->file, "Signed voucher or voucher-request")->required();
  inspect->add_flag("--json", inspect_opts->json_output, "Machine-readable output");
  inspect->add_option("--max-size", inspect_opts->max_size, "Largest input accepted, in bytes")
      ->capture_default_str();
  inspect->footer(std::string("\nEXAMPLES:\n"
                              "  vouchsafe voucher inspect voucher.p7\n"
                              "  vouchsafe voucher inspect --json pvr.cose | jq .payload\n") +
                  k_exit_codes_help);
  inspect->callback([&action, inspect_opts] {
    action = [inspect_opts] { return verify_command(*inspect_opts, true); };
  });

  auto verify_opts = std::make_shared<VerifyOptions>();
  auto* verify = noun->add_subcommand(
      "verify",
      "Verify a signed voucher or voucher-request: the signature, and that the signer\n"
      "chains to an anchor (--anchor) or holds exactly the pinned key (--pubkey), as a\n"
      "device does with the MASA key in its firmware.");
  verify->add_option("FILE", verify_opts->file, "Signed voucher or voucher-request")->required();
  auto* anchor = verify->add_option("--anchor", verify_opts->anchors,
                                    "Trust anchor certificate(s), PEM or DER; repeatable");
  auto* pubkey = verify->add_option("--pubkey", verify_opts->pubkey,
                                    "Pinned public key (PEM/DER SPKI, or a certificate)");
  anchor->excludes(pubkey);
  pubkey->excludes(anchor);
  verify
      ->add_option("--require-voucher-authority", verify_opts->voucher_authority,
                   "With --anchor: refuse a signer whose path carries no certificate with this "
                   "policy OID (MASA key architecture idevid-root)")
      ->needs(anchor);
  verify->add_option("--at", verify_opts->at,
                     "Validate certificates at this RFC 3339 time instead of now");
  verify->add_option("--max-size", verify_opts->max_size, "Largest input accepted, in bytes")
      ->capture_default_str();
  verify->add_flag("--json", verify_opts->json_output, "Machine-readable output");
  verify->footer(
      std::string("\nEXAMPLES:\n"
                  "  vouchsafe voucher verify --anchor vendor-ca.pem voucher.p7\n"
                  "  vouchsafe voucher verify --pubkey masa.pub voucher.cose\n"
                  "  vouchsafe voucher verify --anchor ca.pem --at 2021-05-01T00:00:00Z old.p7\n") +
      k_exit_codes_help);
  verify->callback([&action, verify_opts, anchor, pubkey] {
    action = [verify_opts, anchor, pubkey] {
      if (anchor->count() == 0 && pubkey->count() == 0) {
        return report_error({ErrorCode::usage, "give --anchor CERT or --pubkey KEY"});
      }
      return verify_command(*verify_opts, false);
    };
  });

  auto sign_opts = std::make_shared<SignOptions>();
  auto* sign =
      noun->add_subcommand("sign",
                           "Sign a JSON voucher or voucher-request (ietf-voucher:voucher or\n"
                           "ietf-voucher-request:voucher) as CMS, COSE_Sign1 (SID CBOR) or JWS.");
  sign->add_option("PAYLOAD", sign_opts->payload, "The JSON voucher or voucher-request")
      ->required();
  sign->add_option("--key", sign_opts->key,
                   "Signing key: PEM or DER file (may be encrypted), or a pkcs11: URI")
      ->required();
  sign->add_option("--cert", sign_opts->cert,
                   "The signing key's certificate (PEM may hold the chain)")
      ->required();
  sign->add_option("--chain", sign_opts->chain, "Further certificates to include (PEM)");
  sign->add_option("--form", sign_opts->form, "cms, cose or jws")
      ->check(CLI::IsMember({"cms", "cose", "jws"}))
      ->capture_default_str();
  sign->add_option("--out", sign_opts->out, "Output file (default: standard output)");
  sign->add_option(
      "--passphrase-file", sign_opts->passphrase_file,
      "File whose first line is the key's passphrase (else $VOUCHSAFE_KEY_PASSPHRASE)");
  sign->footer(
      std::string("\nEXAMPLES:\n"
                  "  vouchsafe voucher sign --key masa.key --cert masa.pem --chain ca.pem \\\n"
                  "      --form cms --out voucher.p7 voucher.json\n"
                  "  VOUCHSAFE_KEY_PASSPHRASE=... vouchsafe voucher sign --key masa.key \\\n"
                  "      --cert masa.pem --form cose --out voucher.cose voucher.json\n") +
      k_exit_codes_help);
  sign->callback(
      [&action, sign_opts] { action = [sign_opts] { return sign_command(*sign_opts); }; });
}

}  // namespace vouchsafe::cli
