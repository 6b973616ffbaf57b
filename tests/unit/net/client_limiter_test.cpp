// Token buckets per client, class, address and prefix, and invalid-request
// blocking, on an injected clock.
#include "net/client_limiter.h"

#include <gtest/gtest.h>

namespace vouchsafe::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Verdict = ClientLimiter::Verdict;

const ClientLimiter::Clock::time_point t0{};

TEST(ClientLimiter, AdmitsABurstThenRefusesUntilRefilled) {
  ClientLimiter limiter(
      ClientLimiter::client_only({.per_second = 2, .burst = 3, .enabled = true}, 0, seconds(60)));
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
  ClientLimiter limiter(
      ClientLimiter::client_only({.per_second = 1, .burst = 1, .enabled = true}, 0, seconds(60)));
  EXPECT_EQ(limiter.admit("a", t0).verdict, Verdict::admit);
  EXPECT_EQ(limiter.admit("a", t0).verdict, Verdict::rate_limited);
  EXPECT_EQ(limiter.admit("b", t0).verdict, Verdict::admit);
}

TEST(ClientLimiter, RetryAfterRoundsUpTheWait) {
  ClientLimiter limiter(ClientLimiter::client_only(
      {.per_second = 0.25, .burst = 1, .enabled = true}, 0, seconds(60)));
  EXPECT_EQ(limiter.admit("a", t0).verdict, Verdict::admit);
  EXPECT_EQ(limiter.admit("a", t0).retry_after, seconds(4));
  EXPECT_EQ(limiter.admit("a", t0 + milliseconds(2500)).retry_after, seconds(2));
}

TEST(ClientLimiter, DisabledRateAdmitsEverything) {
  ClientLimiter limiter(
      ClientLimiter::client_only({.per_second = 1, .burst = 1, .enabled = false}, 0, seconds(60)));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(limiter.admit("a", t0).verdict, Verdict::admit);
}

TEST(ClientLimiter, BlocksAfterMoreThanTheAllowedInvalidRequests) {
  ClientLimiter limiter(
      ClientLimiter::client_only({.per_second = 1, .burst = 1, .enabled = false}, 3, seconds(300)));
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
  ClientLimiter limiter(
      ClientLimiter::client_only({.per_second = 1, .burst = 1, .enabled = false}, 2, seconds(60)));
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
  ClientLimiter limiter(
      ClientLimiter::client_only({.per_second = 1, .burst = 1, .enabled = false}, 0, seconds(60)));
  for (int i = 0; i < 100; ++i) limiter.report_invalid("a", t0);
  EXPECT_EQ(limiter.admit("a", t0).verdict, Verdict::admit);
}

TEST(ClientLimiter, BoundsTheClientsItRemembers) {
  ClientLimiter limiter(
      ClientLimiter::client_only({.per_second = 1, .burst = 5, .enabled = true}, 0, seconds(60)),
      160);
  for (int i = 0; i < 10000; ++i) {
    (void)limiter.admit("client-" + std::to_string(i), t0 + milliseconds(i));
  }
  EXPECT_LE(limiter.tracked_keys(), 160U);
  // Clients at rest are forgotten first: a blocked one stays blocked.
  ClientLimiter blocking(ClientLimiter::client_only(
                             {.per_second = 100, .burst = 1, .enabled = true}, 1, seconds(3600)),
                         160);
  blocking.report_invalid("hot", t0);
  blocking.report_invalid("hot", t0);
  for (int i = 0; i < 1000; ++i) {
    (void)blocking.admit("idle-" + std::to_string(i), t0 + seconds(1 + i));
  }
  EXPECT_LE(blocking.tracked_keys(), 160U);
  EXPECT_EQ(blocking.admit("hot", t0 + seconds(1001)).verdict, Verdict::blocked);
}

// Limits with every bucket generous but the ones a test names.
ClientLimiter::Limits generous() {
  const RateLimit plenty{.per_second = 1000, .burst = 1000, .enabled = true};
  return {.client = plenty,
          .shared = plenty,
          .address = plenty,
          .prefix = plenty,
          .max_invalid_per_client = 0,
          .max_invalid_per_address = 0,
          .block_time = seconds(300)};
}

TEST(ClientLimiter, AFreshCertificateFromTheSameAddressDrawsFromTheAddressBucket) {
  auto limits = generous();
  limits.address = {.per_second = 1, .burst = 3, .enabled = true};
  ClientLimiter limiter(limits);
  for (int i = 0; i < 3; ++i) {
    const std::string client = "cert-" + std::to_string(i);
    EXPECT_EQ(limiter.admit({.client = client, .address = "192.0.2.7"}, t0).verdict,
              Verdict::admit);
  }
  const auto refused = limiter.admit({.client = "cert-new", .address = "192.0.2.7"}, t0);
  EXPECT_EQ(refused.verdict, Verdict::rate_limited);
  EXPECT_EQ(refused.scope, ClientLimiter::Scope::address);
  EXPECT_EQ(limiter.admit({.client = "cert-new", .address = "192.0.2.8"}, t0).verdict,
            Verdict::admit);
}

