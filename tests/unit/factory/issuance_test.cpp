// Issuance pipelines: round-robin among issuing CAs, automatic retirement,
// resumable seed batches, all-or-nothing on bad input.
#include "factory/issuance.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "crypto/keys.h"
#include "crypto/seed_derivation.h"

namespace vouchsafe::factory {
namespace {

namespace fs = std::filesystem;
const std::string k_pass = "unit-test-passphrase";

class FactoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_.root = fs::temp_directory_path() /
                 ("vouchsafe-factory-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(home_.root);
    InitOptions init;
    init.root_key_type = crypto::KeyType::p256;
    ASSERT_TRUE(init_pki(home_, init, k_pass));
    store_ = std::move(open_store(home_)).value();
    config_ = std::move(load_config(home_)).value();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(home_.root);
  }

  void add_ca(const std::string& name, std::int64_t max_certificates = 0) {
    IssuingCaOptions o;
    o.name = name;
    o.product = "widget";
    o.max_certificates = max_certificates;
    auto ca = create_issuing_ca(home_, *store_, o, k_pass);
    ASSERT_TRUE(ca) << ca.error().message;
  }

  IssuingCaPool pool() {
    auto p = IssuingCaPool::load(*store_, config_, **config_.product("widget"), "", "", k_pass);
    EXPECT_TRUE(p) << (p ? "" : p.error().message);
    return std::move(p).value();
  }

  std::string write_seeds(const std::string& name, int count, int first = 0) {
    const auto path = (home_.root / name).string();
    std::ofstream out(path);
    for (int i = first; i < first + count; ++i) {
      char serial[32];
      std::snprintf(serial, sizeof serial, "WG-T1-%06d", i);
      out << serial << "," << hex_encode(Bytes(32, static_cast<std::uint8_t>(i % 251 + 1))) << "\n";
    }
    return path;
  }

  Home home_;
  std::unique_ptr<store::AssetStore> store_;
  FactoryConfig config_;
};

TEST_F(FactoryTest, SeedBatchUsesIssuingCasRoundRobin) {
  add_ca("a");
  add_ca("b");
  auto p = pool();
  IssueContext ctx{*store_, config_, **config_.product("widget"), p};
  BatchOptions options;
  options.quiet = true;
  auto report = run_seed_batch(ctx, write_seeds("seeds.csv", 10), options);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->issued, 10);
  EXPECT_EQ((*store_->find_ca("a"))->issued_count, 5);
  EXPECT_EQ((*store_->find_ca("b"))->issued_count, 5);
}

TEST_F(FactoryTest, AnIssuingCaRetiresItselfAtItsLimit) {
  add_ca("small", 3);
  add_ca("big");
  auto p = pool();
  IssueContext ctx{*store_, config_, **config_.product("widget"), p};
  BatchOptions options;
  options.quiet = true;
  auto report = run_seed_batch(ctx, write_seeds("seeds.csv", 10), options);
  ASSERT_TRUE(report) << report.error().message;
  const auto small = **store_->find_ca("small");
  EXPECT_EQ(small.issued_count, 3);
  EXPECT_EQ(small.status, store::CaStatus::retired);
  EXPECT_FALSE(fs::exists(home_.keys_dir() / "issuing-small.key.pem"));
  EXPECT_EQ((*store_->find_ca("big"))->issued_count, 7);
}

TEST_F(FactoryTest, AStoppedBatchResumesWithoutDuplicatesOrGaps) {
  add_ca("a");
  const auto seeds = write_seeds("seeds.csv", 50);
  std::atomic<bool> stop{true};  // stop after the first chunk
  BatchOptions options;
  options.quiet = true;
  options.chunk_size = 8;
  options.stop = &stop;
  {
    auto p = pool();
    IssueContext ctx{*store_, config_, **config_.product("widget"), p};
    auto first = run_seed_batch(ctx, seeds, options);
    ASSERT_TRUE(first);
    EXPECT_TRUE(first->interrupted);
    EXPECT_EQ(first->issued, 8);
  }
  stop = false;
  auto p = pool();
  IssueContext ctx{*store_, config_, **config_.product("widget"), p};
  auto second = run_seed_batch(ctx, seeds, options);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->issued, 42);
  EXPECT_EQ(second->skipped, 8);
  EXPECT_EQ(*store_->count_devices(), 50);
}

TEST_F(FactoryTest, TheCertifiedKeyIsTheOneTheDeviceDerives) {
  add_ca("a");
  auto p = pool();
  IssueContext ctx{*store_, config_, **config_.product("widget"), p};
  BatchOptions options;
  options.quiet = true;
  ASSERT_TRUE(run_seed_batch(ctx, write_seeds("seeds.csv", 3), options));
  const auto device = **store_->find_device("WG-T1-000001");
  auto cert = crypto::parse_certificate_der(device.certificate_der);
  ASSERT_TRUE(cert);
  crypto::PkeyPtr certified(X509_get_pubkey(cert->get()));
  auto derived = crypto::derive_p256_key(Bytes(32, 2));  // the device's own computation
  ASSERT_TRUE(derived);
  EXPECT_EQ(crypto::public_key_der(certified.get()),
            crypto::p256_spki_from_point(derived->public_point));
  EXPECT_EQ(device.key_mode, store::KeyMode::seed);
}

TEST_F(FactoryTest, ABadLineAnywhereIssuesNothing) {
  add_ca("a");
  const auto path = write_seeds("seeds.csv", 20);
  std::ofstream(path, std::ios::app) << "WG-T1-999999,abcd\n";
  auto p = pool();
  IssueContext ctx{*store_, config_, **config_.product("widget"), p};
  BatchOptions options;
  options.quiet = true;
  auto report = run_seed_batch(ctx, path, options);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, ErrorCode::invalid_value);
  EXPECT_NE(report.error().message.find(":21:"), std::string::npos) << report.error().message;
  EXPECT_EQ(*store_->count_devices(), 0);
}

TEST_F(FactoryTest, WithoutAnIssuingCaTheErrorSaysHowToMakeOne) {
  auto p = IssuingCaPool::load(*store_, config_, **config_.product("widget"), "", "", k_pass);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("issuing-ca create"), std::string::npos);
}

TEST_F(FactoryTest, InitIsIdempotent) {
  auto again = init_pki(home_, {}, k_pass);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->created);
}

}  // namespace
}  // namespace vouchsafe::factory
