// bench/onboarding_load: N pledges onboarding concurrently through a
// running registrar and MASA: the whole RFC 8995 flow of `vouchsafe pledge
// bootstrap` (provisional TLS, voucher, pinning, EST), each device once,
// C at a time. Reports onboardings/s, p50/p99 latency, refusals by name,
// the CPU of the client, the registrar and the MASA, and the crypto bound
// measured in the same process: the signatures, verifications and key
// exchanges one onboarding needs (counted in `k_per_onboarding` below).
// Usage: bench/onboarding_load.sh, or onboarding_load --help.
#include <openssl/evp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "crypto/keys.h"
#include "crypto/seed_derivation.h"
#include "pledge/bootstrap.h"
#include "pledge/identity.h"
#include "service/pledge_transport.h"

namespace vouchsafe::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t k_max_onboardings = 20000;

struct Options {
  std::string registrar;    // HOST:PORT
  std::string masa_anchor;  // the MASA's CA (PEM)
  std::string seeds;        // SERIAL,SEED lines
  std::string devices;      // `vouchsafe device export --format csv`
  long registrar_pid = 0, masa_pid = 0;
  std::size_t onboardings = 0;  // 0: one per device
  unsigned concurrency = 16;
};

const char* const k_usage =
    "usage: onboarding_load --registrar HOST:PORT --masa-anchor MASA-CA.pem --seeds SEEDS.csv\n"
    "                       --devices DEVICES.csv [--onboardings N (default: one per device,\n"
    "                       max 20000)] [--concurrency C=16] [--registrar-pid PID] [--masa-pid "
    "PID]\n"
    "Exit: 0 every device onboarded, 1 some did not, 2 usage or set-up error.\n";

std::optional<Options> parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h" || i + 1 >= argc) return std::nullopt;
    const std::string value = argv[++i];
    try {
      if (flag == "--registrar")
        o.registrar = value;
      else if (flag == "--masa-anchor")
        o.masa_anchor = value;
      else if (flag == "--seeds")
        o.seeds = value;
      else if (flag == "--devices")
        o.devices = value;
      else if (flag == "--registrar-pid")
        o.registrar_pid = std::stol(value);
      else if (flag == "--masa-pid")
        o.masa_pid = std::stol(value);
      else if (flag == "--onboardings")
        o.onboardings = std::stoul(value);
      else if (flag == "--concurrency")
        o.concurrency = static_cast<unsigned>(std::stoul(value));
      else
        return std::nullopt;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (o.registrar.empty() || o.masa_anchor.empty() || o.seeds.empty() || o.devices.empty() ||
      o.concurrency == 0) {
    return std::nullopt;
  }
  return o;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::stringstream in(line);
  for (std::string field; std::getline(in, field, sep);) out.push_back(field);
  return out;
}

