// Seed-batch issuance (derive, sign, store) of 100 000 devices against the
// floor measured in the same run: one P-256 public-key derivation (a scalar
// multiplication and the encoding of the resulting point) plus one raw
// EVP_DigestSign per device, times the cores.
#include <benchmark/benchmark.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "crypto/keys.h"
#include "crypto/signature.h"
#include "factory/authority.h"
#include "factory/issuance.h"
#include "ratio_reporter.h"

namespace vouchsafe::bench {
namespace {

namespace fs = std::filesystem;

constexpr int k_devices = 100000;

void BM_FloorDeriveAndSign(benchmark::State& state) {
  EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  BN_CTX* ctx = BN_CTX_new();
  EC_POINT* point = EC_POINT_new(group);
  BIGNUM* scalar = BN_new();
  auto key = crypto::generate_key(crypto::KeyType::p256);
  unsigned char tbs[400];
  unsigned char encoded[65];
  RAND_bytes(tbs, sizeof tbs);
  for (auto _ : state) {
    BN_rand_range(scalar, EC_GROUP_get0_order(group));
    EC_POINT_mul(group, point, scalar, nullptr, nullptr, ctx);
    // A public key is derived once its coordinates can be written out.
    EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, encoded, sizeof encoded, ctx);
    auto sig = crypto::sign_bytes(key.get(), crypto::SignatureAlgorithm::es256, {tbs, sizeof tbs});
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(state.iterations());
  BN_free(scalar);
  EC_POINT_free(point);
  BN_CTX_free(ctx);
  EC_GROUP_free(group);
}

void BM_SeedBatch100k(benchmark::State& state) {
  const fs::path dir =
      fs::temp_directory_path() / ("vouchsafe-bench-" + std::to_string(::getpid()));
  for (auto _ : state) {
    state.PauseTiming();
    fs::remove_all(dir);
    const factory::Home home{dir};
    const std::string pass = "bench-passphrase";
    if (!factory::init_pki(home, {}, pass)) state.SkipWithError("init failed");
    auto store = std::move(factory::open_store(home)).value();
    factory::IssuingCaOptions ca;
    ca.name = "bench";
    ca.product = "widget";
    if (!factory::create_issuing_ca(home, *store, ca, pass)) state.SkipWithError("CA failed");
    {
      std::ofstream seeds(dir / "seeds.csv");
      unsigned char seed[32];
      for (int i = 0; i < k_devices; ++i) {
        RAND_bytes(seed, sizeof seed);
        char serial[32];
        std::snprintf(serial, sizeof serial, "WG-BENCH-%08d", i);
        seeds << serial << "," << hex_encode({seed, sizeof seed}) << "\n";
      }
    }
    auto config = std::move(factory::load_config(home)).value();
    const auto* product = *config.product("widget");
    auto pool =
        std::move(factory::IssuingCaPool::load(*store, config, *product, "", "", pass)).value();
    factory::IssueContext ictx{*store, config, *product, pool};
    factory::BatchOptions options;
    options.quiet = true;
    state.ResumeTiming();
    auto report = factory::run_seed_batch(ictx, (dir / "seeds.csv").string(), options);
    if (!report || report->issued != k_devices) state.SkipWithError("batch failed");
  }
  state.SetItemsProcessed(state.iterations() * k_devices);
  fs::remove_all(dir);
}

BENCHMARK(BM_FloorDeriveAndSign);
BENCHMARK(BM_SeedBatch100k)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
}  // namespace vouchsafe::bench

int main(int argc, char** argv) {
  vouchsafe::bench::initialize_interleaved(argc, argv, 3);
  vouchsafe::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double per_core = reporter.rates["BM_FloorDeriveAndSign"];
  const double batch = reporter.rates["BM_SeedBatch100k"];
  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  if (per_core > 0 && batch > 0) {
    const double floor = per_core * cores;
    std::printf("\nfloor: %.0f/s per core x %u cores = %.0f/s\n", per_core, cores, floor);
    std::printf(
        "seed batch of 100000 (derive, sign, store): %.0f/s = %.1f%% of the floor "
        "(target >= 50%%: %s)\n",
        batch, 100 * batch / floor, batch >= 0.5 * floor ? "met" : "MISSED");
  }
  return 0;
}