TEST(ClientLimiter, APrefixBucketSpansItsAddresses) {
  auto limits = generous();
  limits.prefix = {.per_second = 1, .burst = 4, .enabled = true};
  ClientLimiter limiter(limits);
  const auto from = [](const std::string& address) {
    return ClientLimiter::Keys{.client = "cert", .address = address, .prefix = "192.0.2.0/24"};
  };
  for (int i = 1; i <= 4; ++i) {
    const std::string address = "192.0.2." + std::to_string(i);
    EXPECT_EQ(limiter.admit(from(address), t0).verdict, Verdict::admit);
  }
  const auto refused = limiter.admit(from("192.0.2.99"), t0);
  EXPECT_EQ(refused.verdict, Verdict::rate_limited);
  EXPECT_EQ(refused.scope, ClientLimiter::Scope::prefix);
}

TEST(ClientLimiter, ClientsOfAClassShareItsBucket) {
  auto limits = generous();
  limits.shared = {.per_second = 1, .burst = 3, .enabled = true};
  ClientLimiter limiter(limits);
  for (int i = 0; i < 3; ++i) {
    const std::string client = "self-signed-" + std::to_string(i);
    EXPECT_EQ(limiter.admit({.client = client, .shared = "unknown-registrars"}, t0).verdict,
              Verdict::admit);
  }
  const auto refused =
      limiter.admit({.client = "self-signed-3", .shared = "unknown-registrars"}, t0);
  EXPECT_EQ(refused.verdict, Verdict::rate_limited);
  EXPECT_EQ(refused.scope, ClientLimiter::Scope::shared);
  // A known customer draws from its own bucket only.
  EXPECT_EQ(limiter.admit({.client = "customer"}, t0).verdict, Verdict::admit);
}

TEST(ClientLimiter, ARefusedRequestCostsNoneOfItsBuckets) {
  auto limits = generous();
  limits.client = {.per_second = 1, .burst = 1, .enabled = true};
  limits.address = {.per_second = 1, .burst = 1, .enabled = true};
  ClientLimiter limiter(limits);
  EXPECT_EQ(limiter.admit({.client = "a", .address = "192.0.2.1"}, t0).verdict, Verdict::admit);
  // Refused by the address: b's own token is still there.
  EXPECT_EQ(limiter.admit({.client = "b", .address = "192.0.2.1"}, t0).verdict,
            Verdict::rate_limited);
  EXPECT_EQ(limiter.admit({.client = "b", .address = "192.0.2.2"}, t0).verdict, Verdict::admit);
}

TEST(ClientLimiter, RetryAfterIsTheLongestWaitOfTheEmptyBuckets) {
  auto limits = generous();
  limits.client = {.per_second = 1, .burst = 1, .enabled = true};
  limits.address = {.per_second = 0.25, .burst = 1, .enabled = true};
  ClientLimiter limiter(limits);
  const ClientLimiter::Keys keys{.client = "a", .address = "192.0.2.1"};
  EXPECT_EQ(limiter.admit(keys, t0).verdict, Verdict::admit);
  const auto refused = limiter.admit(keys, t0);
  EXPECT_EQ(refused.retry_after, seconds(4));
  EXPECT_EQ(refused.scope, ClientLimiter::Scope::address);
}

TEST(ClientLimiter, BlocksAnAddressWhoseClientsRotateCertificates) {
  auto limits = generous();
  limits.max_invalid_per_client = 3;
  limits.max_invalid_per_address = 5;
  ClientLimiter limiter(limits);
  // Each certificate stays under its own threshold; the address does not.
  for (int i = 0; i < 6; ++i) {
    const std::string client = "rotated-" + std::to_string(i);
    limiter.report_invalid({.client = client, .address = "192.0.2.66"}, t0);
  }
  const auto refused = limiter.admit({.client = "rotated-new", .address = "192.0.2.66"}, t0);
  EXPECT_EQ(refused.verdict, Verdict::blocked);
  EXPECT_EQ(refused.scope, ClientLimiter::Scope::address);
  EXPECT_EQ(limiter.admit({.client = "rotated-new", .address = "192.0.2.67"}, t0).verdict,
            Verdict::admit);
}

TEST(ClientLimiter, InvalidRequestsNeverBlockASharedBucket) {
  auto limits = generous();
  limits.max_invalid_per_client = 1;
  limits.max_invalid_per_address = 1;
  ClientLimiter limiter(limits);
  for (int i = 0; i < 50; ++i) {
    const std::string client = "attacker-" + std::to_string(i);
    const std::string address = "198.51.100." + std::to_string(i);
    limiter.report_invalid({.client = client, .shared = "unknown-registrars", .address = address},
                           t0);
  }
  // One class member's misuse does not lock out the rest of its class.
  EXPECT_EQ(
      limiter
          .admit({.client = "honest", .shared = "unknown-registrars", .address = "192.0.2.1"}, t0)
          .verdict,
      Verdict::admit);
}

}  // namespace
}  // namespace vouchsafe::net
