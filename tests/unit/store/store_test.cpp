// The asset store's contract, run against both backends (SQLite and
// PostgreSQL): records, uniqueness, all-or-nothing batches, error codes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "core/file.h"
#include "store/asset_store.h"
#include "support/postgres_cluster.h"

namespace vouchsafe::store {
namespace {

enum class Backend { sqlite, postgres };
void PrintTo(Backend backend, std::ostream* out) {
  *out << (backend == Backend::sqlite ? "sqlite" : "postgres");
}

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string label = std::string(info->test_suite_name()) + "." + info->name();
    if (GetParam() == Backend::sqlite) {
      dir_ = std::filesystem::temp_directory_path() /
             ("vouchsafe-store-" + std::to_string(::getpid()) + "-" +
              std::to_string(std::hash<std::string>{}(label)));
      std::filesystem::remove_all(dir_);
      std::filesystem::create_directories(dir_);
      location_ = (dir_ / "store.db").string();
    } else {
      auto db = testing::TestDatabase::create(label);
      ASSERT_TRUE(db) << db.error().message;
      db_.emplace(std::move(db).value());
      location_ = db_->dsn();
    }
    auto s = open();
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
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  Result<std::unique_ptr<AssetStore>> open() {
    return GetParam() == Backend::sqlite ? open_sqlite_store(location_)
                                         : open_postgres_store(location_);
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
  std::optional<testing::TestDatabase> db_;
  std::string location_;
  std::unique_ptr<AssetStore> store_;
};

TEST_P(StoreTest, RecordsDevicesAndCountsThemOnTheirCa) {
  std::vector<DeviceRecord> batch = {device("W-A-1"), device("W-A-2")};
  ASSERT_TRUE(store_->add_devices(batch));
  auto found = store_->find_device("W-A-2");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->key_mode, KeyMode::seed);
  EXPECT_EQ((*store_->find_ca("factory-a"))->issued_count, 2);
  EXPECT_EQ(*store_->count_devices(), 2);
}

TEST_P(StoreTest, KeepsEachDevicesMasaKeyId) {
  auto bound = device("W-A-1");
  bound.masa_key_id = "widget-3";
  std::vector<DeviceRecord> batch = {bound, device("W-A-2")};
  ASSERT_TRUE(store_->add_devices(batch));
  EXPECT_EQ((*store_->find_device("W-A-1"))->masa_key_id, "widget-3");
  EXPECT_EQ((*store_->find_device("W-A-2"))->masa_key_id, "");
  auto for_voucher = store_->device_for_voucher("W-A-1", "domain");
  ASSERT_TRUE(for_voucher && *for_voucher);
  EXPECT_EQ((*for_voucher)->device.masa_key_id, "widget-3");
}

TEST_P(StoreTest, RecordsMasaSignersInOrderAndCaKeyReferences) {
  ASSERT_TRUE(store_->add_masa_signer({0, "", "pkcs11:token=t;object=a", "PEM A", 10}));
  ASSERT_TRUE(store_->add_masa_signer({0, "widget", "/keys/b.pem", "PEM B", 11}));
  ASSERT_TRUE(store_->add_masa_signer({0, "", "pkcs11:token=t;object=c", "PEM C", 12}));
  auto signers = store_->list_masa_signers();
  ASSERT_TRUE(signers);
  ASSERT_EQ(signers->size(), 3U);
  EXPECT_LT((*signers)[0].id, (*signers)[2].id);
  EXPECT_EQ((*signers)[2].key_reference, "pkcs11:token=t;object=c");
  EXPECT_EQ((*signers)[1].scope, "widget");
  EXPECT_EQ((*signers)[1].chain_pem, "PEM B");

  ASSERT_TRUE(store_->set_ca_key_reference("factory-a", "split:00112233"));
  EXPECT_EQ((*store_->find_ca("factory-a"))->key_reference, "split:00112233");
  EXPECT_FALSE(store_->set_ca_key_reference("no-such-ca", "x"));
}

TEST_P(StoreTest, RejectsADuplicateSerialAndKeepsNoneOfTheBatch) {
  ASSERT_TRUE(store_->add_devices(std::vector<DeviceRecord>{device("W-A-1")}));
  std::vector<DeviceRecord> batch = {device("W-A-2"), device("W-A-1")};
  auto r = store_->add_devices(batch);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::duplicate_member);
  EXPECT_NE(r.error().message.find("W-A-1"), std::string::npos) << r.error().message;
  EXPECT_FALSE(*store_->find_device("W-A-2"));
  EXPECT_EQ((*store_->find_ca("factory-a"))->issued_count, 1);
}

