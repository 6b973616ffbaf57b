// `vouchsafe idevid issue | batch`: IDevIDs for devices.
#include <csignal>
#include <iostream>

#include "cli/commands.h"
#include "core/file.h"
#include "core/secrets.h"
#include "crypto/keys.h"
#include "factory/authority.h"
#include "factory/issuance.h"

namespace vouchsafe::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_interrupt(int /*signal*/) {
  g_stop = true;
  // A second Ctrl-C ends the process at once.
  (void)std::signal(SIGINT, SIG_DFL);
  (void)std::signal(SIGTERM, SIG_DFL);
}

// Everything an issuance needs, loaded once: configuration, store, product
// and the decrypted issuing CAs.
struct Session {
  std::unique_ptr<store::AssetStore> store;
  factory::FactoryConfig config;
  const factory::ProductConfig* product = nullptr;
  std::optional<factory::IssuingCaPool> pool;

  static Result<Session> open(const std::string& home_flag, const std::string& product_name,
                              const std::string& serial_hint, const std::string& factory_code,
                              const std::string& ca_name, const std::string& passphrase_file) {
    Session s;
    const auto home = factory::resolve_home(home_flag);
    ASSIGN_OR_RETURN(s.config, factory::load_config(home));
    ASSIGN_OR_RETURN(s.store, factory::open_store(home));
    if (!product_name.empty()) {
      ASSIGN_OR_RETURN(s.product, s.config.product(product_name));
    } else {
      ASSIGN_OR_RETURN(s.product, s.config.product_for_serial(serial_hint));
    }
    // Only CA keys kept in files need it; keys on a token need their PIN.
    ASSIGN_OR_RETURN(auto pass, read_passphrase(passphrase_file, "VOUCHSAFE_CA_PASSPHRASE"));
    ASSIGN_OR_RETURN(auto pool, factory::IssuingCaPool::load(*s.store, s.config, *s.product,
                                                             factory_code, ca_name, pass));
    s.pool.emplace(std::move(pool));
    return s;
  }
  factory::IssueContext context() { return {*store, config, *product, *pool}; }
};

struct IssueArgs {
  std::string home, serial, product, factory, issuing_ca, csr, out, cert_out, passphrase_file,
      bundle_passphrase_file, reason;
  bool generate = false;
  bool reissue = false;
};

int issue_command(const IssueArgs& a) {
  if (a.csr.empty() == !a.generate) {
    return report_error({ErrorCode::usage, "give either --csr FILE or --generate --out BUNDLE"});
  }
  if (a.generate && a.out.empty()) {
    return report_error({ErrorCode::usage, "--generate needs --out BUNDLE.p12"});
  }
  if (a.reissue != !a.reason.empty()) {
    return report_error({ErrorCode::usage, "a reissue needs both --reissue and --reason TEXT"});
  }
  Bytes csr;
  if (!a.csr.empty()) {
    auto data = read_file(a.csr, std::size_t{64} * 1024);
    if (!data) return report_error(data.error());
    csr = std::move(data).value();
  }
  std::string bundle_pass;
  if (a.generate) {
    auto pass = require_passphrase(a.bundle_passphrase_file, "VOUCHSAFE_BUNDLE_PASSPHRASE",
                                   "the bundle's passphrase", "--bundle-passphrase-file");
    if (!pass) return report_error(pass.error());
    bundle_pass = *pass;
  }
  auto session =
      Session::open(a.home, a.product, a.serial, a.factory, a.issuing_ca, a.passphrase_file);
  if (!session) return report_error(session.error());
  auto ctx = session->context();
  const std::optional<std::string> reason =
      a.reissue ? std::optional<std::string>(a.reason) : std::nullopt;
  auto device = a.generate ? factory::issue_generated(ctx, a.serial, a.out, bundle_pass, reason)
                           : factory::issue_from_csr(ctx, a.serial, csr, reason);
  if (!device) return report_error(device.error());
  auto cert = crypto::parse_certificate_der(device->certificate_der);
  if (!cert) return report_error(cert.error());
  const std::string pem = crypto::certificate_pem(cert->get());
  if (!a.cert_out.empty()) {
    if (auto w = write_file_atomic(a.cert_out, as_bytes(pem)); !w) return report_error(w.error());
  } else {
    std::cout << pem;
  }
  std::cerr << "IDevID for " << device->serial << " (product " << device->product << ") issued by "
            << device->issuing_ca << (a.generate ? "; key and certificate in " + a.out : "")
            << (a.reissue ? "; reissue recorded" : "") << "\n";
  return k_exit_ok;
}

