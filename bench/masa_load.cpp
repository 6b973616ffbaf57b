// bench/masa_load: a load client for a running MASA. It pre-builds one
// registrar voucher-request per request (fresh pledge request and nonce),
// fires them with C concurrent connections in keep-alive and
// new-connection modes, and reports the rate, p50 / p99 latency, errors by
// status and the CPU used by itself and by the server, next to the crypto
// bound measured in the same process: cores / (3 verify + 1 sign), the
// signatures a voucher costs once registrar chains are cached. With
// --write-requests it only writes the requests to files, for another client
// (scripts/faults) to send. Usage: bench/masa_load.sh, or masa_load --help.
#include <gnutls/gnutls.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/file.h"
#include "crypto/keys.h"
#include "crypto/seed_derivation.h"
#include "crypto/signer.h"
#include "gnutls_floor.h"
#include "handshake_floor.h"
#include "net/https_connection.h"
#include "pledge/voucher_request.h"
#include "registrar/voucher_request.h"

namespace vouchsafe::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t k_max_requests = 100000;  // per mode: bounds memory and time
constexpr double k_max_duration_s = 300;
constexpr std::string_view k_media_cms = "application/voucher-cms+json";

struct Options {
  std::string url;               // https://127.0.0.1:PORT
  std::string ca_file;           // the MASA's TLS CA
  std::string registrars;        // DIR with registrar-1.pem/.key, registrar-2...
  std::string seeds;             // SERIAL,SEED lines (the idevid batch input)
  std::string devices;           // `vouchsafe device export --format csv`
  long server_pid = 0;           // for the server's CPU time, 0: unknown
  double duration_s = 20;        // per mode
  std::size_t requests = 40000;  // per mode, at most
  unsigned concurrency = 8;
  std::string modes = "keep-alive,new-connection,resumed";
  std::size_t hold = 0;        // connections to hold open at the end, for the MASA's memory
  std::string write_requests;  // DIR: write the requests there and send nothing
  // The MASA's key is on a token: the bound takes the token's measured
  // C_Sign rate (all cores) in place of EVP_DigestSign; 0: a software key.
  double token_sign_rate = 0;
  // The TLS library of the MASA's listener: whose floor the handshake
  // modes are set against.
  std::string tls_library = "gnutls";
};

const char* const k_usage =
    "usage: masa_load --url https://127.0.0.1:PORT --ca MASA-CA.pem --registrars DIR\n"
    "                 --seeds SEEDS.csv --devices DEVICES.csv [--server-pid PID]\n"
    "                 [--duration SECONDS=20] [--requests N=40000 (max 100000)]\n"
    "                 [--concurrency C=8] [--modes keep-alive,new-connection,resumed]\n"
    "                 [--hold N (max 5000): then hold N connections open, report the MASA's RSS]\n"
    "                 [--token-sign-rate R (the token's raw C_Sign/s, for the bound)]\n"
    "                 [--tls-library gnutls|openssl (the MASA's, default gnutls: the floor)]\n"
    "       masa_load --write-requests DIR --requests N --registrars DIR --seeds SEEDS.csv\n"
    "                 --devices DEVICES.csv\n"
    "                 writes N registrar voucher-requests (CMS), DIR/NNNNNN.rvr, and\n"
    "                 DIR/index.csv: file,registrar,serial,nonce (the nonce as the audit log\n"
    "                 spells it); registrar K signs requests K-1, K-1+R, ... of R registrars.\n"
    "Each mode stops at SECONDS or after N requests, whichever comes first.\n"
    "Exit: 0 every request got a voucher, 1 some did not, 2 usage or set-up error.\n";

