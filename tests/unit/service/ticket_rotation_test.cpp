// Session-ticket keys through the asset store: two instances on one store
// hold the same keys; a new slot's key comes first and the old ones keep
// opening tickets until they age out; the store holds them only sealed.
#include "service/ticket_rotation.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "support/test_support.h"

namespace vouchsafe::service {
namespace {

class TicketRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vouchsafe-tickets-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = std::move(store::open_sqlite_store((dir_ / "assets.db").string())).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  static TicketRotationOptions at(const std::time_t* clock) {
    TicketRotationOptions o;
    o.period = std::chrono::hours(1);
    o.keep = 2;
    o.refresh = std::chrono::hours(24);  // refreshed by hand here
    o.now = [clock] { return *clock; };
    return o;
  }
  std::filesystem::path dir_;
  std::unique_ptr<store::AssetStore> store_;
};

TEST_F(TicketRotationTest, InstancesOnOneStoreShareTheirKeysAndRotateThem) {
  std::time_t clock = std::time_t{1'000} * 3600;
  auto a = TicketRotation::start(*store_, at(&clock));
  auto b = TicketRotation::start(*store_, at(&clock));
  ASSERT_TRUE(a && b);
  EXPECT_EQ((*a)->keyring()->size(), 1U);
  EXPECT_EQ((*b)->keyring()->size(), 1U);
  EXPECT_EQ(store_->ticket_keys(0)->size(), 1U);  // one key for the slot, not two

  for (int hour = 1; hour <= 3; ++hour) {
    clock += 3600;
    ASSERT_TRUE((*b)->refresh());
    ASSERT_TRUE((*a)->refresh());
    // The current slot and at most two before it, in the store as in
    // memory: the first key ages out of both at hour 3.
    EXPECT_EQ(store_->ticket_keys(0)->size(), static_cast<std::size_t>(std::min(hour + 1, 3)));
  }
  EXPECT_EQ((*a)->keyring()->size(), 3U);
  EXPECT_EQ((*b)->keyring()->size(), 3U);
  const auto keys = *store_->ticket_keys(0);
  ASSERT_EQ(keys.size(), 3U);
  EXPECT_EQ(keys.front().slot, 1'003);
  EXPECT_EQ(keys.back().slot, 1'001);
}

TicketRotationOptions sealed(TicketRotationOptions o, const std::string& passphrase) {
  o.seal = passphrase_ticket_seal(passphrase);
  return o;
}

net::TicketKeyring::GnuTlsMaster master_of(const TicketRotation& rotation) {
  net::TicketKeyring::GnuTlsMaster out{};
  EXPECT_TRUE(rotation.keyring()->gnutls_master(out));
  return out;
}

TEST_F(TicketRotationTest, TheStoreHoldsTheKeysOnlySealedUnderThePassphrase) {
  std::time_t clock = std::time_t{2'000} * 3600;
  auto a = TicketRotation::start(*store_, sealed(at(&clock), "instances-passphrase"));
  auto b = TicketRotation::start(*store_, sealed(at(&clock), "instances-passphrase"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ((*b)->keyring()->size(), 1U);
  EXPECT_EQ(master_of(**a), master_of(**b));  // the same key on both instances

  const auto rows = *store_->ticket_keys(0);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_NE(rows.front().material.size(), net::TicketKey::k_material_size);
  const auto seal = passphrase_ticket_seal("instances-passphrase");
  const auto material = seal->open(rows.front().slot, rows.front().material);
  ASSERT_TRUE(material) << material.error().message;
  // What the row opens to is the key the instances use, and the row does
  // not hold it.
  net::TicketKeyring ring;
  ring.replace({*net::TicketKey::from_material(material->view())});
  net::TicketKeyring::GnuTlsMaster from_row{};
  ASSERT_TRUE(ring.gnutls_master(from_row));
  EXPECT_EQ(from_row, master_of(**a));
  const auto& row = rows.front().material;
  EXPECT_EQ(
      std::search(row.begin(), row.end(), material->view().begin(), material->view().begin() + 16),
      row.end());
}

TEST_F(TicketRotationTest, AnInstanceWithAnotherPassphraseUsesNoneOfTheKeys) {
  std::time_t clock = std::time_t{3'000} * 3600;
  auto a = TicketRotation::start(*store_, sealed(at(&clock), "instances-passphrase"));
  ::testing::internal::CaptureStderr();
  auto other = TicketRotation::start(*store_, sealed(at(&clock), "another-passphrase"));
  const std::string said = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(a && other);
  EXPECT_EQ((*a)->keyring()->size(), 1U);
  EXPECT_EQ((*other)->keyring()->size(), 0U);  // full handshakes, no ticket it cannot share
  EXPECT_NE(said.find("does not open under the MASA passphrase"), std::string::npos) << said;
  // Said once, not at every refresh.
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE((*other)->refresh());
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(TicketRotationTest, ASealingInstanceUsesNoKeyStoredInTheClear) {
  std::time_t clock = std::time_t{4'000} * 3600;
  auto clear = TicketRotation::start(*store_, at(&clock));  // no seal: an older version
  ASSERT_TRUE(clear);
  EXPECT_EQ(store_->ticket_keys(0)->front().material.size(), net::TicketKey::k_material_size);
  ::testing::internal::CaptureStderr();
  auto sealing = TicketRotation::start(*store_, sealed(at(&clock), "instances-passphrase"));
  const std::string said = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(sealing);
  EXPECT_EQ((*sealing)->keyring()->size(), 0U);
  EXPECT_NE(said.find("stored in the clear"), std::string::npos) << said;
  // The next slot's key is sealed, and only the sealing instance uses it.
  clock += 3600;
  ASSERT_TRUE((*sealing)->refresh());
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE((*clear)->refresh());
  const std::string unsealed = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ((*sealing)->keyring()->size(), 1U);
  EXPECT_EQ((*clear)->keyring()->size(), 1U);  // its own old slot only
  EXPECT_NE(unsealed.find("it is sealed, and this instance has nothing to open it with"),
            std::string::npos)
      << unsealed;
}

TEST(TicketSealTest, ARowOpensOnlyForItsSlotAndUnaltered) {
  const auto seal = passphrase_ticket_seal("instances-passphrase");
  const Bytes material(net::TicketKey::k_material_size, 0x5a);
  const auto row = seal->seal(7, material);
  ASSERT_TRUE(row);
  const auto back = seal->open(7, *row);
  ASSERT_TRUE(back);
  EXPECT_TRUE(
      std::equal(material.begin(), material.end(), back->view().begin(), back->view().end()));
  EXPECT_EQ(seal->open(8, *row).error().code, ErrorCode::bad_passphrase);  // moved to a slot
  Bytes altered = *row;
  altered.back() ^= 1U;
  EXPECT_EQ(seal->open(7, altered).error().code, ErrorCode::bad_passphrase);
  EXPECT_EQ(seal->open(7, Bytes(row->begin(), row->begin() + 40)).error().code,
            ErrorCode::invalid_value);
  EXPECT_EQ(seal->open(7, material).error().code, ErrorCode::invalid_value);  // in the clear
}

// The row format as docs/cluster.md states it, checked against Python's
// cryptography (scrypt, AES-GCM), both ways.
TEST(TicketSealTest, PythonsCryptographyOpensOurRowsAndWeOpenItsRows) {
  const auto seal = passphrase_ticket_seal("instances-passphrase");
  Bytes material(net::TicketKey::k_material_size);
  for (std::size_t i = 0; i < material.size(); ++i) material[i] = static_cast<std::uint8_t>(i * 7);
  const std::string script =
      "/usr/bin/python3 " + vouchsafe::testing::interop_dir() + "ticket_row.py ";

  const auto ours = seal->seal(123456, material);
  ASSERT_TRUE(ours);
  EXPECT_EQ(vouchsafe::testing::first_line_of(script + "open instances-passphrase 123456 " +
                                              hex_encode(*ours)),
            hex_encode(material));
  EXPECT_EQ(vouchsafe::testing::first_line_of(script + "open instances-passphrase 123457 " +
                                              hex_encode(*ours) + " 2>/dev/null"),
            "");  // another slot

  const auto theirs = hex_decode(vouchsafe::testing::first_line_of(
      script + "seal instances-passphrase 123456 " + hex_encode(material)));
  ASSERT_TRUE(theirs);
  const auto opened = seal->open(123456, *theirs);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_TRUE(std::ranges::equal(opened->view(), material));
}

TEST(TicketSealTest, RefusesARowAskingForAnExorbitantCostBeforeDeriving) {
  const auto seal = passphrase_ticket_seal("instances-passphrase");
  auto row = *seal->seal(7, Bytes(net::TicketKey::k_material_size, 1));
  for (const std::uint8_t log2_n : {30, 17}) {  // 128 GiB; four times what rows are written at
    row[1] = log2_n;
    const auto start = std::chrono::steady_clock::now();
    const auto opened = seal->open(7, row);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, ErrorCode::invalid_value) << opened.error().message;
  }
}

TEST_F(TicketRotationTest, RefusesAPeriodThatIsNotPositive) {
  std::time_t clock = 0;
  auto o = at(&clock);
  o.period = std::chrono::seconds(0);
  EXPECT_FALSE(TicketRotation::start(*store_, o));
}

}  // namespace
}  // namespace vouchsafe::service