struct BatchArgs {
  std::string home, product, factory, issuing_ca, seeds, firmware, csr_dir, passphrase_file;
  unsigned threads = 0;
  std::size_t chunk = 1024;
  bool quiet = false;
};

int batch_command(const BatchArgs& a) {
  if (a.seeds.empty() == a.csr_dir.empty()) {
    return report_error({ErrorCode::usage, "give either --seeds FILE or --csr-dir DIR"});
  }
  if (!a.firmware.empty() && a.seeds.empty()) {
    return report_error({ErrorCode::usage, "--firmware applies to --seeds batches (DICE keys)"});
  }
  factory::BatchOptions options;
  options.threads = a.threads;
  options.chunk_size = std::max<std::size_t>(1, a.chunk);
  options.quiet = a.quiet;
  options.stop = &g_stop;
  if (!a.firmware.empty()) {
    auto image = read_file(a.firmware, std::size_t{1} << 30);
    if (!image) return report_error(image.error());
    options.firmware_sha256 = crypto::sha256(*image);
  }
  auto session = Session::open(a.home, a.product, "", a.factory, a.issuing_ca, a.passphrase_file);
  if (!session) return report_error(session.error());
  auto ctx = session->context();
  // Should either fail (SIG_ERR), Ctrl-C ends the process at once, as it
  // does without them.
  (void)std::signal(SIGINT, on_interrupt);
  (void)std::signal(SIGTERM, on_interrupt);
  auto report = a.seeds.empty() ? factory::run_csr_batch(ctx, a.csr_dir, options)
                                : factory::run_seed_batch(ctx, a.seeds, options);
  (void)std::signal(SIGINT, SIG_DFL);
  (void)std::signal(SIGTERM, SIG_DFL);
  if (!report) return report_error(report.error());
  std::cout << "devices in input: " << report->total << "\n"
            << "issued now:       " << report->issued << "\n"
            << "already issued:   " << report->skipped << "\n";
  if (report->interrupted) {
    std::cerr << "vouchsafe: interrupted; every device issued so far is recorded. Run the same "
                 "command again to resume.\n";
    return k_exit_usage;
  }
  return k_exit_ok;
}

}  // namespace

