// Keys in custody, measured in one run on a throw-away SoftHSM2 token: a
// raw C_Sign loop (one session per core), the same loop on one session
// shared by every thread (the design a session pool avoids), our PKCS#11
// signer, raw EVP_DigestSign and our software signer, and a seed batch with
// its issuing CA key on the token against the same with a software key.
// Targets: our signer >= 90% of the raw C_Sign rate.
//
//   cmake --preset release && cmake --build --preset release --target bench_keys
//   build/release/bin/bench_keys [--seconds 3] [--devices 5000]
//   build/release/bin/bench_keys --csign-rate 'pkcs11:token=...'   # prints the raw rate only
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "crypto/key_reference.h"
#include "crypto/keys.h"
#include "crypto/pkcs11/pkcs11_signer.h"
#include "crypto/signature.h"
#include "factory/authority.h"
#include "factory/issuance.h"

namespace vouchsafe::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

unsigned cores() {
  return std::max(1U, std::thread::hardware_concurrency());
}

// Operations per second of `threads` threads each running op(thread) for
// `seconds`; op returns false on failure, which aborts the run.
double rate(unsigned threads, double seconds, const std::function<bool(unsigned)>& op) {
  std::atomic<bool> stop{false};
  std::atomic<long> done{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> workers;
  const auto start = Clock::now();
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      long n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (!op(t)) {
          failed = true;
          break;
        }
        ++n;
      }
      done += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  const std::chrono::duration<double> took = Clock::now() - start;
  if (failed) {
    std::fprintf(stderr, "bench_keys: an operation failed\n");
    std::exit(2);
  }
  return static_cast<double>(done.load()) / took.count();
}

// The raw PKCS#11 loop: C_SignInit + C_Sign(CKM_ECDSA) on a SHA-256 digest,
// each thread on a session of its own (or all on `shared` under a lock).
double raw_csign_rate(const crypto::pkcs11::Pkcs11Signer& signer, unsigned threads, double seconds,
                      bool one_shared_session) {
  std::vector<crypto::pkcs11::Token::Session> sessions;
  for (unsigned t = 0; t < (one_shared_session ? 1U : threads); ++t) {
    auto s = signer.token()->session();
    if (!s) {
      std::fprintf(stderr, "bench_keys: %s\n", s.error().message.c_str());
      std::exit(2);
    }
    sessions.push_back(std::move(s).value());
  }
  std::mutex shared_lock;
  CK_FUNCTION_LIST* f = signer.token()->functions();
  const CK_OBJECT_HANDLE key = signer.private_key_handle();
  std::vector<std::uint8_t> digest(32, 0x5A);
  return rate(threads, seconds, [&](unsigned t) {
    std::unique_lock<std::mutex> lock(shared_lock, std::defer_lock);
    if (one_shared_session) lock.lock();
    const CK_SESSION_HANDLE h = sessions[one_shared_session ? 0 : t].handle();
    CK_MECHANISM mechanism{CKM_ECDSA, nullptr, 0};
    std::uint8_t sig[132];
    CK_ULONG len = sizeof sig;
    return f->C_SignInit(h, &mechanism, key) == CKR_OK &&
           f->C_Sign(h, digest.data(), digest.size(), sig, &len) == CKR_OK;
  });
}

struct Token {
  fs::path dir;
  std::string store;
};

// A SoftHSM2 configuration and token of this process's own.
Token make_token() {
  Token t;
  t.dir = fs::temp_directory_path() / ("vouchsafe-bench-keys-" + std::to_string(::getpid()));
  fs::create_directories(t.dir / "tokens");
  std::ofstream(t.dir / "softhsm2.conf") << "directories.tokendir = " << (t.dir / "tokens").string()
                                         << "\nobjectstore.backend = file\nlog.level = ERROR\n";
  ::setenv("SOFTHSM2_CONF", (t.dir / "softhsm2.conf").c_str(), 1);
  std::ofstream(t.dir / "pin") << "bench-pin\n";
  const std::string command =
      "softhsm2-util --init-token --free --label bench --pin bench-pin --so-pin bench-so "
      ">/dev/null";
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "bench_keys: softhsm2-util failed (scripts/setup installs softhsm2)\n");
    std::exit(2);
  }
  t.store = "pkcs11:token=bench?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:" +
            (t.dir / "pin").string();
  return t;
}

std::shared_ptr<const crypto::Signer> token_key(const std::string& store, const std::string& name) {
  auto where = crypto::parse_key_store(store);
  auto key = where ? crypto::generate_key_in(*where, crypto::KeyType::p256, name, std::nullopt)
                   : Result<crypto::GeneratedKey>(fail(where.error()));
  if (!key) {
    std::fprintf(stderr, "bench_keys: %s\n", key.error().message.c_str());
    std::exit(2);
  }
  return key->signer;
}

