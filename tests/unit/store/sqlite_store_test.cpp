// The SQLite asset store: records, uniqueness, all-or-nothing batches.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "store/asset_store.h"

namespace vouchsafe::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vouchsafe-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto s = open_sqlite_store((dir_ / "store.db").string());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(s).value();
    CaRecord ca;
    ca.name = "factory-a";
    ca.certificate_der = {1, 2, 3};
    ca.created_at = 100;
    ASSERT_TRUE(store_->add_ca(ca));
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static DeviceRecord device(const std::string& serial) {
    DeviceRecord d;
    d.serial = serial;
    d.product = "widget";
    d.issuing_ca = "factory-a";
    d.certificate_der = {9, 9};
    d.key_mode = KeyMode::seed;
    d.issued_at = 200;
    return d;
  }

  std::filesystem::path dir_;
  std::unique_ptr<AssetStore> store_;
};

TEST_F(SqliteStoreTest, RecordsDevicesAndCountsThemOnTheirCa) {
  std::vector<DeviceRecord> batch = {device("W-A-1"), device("W-A-2")};
  ASSERT_TRUE(store_->add_devices(batch));
  auto found = store_->find_device("W-A-2");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->key_mode, KeyMode::seed);
  EXPECT_EQ((*store_->find_ca("factory-a"))->issued_count, 2);
  EXPECT_EQ(*store_->count_devices(), 2);
}

TEST_F(SqliteStoreTest, RejectsADuplicateSerialAndKeepsNoneOfTheBatch) {
  ASSERT_TRUE(store_->add_devices(std::vector<DeviceRecord>{device("W-A-1")}));
  std::vector<DeviceRecord> batch = {device("W-A-2"), device("W-A-1")};
  auto r = store_->add_devices(batch);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::duplicate_member);
  EXPECT_FALSE(*store_->find_device("W-A-2"));
  EXPECT_EQ((*store_->find_ca("factory-a"))->issued_count, 1);
}

TEST_F(SqliteStoreTest, ReissueRecordsTheReason) {
  ASSERT_TRUE(store_->add_devices(std::vector<DeviceRecord>{device("W-A-1")}));
  auto d = device("W-A-1");
  d.certificate_der = {7};
  ASSERT_TRUE(store_->reissue_device(d, "flash replaced"));
  auto found = *store_->find_device("W-A-1");
  EXPECT_EQ(found->reissue_count, 1);
  EXPECT_EQ(found->reissue_reason, "flash replaced");
  EXPECT_EQ(found->certificate_der, Bytes{7});
  EXPECT_FALSE(store_->reissue_device(device("W-A-9"), "none"));
}

TEST_F(SqliteStoreTest, RetiringACaForgetsItsKeyPath) {
  ASSERT_TRUE(store_->retire_ca("factory-a", 300));
  auto ca = *store_->find_ca("factory-a");
  EXPECT_EQ(ca->status, CaStatus::retired);
  EXPECT_TRUE(ca->key_path.empty());
  EXPECT_EQ(ca->retired_at, 300);
}

TEST_F(SqliteStoreTest, ReopeningKeepsTheDataAndTheSchema) {
  ASSERT_TRUE(store_->add_devices(std::vector<DeviceRecord>{device("W-A-1")}));
  store_.reset();
  auto again = open_sqlite_store((dir_ / "store.db").string());
  ASSERT_TRUE(again);
  EXPECT_TRUE(*(*again)->find_device("W-A-1"));
  std::vector<std::string> serials = {"W-A-1", "W-A-5"};
  EXPECT_EQ(*(*again)->existing_serials(serials), std::vector<std::string>{"W-A-1"});
}

TEST_F(SqliteStoreTest, KeepsTheMasaViewOfADevice) {
  ASSERT_TRUE(store_->add_devices(std::vector<DeviceRecord>{device("W-A-1")}));
  auto status = store_->device_status("W-A-1");
  ASSERT_TRUE(status);
  EXPECT_FALSE(status->stolen);
  EXPECT_FALSE(status->ownership);
  ASSERT_TRUE(store_->set_stolen("W-A-1", true, "police report 42", 500));
  ASSERT_TRUE(store_->set_ownership_policy("W-A-1", OwnershipPolicy::known_customer));
  ASSERT_TRUE(store_->add_owner_anchor("W-A-1", Bytes{1, 2}, false));
  ASSERT_TRUE(store_->add_owner_anchor("W-A-1", Bytes{1, 2}, false));  // idempotent
  ASSERT_TRUE(store_->add_owner_anchor("W-A-1", Bytes{3}, false));
  status = store_->device_status("W-A-1");
  EXPECT_TRUE(status->stolen);
  EXPECT_EQ(status->ownership, OwnershipPolicy::known_customer);
  EXPECT_EQ(status->owner_anchors, (std::vector<Bytes>{{1, 2}, {3}}));
  ASSERT_TRUE(store_->add_owner_anchor("W-A-1", Bytes{4}, true));
  EXPECT_EQ(store_->device_status("W-A-1")->owner_anchors, std::vector<Bytes>{{4}});
  ASSERT_TRUE(store_->set_stolen("W-A-1", false, "found", 600));
  EXPECT_FALSE(store_->device_status("W-A-1")->stolen);
  EXPECT_FALSE(store_->set_stolen("W-NONE", true, "x", 1));
  EXPECT_FALSE(store_->device_status("W-NONE"));
}

TEST_F(SqliteStoreTest, TheAuditLogIsAppendOnlyAndOrdered) {
  ASSERT_TRUE(store_->add_devices(std::vector<DeviceRecord>{device("W-A-1")}));
  AuditEntry first{100, "domain-a", std::string("nonce-1"), "proximity", "ab"};
  AuditEntry second{200, "domain-b", std::nullopt, "logged", "cd"};
  ASSERT_TRUE(store_->append_audit("W-A-1", first));
  ASSERT_TRUE(store_->append_audit("W-A-1", second));
  auto log = store_->audit_log("W-A-1");
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 2U);
  EXPECT_EQ((*log)[0].nonce, "nonce-1");
  EXPECT_FALSE((*log)[1].nonce);
  EXPECT_EQ((*log)[1].domain_id, "domain-b");
  EXPECT_FALSE(store_->append_audit("W-NONE", first));  // unknown device
  EXPECT_TRUE(store_->ping());
}

}  // namespace
}  // namespace vouchsafe::store