TEST_P(StoreTest, RejectsASerialTwiceInOneBatch) {
  std::vector<DeviceRecord> batch = {device("W-A-1"), device("W-A-2"), device("W-A-1")};
  auto r = store_->add_devices(batch);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::duplicate_member);
  EXPECT_EQ(*store_->count_devices(), 0);
  EXPECT_EQ((*store_->find_ca("factory-a"))->issued_count, 0);
}

TEST_P(StoreTest, RejectsADeviceOfAnUnknownCaAndKeepsNoneOfTheBatch) {
  auto stray = device("W-A-2");
  stray.issuing_ca = "factory-z";
  std::vector<DeviceRecord> batch = {device("W-A-1"), stray};
  EXPECT_FALSE(store_->add_devices(batch));
  EXPECT_EQ(*store_->count_devices(), 0);
}

TEST_P(StoreTest, RejectsACaNameTwice) {
  CaRecord ca;
  ca.name = "factory-a";
  ca.certificate_der = {4};
  auto r = store_->add_ca(ca);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::duplicate_member);
}

TEST_P(StoreTest, KeepsEveryCaField) {
  CaRecord ca;
  ca.name = "root-1";
  ca.role = CaRole::root;
  ca.factory = "shenzhen";
  ca.product = "widget";
  ca.certificate_der = {0, 1, 0xff};
  ca.key_reference = "keys/root-1.key";
  ca.status = CaStatus::retired;
  ca.issued_count = 7;
  ca.created_at = 50;
  ca.retired_at = 60;
  ca.max_certificates = 1000000;
  ca.max_age_seconds = 86400;
  ASSERT_TRUE(store_->add_ca(ca));
  auto found = *store_->find_ca("root-1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->role, CaRole::root);
  EXPECT_EQ(found->factory, "shenzhen");
  EXPECT_EQ(found->product, "widget");
  EXPECT_EQ(found->certificate_der, ca.certificate_der);
  EXPECT_EQ(found->key_reference, "keys/root-1.key");
  EXPECT_EQ(found->status, CaStatus::retired);
  EXPECT_EQ(found->issued_count, 7);
  EXPECT_EQ(found->retired_at, 60);
  EXPECT_EQ(found->max_certificates, 1000000);
  EXPECT_EQ(found->max_age_seconds, 86400);
  EXPECT_FALSE(*store_->find_ca("root-2"));
  auto all = *store_->list_cas();
  ASSERT_EQ(all.size(), 2U);
  EXPECT_EQ(all[0].name, "root-1");  // by creation time
  EXPECT_FALSE(all[1].retired_at);
}

TEST_P(StoreTest, KeepsCertificatesByteForByte) {
  auto d = device("W-A-1");
  d.certificate_der.clear();
  for (int i = 0; i < 3 * 256; ++i) d.certificate_der.push_back(static_cast<std::uint8_t>(i));
  ASSERT_TRUE(store_->add_devices(std::vector<DeviceRecord>{d}));
  EXPECT_EQ((*store_->find_device("W-A-1"))->certificate_der, d.certificate_der);
}

TEST_P(StoreTest, ReissueRecordsTheReason) {
  ASSERT_TRUE(store_->add_devices(std::vector<DeviceRecord>{device("W-A-1")}));
  auto d = device("W-A-1");
  d.certificate_der = {7};
  ASSERT_TRUE(store_->reissue_device(d, "flash replaced"));
  auto found = *store_->find_device("W-A-1");
  EXPECT_EQ(found->reissue_count, 1);
  EXPECT_EQ(found->reissue_reason, "flash replaced");
  EXPECT_EQ(found->certificate_der, Bytes{7});
  EXPECT_EQ((*store_->find_ca("factory-a"))->issued_count, 2);
  auto missing = store_->reissue_device(device("W-A-9"), "none");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::invalid_value);
}