std::optional<Options> parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") return std::nullopt;
    if (i + 1 >= argc) return std::nullopt;
    const std::string value = argv[++i];
    try {
      if (flag == "--url")
        o.url = value;
      else if (flag == "--ca")
        o.ca_file = value;
      else if (flag == "--registrars")
        o.registrars = value;
      else if (flag == "--seeds")
        o.seeds = value;
      else if (flag == "--devices")
        o.devices = value;
      else if (flag == "--server-pid")
        o.server_pid = std::stol(value);
      else if (flag == "--duration")
        o.duration_s = std::stod(value);
      else if (flag == "--requests")
        o.requests = std::stoul(value);
      else if (flag == "--concurrency")
        o.concurrency = static_cast<unsigned>(std::stoul(value));
      else if (flag == "--modes")
        o.modes = value;
      else if (flag == "--hold")
        o.hold = std::stoul(value);
      else if (flag == "--token-sign-rate")
        o.token_sign_rate = std::stod(value);
      else if (flag == "--tls-library")
        o.tls_library = value;
      else if (flag == "--write-requests")
        o.write_requests = value;
      else
        return std::nullopt;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  const bool sends = o.write_requests.empty();
  if ((sends && (o.url.empty() || o.ca_file.empty())) || o.registrars.empty() || o.seeds.empty() ||
      o.devices.empty() || o.concurrency == 0 || o.requests == 0 || o.duration_s <= 0 ||
      (o.tls_library != "gnutls" && o.tls_library != "openssl")) {
    return std::nullopt;
  }
  o.requests = std::min(o.requests, k_max_requests);
  if (o.hold > 5000) return std::nullopt;
  o.duration_s = std::min(o.duration_s, k_max_duration_s);
  return o;
}

// A signing identity that owns its key.
struct Identity {
  std::unique_ptr<crypto::SoftwareSigner> signer;
  voucher::SigningIdentity identity;
  std::string cert_file, key_file;  // registrars: also the TLS client identity
  std::string serial;               // devices
};

Result<Identity> make_identity(crypto::PkeyPtr key, std::vector<crypto::X509Ptr> chain) {
  if (chain.empty() || X509_check_private_key(chain.front().get(), key.get()) != 1) {
    return fail(ErrorCode::bad_key, "a certificate does not match its key");
  }
  Identity out;
  ASSIGN_OR_RETURN(out.signer, crypto::SoftwareSigner::create(std::move(key)));
  out.identity.signer = out.signer.get();
  for (auto& c : chain) out.identity.chain.push_back(crypto::make_certificate_ref(std::move(c)));
  return out;
}

Result<std::vector<Identity>> load_registrars(const std::string& dir) {
  std::vector<Identity> out;
  for (int n = 1;; ++n) {
    const std::string base = dir + "/registrar-" + std::to_string(n);
    if (!std::filesystem::exists(base + ".pem")) break;
    ASSIGN_OR_RETURN(auto key, crypto::load_private_key(base + ".key", std::nullopt));
    ASSIGN_OR_RETURN(auto chain, crypto::load_certificates(base + ".pem"));
    ASSIGN_OR_RETURN(auto id, make_identity(std::move(key), std::move(chain)));
    id.cert_file = base + ".pem";
    id.key_file = base + ".key";
    out.push_back(std::move(id));
  }
  if (out.empty()) return fail(ErrorCode::usage, "no registrar-1.pem in " + dir);
  return out;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::stringstream in(line);
  for (std::string field; std::getline(in, field, sep);) out.push_back(field);
  return out;
}