// The devices' identities, their keys derived from the vendor's seeds as
// the devices themselves would, before the clock starts.
Result<std::vector<pledge::PledgeIdentity>> load_devices(const Options& o) {
  std::map<std::string, Bytes> seeds;
  std::ifstream seeds_in(o.seeds);
  if (!seeds_in) return fail(ErrorCode::io_error, "cannot read " + o.seeds);
  for (std::string line; std::getline(seeds_in, line);) {
    const auto f = split(line, ',');
    if (f.size() != 2 || line[0] == '#') continue;
    ASSIGN_OR_RETURN(seeds[f[0]], hex_decode(f[1]));
  }
  std::ifstream devices_in(o.devices);
  if (!devices_in) return fail(ErrorCode::io_error, "cannot read " + o.devices);
  std::vector<pledge::PledgeIdentity> out;
  for (std::string line; std::getline(devices_in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto f = split(line, ',');
    if (f.size() < 2 || f[0] == "serial") continue;
    const auto seed = seeds.find(f[0]);
    if (seed == seeds.end()) continue;
    ASSIGN_OR_RETURN(auto der, base64_decode(f.back()));
    ASSIGN_OR_RETURN(auto cert, crypto::parse_certificate_der(der));
    std::vector<crypto::X509Ptr> chain;
    chain.push_back(std::move(cert));
    ASSIGN_OR_RETURN(auto identity, pledge::identity_from_seed(std::move(chain), seed->second));
    out.push_back(std::move(identity));
  }
  if (out.empty()) return fail(ErrorCode::usage, "no device of " + o.devices + " has a seed");
  return out;
}

// ---- the crypto bound

template <typename Op>
double best_time(int iterations, Op op) {
  double best = 1e9;
  for (int round = 0; round < 3; ++round) {
    const auto start = Clock::now();
    for (int i = 0; i < iterations; ++i) op();
    const std::chrono::duration<double> took = Clock::now() - start;
    best = std::min(best, took.count() / iterations);
  }
  return best;
}

// What one onboarding costs in public-key operations, counted on the path
// it takes through this code (all keys P-256, TLS 1.3 with X25519; the
// registrar's MASA connections are kept alive, so their handshakes vanish
// per onboarding; paths validated before by a long-running server are
// cached and not counted; a pledge is a fresh process, so its are):
//   pledge<->registrar handshake: server CertificateVerify (1 sign), pledge
//     CertificateVerify (1 sign); the pledge checks the server's (1 verify);
//     the registrar checks the pledge's and its IDevID chain (2 verify);
//     X25519 keygen and derive on both sides (4 scalar multiplications).
//   pledge: voucher-request (1 sign); voucher signature and its signer's
//     chain to the MASA anchor (2 verify); registrar certificate against the
//     pinned domain CA (1 verify); LDevID key (1 keygen); CSR (1 sign);
//     LDevID against the pinned domain (1 verify).
//   registrar: the IDevID again in the service (1 verify; cached by the
//     service's trust store for the pledge's later requests), the pledge's
//     request (1 verify), its own request (1 sign), the voucher's signature
//     (1 verify), the CSR (1 verify), the LDevID (1 sign).
//   MASA: requestvoucher and requestauditlog each verify the registrar's
//     request and the pledge's inside it (4 verify; the registrar's chain and
//     the IDevID on record are cached or taken on record), the voucher (1 sign).
// Total: 7 sign, 15 verify, 1 keygen, 4 X25519.
struct PerOnboarding {
  int sign = 7, verify = 15, keygen = 1, x25519 = 4;
};
constexpr PerOnboarding k_per_onboarding{};

struct Bound {
  double t_sign = 0, t_verify = 0, t_keygen = 0, t_x25519 = 0;
  unsigned cores = 1;
  [[nodiscard]] double seconds() const {
    return k_per_onboarding.sign * t_sign + k_per_onboarding.verify * t_verify +
           k_per_onboarding.keygen * t_keygen + k_per_onboarding.x25519 * t_x25519;
  }
  [[nodiscard]] double rate() const { return cores / seconds(); }
};

Bound measure_bound() {
  Bound b;
  b.cores = std::max(1U, std::thread::hardware_concurrency());
  const auto key = crypto::generate_key(crypto::KeyType::p256);
  const Bytes message(600, 0x42);
  Bytes sig(128);
  std::size_t sig_len = 0;
  auto sign = [&] {
    crypto::MdCtxPtr ctx(EVP_MD_CTX_new());
    sig_len = sig.size();
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), sig.data(), &sig_len, message.data(), message.size()) != 1) {
      std::abort();  // a bug: a fresh P-256 key always signs
    }
  };
  auto verify = [&] {
    crypto::MdCtxPtr ctx(EVP_MD_CTX_new());
    if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestVerify(ctx.get(), sig.data(), sig_len, message.data(), message.size()) != 1) {
      std::abort();
    }
  };
  auto keygen = [] { (void)crypto::generate_key(crypto::KeyType::p256); };
  const crypto::PkeyPtr peer(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  auto x25519 = [&] {  // one keygen and one derive: two scalar multiplications
    crypto::PkeyPtr mine(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
    crypto::PkeyCtxPtr ctx(EVP_PKEY_CTX_new(mine.get(), nullptr));
    std::uint8_t secret[32];
    std::size_t len = sizeof secret;
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
        EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1 ||
        EVP_PKEY_derive(ctx.get(), secret, &len) != 1) {
      std::abort();
    }
  };
  b.t_sign = best_time(1000, sign);
  sign();
  b.t_verify = best_time(1000, verify);
  b.t_keygen = best_time(1000, keygen);
  b.t_x25519 = best_time(1000, x25519) / 2;
  return b;
}

// ---- CPU accounting (as bench/masa_load)

double self_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

double process_cpu_seconds(long pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::vector<std::string> f;
  for (std::string s; fields >> s;) f.push_back(s);
  if (f.size() < 13) return -1;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::stod(f[11]) + std::stod(f[12])) / ticks;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1))];
}