// An IDevID made by another vendor's CA: certificate only, under a keyless CA.
TEST_P(StoreTest, KeepsAnImportedDeviceUnderAKeylessCa) {
  CaRecord vendor;
  vendor.name = "highway-test";
  vendor.certificate_der = {5, 6};
  vendor.created_at = 150;
  ASSERT_TRUE(store_->add_ca(vendor));
  auto d = device("00-D0-E5-F2-00-02");
  d.product = "highway";
  d.issuing_ca = "highway-test";
  d.key_mode = KeyMode::imported;
  ASSERT_TRUE(store_->add_devices(std::vector<DeviceRecord>{d}));

  auto found = *store_->find_device("00-D0-E5-F2-00-02");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->key_mode, KeyMode::imported);
  EXPECT_EQ(found->issuing_ca, "highway-test");
  EXPECT_EQ(found->certificate_der, d.certificate_der);
  EXPECT_TRUE((*store_->find_ca("highway-test"))->key_reference.empty());
  int listed = 0;
  ASSERT_TRUE(store_->for_each_device({"highway", "highway-test"}, [&](const DeviceRecord& r) {
    EXPECT_EQ(r.key_mode, KeyMode::imported);
    ++listed;
    return true;
  }));
  EXPECT_EQ(listed, 1);
  EXPECT_EQ(key_mode_name(KeyMode::imported), "imported");
  EXPECT_EQ(*parse_key_mode("imported"), KeyMode::imported);
  // The MASA's view of it works as for any device.
  ASSERT_TRUE(store_->append_audit("00-D0-E5-F2-00-02",
                                   AuditEntry{1, "d", std::nullopt, "proximity", "ab"}));
  EXPECT_EQ(store_->audit_log("00-D0-E5-F2-00-02")->size(), 1U);
}

TEST_P(StoreTest, RetiringACaForgetsItsKeyPath) {
  ASSERT_TRUE(store_->retire_ca("factory-a", 300));
  auto ca = *store_->find_ca("factory-a");
  EXPECT_EQ(ca->status, CaStatus::retired);
  EXPECT_TRUE(ca->key_reference.empty());
  EXPECT_EQ(ca->retired_at, 300);
}

TEST_P(StoreTest, ReopeningKeepsTheDataAndTheSchema) {
  ASSERT_TRUE(store_->add_devices(std::vector<DeviceRecord>{device("W-A-1")}));
  store_.reset();
  auto again = open();
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(*(*again)->find_device("W-A-1"));
  std::vector<std::string> serials = {"W-A-1", "W-A-5"};
  EXPECT_EQ(*(*again)->existing_serials(serials), std::vector<std::string>{"W-A-1"});
}