// The devices, their keys derived from the vendor's seeds as the devices
// themselves would (docs/seed-derivation.md), their IDevIDs from the export.
Result<std::vector<Identity>> load_devices(const std::string& seeds_path,
                                           const std::string& devices_path) {
  std::map<std::string, Bytes> seeds;
  std::ifstream seeds_in(seeds_path);
  if (!seeds_in) return fail(ErrorCode::io_error, "cannot read " + seeds_path);
  for (std::string line; std::getline(seeds_in, line);) {
    const auto f = split(line, ',');
    if (f.size() != 2 || line[0] == '#') continue;
    ASSIGN_OR_RETURN(seeds[f[0]], hex_decode(f[1]));
  }
  std::ifstream devices_in(devices_path);
  if (!devices_in) return fail(ErrorCode::io_error, "cannot read " + devices_path);
  std::vector<Identity> out;
  for (std::string line; std::getline(devices_in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto f = split(line, ',');
    if (f.size() < 2 || f[0] == "serial") continue;  // header
    const auto seed = seeds.find(f[0]);
    if (seed == seeds.end()) continue;
    ASSIGN_OR_RETURN(auto der, base64_decode(f.back()));
    ASSIGN_OR_RETURN(auto cert, crypto::parse_certificate_der(der));
    ASSIGN_OR_RETURN(auto derived, crypto::derive_p256_key(seed->second));
    ASSIGN_OR_RETURN(auto key, crypto::derived_key_to_pkey(derived));
    std::vector<crypto::X509Ptr> chain;
    chain.push_back(std::move(cert));
    ASSIGN_OR_RETURN(auto id, make_identity(std::move(key), std::move(chain)));
    id.serial = f[0];
    out.push_back(std::move(id));
  }
  if (out.empty()) return fail(ErrorCode::usage, "no device of " + devices_path + " has a seed");
  return out;
}

// ---- the crypto bound

// Seconds per operation, best of three rounds of `iterations`.
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

struct Bound {
  double t_sign = 0, t_verify = 0;
  double t_tls_sign = 0;  // the TLS key's signature: software, wherever the voucher key is
  double t_ecdhe = 0;     // X25519 key generation and agreement, one side
  unsigned cores = 1;
  // A voucher on a kept-alive connection: 3 verifications (RVR, PVR,
  // IDevID path) and 1 signature.
  [[nodiscard]] double rate() const { return cores / (3 * t_verify + t_sign); }
  // On a fresh connection the server also does a full TLS 1.3 handshake
  // with a client certificate: its ECDHE share, its CertificateVerify
  // signature and the check of the client's.
  [[nodiscard]] double fresh_rate() const {
    return cores / (t_ecdhe + t_tls_sign + t_verify + 3 * t_verify + t_sign);
  }
  // A resumed handshake (psk_dhe_ke) costs the server its ECDHE alone.
  [[nodiscard]] double resumed_rate() const { return cores / (t_ecdhe + 3 * t_verify + t_sign); }
  // What the MASA's TLS library itself spends per server handshake
  // (handshake_floor.h, gnutls_floor.h) in place of the handshake's
  // public-key operations alone.
  HandshakeFloor floor;
  std::string floor_library;
  [[nodiscard]] double with_voucher(double t_handshake) const {
    return cores / (t_handshake + 3 * t_verify + t_sign);
  }
  [[nodiscard]] double fresh_floor_rate() const { return with_voucher(floor.t_full); }
  [[nodiscard]] double resumed_floor_rate() const { return with_voucher(floor.t_resumed); }
};

// Raw EVP_DigestSign / EVP_DigestVerify, ECDSA P-256 with SHA-256, over a
// voucher-sized message: what no envelope code can beat.
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
  b.t_sign = best_time(2000, sign);
  b.t_tls_sign = b.t_sign;
  sign();
  b.t_verify = best_time(2000, verify);
  // X25519, the group TLS 1.3 clients offer first and the server picks.
  crypto::PkeyPtr peer;
  {
    EVP_PKEY* raw = nullptr;
    crypto::PkeyCtxPtr kctx(EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr));
    if (!kctx || EVP_PKEY_keygen_init(kctx.get()) != 1 || EVP_PKEY_keygen(kctx.get(), &raw) != 1) {
      std::abort();
    }
    peer.reset(raw);
  }
  auto ecdhe = [&] {
    EVP_PKEY* raw = nullptr;
    crypto::PkeyCtxPtr kctx(EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr));
    if (EVP_PKEY_keygen_init(kctx.get()) != 1 || EVP_PKEY_keygen(kctx.get(), &raw) != 1) {
      std::abort();
    }
    const crypto::PkeyPtr ours(raw);
    crypto::PkeyCtxPtr dctx(EVP_PKEY_CTX_new(ours.get(), nullptr));
    std::array<unsigned char, 32> secret{};
    std::size_t len = secret.size();
    if (EVP_PKEY_derive_init(dctx.get()) != 1 ||
        EVP_PKEY_derive_set_peer(dctx.get(), peer.get()) != 1 ||
        EVP_PKEY_derive(dctx.get(), secret.data(), &len) != 1) {
      std::abort();
    }
  };
  b.t_ecdhe = best_time(2000, ecdhe);
  return b;
}

// ---- CPU accounting

double self_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// utime + stime of another process from /proc/PID/stat (fields 14 and 15);
// negative when unknown.
double process_cpu_seconds(long pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);              // one line
  const auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::vector<std::string> f;
  for (std::string s; fields >> s;) f.push_back(s);
  if (f.size() < 13) return -1;  // f[0] is field 3 (state)
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::stod(f[11]) + std::stod(f[12])) / ticks;
}

