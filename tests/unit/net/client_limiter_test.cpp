// Per-client token buckets and invalid-request blocking, on an injected clock.
#include "net/client_limiter.h"

#include <gtest/gtest.h>

namespace vouchsafe::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Verdict = ClientLimiter::Verdict;

const ClientLimiter::Clock::time_point t0{};

TEST(ClientLimiter, AdmitsABurstThenRefusesUntilRefilled) {
  ClientLimiter limiter({.per_second = 2, .burst = 3, .enabled = true}, 0, seconds(60));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.admit("a", t0).verdict, Verdict::admit);
  const auto refused = limiter.admit("a", t0);
  EXPECT_EQ(refused.verdict, Verdict::rate_limited);
  EXPECT_EQ(refused.retry_after, seconds(1));
  EXPECT_EQ(limiter.admit("a", t0 + milliseconds(400)).verdict, Verdict::rate_limited);
  EXPECT_EQ(limiter.admit("a", t0 + milliseconds(500)).verdict, Verdict::admit);
  // The bucket never holds more than the burst.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.admit("a", t0 + seconds(100)).verdict, Verdict::admit);
  }
  EXPECT_EQ(limiter.admit("a", t0 + seconds(100)).verdict, Verdict::rate_limited);
}

TEST(ClientLimiter, KeepsABucketPerClient) {
  ClientLimiter limiter({.per_second = 1, .burst = 1, .enabled = true}, 0, seconds(60));
  EXPECT_EQ(limiter.admit("a", t0).verdict, Verdict::admit);
  EXPECT_EQ(limiter.admit("a", t0).verdict, Verdict::rate_limited);
  EXPECT_EQ(limiter.admit("b", t0).verdict, Verdict::admit);
}

TEST(ClientLimiter, RetryAfterRoundsUpTheWait) {
  ClientLimiter limiter({.per_second = 0.25, .burst = 1, .enabled = true}, 0, seconds(60));
  EXPECT_EQ(limiter.admit("a", t0).verdict, Verdict::admit);
  EXPECT_EQ(limiter.admit("a", t0).retry_after, seconds(4));
  EXPECT_EQ(limiter.admit("a", t0 + milliseconds(2500)).retry_after, seconds(2));
}

TEST(ClientLimiter, DisabledRateAdmitsEverything) {
  ClientLimiter limiter({.per_second = 1, .burst = 1, .enabled = false}, 0, seconds(60));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(limiter.admit("a", t0).verdict, Verdict::admit);
}

TEST(ClientLimiter, BlocksAfterMoreThanTheAllowedInvalidRequests) {
  ClientLimiter limiter({.per_second = 1, .burst = 1, .enabled = false}, 3, seconds(300));
  for (int i = 0; i < 3; ++i) limiter.report_invalid("a", t0);
  EXPECT_EQ(limiter.admit("a", t0).verdict, Verdict::admit);
  limiter.report_invalid("a", t0);
  const auto refused = limiter.admit("a", t0 + seconds(1));
  EXPECT_EQ(refused.verdict, Verdict::blocked);
  EXPECT_EQ(refused.retry_after, seconds(299));
  EXPECT_EQ(limiter.admit("b", t0).verdict, Verdict::admit);
  // The block ends after block_time, and the count starts again.
  EXPECT_EQ(limiter.admit("a", t0 + seconds(300)).verdict, Verdict::admit);
  limiter.report_invalid("a", t0 + seconds(301));
  EXPECT_EQ(limiter.admit("a", t0 + seconds(301)).verdict, Verdict::admit);
}

TEST(ClientLimiter, ForgetsOldInvalidRequests) {
  ClientLimiter limiter({.per_second = 1, .burst = 1, .enabled = false}, 2, seconds(60));
  limiter.report_invalid("a", t0);
  limiter.report_invalid("a", t0);
  // Long enough without an invalid request: the count restarts.
  limiter.report_invalid("a", t0 + seconds(61));
  limiter.report_invalid("a", t0 + seconds(61));
  EXPECT_EQ(limiter.admit("a", t0 + seconds(61)).verdict, Verdict::admit);
  limiter.report_invalid("a", t0 + seconds(62));
  EXPECT_EQ(limiter.admit("a", t0 + seconds(62)).verdict, Verdict::blocked);
}

TEST(ClientLimiter, ZeroThresholdNeverBlocks) {
  ClientLimiter limiter({.per_second = 1, .burst = 1, .enabled = false}, 0, seconds(60));
  for (int i = 0; i < 100; ++i) limiter.report_invalid("a", t0);
  EXPECT_EQ(limiter.admit("a", t0).verdict, Verdict::admit);
}

TEST(ClientLimiter, BoundsTheClientsItRemembers) {
  ClientLimiter limiter({.per_second = 1, .burst = 5, .enabled = true}, 0, seconds(60), 160);
  for (int i = 0; i < 10000; ++i) {
    (void)limiter.admit("client-" + std::to_string(i), t0 + milliseconds(i));
  }
  EXPECT_LE(limiter.tracked_clients(), 160U);
  // Clients at rest are forgotten first: a blocked one stays blocked.
  ClientLimiter blocking({.per_second = 100, .burst = 1, .enabled = true}, 1, seconds(3600), 160);
  blocking.report_invalid("hot", t0);
  blocking.report_invalid("hot", t0);
  for (int i = 0; i < 1000; ++i) {
    (void)blocking.admit("idle-" + std::to_string(i), t0 + seconds(1 + i));
  }
  EXPECT_LE(blocking.tracked_clients(), 160U);
  EXPECT_EQ(blocking.admit("hot", t0 + seconds(1001)).verdict, Verdict::blocked);
}

}  // namespace
}  // namespace vouchsafe::net