// Factory batches run to thousands: more rows than one statement carries.
TEST_P(StoreTest, StreamsALargeBatchInSerialOrder) {
  std::vector<DeviceRecord> batch;
  std::vector<std::string> serials;
  for (int i = 2499; i >= 0; --i) {
    char serial[16];
    std::snprintf(serial, sizeof serial, "W-%05d", i);
    batch.push_back(device(serial));
    if (i % 2 == 0) batch.back().product = "gadget";
    serials.emplace_back(serial);
  }
  serials.emplace_back("W-NONE");
  ASSERT_TRUE(store_->add_devices(batch));
  EXPECT_EQ(*store_->count_devices(), 2500);
  EXPECT_EQ((*store_->find_ca("factory-a"))->issued_count, 2500);
  EXPECT_EQ(store_->existing_serials(serials)->size(), 2500U);

  std::vector<std::string> seen;
  ASSERT_TRUE(store_->for_each_device({}, [&](const DeviceRecord& d) {
    seen.push_back(d.serial);
    return true;
  }));
  ASSERT_EQ(seen.size(), 2500U);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  int gadgets = 0;
  ASSERT_TRUE(store_->for_each_device({"gadget", "factory-a"}, [&](const DeviceRecord& d) {
    EXPECT_EQ(d.product, "gadget");
    ++gadgets;
    return true;
  }));
  EXPECT_EQ(gadgets, 1250);

  int visited = 0;
  ASSERT_TRUE(store_->for_each_device({}, [&](const DeviceRecord&) { return ++visited < 3; }));
  EXPECT_EQ(visited, 3);
}

TEST_P(StoreTest, OrdersSerialsBytewise) {
  std::vector<DeviceRecord> batch = {device("w-1"), device("W-2"), device("W-10"), device("_x")};
  ASSERT_TRUE(store_->add_devices(batch));
  std::vector<std::string> seen;
  ASSERT_TRUE(store_->for_each_device({}, [&](const DeviceRecord& d) {
    seen.push_back(d.serial);
    return true;
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"W-10", "W-2", "_x", "w-1"}));
}

TEST_P(StoreTest, KeepsTheMasaViewOfADevice) {
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
  ASSERT_TRUE(store_->set_ownership_policy("W-A-1", std::nullopt));
  EXPECT_FALSE(store_->device_status("W-A-1")->ownership);
  ASSERT_TRUE(store_->record_event("W-A-1", "refused", "unknown registrar", 700));
}

TEST_P(StoreTest, AnUnknownDeviceIsAnInvalidValue) {
  for (const auto& r : {store_->set_stolen("W-NONE", true, "x", 1),
                        store_->set_ownership_policy("W-NONE", OwnershipPolicy::open),
                        store_->add_owner_anchor("W-NONE", Bytes{1}, false)}) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::invalid_value) << r.error().message;
  }
  auto status = store_->device_status("W-NONE");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::invalid_value);
  EXPECT_FALSE(store_->record_event("W-NONE", "refused", "", 1));
  EXPECT_FALSE(*store_->find_device("W-NONE"));
}

TEST_P(StoreTest, TheAuditLogIsAppendOnlyAndOrdered) {
  ASSERT_TRUE(store_->add_devices(std::vector<DeviceRecord>{device("W-A-1")}));
  AuditEntry first{100, "domain-a", std::string("nonce-1"), "proximity", "ab"};
  AuditEntry second{200, "domain-b", std::nullopt, "logged", "cd"};
  ASSERT_TRUE(store_->append_audit("W-A-1", first));
  ASSERT_TRUE(store_->append_audit("W-A-1", second));
  auto log = store_->audit_log("W-A-1");
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 2U);
  EXPECT_EQ((*log)[0].date, 100);
  EXPECT_EQ((*log)[0].nonce, "nonce-1");
  EXPECT_EQ((*log)[0].assertion, "proximity");
  EXPECT_EQ((*log)[0].registrar_fingerprint, "ab");
  EXPECT_FALSE((*log)[1].nonce);
  EXPECT_EQ((*log)[1].domain_id, "domain-b");
  EXPECT_TRUE(store_->audit_log("W-NONE")->empty());
  EXPECT_FALSE(store_->append_audit("W-NONE", first));  // unknown device
  EXPECT_TRUE(store_->ping());
  EXPECT_TRUE(store_->check_writable());
}