void add_idevid_commands(CLI::App& app, Action& action) {
  auto* noun = app.add_subcommand("idevid", "Issue IEEE 802.1AR IDevID certificates to devices");
  noun->require_subcommand(1);
  noun->footer(k_exit_codes_help);

  auto ia = std::make_shared<IssueArgs>();
  auto* issue = noun->add_subcommand(
      "issue",
      "Issue one device's IDevID: from a CSR made on the device (its self-signature is\n"
      "checked), or --generate a key off the device and write key + certificate + CA chain as\n"
      "an encrypted PKCS#12 bundle for the programming station (the key is kept nowhere else).\n"
      "The product follows from the serial's prefix unless --product is given.");
  issue->add_option("--home", ia->home, k_home_help);
  issue->add_option("--serial", ia->serial, "Device serial number, PREFIX-FACTORY-SEQUENCE")
      ->required();
  issue->add_option("--csr", ia->csr, "PKCS#10 request from the device (PEM or DER)");
  issue->add_flag("--generate", ia->generate, "Generate the device key here");
  issue->add_option("--out", ia->out, "With --generate: the PKCS#12 bundle to write");
  issue->add_option("--cert-out", ia->cert_out, "Write the certificate here (default: stdout)");
  issue->add_option("--product", ia->product, "Product line (default: from the serial prefix)");
  issue->add_option("--factory", ia->factory, "Use this factory's issuing CAs");
  issue->add_option("--issuing-ca", ia->issuing_ca, "Use exactly this issuing CA");
  issue->add_flag("--reissue", ia->reissue, "Replace the device's existing IDevID");
  issue->add_option("--reason", ia->reason, "Why the IDevID is reissued (recorded)");
  issue->add_option("--passphrase-file", ia->passphrase_file, k_ca_passphrase_help);
  issue->add_option("--bundle-passphrase-file", ia->bundle_passphrase_file,
                    "Passphrase of the bundle (else $VOUCHSAFE_BUNDLE_PASSPHRASE)");
  issue->footer(
      std::string("\nEXAMPLES:\n"
                  "  vouchsafe idevid issue --csr dev.csr --serial WG-SZ1-00000042 > idevid.pem\n"
                  "  VOUCHSAFE_BUNDLE_PASSPHRASE=... vouchsafe idevid issue --generate \\\n"
                  "      --serial WG-SZ1-00000043 --out WG-SZ1-00000043.p12\n"
                  "  vouchsafe idevid issue --csr new.csr --serial WG-SZ1-00000042 --reissue \\\n"
                  "      --reason \"flash replaced under RMA 1234\"\n") +
      k_exit_codes_help);
  issue->callback([&action, ia] { action = [ia] { return issue_command(*ia); }; });

  auto ba = std::make_shared<BatchArgs>();
  auto* batch = noun->add_subcommand(
      "batch",
      "Issue IDevIDs for many devices, streaming, on every core, with progress, and\n"
      "resumable: after a crash or Ctrl-C, run the same command again; devices already\n"
      "issued are skipped, none is issued twice. The input is checked whole before any\n"
      "device is issued.\n\n"
      "--seeds FILE: the silicon vendor's file, one \"SERIAL,SEED\" line per device, SEED\n"
      "  being 64 hex digits (256 bits); '#' starts a comment. Each seed derives the\n"
      "  device's P-256 key (docs/seed-derivation.md); the private key is wiped from memory\n"
      "  and never written. With --firmware IMAGE the key is DICE-style, bound to the\n"
      "  image's SHA-256: other firmware, other key.\n"
      "--csr-dir DIR: every *.csr, *.pem, *.der request in DIR; the serial is the CSR's\n"
      "  subject serialNumber, else the file name.");
  batch->add_option("--home", ba->home, k_home_help);
  batch->add_option("--product", ba->product, "Product line of every device")->required();
  batch->add_option("--factory", ba->factory, "Use this factory's issuing CAs");
  batch->add_option("--issuing-ca", ba->issuing_ca, "Use exactly this issuing CA");
  batch->add_option("--seeds", ba->seeds, "Seeds file");
  batch->add_option("--firmware", ba->firmware, "Firmware image for DICE keys");
  batch->add_option("--csr-dir", ba->csr_dir, "Directory of CSRs");
  batch->add_option("--threads", ba->threads, "Worker threads (default: one per core)");
  batch->add_option("--chunk", ba->chunk, "Devices per store transaction")->capture_default_str();
  batch->add_flag("--quiet", ba->quiet, "No progress output");
  batch->add_option("--passphrase-file", ba->passphrase_file, k_ca_passphrase_help);
  batch->footer(
      std::string(
          "\nEXAMPLES:\n"
          "  vouchsafe idevid batch --product widget --seeds vendor-lot-17.csv\n"
          "  vouchsafe idevid batch --product widget --seeds lot.csv --firmware fw-2.1.bin\n"
          "  vouchsafe idevid batch --product widget --csr-dir incoming/\n") +
      std::string(k_exit_codes_help) +
      "  (an interrupted batch exits 2 after recording every device it issued)\n");
  batch->callback([&action, ba] { action = [ba] { return batch_command(*ba); }; });
}

}  // namespace vouchsafe::cli