int run(const Options& o) {
  auto devices = load_devices(o);
  if (!devices)
    return std::fprintf(stderr, "onboarding_load: %s\n", devices.error().message.c_str()), 2;
  auto anchors = crypto::load_certificates(o.masa_anchor);
  if (!anchors)
    return std::fprintf(stderr, "onboarding_load: %s\n", anchors.error().message.c_str()), 2;
  pledge::MasaTrust trust;
  trust.anchors = std::move(anchors).value();
  const std::size_t total = std::min(
      {o.onboardings == 0 ? devices->size() : o.onboardings, devices->size(), k_max_onboardings});

  std::fprintf(stderr, "%zu devices; measuring the crypto bound...\n", devices->size());
  const Bound bound = measure_bound();
  std::printf(
      "crypto bound: %u cores / (%d x sign %.1f us + %d x verify %.1f us + %d x keygen %.1f us"
      " + %d x X25519 %.1f us = %.0f us) = %.0f onboardings/s\n",
      bound.cores, k_per_onboarding.sign, bound.t_sign * 1e6, k_per_onboarding.verify,
      bound.t_verify * 1e6, k_per_onboarding.keygen, bound.t_keygen * 1e6, k_per_onboarding.x25519,
      bound.t_x25519 * 1e6, bound.seconds() * 1e6, bound.rate());

  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::vector<double> latency_ms;
  std::map<std::string, std::size_t> refusals;
  std::string first_refusal;
  const double client0 = self_cpu_seconds();
  const double registrar0 = process_cpu_seconds(o.registrar_pid);
  const double masa0 = process_cpu_seconds(o.masa_pid);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < o.concurrency; ++t) {
    threads.emplace_back([&] {
      for (std::size_t i = next++; i < total; i = next++) {
        const auto& device = (*devices)[i];
        const auto begun = Clock::now();
        std::string refusal;
        auto transport = service::HttpsRegistrarTransport::connect(o.registrar, device,
                                                                   std::chrono::seconds(30));
        if (!transport) {
          refusal = "registrar_unreachable: " + transport.error().message;
        } else {
          auto enrolled = pledge::bootstrap(device, trust, **transport, {});
          if (!enrolled) {
            refusal = std::string(pledge::error_entry(enrolled.refusal().error).name) + ": " +
                      enrolled.refusal().detail;
          }
        }
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - begun).count();
        std::lock_guard lock(mutex);
        if (refusal.empty()) {
          latency_ms.push_back(ms);
        } else {
          ++refusals[refusal.substr(0, refusal.find(':'))];
          if (first_refusal.empty()) first_refusal = refusal;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const double client_cpu = self_cpu_seconds() - client0;
  const double registrar_cpu = process_cpu_seconds(o.registrar_pid) - registrar0;
  const double masa_cpu = process_cpu_seconds(o.masa_pid) - masa0;
  std::sort(latency_ms.begin(), latency_ms.end());
  const double rate = static_cast<double>(latency_ms.size()) / wall;
  const double capacity = bound.cores * wall;

  std::printf("\n== %zu pledges, %u at a time, each a device not seen before\n", total,
              o.concurrency);
  std::printf("  onboarded:      %zu in %.2f s\n", latency_ms.size(), wall);
  std::printf("  onboardings/s:  %.1f\n", rate);
  std::printf("  latency:        p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
              percentile(latency_ms, 0.5), percentile(latency_ms, 0.99),
              latency_ms.empty() ? 0.0 : latency_ms.back());
  for (const auto& [name, n] : refusals)
    std::printf("  refused:        %s x %zu\n", name.c_str(), n);
  if (!first_refusal.empty()) std::printf("  first refusal:  %s\n", first_refusal.c_str());
  std::printf("  CPU (%u cores x %.2f s = %.1f core-s): pledges %.1f (%.0f%%)", bound.cores, wall,
              capacity, client_cpu, 100 * client_cpu / capacity);
  if (registrar_cpu >= 0)
    std::printf(", registrar %.1f (%.0f%%)", registrar_cpu, 100 * registrar_cpu / capacity);
  if (masa_cpu >= 0) std::printf(", MASA %.1f (%.0f%%)", masa_cpu, 100 * masa_cpu / capacity);
  std::printf("\n  vs crypto bound %.0f/s: %.1f%%", bound.rate(), 100 * rate / bound.rate());
  const double used = client_cpu + std::max(0.0, registrar_cpu) + std::max(0.0, masa_cpu);
  if (used > 0 && registrar_cpu >= 0 && masa_cpu >= 0) {
    // CPU actually spent per onboarding, against the crypto's share of it.
    std::printf("; %.2f core-ms per onboarding, of which crypto %.2f (%.0f%%)\n",
                1000 * used / static_cast<double>(std::max<std::size_t>(1, latency_ms.size())),
                1000 * bound.seconds(),
                100 * bound.seconds() * static_cast<double>(latency_ms.size()) / used);
  } else {
    std::printf("\n");
  }
  return refusals.empty() && !latency_ms.empty() ? 0 : 1;
}

}  // namespace
}  // namespace vouchsafe::bench

int main(int argc, char** argv) {
  const auto options = vouchsafe::bench::parse_args(argc, argv);
  if (!options) {
    std::fputs(vouchsafe::bench::k_usage, stderr);
    return 2;
  }
  return vouchsafe::bench::run(*options);
}