TEST_P(StoreTest, TheFirstTicketKeyOfASlotIsTheOneEveryInstanceReads) {
  ASSERT_TRUE(store_->add_ticket_key(TicketKeyRecord{10, Bytes(80, 1)}, 0));
  // A second instance on the same store: its own key for slot 10 is not kept.
  auto other = open();
  ASSERT_TRUE(other);
  ASSERT_TRUE((*other)->add_ticket_key(TicketKeyRecord{10, Bytes(80, 2)}, 0));
  ASSERT_TRUE((*other)->add_ticket_key(TicketKeyRecord{11, Bytes(80, 3)}, 0));
  ASSERT_TRUE(store_->add_ticket_key(TicketKeyRecord{8, Bytes(80, 4)}, 0));
  const auto keys = store_->ticket_keys(9);
  ASSERT_TRUE(keys) << keys.error().message;
  ASSERT_EQ(keys->size(), 2U);  // newest first, slot 8 left out
  EXPECT_EQ((*keys)[0].slot, 11);
  EXPECT_EQ((*keys)[0].material, Bytes(80, 3));
  EXPECT_EQ((*keys)[1].slot, 10);
  EXPECT_EQ((*keys)[1].material, Bytes(80, 1));
}

TEST_P(StoreTest, AddingATicketKeyForgetsTheExpiredOnes) {
  for (std::int64_t slot = 1; slot <= 4; ++slot) {
    ASSERT_TRUE(store_->add_ticket_key(
        TicketKeyRecord{slot, Bytes(80, static_cast<std::uint8_t>(0x50 + slot))}, 0));
  }
  // Slot 4 is recorded already (another instance was first): the expired
  // keys go all the same, and the slot's first key stays.
  ASSERT_TRUE(store_->add_ticket_key(TicketKeyRecord{4, Bytes(80, 0x99)}, 3));
  const auto keys = store_->ticket_keys(0);
  ASSERT_TRUE(keys) << keys.error().message;
  ASSERT_EQ(keys->size(), 2U);
  EXPECT_EQ((*keys)[0].slot, 4);
  EXPECT_EQ((*keys)[0].material, Bytes(80, 0x54));
  EXPECT_EQ((*keys)[1].slot, 3);
}

TEST_P(StoreTest, ConcurrentAppendsAreEachDurableAndFailAlone) {
  ASSERT_TRUE(store_->add_devices(std::vector<DeviceRecord>{device("W-A-1"), device("W-A-2")}));
  constexpr int k_threads = 8;
  constexpr int k_each = 25;
  std::atomic<int> succeeded{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < k_each; ++i) {
        // One thread in eight writes for a device that does not exist: its
        // appends fail without spoiling the others' (grouped) commits.
        const std::string serial = t == 0 ? "W-NONE" : (t % 2 == 0 ? "W-A-1" : "W-A-2");
        AuditEntry e{t * 1000 + i, "domain-" + std::to_string(t),
                     std::string("n") + std::to_string(i), "proximity", "fp"};
        if (store_->append_audit(serial, e)) {
          ++succeeded;
        } else {
          ++refused;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(refused.load(), k_each);
  EXPECT_EQ(succeeded.load(), (k_threads - 1) * k_each);
  const auto total = store_->audit_log("W-A-1")->size() + store_->audit_log("W-A-2")->size();
  EXPECT_EQ(total, static_cast<std::size_t>((k_threads - 1) * k_each));
}

TEST_P(StoreTest, AsynchronousAppendsReportOnceEachWhenDurable) {
  ASSERT_TRUE(store_->add_devices(std::vector<DeviceRecord>{device("W-A-1")}));
  constexpr int k_appends = 200;
  std::mutex mutex;
  std::condition_variable all_done;
  int reported = 0;
  int failed = 0;
  for (int i = 0; i < k_appends; ++i) {
    // Every tenth names an unknown device and fails alone.
    const std::string serial = i % 10 == 0 ? "W-NONE" : "W-A-1";
    store_->append_audit_async(serial, AuditEntry{i, "domain", std::to_string(i), "logged", "fp"},
                               std::nullopt, [&](Status s) {
                                 std::lock_guard lock(mutex);
                                 ++reported;
                                 if (!s) ++failed;
                                 all_done.notify_all();
                               });
  }
  std::unique_lock lock(mutex);
  ASSERT_TRUE(
      all_done.wait_for(lock, std::chrono::seconds(30), [&] { return reported == k_appends; }));
  EXPECT_EQ(failed, k_appends / 10);
  lock.unlock();
  // What was reported durable is there, in the order it was queued.
  auto log = store_->audit_log("W-A-1");
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), static_cast<std::size_t>(k_appends - k_appends / 10));
  EXPECT_TRUE(
      std::is_sorted(log->begin(), log->end(),
                     [](const AuditEntry& a, const AuditEntry& b) { return a.date < b.date; }));
}