// Devices per second of a seed batch of `devices`, its CA keys in `key_store`
// ("" : encrypted files).
double seed_batch_rate(const std::string& key_store, int devices) {
  const fs::path dir =
      fs::temp_directory_path() / ("vouchsafe-bench-batch-" + std::to_string(::getpid()) +
                                   (key_store.empty() ? "-file" : "-token"));
  fs::remove_all(dir);
  const factory::Home home{dir};
  const std::string pass = "bench-passphrase";
  factory::InitOptions init;
  init.key_store = key_store;
  init.root_key_type = crypto::KeyType::p256;
  factory::IssuingCaOptions ca;
  ca.name = key_store.empty() ? "bench-file" : "bench-token";
  ca.product = "widget";
  ca.key_store = key_store;
  auto made = factory::init_pki(home, init, pass);
  auto store = factory::open_store(home);
  if (!made || !store || !factory::create_issuing_ca(home, **store, ca, pass)) {
    std::fprintf(stderr, "bench_keys: cannot set up the PKI for the seed batch\n");
    std::exit(2);
  }
  {
    std::ofstream seeds(dir / "seeds.csv");
    unsigned char seed[32];
    for (int i = 0; i < devices; ++i) {
      RAND_bytes(seed, sizeof seed);
      char serial[32];
      std::snprintf(serial, sizeof serial, "WG-BENCH-%08d", i);
      seeds << serial << "," << hex_encode({seed, sizeof seed}) << "\n";
    }
  }
  auto config = std::move(factory::load_config(home)).value();
  const auto* product = *config.product("widget");
  auto pool =
      std::move(factory::IssuingCaPool::load(**store, config, *product, "", "", pass)).value();
  factory::IssueContext ictx{**store, config, *product, pool};
  factory::BatchOptions options;
  options.quiet = true;
  const auto start = Clock::now();
  auto report = factory::run_seed_batch(ictx, (dir / "seeds.csv").string(), options);
  const std::chrono::duration<double> took = Clock::now() - start;
  if (!report || report->issued != devices) {
    std::fprintf(stderr, "bench_keys: the seed batch failed\n");
    std::exit(2);
  }
  fs::remove_all(dir);
  return devices / took.count();
}

}  // namespace
}  // namespace vouchsafe::bench

int main(int argc, char** argv) {
  using namespace vouchsafe;
  using namespace vouchsafe::bench;
  double seconds = 3;
  int devices = 5000;
  std::string csign_store;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--seconds")
      seconds = std::stod(argv[i + 1]);
    else if (flag == "--devices")
      devices = std::stoi(argv[i + 1]);
    else if (flag == "--csign-rate")
      csign_store = argv[i + 1];
    else
      return std::fprintf(stderr,
                          "usage: bench_keys [--seconds S] [--devices N] [--csign-rate URI]\n"),
             2;
  }
  const unsigned n = cores();
  if (!csign_store.empty()) {
    // For masa_load.sh: the token's raw rate with a key of its own.
    const std::string label = "bench-raw-" + std::to_string(::getpid());
    auto signer = token_key(csign_store, label);
    const auto* p11 = dynamic_cast<const crypto::pkcs11::Pkcs11Signer*>(signer.get());
    std::printf("%.0f\n", raw_csign_rate(*p11, n, seconds, false));
    auto ref = crypto::parse_key_reference(csign_store);
    ref->uri.object = label;
    signer.reset();
    (void)crypto::destroy_key(*ref);
    return 0;
  }
  const Token token = make_token();
  auto signer = token_key(token.store, "bench-signer");
  const auto* p11 = dynamic_cast<const crypto::pkcs11::Pkcs11Signer*>(signer.get());
  const Bytes message(600, 0x42);  // a voucher's signed attributes are about this long

  std::printf("%u cores, %.1f s per measurement, SoftHSM2 token in %s\n\n", n, seconds,
              token.dir.c_str());
  const double raw1 = raw_csign_rate(*p11, 1, seconds, false);
  const double raw_shared = raw_csign_rate(*p11, n, seconds, true);
  const double raw = raw_csign_rate(*p11, n, seconds, false);
  const double ours = rate(n, seconds, [&](unsigned) { return signer->sign(message).has_value(); });
  auto sw_key = crypto::generate_key(crypto::KeyType::p256);
  const double evp = rate(n, seconds, [&](unsigned) {
    return crypto::sign_bytes(sw_key.get(), crypto::SignatureAlgorithm::es256, message).has_value();
  });
  auto sw_signer = std::move(crypto::SoftwareSigner::create(crypto::share(sw_key.get()))).value();
  const double sw =
      rate(n, seconds, [&](unsigned) { return sw_signer->sign(message).has_value(); });

  std::printf("%-58s %10.0f /s\n", "raw C_Sign, 1 thread, 1 session", raw1);
  std::printf("%-58s %10.0f /s\n", "raw C_Sign, all cores on one shared session", raw_shared);
  std::printf("%-58s %10.0f /s\n", "raw C_Sign, one session per core", raw);
  std::printf("%-58s %10.0f /s  = %.1f%% of raw C_Sign (target >= 90%%: %s)\n",
              "our PKCS#11 signer (SHA-256 + C_Sign + DER), all cores", ours, 100 * ours / raw,
              ours >= 0.9 * raw ? "met" : "MISSED");
  std::printf("%-58s %10.0f /s\n", "raw EVP_DigestSign P-256, all cores", evp);
  std::printf("%-58s %10.0f /s  = %.1f%% of EVP_DigestSign\n", "our software signer, all cores", sw,
              100 * sw / evp);
  std::printf("token / software signing: %.2f\n\n", ours / sw);
  std::fflush(stdout);

  const double batch_file = seed_batch_rate("", devices);
  const double batch_token = seed_batch_rate(token.store, devices);
  std::printf("seed batch of %d, CA key in an encrypted file: %10.0f devices/s\n", devices,
              batch_file);
  std::printf("seed batch of %d, CA key on the token:         %10.0f devices/s = %.1f%%\n", devices,
              batch_token, 100 * batch_token / batch_file);
  signer.reset();
  std::error_code ec;
  fs::remove_all(token.dir, ec);
  return 0;
}
