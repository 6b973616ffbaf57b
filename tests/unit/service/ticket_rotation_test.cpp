// Session-ticket keys through the asset store: two instances on one store
// hold the same keys; a new slot's key comes first and the old ones keep
// opening tickets until they age out.
#include "service/ticket_rotation.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

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
  TicketRotationOptions at(std::time_t* clock) {
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
  std::time_t clock = 1'000 * 3600;
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

TEST_F(TicketRotationTest, RefusesAPeriodThatIsNotPositive) {
  std::time_t clock = 0;
  auto o = at(&clock);
  o.period = std::chrono::seconds(0);
  EXPECT_FALSE(TicketRotation::start(*store_, o));
}

}  // namespace
}  // namespace vouchsafe::service