TEST_P(StoreTest, ClosingTheStoreWritesWhatIsQueued) {
  ASSERT_TRUE(store_->add_devices(std::vector<DeviceRecord>{device("W-A-1")}));
  std::atomic<int> durable{0};
  for (int i = 0; i < 50; ++i) {
    store_->append_audit_async("W-A-1", AuditEntry{i, "domain", std::nullopt, "logged", "fp"},
                               std::nullopt, [&](Status s) { durable += s ? 1 : 0; });
  }
  store_.reset();
  EXPECT_EQ(durable.load(), 50);
  auto reopened = open();
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ((*reopened)->audit_log("W-A-1")->size(), 50U);
}

TEST_P(StoreTest, TellsWhetherADomainHasHadAVoucher) {
  ASSERT_TRUE(store_->add_devices(std::vector<DeviceRecord>{device("W-A-1"), device("W-A-2")}));
  EXPECT_FALSE(*store_->audited_for_domain("W-A-1", "domain-a"));
  ASSERT_TRUE(store_->append_audit("W-A-1", AuditEntry{1, "domain-a", std::nullopt, "logged", ""}));
  EXPECT_TRUE(*store_->audited_for_domain("W-A-1", "domain-a"));
  EXPECT_FALSE(*store_->audited_for_domain("W-A-1", "domain-b"));
  EXPECT_FALSE(*store_->audited_for_domain("W-A-2", "domain-a"));  // another device
  EXPECT_FALSE(*store_->audited_for_domain("W-NONE", "domain-a"));
}

// The MASA's one read per request: the same answers as the reads it replaces.
TEST_P(StoreTest, ReadsADeviceForAVoucherAsTheSeparateReadsDo) {
  ASSERT_TRUE(store_->add_devices(std::vector<DeviceRecord>{device("W-V-1"), device("W-V-2")}));
  ASSERT_TRUE(store_->set_stolen("W-V-1", true, "lost in transit", 5));
  ASSERT_TRUE(store_->set_ownership_policy("W-V-1", OwnershipPolicy::known_customer));
  ASSERT_TRUE(store_->add_owner_anchor("W-V-1", Bytes{0x30, 0x02}, false));
  ASSERT_TRUE(store_->add_owner_anchor("W-V-1", Bytes{0x30, 0x01}, false));
  ASSERT_TRUE(store_->append_audit("W-V-1", AuditEntry{1, "domain-a", std::nullopt, "logged", ""}));

  for (const std::string serial : {"W-V-1", "W-V-2"}) {
    for (const std::string domain : {"domain-a", "domain-b"}) {
      auto read = store_->device_for_voucher(serial, domain);
      ASSERT_TRUE(read) << read.error().message;
      ASSERT_TRUE(*read) << serial;
      const auto device = store_->find_device(serial);
      const auto status = store_->device_status(serial);
      ASSERT_TRUE(device && *device && status);
      EXPECT_EQ((*read)->device.certificate_der, (*device)->certificate_der);
      EXPECT_EQ((*read)->device.product, (*device)->product);
      EXPECT_EQ((*read)->status.stolen, status->stolen);
      EXPECT_EQ((*read)->status.ownership, status->ownership);
      EXPECT_EQ((*read)->status.owner_anchors, status->owner_anchors);  // in the order added
      EXPECT_EQ((*read)->audited_for_domain, *store_->audited_for_domain(serial, domain));
    }
  }
  const auto v1 = store_->device_for_voucher("W-V-1", "domain-a");
  EXPECT_TRUE((*v1)->status.stolen);
  EXPECT_EQ((*v1)->status.owner_anchors.size(), 2U);
  EXPECT_TRUE((*v1)->audited_for_domain);
  auto unknown = store_->device_for_voucher("W-NONE", "domain-a");
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);
}