// Busy and total core-seconds of the whole machine since boot, from the
// first line of /proc/stat (idle and iowait count as not busy).
struct MachineCpu {
  double busy = 0, total = 0;
};
MachineCpu machine_cpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  MachineCpu m;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  double v = 0;
  for (int field = 0; field < 8 && in >> v; ++field) {
    m.total += v / ticks;
    if (field != 3 && field != 4) m.busy += v / ticks;  // 3 idle, 4 iowait
  }
  return m;
}

// ---- the load

struct Request {
  Bytes rvr;
  std::string serial, nonce;  // the nonce in base64, as the audit log names it
};

struct Worker {
  const Identity* registrar = nullptr;
  std::vector<Request> pool;
  std::vector<double> latency_ms;
  std::map<int, std::size_t> statuses;
  std::size_t transport_errors = 0;
  std::size_t connections = 0;
  std::size_t resumed = 0;
  std::string first_error;
};

// One RVR per request, each around a fresh PVR (new nonce) from the next
// device, signed by the worker's registrar: the MASA sees distinct requests.
Status build_pools(std::vector<Worker>& workers, const std::vector<Identity>& devices,
                   std::size_t total) {
  const std::size_t per_worker = (total + workers.size() - 1) / workers.size();
  for (auto& w : workers) w.pool.assign(per_worker, {});
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::string error;
  std::mutex error_mutex;
  auto build = [&] {
    for (std::size_t k = next++; k < per_worker * workers.size() && !failed; k = next++) {
      auto& w = workers[k % workers.size()];
      const auto& device = devices[k % devices.size()];
      pledge::PledgeRequestOptions p;
      p.nonce = pledge::fresh_nonce();
      auto& request = w.pool[k / workers.size()];
      request.serial = device.serial;
      request.nonce = base64_encode(*p.nonce);
      auto pvr = pledge::make_pledge_voucher_request(device.identity,
                                                     w.registrar->identity.chain.front()->der, p);
      auto rvr = pvr ? registrar::make_registrar_voucher_request(w.registrar->identity, *pvr, {})
                     : Result<Bytes>(fail(pvr.error()));
      if (!rvr) {
        const std::lock_guard lock(error_mutex);
        error = rvr.error().message;
        failed = true;
        return;
      }
      request.rvr = std::move(*rvr);
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::max(1U, std::thread::hardware_concurrency()); ++t) {
    threads.emplace_back(build);
  }
  for (auto& t : threads) t.join();
  if (failed) return fail(ErrorCode::internal, "cannot build a voucher-request: " + error);
  return ok();
}

net::ClientOptions client_options(const Options& o, const Identity& registrar) {
  net::ClientOptions c;
  c.ca_file = o.ca_file;
  c.cert_file = registrar.cert_file;
  c.key_file = registrar.key_file;
  c.timeout = std::chrono::seconds(10);
  return c;
}

void note_error(Worker& w, const std::string& message) {
  ++w.transport_errors;
  if (w.first_error.empty()) w.first_error = message;
}

enum class Mode { keep_alive, new_connection, resumed };

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::keep_alive:
      return "keep-alive";
    case Mode::new_connection:
      return "new-connection";
    case Mode::resumed:
      return "resumed";
  }
  return "";
}

