// Reading a MASA's audit log (RFC 8995 §5.8.1) and the registrar's policy
// over it (§5.8.3).
#include "registrar/audit_log_policy.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace vouchsafe::registrar {
namespace {

const std::string k_us = "OURSdomainID+AAAAAAAAAAAAAA=";
const std::string k_them = "BduJhdHPpfhQLyponf48JzXSGZ8=";

AuditLog parse(const std::string& json) {
  auto log = parse_audit_log(as_bytes(json));
  EXPECT_TRUE(log) << log.error().message;
  return log ? *log : AuditLog{};
}

std::string log_with(const std::string& events, const std::string& extra = "") {
  return R"({"version":1,"events":[)" + events + "]" + extra + "}";
}

std::string event(const std::string& domain, const std::string& nonce_json) {
  return R"({"date":"2025-01-01T00:00:00Z","domainID":")" + domain + R"(","nonce":)" + nonce_json +
         R"(,"assertion":"proximity"})";
}

TEST(AuditLog, ReadsTheRfc8995ExampleWithItsStringNumbers) {
  const Bytes text = testing::read_vector("rfc8995/s5.8.1-example-audit-log-response.json");
  auto log = parse_audit_log(text);
  ASSERT_TRUE(log) << log.error().message;
  EXPECT_EQ(log->version, 1U);
  ASSERT_EQ(log->events.size(), 2U);
  EXPECT_EQ(log->events[0].domain_id, k_them);
  EXPECT_EQ(log->events[0].nonce, "VOUFT-WwrEv0NuAQEHoV7Q");
  EXPECT_EQ(log->nonceless_duplicates, 1U);
  EXPECT_EQ(log->arbitrary, 2U);
}

TEST(AuditLog, AcceptsANewerVersionAndIgnoresWhatItDoesNotKnow) {
  auto log = parse(R"({"version":2,"events":[{"domainID":"x","nonce":"n","assertion":"logged",
      "new-member":{"deep":[1,2]}}],"truncation":{"arbitrary":0,"newer":5},"signed-tree":"abc"})");
  EXPECT_EQ(log.version, 2U);
  ASSERT_EQ(log.events.size(), 1U);
  EXPECT_EQ(log.events[0].domain_id, "x");
}

TEST(AuditLog, RefusesWhatIsNotALog) {
  for (const std::string bad :
       {R"([])", R"({"events":[]})", R"({"version":1})", R"({"version":0,"events":[]})",
        R"({"version":1,"events":[{"nonce":null}]})", R"({"version":1,"events":[],"events":[]})",
        R"({"version":"one","events":[]})", R"({"version":1,"events":[{"domainID":7}]})"}) {
    EXPECT_FALSE(parse_audit_log(as_bytes(bad))) << bad;
  }
  const std::string big(k_max_audit_log_bytes + 1, ' ');
  auto refused = parse_audit_log(as_bytes(big));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::input_too_large);
}

TEST(AuditLogPolicy, AcceptsAHistoryOfThisDomainOnly) {
  const auto log = parse(log_with(event(k_us, R"("n1")") + "," + event(k_us, "null")));
  EXPECT_TRUE(apply_audit_log_policy(log, k_us, {}).accepted);
}

TEST(AuditLogPolicy, RefusesADeviceWithAPreviousOwnerUnlessAllowed) {
  const auto log = parse(log_with(event(k_them, R"("n0")") + "," + event(k_us, R"("n1")")));
  const auto refused = apply_audit_log_policy(log, k_us, {});
  EXPECT_FALSE(refused.accepted);
  EXPECT_NE(refused.reason.find(k_them), std::string::npos) << refused.reason;
  AuditLogPolicy listed;
  listed.accepted_domains = {k_them};
  EXPECT_TRUE(apply_audit_log_policy(log, k_us, listed).accepted);
  AuditLogPolicy any;
  any.allow_other_domains = true;
  EXPECT_TRUE(apply_audit_log_policy(log, k_us, any).accepted);
}

TEST(AuditLogPolicy, RefusesANoncelessVoucherOfAnotherDomainEvenWhenOwnersMayChange) {
  const auto log = parse(log_with(event(k_them, "null") + "," + event(k_us, R"("n1")")));
  AuditLogPolicy owners_may_change;
  owners_may_change.allow_other_domains = true;
  const auto refused = apply_audit_log_policy(log, k_us, owners_may_change);
  EXPECT_FALSE(refused.accepted);
  EXPECT_NE(refused.reason.find("nonceless"), std::string::npos);
  owners_may_change.nonceless_domains = {k_them};
  EXPECT_TRUE(apply_audit_log_policy(log, k_us, owners_may_change).accepted);
  AuditLogPolicy all;
  all.allow_other_domains = true;
  all.allow_nonceless_other_domains = true;
  EXPECT_TRUE(apply_audit_log_policy(log, k_us, all).accepted);
}

TEST(AuditLogPolicy, RefusesALogTruncatedBeyondTheBound) {
  const auto log = parse(log_with(event(k_us, R"("n1")"), R"(,"truncation":{"arbitrary":"3"})"));
  EXPECT_FALSE(apply_audit_log_policy(log, k_us, {}).accepted);
  AuditLogPolicy tolerant;
  tolerant.max_arbitrary_truncation = 3;
  EXPECT_TRUE(apply_audit_log_policy(log, k_us, tolerant).accepted);
  tolerant.max_arbitrary_truncation = 2;
  EXPECT_FALSE(apply_audit_log_policy(log, k_us, tolerant).accepted);
}

}  // namespace
}  // namespace vouchsafe::registrar