// The registrar reads a device's audit log right after the voucher whose
// entry the MASA committed (RFC 8995 §5.8.3): a read that starts after a
// commit sees it, however busy the store is with other readers meanwhile.
TEST_P(StoreTest, AReadThatStartsAfterACommitSeesItWhileOthersRead) {
  constexpr int k_devices = 300;
  std::vector<DeviceRecord> batch;
  for (int i = 0; i < k_devices; ++i) batch.push_back(device("W-R-" + std::to_string(i)));
  batch.push_back(device("W-BUSY"));
  ASSERT_TRUE(store_->add_devices(batch));
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  readers.reserve(2);
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        (void)store_->device_for_voucher("W-BUSY", "domain-a");
        (void)store_->audit_log("W-BUSY");
      }
    });
  }
  int stale = 0;
  for (int i = 0; i < k_devices; ++i) {
    const std::string serial = "W-R-" + std::to_string(i);
    ASSERT_TRUE(store_->append_audit(serial, AuditEntry{i, "domain-a", "n", "logged", "fp"}));
    const auto log = store_->audit_log(serial);
    ASSERT_TRUE(log);
    if (log->size() != 1) ++stale;
  }
  done = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(stale, 0) << "of " << k_devices << " reads after a commit";
}

TEST(SqliteStore, MustBeAFileForItsSecondConnection) {
  for (const std::string location : {"", ":memory:", "file::memory:?cache=shared"}) {
    auto opened = open_sqlite_store(location);
    ASSERT_FALSE(opened) << location;
    EXPECT_EQ(opened.error().code, ErrorCode::usage);
  }
}

// The bytes of a forgotten ticket key are overwritten, not left in the
// file's free space for a copy of it to carry.
TEST(SqliteStore, AnExpiredTicketKeyLeavesNoBytesInTheFile) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("vouchsafe-store-ticket-bytes-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto path = (dir / "store.db").string();
  const Bytes expired(80, 0x5A);
  const Bytes current(80, 0x6B);
  {
    auto store = open_sqlite_store(path);
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->add_ticket_key(TicketKeyRecord{1, expired}, 0));
    ASSERT_TRUE((*store)->add_ticket_key(TicketKeyRecord{2, current}, 2));
  }  // closing the last connection checkpoints the WAL into the file
  auto file = read_file(path, std::size_t{64} << 20U);
  ASSERT_TRUE(file) << file.error().message;
  auto holds = [&](const Bytes& key) {
    return std::search(file->begin(), file->end(), key.begin(), key.end()) != file->end();
  };
  EXPECT_TRUE(holds(current));  // the scan would find a key that is there
  EXPECT_FALSE(holds(expired));
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  std::filesystem::remove_all(dir);
}

// No name generator: gtest_discover_tests turns "/0 # GetParam() = sqlite"
// into ".../sqlite" itself, and ctest selects the PostgreSQL half by name.
INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(Backend::sqlite, Backend::postgres));

}  // namespace
}  // namespace vouchsafe::store