// Keep-alive: one connection, opened before the clock starts and reopened
// only if the server closes it. New-connection: a TCP connect and full TLS
// handshake inside every request's latency. Resumed: a new connection per
// request too, resuming the session of the one before (a registrar that
// comes back with its ticket).
void run_worker(Worker& w, const Options& o, const net::Url& where, Mode mode,
                const std::atomic<bool>& go, Clock::time_point& deadline) {
  const bool keep_alive = mode == Mode::keep_alive;
  auto tls = net::ClientTls::load(client_options(o, *w.registrar));
  if (!tls) {
    note_error(w, tls.error().message);
    return;
  }
  std::unique_ptr<net::HttpsConnection> connection;
  net::SessionPtr session;
  if (keep_alive) {
    if (auto c = net::HttpsConnection::open(where, *tls)) {
      connection = std::move(*c);
      ++w.connections;
    } else {
      note_error(w, c.error().message);
    }
  }
  while (!go) std::this_thread::yield();
  w.latency_ms.reserve(w.pool.size());
  for (auto& request : w.pool) {
    const auto start = Clock::now();
    if (start >= deadline) break;
    if (!connection || !connection->keep_alive()) {
      auto c = net::HttpsConnection::open(where, *tls, session.get());
      if (!c) {
        note_error(w, c.error().message);
        continue;
      }
      connection = std::move(*c);
      ++w.connections;
      if (connection->resumed()) ++w.resumed;
    }
    auto response =
        connection->post(std::string(k_media_cms), std::string(k_media_cms), request.rvr);
    if (mode == Mode::resumed && response) session = connection->session();
    if (!keep_alive) connection.reset();  // no close_notify wait: we have the answer
    if (!response) {
      note_error(w, response.error().message);
      connection.reset();
      continue;
    }
    w.latency_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    ++w.statuses[response->status];
    if (response->status != 200 && w.first_error.empty()) {
      w.first_error = std::to_string(response->status) + ": " +
                      std::string(response->body.begin(), response->body.end());
    }
  }
  if (connection) connection->close();
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[i];
}

struct ModeResult {
  double rate = 0;
  double alone = 0;  // per MASA CPU, when the server's CPU is known
  bool clean = true;
};

Result<ModeResult> run_mode(const Options& o, const net::Url& where,
                            const std::vector<Identity>& registrars,
                            const std::vector<Identity>& devices, const Bound& bound, Mode mode) {
  const char* name = mode_name(mode);
  std::vector<Worker> workers(o.concurrency);
  for (std::size_t i = 0; i < workers.size(); ++i)
    workers[i].registrar = &registrars[i % registrars.size()];
  const auto build_start = Clock::now();
  TRY(build_pools(workers, devices, o.requests));
  std::fprintf(stderr, "%s: %zu voucher-requests built in %.1f s (not measured)\n", name,
               o.requests, std::chrono::duration<double>(Clock::now() - build_start).count());

  std::atomic<bool> go{false};
  Clock::time_point deadline = Clock::time_point::max();
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&, wp = &w] { run_worker(*wp, o, where, mode, go, deadline); });
  }
  // Let the keep-alive connections finish their handshakes before the clock.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const double client_cpu0 = self_cpu_seconds();
  const double server_cpu0 = process_cpu_seconds(o.server_pid);
  const MachineCpu machine0 = machine_cpu();
  const auto start = Clock::now();
  deadline = start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(o.duration_s));
  go = true;
  for (auto& t : threads) t.join();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const double client_cpu = self_cpu_seconds() - client_cpu0;
  const double server_cpu = process_cpu_seconds(o.server_pid) - server_cpu0;
  const MachineCpu machine1 = machine_cpu();
  const double machine_busy =
      (machine1.busy - machine0.busy) / std::max(1e-9, machine1.total - machine0.total);

  std::vector<double> latency;
  std::map<int, std::size_t> statuses;
  std::size_t transport_errors = 0, connections = 0, resumed = 0;
  std::string first_error;
  for (auto& w : workers) {
    latency.insert(latency.end(), w.latency_ms.begin(), w.latency_ms.end());
    for (const auto& [status, n] : w.statuses) statuses[status] += n;
    transport_errors += w.transport_errors;
    connections += w.connections;
    resumed += w.resumed;
    if (first_error.empty()) first_error = w.first_error;
  }
  std::sort(latency.begin(), latency.end());
  const std::size_t ok_count = statuses.count(200) != 0 ? statuses[200] : 0;
  ModeResult result;
  result.rate = static_cast<double>(ok_count) / wall;
  result.clean = ok_count == latency.size() && transport_errors == 0 && ok_count > 0;
  const double capacity = bound.cores * wall;  // core-seconds the machine had

  std::printf("\n== %s: %u concurrent connections, %zu registrars\n", name, o.concurrency,
              std::min<std::size_t>(registrars.size(), o.concurrency));
  std::printf(
      "  %zu responses in %.2f s%s; %zu TLS connections opened, %zu resumed\n", latency.size(),
      wall,
      latency.size() + transport_errors >= o.requests - o.concurrency ? " (request bound)" : "",
      connections, resumed);
  std::printf("  vouchers/s:     %.0f\n", result.rate);
  std::printf("  latency:        p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              percentile(latency, 0.50), percentile(latency, 0.99),
              latency.empty() ? 0.0 : latency.back());
  std::printf("  by status:     ");
  for (const auto& [status, n] : statuses) std::printf(" %d=%zu", status, n);
  std::printf("  transport errors=%zu\n", transport_errors);
  if (!first_error.empty()) std::printf("  first error:    %s\n", first_error.c_str());
  std::printf("  CPU (%u cores x %.2f s = %.1f core-s): load client %.1f core-s (%.0f%%)",
              bound.cores, wall, capacity, client_cpu, 100 * client_cpu / capacity);
  if (server_cpu >= 0) {
    std::printf(", MASA %.1f core-s (%.0f%%)\n", server_cpu, 100 * server_cpu / capacity);
  } else {
    std::printf(", MASA unknown (no --server-pid)\n");
  }
  if (server_cpu >= 0) {
    // Other processes (a build, say) share the cores too; an idle machine
    // means the MASA waits on something else, e.g. its store's commits.
    const double others = std::max(0.0, machine_busy - (client_cpu + server_cpu) / capacity);
    std::printf("  machine: %.0f%% busy, of which other processes %.0f%%%s\n", 100 * machine_busy,
                100 * others,
                machine_busy < 0.75 ? " (the MASA is not CPU-bound: waiting on I/O?)" : "");
  }
  // The bound of the mode: what its requests cost in raw crypto.
  const double limit = mode == Mode::keep_alive       ? bound.rate()
                       : mode == Mode::new_connection ? bound.fresh_rate()
                                                      : bound.resumed_rate();
  std::printf("  vs its crypto bound %.0f/s: %.1f%%", limit, 100 * result.rate / limit);
  if (server_cpu > 0) {
    // The client shares the cores: scale to what the MASA would do alone.
    const double alone = result.rate * capacity / server_cpu;
    std::printf("; per MASA CPU: %.0f/s if it had every core = %.1f%% of the bound\n", alone,
                100 * alone / limit);
    result.alone = alone;
    if (mode != Mode::keep_alive && bound.floor.t_full > 0) {
      const double floor =
          mode == Mode::new_connection ? bound.fresh_floor_rate() : bound.resumed_floor_rate();
      std::printf("  vs %s's own handshake + the voucher's crypto %.0f/s: per MASA CPU %.1f%%\n",
                  bound.floor_library.c_str(), floor, 100 * alone / floor);
    }
  } else {
    std::printf("\n");
  }
  std::fflush(stdout);
  return result;
}

