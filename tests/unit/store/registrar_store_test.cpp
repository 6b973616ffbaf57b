// The registrar's store, on both backends: what a pledge's onboarding leaves, in
// order, read back; a private file; a voucher tied to the IDevID that got it.
#include "store/registrar_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "core/file.h"
#include "support/postgres_cluster.h"

namespace vouchsafe::store {
namespace {

namespace fs = std::filesystem;

enum class Backend { sqlite, postgres };
void PrintTo(Backend backend, std::ostream* out) {
  *out << (backend == Backend::sqlite ? "sqlite" : "postgres");
}

// Every test on both backends: SQLite in a file, PostgreSQL in a database
// of its own in ctest's throw-away cluster.
class RegistrarStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    const std::string label = "registrar_" + std::to_string(::getpid());
    if (GetParam() == Backend::postgres) {
      auto db = vouchsafe::testing::TestDatabase::create(label);
      ASSERT_TRUE(db) << db.error().message;
      database_.emplace(std::move(db).value());
      path_ = database_->dsn();
    } else {
      dir_ = fs::temp_directory_path() / ("vs-" + label + "-" + std::to_string(++count_));
      fs::remove_all(dir_);
      fs::create_directories(dir_);
      path_ = (dir_ / "registrar.db").string();
    }
    auto opened = open_registrar_store(path_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(opened).value();
  }
  void TearDown() override {
    store_.reset();
    database_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  static inline int count_ = 0;
  fs::path dir_;
  std::string path_;
  std::optional<vouchsafe::testing::TestDatabase> database_;
  std::unique_ptr<RegistrarStore> store_;
};

TEST_P(RegistrarStoreTest, KeepsAPledgesOnboardingInOrder) {
  ASSERT_TRUE(store_->record_pledge("WG-1", {1, 2, 3}, 100));
  ASSERT_TRUE(store_->record_event({"WG-1", 100, "voucher-request", true, "cms"}));
  VoucherRecord v{"WG-1", 101, "ab12", "https://masa", "cms", "proximity", "nonce", "dom", {9}};
  ASSERT_TRUE(store_->record_voucher(v));
  ASSERT_TRUE(store_->record_event({"WG-1", 101, "voucher-forwarded", true, ""}));
  ASSERT_TRUE(store_->record_ldevid({"WG-1", 102, {7, 7}, "0a", 999, false}));
  ASSERT_TRUE(store_->record_event({"WG-1", 103, "enroll-status", false, "disk full"}));
  ASSERT_TRUE(store_->record_pledge("WG-1", {4, 5}, 104));

  auto o = store_->onboarding("WG-1");
  ASSERT_TRUE(o && *o);
  EXPECT_EQ((*o)->summary.first_seen, 100);
  EXPECT_EQ((*o)->summary.last_seen, 104);
  EXPECT_EQ((*o)->idevid_der, (Bytes{4, 5}));
  EXPECT_EQ((*o)->summary.state, "enroll-status");
  EXPECT_FALSE((*o)->summary.state_ok);
  ASSERT_EQ((*o)->events.size(), 3U);
  EXPECT_EQ((*o)->events[1].kind, "voucher-forwarded");
  ASSERT_EQ((*o)->vouchers.size(), 1U);
  EXPECT_EQ((*o)->vouchers[0].nonce, "nonce");
  EXPECT_EQ((*o)->vouchers[0].voucher, (Bytes{9}));
  ASSERT_EQ((*o)->ldevids.size(), 1U);
  EXPECT_EQ((*o)->ldevids[0].not_after, 999);

  auto list = store_->list_pledges();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1U);
  EXPECT_EQ((*list)[0].state, "enroll-status");
}

// A pledge enrolls right after the registrar recorded its voucher: the
// check sees the voucher however busy the store is with other readers.
TEST_P(RegistrarStoreTest, AVoucherJustRecordedIsSeenWhileOthersRead) {
  constexpr int k_pledges = 200;
  ASSERT_TRUE(store_->record_pledge("WG-BUSY", {1}, 1));
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  readers.reserve(2);
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!done) (void)store_->onboarding("WG-BUSY");
    });
  }
  int unseen = 0;
  for (int i = 0; i < k_pledges; ++i) {
    const std::string serial = "WG-R-" + std::to_string(i);
    ASSERT_TRUE(store_->record_pledge(serial, {2}, 2));
    ASSERT_TRUE(store_->record_voucher({serial, 3, "fp", "u", "cms", "", std::nullopt, "d", {1}}));
    const auto seen = store_->has_voucher(serial, "fp");
    ASSERT_TRUE(seen);
    if (!*seen) ++unseen;
  }
  done = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(unseen, 0) << "of " << k_pledges << " checks right after the voucher was recorded";
}

TEST_P(RegistrarStoreTest, AVoucherBelongsToTheIdevidThatGotIt) {
  ASSERT_TRUE(store_->record_pledge("WG-2", {1}, 1));
  ASSERT_TRUE(store_->record_voucher(
      {"WG-2", 2, "fingerprint-a", "u", "cms", "proximity", std::nullopt, "dom", {1}}));
  EXPECT_TRUE(*store_->has_voucher("WG-2", "fingerprint-a"));
  EXPECT_FALSE(*store_->has_voucher("WG-2", "fingerprint-b"));
  EXPECT_FALSE(*store_->has_voucher("WG-3", "fingerprint-a"));
  // A voucher for a pledge never recorded breaks a foreign key.
  EXPECT_FALSE(store_->record_voucher({"WG-9", 2, "f", "u", "cms", "", std::nullopt, "d", {1}}));
}

TEST_P(RegistrarStoreTest, RefusalsBeforeThePledgeWasRecordedStillShow) {
  ASSERT_TRUE(store_->record_event({"WG-4", 5, "pvr_signature_invalid", false, "x"}));
  auto o = store_->onboarding("WG-4");
  ASSERT_TRUE(o && *o);
  EXPECT_EQ((*o)->summary.state, "pvr_signature_invalid");
  EXPECT_FALSE(*store_->onboarding("WG-5"));
}

TEST_P(RegistrarStoreTest, IsAPrivateFileThatReopensAtItsSchema) {
  if (GetParam() == Backend::sqlite) {
    EXPECT_EQ(file_mode(path_), 0600U);
  }
  ASSERT_TRUE(store_->record_pledge("WG-6", {1}, 1));
  store_.reset();
  auto again = open_registrar_store(path_);
  ASSERT_TRUE(again) << again.error().message;
  auto reread = (*again)->onboarding("WG-6");
  EXPECT_TRUE(reread && reread->has_value());
  EXPECT_TRUE((*again)->check_writable());
  EXPECT_TRUE((*again)->ping());
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistrarStoreTest,
                         ::testing::Values(Backend::sqlite, Backend::postgres),
                         [](const ::testing::TestParamInfo<Backend>& param) {
                           return std::string(param.param == Backend::sqlite ? "sqlite"
                                                                             : "postgres");
                         });

}  // namespace
}  // namespace vouchsafe::store
