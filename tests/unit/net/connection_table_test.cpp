// The connection table: caps per listener, source address and prefix, and
// the handshake share with its push-out of the oldest handshake.
#include "net/detail/connection_table.h"

#include <gtest/gtest.h>

#include <vector>

#include "net/detail/source_address.h"

namespace vouchsafe::net::detail {
namespace {

using Refusal = ConnectionTable::Refusal;
namespace ip = boost::asio::ip;

const ConnectionTable::Clock::time_point t0{};

struct FakeConnection : Evictable {
  int evictions = 0;
  void evict() override { ++evictions; }
};

SourceKeys from(const std::string& address) {
  return source_keys(ip::make_address(address));
}

TEST(SourceKeys, CountsIpv4ByItsSlash24) {
  const auto keys = from("192.0.2.77");
  EXPECT_EQ(keys.address, "192.0.2.77");
  EXPECT_EQ(keys.prefix, "192.0.2.0/24");
}

TEST(SourceKeys, CountsIpv6ByItsSlash64) {
  const auto keys = from("2001:db8:1:2:aaaa:bbbb:cccc:dddd");
  EXPECT_EQ(keys.address, "2001:db8:1:2:aaaa:bbbb:cccc:dddd");
  EXPECT_EQ(keys.prefix, "2001:db8:1:2::/64");
}

TEST(SourceKeys, CountsAnIpv4MappedAddressAsIpv4) {
  const auto keys = from("::ffff:192.0.2.77");
  EXPECT_EQ(keys.address, "192.0.2.77");
  EXPECT_EQ(keys.prefix, "192.0.2.0/24");
}

TEST(SourceKeys, DropsTheScopeId) {
  EXPECT_EQ(from("fe80::1%1").address, "fe80::1");
}

ConnectionTable::Limits limits(std::size_t total, std::size_t per_address, std::size_t per_prefix,
                               std::size_t handshaking) {
  return {.max_connections = total,
          .max_per_address = per_address,
          .max_per_prefix = per_prefix,
          .max_handshaking = handshaking};
}

TEST(ConnectionTable, RefusesPastThePerAddressCap) {
  ConnectionTable table(limits(100, 2, 100, 100));
  auto a = table.admit(from("192.0.2.1"), true, t0);
  auto b = table.admit(from("192.0.2.1"), true, t0);
  ASSERT_TRUE(a.slot && b.slot);
  const auto refused = table.admit(from("192.0.2.1"), true, t0);
  EXPECT_FALSE(refused.slot);
  EXPECT_EQ(refused.refusal, Refusal::address_cap);
  EXPECT_FALSE(refused.evicted);
  EXPECT_TRUE(table.admit(from("192.0.2.2"), true, t0).slot);
  // A place freed is free again.
  a.slot.reset();
  EXPECT_TRUE(table.admit(from("192.0.2.1"), true, t0).slot);
}

TEST(ConnectionTable, RefusesPastThePerPrefixCap) {
  ConnectionTable table(limits(100, 2, 3, 100));
  std::vector<ConnectionTable::Admission> held;
  for (const char* address : {"192.0.2.1", "192.0.2.1", "192.0.2.2"}) {
    held.push_back(table.admit(from(address), true, t0));
    ASSERT_TRUE(held.back().slot);
  }
  EXPECT_EQ(table.admit(from("192.0.2.3"), true, t0).refusal, Refusal::prefix_cap);
  EXPECT_TRUE(table.admit(from("192.0.3.1"), true, t0).slot);
}

TEST(ConnectionTable, PushesOutTheOldestHandshakeWhenTheShareIsFull) {
  ConnectionTable table(limits(10, 10, 10, 2));
  auto first_connection = std::make_shared<FakeConnection>();
  auto second_connection = std::make_shared<FakeConnection>();
  auto first = table.admit(from("192.0.2.1"), true, t0);
  first.slot->track(first_connection);
  auto second = table.admit(from("192.0.2.2"), true, t0);
  second.slot->track(second_connection);

  auto third = table.admit(from("192.0.2.3"), true, t0);
  ASSERT_TRUE(third.slot);
  EXPECT_TRUE(third.evicted);
  EXPECT_EQ(third.evicted_connection, first_connection);
  EXPECT_EQ(third.evicted_address, "192.0.2.1");
  EXPECT_EQ(table.handshaking_connections(), 2U);
  // The one pushed out learns it when its handshake ends; the others do not.
  EXPECT_FALSE(first.slot->end_handshake());
  EXPECT_TRUE(second.slot->end_handshake());
  EXPECT_EQ(table.handshaking_connections(), 1U);
  // Until its connection is gone, its address still holds the place.
  EXPECT_EQ(table.open_connections(), 2U);
}

TEST(ConnectionTable, PushesOutFromThePrefixHoldingTheMostHandshakes) {
  ConnectionTable table(limits(10, 10, 10, 3));
  auto lone = table.admit(from("198.51.100.1"), true, t0);  // the oldest of all
  auto flood_1 = table.admit(from("192.0.2.1"), true, t0);
  auto flood_2 = table.admit(from("192.0.2.2"), true, t0);
  const auto newcomer = table.admit(from("203.0.113.1"), true, t0);
  EXPECT_EQ(newcomer.evicted_address, "192.0.2.1");
  // With one handshake per prefix left, the oldest goes first.
  const auto next = table.admit(from("203.0.114.1"), true, t0);
  EXPECT_EQ(next.evicted_address, "198.51.100.1");
  EXPECT_FALSE(lone.slot->end_handshake());
  EXPECT_FALSE(flood_1.slot->end_handshake());
  EXPECT_TRUE(flood_2.slot->end_handshake());
}

TEST(ConnectionTable, PushesOutAHandshakeWhenEveryPlaceIsTaken) {
  ConnectionTable table(limits(3, 10, 10, 3));
  auto established = table.admit(from("192.0.2.1"), true, t0);
  ASSERT_TRUE(established.slot->end_handshake());
  auto also_established = table.admit(from("192.0.2.2"), true, t0);
  ASSERT_TRUE(also_established.slot->end_handshake());
  auto waiting = table.admit(from("192.0.2.3"), true, t0);

  const auto newcomer = table.admit(from("192.0.2.4"), true, t0);
  ASSERT_TRUE(newcomer.slot);
  EXPECT_TRUE(newcomer.evicted);
  EXPECT_EQ(newcomer.evicted_address, "192.0.2.3");
  EXPECT_FALSE(waiting.slot->end_handshake());
  EXPECT_TRUE(established.slot->end_handshake());
}

TEST(ConnectionTable, NeverPushesOutAConnectionPastItsHandshake) {
  ConnectionTable table(limits(2, 10, 10, 1));
  auto a = table.admit(from("192.0.2.1"), true, t0);
  ASSERT_TRUE(a.slot->end_handshake());
  auto b = table.admit(from("192.0.2.2"), true, t0);
  ASSERT_TRUE(b.slot->end_handshake());
  const auto refused = table.admit(from("192.0.2.3"), true, t0);
  EXPECT_FALSE(refused.slot);
  EXPECT_FALSE(refused.evicted);
  EXPECT_EQ(refused.refusal, Refusal::connection_cap);
  EXPECT_TRUE(a.slot->end_handshake());
  EXPECT_TRUE(b.slot->end_handshake());
}

TEST(ConnectionTable, APlainConnectionIsPastItsHandshakeAtOnce) {
  ConnectionTable table(limits(1, 10, 10, 1));
  auto plain = table.admit(from("127.0.0.1"), false, t0);
  ASSERT_TRUE(plain.slot);
  EXPECT_EQ(table.handshaking_connections(), 0U);
  EXPECT_EQ(table.admit(from("127.0.0.2"), false, t0).refusal, Refusal::connection_cap);
}

TEST(ConnectionTable, ReleasesEveryCountWhenItsConnectionEnds) {
  ConnectionTable table(limits(2, 1, 1, 1));
  {
    auto first = table.admit(from("192.0.2.1"), true, t0);
    auto pushing = table.admit(from("198.51.100.1"), true, t0);
    EXPECT_TRUE(pushing.evicted);
  }
  EXPECT_EQ(table.open_connections(), 0U);
  EXPECT_EQ(table.handshaking_connections(), 0U);
  EXPECT_TRUE(table.admit(from("192.0.2.1"), true, t0).slot);
}

}  // namespace
}  // namespace vouchsafe::net::detail