// Resident memory of a process in KiB, from /proc/PID/status; -1 unknown.
long resident_kib(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// Issue 12: many registrars' connections held open at once, each having
// made one request, cost the MASA bounded memory. Opens them from a few
// threads, measures the server's resident memory before and after.
int hold_connections(const Options& o, const net::Url& where,
                     const std::vector<Identity>& registrars,
                     const std::vector<Identity>& devices) {
  if (o.server_pid <= 0) {
    std::fprintf(stderr, "masa_load: --hold needs --server-pid\n");
    return 2;
  }
  constexpr unsigned k_threads = 8;
  std::vector<Worker> workers(k_threads);
  for (std::size_t i = 0; i < workers.size(); ++i)
    workers[i].registrar = &registrars[i % registrars.size()];
  if (auto built = build_pools(workers, devices, o.hold); !built) {
    std::fprintf(stderr, "masa_load: %s\n", built.error().message.c_str());
    return 2;
  }
  // One descriptor per held connection, on this side too.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &files);
  }
  const long before = resident_kib(o.server_pid);
  std::vector<std::vector<std::unique_ptr<net::HttpsConnection>>> held(k_threads);
  std::atomic<std::size_t> opened{0}, failed{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      auto tls = net::ClientTls::load(client_options(o, *workers[t].registrar));
      if (!tls) return;
      for (const auto& request : workers[t].pool) {
        if (opened + failed >= o.hold) break;
        auto c = net::HttpsConnection::open(where, *tls);
        if (!c) {
          ++failed;
          continue;
        }
        auto r = (*c)->post(std::string(k_media_cms), std::string(k_media_cms), request.rvr);
        if (!r || r->status != 200) {
          ++failed;
          continue;
        }
        held[t].push_back(std::move(*c));
        ++opened;
      }
    });
  }
  for (auto& t : threads) t.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const long after = resident_kib(o.server_pid);
  std::printf(
      "\n== %zu connections held open (%zu failed): MASA resident memory %.1f MiB,"
      " was %.1f MiB: %.1f KiB per connection\n",
      opened.load(), failed.load(), after / 1024.0, before / 1024.0,
      opened > 0 ? static_cast<double>(after - before) / static_cast<double>(opened) : 0.0);
  std::fflush(stdout);
  for (auto& list : held) {
    for (auto& c : list) c->close();
  }
  return failed == 0 ? 0 : 1;
}

// The requests as files for another client, one worker per registrar so
// that registrar-K.pem is the TLS identity of the requests it signed.
int write_requests(const Options& o, const std::vector<Identity>& registrars,
                   const std::vector<Identity>& devices) {
  std::vector<Worker> workers(registrars.size());
  for (std::size_t i = 0; i < workers.size(); ++i) workers[i].registrar = &registrars[i];
  if (auto built = build_pools(workers, devices, o.requests); !built) {
    std::fprintf(stderr, "masa_load: %s\n", built.error().message.c_str());
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(o.write_requests, ec);
  std::ofstream index(o.write_requests + "/index.csv");
  index << "file,registrar,serial,nonce\n";
  for (std::size_t k = 0; k < o.requests; ++k) {
    const auto& request = workers[k % workers.size()].pool[k / workers.size()];
    std::array<char, 32> name{};
    std::snprintf(name.data(), name.size(), "%06zu.rvr", k);
    // Plain writes, no fsync: scratch files, thousands of them.
    std::ofstream body(o.write_requests + "/" + name.data(), std::ios::binary);
    body.write(reinterpret_cast<const char*>(request.rvr.data()),
               static_cast<std::streamsize>(request.rvr.size()));
    if (!body) {
      std::fprintf(stderr, "masa_load: cannot write %s/%s\n", o.write_requests.c_str(),
                   name.data());
      return 2;
    }
    index << name.data() << ',' << (k % workers.size()) + 1 << ',' << request.serial << ','
          << request.nonce << '\n';
  }
  index.close();
  if (!index) return std::fprintf(stderr, "masa_load: cannot write the index\n"), 2;
  std::fprintf(stderr, "%zu voucher-requests written to %s\n", o.requests,
               o.write_requests.c_str());
  return 0;
}

int run(const Options& o) {
  auto where = net::parse_https_url((o.url.empty() ? std::string("https://127.0.0.1") : o.url) +
                                    "/.well-known/brski/requestvoucher");
  if (!where) return std::fprintf(stderr, "masa_load: %s\n", where.error().message.c_str()), 2;
  auto registrars = load_registrars(o.registrars);
  if (!registrars)
    return std::fprintf(stderr, "masa_load: %s\n", registrars.error().message.c_str()), 2;
  auto devices = load_devices(o.seeds, o.devices);
  if (!devices) return std::fprintf(stderr, "masa_load: %s\n", devices.error().message.c_str()), 2;
  if (!o.write_requests.empty()) return write_requests(o, *registrars, *devices);
  std::fprintf(stderr, "%zu registrars, %zu devices; measuring the crypto bound...\n",
               registrars->size(), devices->size());

  Bound bound = measure_bound();
  // The floors take seconds and only the handshake modes are set against
  // them: both libraries', the MASA's for the ratios.
  HandshakeFloor openssl_floor;
  HandshakeFloor gnutls_floor;
  if (o.modes.find("new-connection") != std::string::npos ||
      o.modes.find("resumed") != std::string::npos) {
    const auto& registrar = registrars->front();
    if (auto floor = measure_handshake_floor(registrar.cert_file, registrar.key_file)) {
      openssl_floor = *floor;
    } else {
      std::fprintf(stderr, "masa_load: no OpenSSL floor: %s\n", floor.error().message.c_str());
    }
    if (auto floor = measure_gnutls_handshake_floor(registrar.cert_file, registrar.key_file)) {
      gnutls_floor = *floor;
    } else {
      std::fprintf(stderr, "masa_load: no GnuTLS floor: %s\n", floor.error().message.c_str());
    }
  }
  const bool on_gnutls = o.tls_library == "gnutls";
  bound.floor = on_gnutls ? gnutls_floor : openssl_floor;
  bound.floor_library = on_gnutls ? "GnuTLS" : "OpenSSL";
  if (o.token_sign_rate > 0) {
    // Per-core seconds of a token signature: the token's rate on every core.
    bound.t_sign = bound.cores / o.token_sign_rate;
    std::printf("signing key on the token: C_Sign %.0f/s on %u cores in place of EVP_DigestSign\n",
                o.token_sign_rate, bound.cores);
  }
  std::printf("crypto bound: %u cores / (3 x verify %.1f us + sign %.1f us) = %.0f vouchers/s\n",
              bound.cores, bound.t_verify * 1e6, bound.t_sign * 1e6, bound.rate());
  std::printf(
      "  on a fresh connection (+ X25519 %.1f us, a signature and a verification): %.0f/s;"
      " resumed (+ X25519): %.0f/s\n",
      bound.t_ecdhe * 1e6, bound.fresh_rate(), bound.resumed_rate());
  if (openssl_floor.t_full > 0) {
    std::printf(
        "OpenSSL %s itself, server side, one thread, memory BIOs: full handshake with the\n"
        "  registrar's certificate chain %.1f us, resumed %.1f us; with the voucher's crypto:\n"
        "  %.0f/s fresh, %.0f/s resumed (d2i_X509 of that certificate alone: %.1f us)\n",
        OpenSSL_version(OPENSSL_VERSION_STRING), openssl_floor.t_full * 1e6,
        openssl_floor.t_resumed * 1e6, bound.with_voucher(openssl_floor.t_full),
        bound.with_voucher(openssl_floor.t_resumed), openssl_floor.t_certificate_decode * 1e6);
  }
  if (gnutls_floor.t_full > 0) {
    std::printf(
        "GnuTLS %s itself, server side, one thread, memory transport: full handshake %.1f us,\n"
        "  resumed %.1f us; with the voucher's crypto: %.0f/s fresh, %.0f/s resumed\n",
        gnutls_check_version(nullptr), gnutls_floor.t_full * 1e6, gnutls_floor.t_resumed * 1e6,
        bound.with_voucher(gnutls_floor.t_full), bound.with_voucher(gnutls_floor.t_resumed));
  }
  if (bound.floor.t_full > 0) {
    std::printf("the MASA's listener runs on %s: the handshake modes are set against its floor\n",
                bound.floor_library.c_str());
  }
  std::printf("(the load client runs on the same cores as the MASA; see the CPU lines)\n");
  std::fflush(stdout);

  bool clean = true;
  std::map<std::string, ModeResult> results;
  for (const auto& name : split(o.modes, ',')) {
    Mode mode{};
    if (name == "keep-alive") {
      mode = Mode::keep_alive;
    } else if (name == "new-connection") {
      mode = Mode::new_connection;
    } else if (name == "resumed") {
      mode = Mode::resumed;
    } else {
      std::fprintf(stderr, "masa_load: unknown mode %s\n", name.c_str());
      return 2;
    }
    auto r = run_mode(o, *where, *registrars, *devices, bound, mode);
    if (!r) return std::fprintf(stderr, "masa_load: %s\n", r.error().message.c_str()), 2;
    clean = clean && r->clean;
    results[name] = *r;
  }
  if (o.hold > 0 && hold_connections(o, *where, *registrars, *devices) != 0) clean = false;
  // Issue 12's target for resumption: a share of the keep-alive rate.
  if (results.count("keep-alive") != 0 && results.count("resumed") != 0) {
    const auto& ka = results["keep-alive"];
    const auto& re = results["resumed"];
    std::printf("\nresumed / keep-alive: %.1f%%", 100 * re.rate / ka.rate);
    if (ka.alone > 0 && re.alone > 0) {
      std::printf(" (per MASA CPU: %.1f%%)", 100 * re.alone / ka.alone);
    }
    std::printf("\n");
  }
  return clean ? 0 : 1;
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
